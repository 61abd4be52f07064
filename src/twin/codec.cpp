#include "twin/codec.hpp"

#include <cstring>

namespace castor::twin {
namespace {

// Twin format 1: fixed 8-byte etag, integers and per-property times. Format 2 (written since stop
// 14): varints for the etag and integers, and each property's times as the zigzag varint of its
// distance from the twin's last update (one byte when equal, as most are), about 40% fewer bytes
// for a twin of scalar properties. Both are read.
constexpr unsigned char kTwinFormatFixed = 1;
constexpr unsigned char kTwinFormat = 2;
constexpr unsigned char kRelationshipFormat = 1;

void put_u8(std::string& o, unsigned char v) { o.push_back(static_cast<char>(v)); }
void put_u64(std::string& o, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  o.append(b, 8);
}
void put_varint(std::string& o, std::uint64_t v) {
  while (v >= 0x80) {
    o.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  o.push_back(static_cast<char>(v));
}
void put_str(std::string& o, std::string_view s) {
  put_varint(o, s.size());
  o.append(s);
}
std::uint64_t zigzag(std::uint64_t v) {
  return (v << 1) ^ static_cast<std::uint64_t>(static_cast<std::int64_t>(v) >> 63);
}
std::uint64_t unzigzag(std::uint64_t v) {
  return (v >> 1) ^ (~(v & 1) + 1);
}
// A time as its distance from `base`, in wrapping arithmetic so that any pair of times is exact.
void put_time(std::string& o, Nanos base, Nanos t) {
  put_varint(o, zigzag(static_cast<std::uint64_t>(base) - static_cast<std::uint64_t>(t)));
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool u8(unsigned char& v) {
    if (p_ >= b_.size()) return false;
    v = static_cast<unsigned char>(b_[p_++]);
    return true;
  }
  bool u64(std::uint64_t& v) {
    if (b_.size() - p_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t(static_cast<unsigned char>(b_[p_ + i])) << (8 * i);
    p_ += 8;
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u;
    if (!u64(u)) return false;
    v = static_cast<std::int64_t>(u);
    return true;
  }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      unsigned char c;
      if (!u8(c)) return false;
      v |= std::uint64_t(c & 0x7F) << shift;
      if (!(c & 0x80)) return true;
    }
    return false;
  }
  bool str(std::string_view& s) {
    std::uint64_t n;
    if (!varint(n) || n > b_.size() - p_) return false;
    s = b_.substr(p_, n);
    p_ += n;
    return true;
  }
  bool time(Nanos base, Nanos& t) {
    std::uint64_t d;
    if (!varint(d)) return false;
    t = static_cast<Nanos>(static_cast<std::uint64_t>(base) - unzigzag(d));
    return true;
  }
  bool done() const { return p_ == b_.size(); }

 private:
  std::string_view b_;
  std::size_t p_ = 0;
};

// Integers as (zigzag) varints; format 1 had 8 fixed bytes (get_value's `compact` false).
void put_value(std::string& o, const Value& v) {
  put_u8(o, static_cast<unsigned char>(v.kind()));
  switch (v.kind()) {
    case Value::Kind::boolean: put_u8(o, v.as_bool() ? 1 : 0); break;
    case Value::Kind::int64: put_varint(o, zigzag(static_cast<std::uint64_t>(v.as_int()))); break;
    case Value::Kind::uint64: put_varint(o, v.as_uint()); break;
    case Value::Kind::real: {
      std::uint64_t bits;
      double d = v.as_double();
      std::memcpy(&bits, &d, 8);
      put_u64(o, bits);
      break;
    }
    case Value::Kind::string:
    case Value::Kind::json: put_str(o, v.as_text()); break;
    default: break;
  }
}

bool get_value(Reader& r, Value& v, bool compact) {
  unsigned char kind;
  if (!r.u8(kind)) return false;
  std::uint64_t u;
  std::string_view s;
  switch (static_cast<Value::Kind>(kind)) {
    case Value::Kind::unset: v = Value{}; return true;
    case Value::Kind::null: v = Value::from_json(nullptr); return true;
    case Value::Kind::boolean: {
      unsigned char b;
      if (!r.u8(b)) return false;
      v = Value::boolean(b != 0);
      return true;
    }
    case Value::Kind::int64:
      if (!(compact ? r.varint(u) : r.u64(u))) return false;
      v = Value::integer(static_cast<std::int64_t>(compact ? unzigzag(u) : u));
      return true;
    case Value::Kind::uint64:
      if (!(compact ? r.varint(u) : r.u64(u))) return false;
      v = Value::from_json(json::value(u));
      return true;
    case Value::Kind::real: {
      if (!r.u64(u)) return false;
      double d;
      std::memcpy(&d, &u, 8);
      v = Value::real(d);
      return true;
    }
    case Value::Kind::string:
      if (!r.str(s)) return false;
      v = Value::text(s);
      return true;
    case Value::Kind::json:
      if (!r.str(s)) return false;
      v = Value::json_text(s);
      return true;
  }
  return false;
}

// A property: name, value, its last update and its source time (0: none), the times relative to
// the twin's last update. Names, not slots, so that a record survives a change of slot order.
void put_cells(std::string& o, const model::CompiledInterface& m, const Cells& cells, const Twin& t,
               std::uint16_t comp) {
  std::size_t n = 0;
  for (const auto& c : cells) n += c.is_set() ? 1 : 0;
  put_varint(o, n);
  for (std::size_t slot = 0; slot < cells.size(); ++slot) {
    const Cell& c = cells[slot];
    if (!c.is_set()) continue;
    put_str(o, m.contents[m.property_slots[slot]].name);
    put_value(o, c);
    put_time(o, t.last_update, t.time_of(c));
    const Nanos source = t.source_time(comp, static_cast<std::uint16_t>(slot));
    if (source == 0) {
      put_u8(o, 0);
    } else {
      put_u8(o, 1);
      put_time(o, t.last_update, source);
    }
  }
}

Status corrupt(std::string_view id) {
  return internal_error("stored twin '" + std::string(id) + "' is corrupt or from an unknown format");
}

bool get_cells(Reader& r, const model::CompiledInterface& m, Cells& cells, Twin& t,
               std::uint16_t comp, bool compact) {
  cells.reset(m.property_count());
  std::uint64_t n;
  if (!r.varint(n)) return false;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    Value v;
    std::int64_t updated = 0, source = 0;
    if (!r.str(name) || !get_value(r, v, compact)) return false;
    if (compact) {
      unsigned char has_source;
      if (!r.time(t.last_update, updated) || !r.u8(has_source) || has_source > 1 ||
          (has_source == 1 && !r.time(t.last_update, source)))
        return false;
    } else if (!r.i64(updated) || !r.i64(source)) {
      return false;
    }
    const model::ContentDef* c = m.property(name);
    if (!c) continue;  // the model no longer declares it: drop the value
    auto slot = static_cast<std::size_t>(c->slot);
    cells[slot] = std::move(v);
    t.set_time(cells[slot], updated);
    if (source) t.set_source_time(comp, static_cast<std::uint16_t>(slot), source);
  }
  return true;
}

}  // namespace

void encode_twin(const Twin& t, std::string& out) {
  out.clear();
  put_u8(out, kTwinFormat);
  put_str(out, t.model->id);
  put_varint(out, t.etag);
  put_u64(out, static_cast<std::uint64_t>(t.last_update));
  put_cells(out, *t.model, t.cells, t, 0);
  const auto& names = component_names(*t.model);
  put_varint(out, names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    put_str(out, names[i]);
    put_time(out, t.last_update, t.components()[i].last_update);
    put_cells(out, *t.model->components.at(names[i]), t.components()[i].cells, t, static_cast<std::uint16_t>(i + 1));
  }
}

Status decode_twin(std::string_view id, std::string_view bytes,
                   const std::function<model::InterfacePtr(std::string_view)>& resolve, Twin& out) {
  Reader r(bytes);
  unsigned char format;
  std::string_view model_id;
  if (!r.u8(format) || (format != kTwinFormat && format != kTwinFormatFixed) || !r.str(model_id))
    return corrupt(id);
  const bool compact = format == kTwinFormat;
  out = Twin{};
  out.id = std::string(id);
  out.model = resolve(model_id);
  if (!out.model)
    return internal_error("stored twin '" + std::string(id) + "' uses model " + std::string(model_id) +
                          ", which is not in the model registry");
  if (!(compact ? r.varint(out.etag) : r.u64(out.etag)) || !r.i64(out.last_update) ||
      !get_cells(r, *out.model, out.cells, out, 0, compact))
    return corrupt(id);
  const auto& names = component_names(*out.model);
  if (!names.empty()) out.components().resize(names.size());
  for (std::size_t i = 0; i < names.size(); ++i)
    out.components()[i].cells.reset(out.model->components.at(names[i])->property_count());
  std::uint64_t n;
  if (!r.varint(n)) return corrupt(id);
  for (std::uint64_t k = 0; k < n; ++k) {
    std::string_view name;
    std::int64_t updated;
    if (!r.str(name) || !(compact ? r.time(out.last_update, updated) : r.i64(updated)))
      return corrupt(id);
    auto it = std::find(names.begin(), names.end(), name);
    Cells scratch;
    Twin ignore;
    if (it == names.end()) {
      // a component the model no longer has: skip its cells with a throwaway model view
      model::CompiledInterface empty;
      ignore.last_update = out.last_update;
      if (!get_cells(r, empty, scratch, ignore, 0, compact)) return corrupt(id);
      continue;
    }
    auto i = static_cast<std::size_t>(it - names.begin());
    out.components()[i].last_update = updated;
    if (!get_cells(r, *out.model->components.at(names[i]), out.components()[i].cells, out,
                   static_cast<std::uint16_t>(i + 1), compact))
      return corrupt(id);
  }
  if (!r.done()) return corrupt(id);
  return Status::ok();
}

void encode_relationship(const Relationship& r, std::string& out) {
  out.clear();
  put_u8(out, kRelationshipFormat);
  put_str(out, r.name);
  put_str(out, r.target);
  put_u64(out, r.etag);
  put_str(out, r.properties);
}

Status decode_relationship(std::string_view id, std::string_view bytes, Relationship& out) {
  Reader r(bytes);
  unsigned char format;
  std::string_view name, target, props;
  out = Relationship{};
  if (!r.u8(format) || format != kRelationshipFormat || !r.str(name) || !r.str(target) || !r.u64(out.etag) ||
      !r.str(props) || !r.done())
    return internal_error("stored relationship '" + std::string(id) + "' is corrupt");
  out.id = std::string(id);
  out.name = std::string(name);
  out.target = std::string(target);
  out.properties = std::string(props);
  return Status::ok();
}

std::string relationship_key(std::string_view source, std::string_view rel_id) {
  std::string k(source);
  k.push_back('\0');
  k += rel_id;
  return k;
}

bool split_relationship_key(std::string_view key, std::string_view& source, std::string_view& rel_id) {
  std::size_t z = key.find('\0');
  if (z == std::string_view::npos) return false;
  source = key.substr(0, z);
  rel_id = key.substr(z + 1);
  return true;
}

}  // namespace castor::twin
