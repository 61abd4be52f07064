#include "twin/twin_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include <boost/container/small_vector.hpp>

#include "common/double_text.hpp"
#include "common/json_patch.hpp"
#include "model/instance_validator.hpp"

namespace castor::twin {
namespace {

using json::sv;
using model::CompiledInterface;
using model::ContentKind;

Status validation_failed(std::string message) {
  return {Code::invalid_argument, std::move(message), "ValidationFailed"};
}

Status patch_invalid(std::string message) {
  return {Code::invalid_argument, std::move(message), "JsonPatchInvalid"};
}

void append_key(std::string& out, std::string_view k) {
  json::append_string(out, k);
  out.push_back(':');
}

// ,"name" followed by `tail`, in one append when the name is short and needs no escape (model
// property names always are): a twin renders two of these per property.
void append_member(std::string& out, std::string_view name, std::string_view tail) {
  char buf[192];
  if (name.size() + tail.size() + 3 > sizeof buf || json::needs_escape(name)) {
    out.push_back(',');
    json::append_string(out, name);
    out.append(tail);
    return;
  }
  char* p = buf;
  *p++ = ',';
  *p++ = '"';
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = '"';
  std::memcpy(p, tail.data(), tail.size());
  p += tail.size();
  out.append(buf, static_cast<std::size_t>(p - buf));
}

// Formatted times of one rendering: most properties share the twin's last update, so the
// previous text is reused, and so is the whole ":{"lastUpdateTime":"..."} tail of a property's
// metadata (one append instead of five).
class TimeTexts {
 public:
  void append(std::string& out, Nanos t) {
    update(t);
    out.append(tail_ + kTimeAt, kTimeTextSize);
  }
  // ":{"lastUpdateTime":"<t>"}, what follows a property's quoted name in $metadata.
  std::string_view meta_tail(Nanos t) {
    update(t);
    return {tail_, kTailSize};
  }

 private:
  static constexpr char kHead[] = ":{\"lastUpdateTime\":\"";
  static constexpr std::size_t kTimeAt = sizeof(kHead) - 1;
  static constexpr std::size_t kTailSize = kTimeAt + kTimeTextSize + 2;

  void update(Nanos t) {
    if (valid_ && t == last_) return;
    if (!valid_) {
      std::memcpy(tail_, kHead, kTimeAt);
      tail_[kTimeAt + kTimeTextSize] = '"';
      tail_[kTimeAt + kTimeTextSize + 1] = '}';
    }
    format_time_to(t, tail_ + kTimeAt);
    last_ = t;
    valid_ = true;
  }

  Nanos last_ = 0;
  bool valid_ = false;
  char tail_[kTailSize];
};

// ,"name" (`quoted`: already a JSON string, CompiledInterface::slot_keys) followed by `tail`,
// in one append.
void append_keyed(std::string& out, std::string_view quoted, std::string_view tail) {
  char buf[192];
  const std::size_t n = 1 + quoted.size() + tail.size();
  if (n > sizeof buf) {
    out.push_back(',');
    out.append(quoted);
    out.append(tail);
    return;
  }
  buf[0] = ',';
  std::memcpy(buf + 1, quoted.data(), quoted.size());
  std::memcpy(buf + 1 + quoted.size(), tail.data(), tail.size());
  out.append(buf, n);
}

// The quoted name of property slot `slot` of `m` (its slot_keys entry, made when the model was
// compiled), or empty when the model has none for it.
std::string_view slot_key(const CompiledInterface& m, std::size_t slot) {
  return slot < m.slot_keys.size() ? std::string_view(m.slot_keys[slot]) : std::string_view();
}

// Metadata of one property: {"lastUpdateTime": ..., "sourceTime": ...}.
void append_prop_meta(std::string& out, const CompiledInterface& m, std::size_t slot, Nanos updated,
                      Nanos source, TimeTexts& times) {
  const std::string_view quoted = slot_key(m, slot);
  const std::string& name = m.contents[m.property_slots[slot]].name;
  if (!source) {
    if (!quoted.empty()) return append_keyed(out, quoted, times.meta_tail(updated));
    return append_member(out, name, times.meta_tail(updated));
  }
  out.push_back(',');
  json::append_string(out, name);
  out += ":{\"lastUpdateTime\":\"";
  times.append(out, updated);
  out += "\",\"sourceTime\":\"";
  out += format_time(source);
  out += "\"}";
}

// Room for a rendering of about this many properties, growing geometrically so that many
// renderings into one string stay amortized.
void reserve_for(std::string& out, std::size_t properties) {
  const std::size_t want = out.size() + 192 + properties * 96;
  if (out.capacity() < want) out.reserve(std::max(want, out.capacity() * 2));
}

// Members written into a buffer on the stack and appended to the output a few kilobytes at a
// time: one copy into the (usually cold, freshly allocated) row instead of one per member.
class Batch {
 public:
  explicit Batch(std::string& out) : out_(out) {}
  ~Batch() { flush(); }
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
  // Where `n` bytes (n <= kRoom) may be written next; commit() says how many were.
  char* room(std::size_t n) {
    if (used_ + n > kRoom) flush();
    return buf_ + used_;
  }
  void commit(const char* end) { used_ = static_cast<std::size_t>(end - buf_); }
  // ,"name" (already quoted) followed by `tail`; false (nothing written) when it does not fit.
  bool keyed(std::string_view quoted, std::string_view tail) {
    const std::size_t n = 1 + quoted.size() + tail.size();
    if (n > kRoom) return false;
    char* p = room(n);
    *p = ',';
    std::memcpy(p + 1, quoted.data(), quoted.size());
    std::memcpy(p + 1 + quoted.size(), tail.data(), tail.size());
    commit(p + n);
    return true;
  }
  // The output itself, for a member written the general way (everything buffered goes first).
  std::string& out() {
    flush();
    return out_;
  }
  static constexpr std::size_t kRoom = 2048;

 private:
  void flush() {
    out_.append(buf_, used_);
    used_ = 0;
  }
  std::string& out_;
  std::size_t used_ = 0;
  char buf_[kRoom];
};

// The metadata of the properties of the twin or one component (into its $metadata object).
void append_cells_meta(std::string& out, const CompiledInterface& m, const Cells& cells,
                       const Twin& t, std::uint16_t comp, TimeTexts& times) {
  const bool sourced = t.extra_if() != nullptr && !t.extra_if()->source_times.empty();
  Batch batch(out);
  for (std::size_t slot = 0; slot < cells.size() && slot < m.property_slots.size(); ++slot) {
    const Cell& c = cells[slot];
    if (!c.is_set()) continue;
    const Nanos source = sourced ? t.source_time(comp, static_cast<std::uint16_t>(slot)) : 0;
    const std::string_view quoted = slot_key(m, slot);
    // The common case: ,"name":{"lastUpdateTime":"..."}
    if (source == 0 && !quoted.empty() && batch.keyed(quoted, times.meta_tail(t.time_of(c))))
      continue;
    append_prop_meta(batch.out(), m, slot, t.time_of(c), source, times);
  }
}

// ,"name":value for a number, boolean, null or short plain string, written into `buf` (room for
// kMemberRoom bytes); null when the value needs the general path (Value::append_json).
constexpr std::size_t kMemberRoom = 160;
char* format_member(char* buf, std::string_view quoted, const Cell& c) {
  if (quoted.size() + 2 + kDoubleTextMax > kMemberRoom) return nullptr;
  char* p = buf;
  *p++ = ',';
  std::memcpy(p, quoted.data(), quoted.size());
  p += quoted.size();
  *p++ = ':';
  char* const end = buf + kMemberRoom;
  auto literal = [&](std::string_view text) {
    std::memcpy(p, text.data(), text.size());
    return p + text.size();
  };
  switch (c.kind()) {
    case Value::Kind::real: {
      const double d = c.as_double();
      if (!std::isfinite(d)) return literal("null");
      return format_double(p, d);
    }
    case Value::Kind::int64: return std::to_chars(p, end, c.as_int()).ptr;
    case Value::Kind::uint64: return std::to_chars(p, end, c.as_uint()).ptr;
    case Value::Kind::boolean: return literal(c.as_bool() ? "true" : "false");
    case Value::Kind::null: return literal("null");
    case Value::Kind::string: {
      const std::string_view text = c.as_text();
      if (text.size() + 2 > static_cast<std::size_t>(end - p) || json::needs_escape(text)) {
        return nullptr;
      }
      *p++ = '"';
      std::memcpy(p, text.data(), text.size());
      p += text.size();
      *p++ = '"';
      return p;
    }
    default: return nullptr;
  }
}

// Their values, each as ,"name":value (a second pass: the metadata comes first).
void append_cells_values(std::string& out, const CompiledInterface& m, const Cells& cells) {
  Batch batch(out);
  for (std::size_t slot = 0; slot < cells.size() && slot < m.property_slots.size(); ++slot) {
    const Cell& c = cells[slot];
    if (!c.is_set()) continue;
    const std::string_view quoted = slot_key(m, slot);
    if (!quoted.empty()) {
      char* p = batch.room(kMemberRoom);
      if (const char* end = format_member(p, quoted, c)) {
        batch.commit(end);
        continue;
      }
      std::string& o = batch.out();
      append_keyed(o, quoted, ":");
      c.append_json(o);
    } else {
      std::string& o = batch.out();
      append_member(o, m.contents[m.property_slots[slot]].name, ":");
      c.append_json(o);
    }
  }
}

void append_component(std::string& out, const Twin& t, std::size_t i, const CompiledInterface& cm) {
  const ComponentState& cs = t.components()[i];
  TimeTexts times;
  out += "{\"$metadata\":{\"$lastUpdateTime\":\"";
  times.append(out, cs.last_update);
  out.push_back('"');
  append_cells_meta(out, cm, cs.cells, t, static_cast<std::uint16_t>(i + 1), times);
  out.push_back('}');
  append_cells_values(out, cm, cs.cells);
  out.push_back('}');
}

// Sets cells from a JSON object of property values (validated beforehand); their time is the
// twin's last_update (tag 0).
void fill_cells(const CompiledInterface& m, const json::object& o, Cells& cells) {
  cells.reset(m.property_count());
  for (const auto& kv : o) {
    const model::ContentDef* c = m.property(sv(kv.key()));
    if (!c) continue;
    cells[static_cast<std::size_t>(c->slot)] = Value::from_json(kv.value());
  }
}

Status read_source_times(const CompiledInterface& m, const json::object& meta, std::uint16_t comp, Twin& t) {
  for (const auto& kv : meta) {
    std::string_view key = sv(kv.key());
    if (!key.empty() && key.front() == '$') continue;
    const model::ContentDef* c = m.property(key);
    if (!c) return validation_failed("$metadata." + std::string(key) + ": the model has no property '" + std::string(key) + "'");
    if (!kv.value().is_object()) return validation_failed("$metadata." + std::string(key) + " must be an object");
    const json::value* st = kv.value().get_object().if_contains("sourceTime");
    if (!st) continue;
    Nanos n = 0;
    if (!st->is_string() || !parse_time(sv(st->get_string()), n))
      return validation_failed("$metadata." + std::string(key) + ".sourceTime must be an RFC 3339 date-time");
    t.set_source_time(comp, static_cast<std::uint16_t>(c->slot), n);
  }
  return Status::ok();
}

Status check_strings(const json::value& v, std::string_view where) {
  // ADT limits a string property value to 4 KB of UTF-8.
  if (v.is_string() && v.get_string().size() > 4096)
    return validation_failed(std::string(where) + ": a string value may be at most 4096 bytes");
  if (v.is_object())
    for (const auto& kv : v.get_object()) CASTOR_RETURN_IF_ERROR(check_strings(kv.value(), where));
  if (v.is_array())
    for (const auto& e : v.get_array()) CASTOR_RETURN_IF_ERROR(check_strings(e, where));
  return Status::ok();
}

}  // namespace

namespace {

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (n == 9 || i + n >= s.size() + (n ? 0 : 1)) return false;
    std::uint32_t cp = n == 0 ? c : c & (0x3F >> n);
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr std::uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

Status check_id(std::string_view id, std::string_view what) {
  auto bad = [&](std::string why) {
    return Status(Code::invalid_argument, std::string(what) + " id " + why, "InvalidArgument");
  };
  if (id.empty() || id.size() > 1024) return bad("must be 1 to 1024 characters long");
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7F) return bad("must not contain control characters");
  if (!valid_utf8(id)) return bad("must be valid UTF-8");
  // URL libraries collapse these path segments, so such ids could never be addressed.
  if (id == "." || id == "..") return bad("may not be '.' or '..'");
  return Status::ok();
}

Status build_twin(std::string_view id, const model::InterfacePtr& m, const json::object& doc, Nanos now, Twin& out) {
  Status s = model::validate_twin(*m, doc);
  if (!s.is_ok()) return validation_failed(s.message());
  for (const auto& kv : doc) CASTOR_RETURN_IF_ERROR(check_strings(kv.value(), sv(kv.key())));
  out = Twin{};
  out.id = std::string(id);
  out.model = m;
  out.last_update = now;
  fill_cells(*m, doc, out.cells);
  if (const json::value* meta = doc.if_contains("$metadata"); meta && meta->is_object())
    CASTOR_RETURN_IF_ERROR(read_source_times(*m, meta->get_object(), 0, out));
  const auto& names = component_names(*m);
  if (!names.empty()) out.components().resize(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const CompiledInterface& cm = *m->components.at(names[i]);
    const json::value* v = doc.if_contains(names[i]);
    ComponentState& cs = out.components()[i];
    cs.last_update = now;
    if (v && v->is_object()) {
      fill_cells(cm, v->get_object(), cs.cells);
      if (const json::value* meta = v->get_object().if_contains("$metadata"); meta && meta->is_object())
        CASTOR_RETURN_IF_ERROR(read_source_times(cm, meta->get_object(), static_cast<std::uint16_t>(i + 1), out));
    } else {
      cs.cells.reset(cm.property_count());
    }
  }
  return Status::ok();
}

namespace {

// ,"$etag":"W/\"<16 hex digits>\"" (format_etag's text as a JSON string, without its copies).
void append_etag_json(std::string& out, std::uint64_t etag) {
  static constexpr char hex[] = "0123456789abcdef";
  char buf[40] = ",\"$etag\":\"W/\\\"";
  constexpr std::size_t at = sizeof(",\"$etag\":\"W/\\\"") - 1;
  for (std::size_t i = 0; i < 16; ++i) buf[at + i] = hex[(etag >> (60 - 4 * i)) & 15];
  std::memcpy(buf + at + 16, "\\\"\"", 3);
  out.append(buf, at + 19);
}

// Starts loading the text of the string values: on a twin not read lately each is a cache miss,
// and the values are written last, so the loads overlap the rendering of the metadata.
void prefetch_texts(const Cells& cells) {
  for (std::size_t slot = 0; slot < cells.size(); ++slot)
    if (const void* p = cells[slot].heap_address()) __builtin_prefetch(p);
}

}  // namespace

void prefetch_cells(const Twin& t) noexcept {
  const char* p = reinterpret_cast<const char*>(t.cells.begin());
  const char* end = reinterpret_cast<const char*>(t.cells.end());
  for (; p < end; p += 64) __builtin_prefetch(p);
}

void prefetch_texts(const Twin& t) noexcept {
  prefetch_texts(t.cells);
}

namespace {

// Whether every set property of `t` (top level) has one lastUpdateTime and no sourceTime, and
// then which slots are set and that time: what decides the text of its $metadata members.
bool uniform_meta(const CompiledInterface& m, const Twin& t, std::uint64_t& set, Nanos& time) {
  const Cells& cells = t.cells;
  const std::size_t n = std::min(cells.size(), m.property_slots.size());
  if (n > 64 || (t.extra_if() != nullptr && !t.extra_if()->source_times.empty())) return false;
  set = 0;
  bool any = false;
  for (std::size_t slot = 0; slot < n; ++slot) {
    const Cell& c = cells[slot];
    if (!c.is_set()) continue;
    const Nanos at = t.time_of(c);
    if (any && at != time) return false;
    time = at;
    any = true;
    set |= std::uint64_t{1} << slot;
  }
  return any;
}

// The twin's own property members of $metadata, copied from `memo` when it holds them.
void append_twin_meta(std::string& out, const CompiledInterface& m, const Twin& t, TimeTexts& times,
                      RenderMemo* memo) {
  std::uint64_t set = 0;
  Nanos time = 0;
  if (memo == nullptr || !uniform_meta(m, t, set, time)) {
    return append_cells_meta(out, m, t.cells, t, 0, times);
  }
  const bool same = memo->model == &m && memo->time == time && memo->set == set;
  if (same && !memo->block.empty()) {
    out.append(memo->block);
    return;
  }
  const std::size_t at = out.size();
  append_cells_meta(out, m, t.cells, t, 0, times);
  // Kept from the second twin of a kind on: a batch of unlike twins (or of one) copies nothing.
  if (same) {
    memo->block.assign(out, at);
    return;
  }
  memo->model = &m;
  memo->time = time;
  memo->set = set;
  memo->block.clear();
}

// ,"$metadata":{"$model":"<id>","$lastUpdateTime":"<time>" (the object stays open).
void append_meta_head(std::string& out, const CompiledInterface& m, Nanos at, TimeTexts& times) {
  out += ",\"$metadata\":{\"$model\":";
  json::append_string(out, m.id);
  out += ",\"$lastUpdateTime\":\"";
  times.append(out, at);
  out.push_back('"');
}

// The same, copied from `memo` when its last twin had the same model and update time.
void append_meta_head(std::string& out, const CompiledInterface& m, Nanos at, TimeTexts& times,
                      RenderMemo* memo) {
  if (memo == nullptr) return append_meta_head(out, m, at, times);
  if (memo->head.empty() || memo->head_model != &m || memo->head_time != at) {
    memo->head.clear();
    append_meta_head(memo->head, m, at, times);
    memo->head_model = &m;
    memo->head_time = at;
  }
  out.append(memo->head);
}

}  // namespace

void render_twin(const Twin& t, std::string& out, RenderMemo* memo) {
  const CompiledInterface& m = *t.model;
  prefetch_texts(t.cells);
  reserve_for(out, t.cells.size());
  TimeTexts times;
  out += "{\"$dtId\":";
  json::append_string(out, t.id);
  append_etag_json(out, t.etag);
  append_meta_head(out, m, t.last_update, times, memo);
  append_twin_meta(out, m, t, times, memo);
  out.push_back('}');
  append_cells_values(out, m, t.cells);
  const auto& names = component_names(m);
  for (std::size_t i = 0; i < names.size() && i < t.components().size(); ++i) {
    out.push_back(',');
    append_key(out, names[i]);
    append_component(out, t, i, *m.components.at(names[i]));
  }
  out.push_back('}');
}

bool render_component(const Twin& t, std::string_view component, std::string& out) {
  const auto& names = component_names(*t.model);
  auto it = std::find(names.begin(), names.end(), component);
  if (it == names.end()) return false;
  std::size_t i = static_cast<std::size_t>(it - names.begin());
  append_component(out, t, i, *t.model->components.at(names[i]));
  return true;
}

void render_relationship(std::string_view source, const Relationship& r, std::string& out) {
  out += "{\"$relationshipId\":";
  json::append_string(out, r.id);
  out += ",\"$etag\":";
  json::append_string(out, format_etag(r.etag));
  out += ",\"$sourceId\":";
  json::append_string(out, source);
  out += ",\"$relationshipName\":";
  json::append_string(out, r.name);
  out += ",\"$targetId\":";
  json::append_string(out, r.target);
  if (r.properties.size() > 2) {  // "{...}" with members: splice them in
    out.push_back(',');
    out.append(r.properties, 1, r.properties.size() - 2);
  }
  out.push_back('}');
}

json::object twin_values(const Twin& t) {
  json::object o;
  const CompiledInterface& m = *t.model;
  for (std::size_t slot = 0; slot < t.cells.size(); ++slot)
    if (t.cells[slot].is_set()) o[m.contents[m.property_slots[slot]].name] = t.cells[slot].to_json();
  const auto& names = component_names(m);
  for (std::size_t i = 0; i < names.size() && i < t.components().size(); ++i) {
    const CompiledInterface& cm = *m.components.at(names[i]);
    json::object c;
    c["$metadata"] = json::object{};
    const auto& cells = t.components()[i].cells;
    for (std::size_t slot = 0; slot < cells.size(); ++slot)
      if (cells[slot].is_set()) c[cm.contents[cm.property_slots[slot]].name] = cells[slot].to_json();
    o[names[i]] = std::move(c);
  }
  return o;
}

namespace {

struct SourceTimeOp {
  std::uint16_t comp;
  std::uint16_t slot;
  Nanos time;  // 0: remove
};

// Splits /$metadata/<prop>/sourceTime operations from value operations.
Status take_metadata_ops(const Twin& t, std::string_view component, std::vector<json::PatchOp>& ops,
                         std::vector<SourceTimeOp>& st) {
  const auto is_metadata = [](const json::PatchOp& op) {
    return !op.path.empty() && op.path.front() == "$metadata";
  };
  if (std::none_of(ops.begin(), ops.end(), is_metadata)) return Status::ok();  // the usual patch
  const CompiledInterface* m = t.model.get();
  std::uint16_t comp = 0;
  if (!component.empty()) {
    const auto& names = component_names(*t.model);
    auto it = std::find(names.begin(), names.end(), component);
    comp = static_cast<std::uint16_t>(it - names.begin() + 1);
    m = t.model->components.at(std::string(component)).get();
  }
  std::vector<json::PatchOp> rest;
  for (auto& op : ops) {
    if (!is_metadata(op)) {
      rest.push_back(std::move(op));
      continue;
    }
    if (op.path.size() != 3 || op.path[2] != "sourceTime")
      return patch_invalid(op.path_text + ": only /$metadata/<property>/sourceTime can be patched");
    const model::ContentDef* c = m->property(op.path[1]);
    if (!c) return validation_failed(op.path_text + ": the model has no property '" + op.path[1] + "'");
    SourceTimeOp s{comp, static_cast<std::uint16_t>(c->slot), 0};
    if (op.kind == json::PatchOp::Kind::remove) {
      st.push_back(s);
      continue;
    }
    if (op.kind != json::PatchOp::Kind::add && op.kind != json::PatchOp::Kind::replace)
      return patch_invalid(op.path_text + ": use add, replace or remove for sourceTime");
    if (!op.val.is_string() || !parse_time(sv(op.val.get_string()), s.time))
      return validation_failed(op.path_text + ": sourceTime must be an RFC 3339 date-time");
    st.push_back(s);
  }
  ops = std::move(rest);
  return Status::ok();
}

// Stores the values of `after` (validated) into `cells`; collects the cells that changed.
bool store_changes(const CompiledInterface& m, const json::object& after, Cells& cells,
                   std::vector<Cell*>& changed) {
  bool any = false;
  for (std::size_t slot = 0; slot < cells.size(); ++slot) {
    const std::string& name = m.contents[m.property_slots[slot]].name;
    const json::value* v = after.if_contains(name);
    Cell& c = cells[slot];
    if (!v) {
      if (c.is_set()) {
        c = Value{};
        any = true;
      }
      continue;
    }
    Value nv = Value::from_json(*v);
    if (!(nv == c)) {
      c = std::move(nv);
      changed.push_back(&c);
      any = true;
    }
  }
  return any;
}

// The common patch — add, replace or remove of whole top-level properties — applied without
// turning the twin into JSON. Returns false when the patch needs the general path.
bool simple_patch(Twin& t, std::string_view component, const std::vector<json::PatchOp>& ops,
                  const std::vector<SourceTimeOp>& st, Nanos now, PatchOutcome& outcome, Status& result) {
  const CompiledInterface* m = t.model.get();
  Cells* cells = &t.cells;
  std::size_t comp_index = 0;
  if (!component.empty()) {
    const auto& names = component_names(*t.model);
    comp_index = static_cast<std::size_t>(std::find(names.begin(), names.end(), component) - names.begin());
    m = t.model->components.at(std::string(component)).get();
    cells = &t.components()[comp_index].cells;
  }
  for (const auto& op : ops) {
    if (op.path.size() != 1 || (op.kind != json::PatchOp::Kind::add && op.kind != json::PatchOp::Kind::replace &&
                                op.kind != json::PatchOp::Kind::remove))
      return false;
    if (!m->property(op.path[0])) return false;  // components, unknown names: the general path explains
  }
  // Stage in order, so that later operations see earlier ones. (Most patches have one or two
  // operations: kept on the stack.)
  boost::container::small_vector<std::pair<std::size_t, Value>, 4> staged;
  auto current = [&](std::size_t slot) -> const Value& {
    for (auto it = staged.rbegin(); it != staged.rend(); ++it)
      if (it->first == slot) return it->second;
    return (*cells)[slot];
  };
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    const std::string& name = op.path[0];
    auto slot = static_cast<std::size_t>(m->property(name)->slot);
    if (op.kind != json::PatchOp::Kind::add && !current(slot).is_set()) {
      result = patch_invalid("operation " + std::to_string(i) + " (" + op.path_text + "): '" + name +
                             "' does not exist, so it cannot be " +
                             (op.kind == json::PatchOp::Kind::remove ? "removed" : "replaced; use \"add\""));
      return true;
    }
    if (op.kind == json::PatchOp::Kind::remove) {
      staged.emplace_back(slot, Value{});
      continue;
    }
    if (Status s = model::validate_property(*t.model, component, name, op.val); !s.is_ok()) {
      result = validation_failed(s.message());
      return true;
    }
    if (Status s = check_strings(op.val, name); !s.is_ok()) {
      result = s;
      return true;
    }
    staged.emplace_back(slot, Value::from_json(op.val));
  }
  boost::container::small_vector<Cell*, 4> changed;
  bool any = false;
  for (auto& [slot, v] : staged) {
    Cell& c = (*cells)[slot];
    if (v == c) continue;
    bool removed = !v.is_set();
    c = std::move(v);
    if (!removed && std::find(changed.begin(), changed.end(), &c) == changed.end()) changed.push_back(&c);
    any = true;
  }
  if (any && !component.empty()) t.components()[comp_index].last_update = now;
  for (const auto& x : st) {
    if (x.time) t.set_source_time(x.comp, x.slot, x.time);
    else t.clear_source_time(x.comp, x.slot);
    any = true;
  }
  if (any) t.stamp(changed, now);
  outcome.changed = any;
  result = Status::ok();
  return true;
}

}  // namespace

Status patch_twin(Twin& t, std::string_view component, const json::value& patch, Nanos now, PatchOutcome& outcome) {
  auto parsed = json::parse_patch(patch);
  if (!parsed) return patch_invalid(parsed.status().message());
  std::vector<json::PatchOp> ops = std::move(*parsed);
  if (!component.empty() && !t.model->components.count(component))
    return {Code::not_found, "twin " + t.id + " has no component '" + std::string(component) + "'", "ComponentNotFound"};
  std::vector<SourceTimeOp> st;
  CASTOR_RETURN_IF_ERROR(take_metadata_ops(t, component, ops, st));
  for (const auto& op : ops)
    if (op.path.empty()) return patch_invalid("a patch operation may not replace the whole twin");
  Status simple;
  if (simple_patch(t, component, ops, st, now, outcome, simple)) return simple;

  json::object base = twin_values(t);
  json::value patch_doc = json::array{};
  for (const auto& op : ops) {
    // Rebuild the operation, with component paths made absolute.
    json::object o;
    static constexpr const char* names[] = {"add", "remove", "replace", "move", "copy", "test"};
    o["op"] = names[static_cast<int>(op.kind)];
    std::string prefix = component.empty() ? "" : "/" + json::escape_pointer_token(component);
    o["path"] = prefix + op.path_text;
    if (!op.from.empty() || op.kind == json::PatchOp::Kind::move || op.kind == json::PatchOp::Kind::copy) {
      std::string from = prefix;
      for (const auto& tok : op.from) from += "/" + json::escape_pointer_token(tok);
      o["from"] = from;
    }
    if (op.kind == json::PatchOp::Kind::add || op.kind == json::PatchOp::Kind::replace ||
        op.kind == json::PatchOp::Kind::test)
      o["value"] = op.val;
    patch_doc.get_array().push_back(std::move(o));
  }
  json::object after;
  if (!ops.empty()) {
    auto r = model::apply_twin_patch(*t.model, base, patch_doc);
    if (!r) {
      const Status& e = r.status();
      bool is_patch_error = e.message().find("operation ") == 0 || e.code() == Code::not_found ||
                            e.code() == Code::failed_precondition;
      return is_patch_error ? patch_invalid(e.message()) : validation_failed(e.message());
    }
    after = std::move(*r);
    for (const auto& kv : after) CASTOR_RETURN_IF_ERROR(check_strings(kv.value(), sv(kv.key())));
  }

  // Everything is valid: apply.
  bool changed = false;
  std::vector<Cell*> stamped;
  if (!ops.empty()) {
    changed |= store_changes(*t.model, after, t.cells, stamped);
    const auto& names = component_names(*t.model);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const json::value* c = after.if_contains(names[i]);
      if (!c || !c->is_object()) continue;
      if (store_changes(*t.model->components.at(names[i]), c->get_object(), t.components()[i].cells, stamped)) {
        t.components()[i].last_update = now;
        changed = true;
      }
    }
  }
  for (const auto& s : st) {
    if (s.time) t.set_source_time(s.comp, s.slot, s.time);
    else t.clear_source_time(s.comp, s.slot);
    changed = true;
  }
  if (changed) t.stamp(stamped, now);
  outcome.changed = changed;
  return Status::ok();
}

Status patch_relationship(const CompiledInterface& source_model, Relationship& r, const json::value& patch) {
  auto ops = json::parse_patch(patch);
  if (!ops) return patch_invalid(ops.status().message());
  json::value props = json::object{};
  if (!r.properties.empty()) {
    auto p = json::parse(r.properties);
    if (p) props = std::move(*p);
  }
  for (const auto& op : *ops)
    if (op.path.empty() || (!op.path.front().empty() && op.path.front().front() == '$'))
      return patch_invalid(op.path_text + ": only relationship properties can be patched");
  Status s = json::apply_patch(props, *ops);
  if (!s.is_ok()) return patch_invalid(s.message());
  json::object doc = props.get_object();
  doc["$relationshipName"] = r.name;
  doc["$targetId"] = r.target;
  s = model::validate_relationship(source_model, doc, nullptr);
  if (!s.is_ok()) return validation_failed(s.message());
  r.properties = json::serialize(props);
  return Status::ok();
}

}  // namespace castor::twin
