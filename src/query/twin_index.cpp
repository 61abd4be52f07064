#include "query/twin_index.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "query/eval.hpp"
#include "query/path_reader.hpp"
#include "query/scatter.hpp"

namespace castor::query {
namespace {

constexpr std::uintptr_t kFirst = 0;
constexpr std::uintptr_t kLast = std::numeric_limits<std::uintptr_t>::max();
constexpr double kExactInteger = 9007199254740992.0;  // 2^53: larger integers lose precision

bool valid_name(std::string_view n) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c == '$' && i == 0) ||
                    (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok) return false;
  }
  return true;
}

// The key of a value, or false for values no index holds (undefined, objects, arrays).
bool key_of(const Datum& d, IndexKey& k) {
  switch (d.kind) {
    case Datum::Kind::null: k = IndexKey{IndexKey::Kind::null, 0, {}}; return true;
    case Datum::Kind::boolean: k = IndexKey{IndexKey::Kind::boolean, d.boolean ? 1.0 : 0.0, {}}; return true;
    case Datum::Kind::integer:
      k = IndexKey{IndexKey::Kind::number,
                   d.number(),
                   {},
                   std::fabs(d.number()) < kExactInteger ? IndexKey::Form::integer
                                                         : IndexKey::Form::inexact};
      return true;
    case Datum::Kind::real: k = IndexKey{IndexKey::Kind::number, d.number(), {}}; return true;
    case Datum::Kind::string: k = IndexKey{IndexKey::Kind::string, 0, std::string(d.text)}; return true;
    default: return false;
  }
}

IndexKey first_of(IndexKey::Kind kind) {
  return IndexKey{kind, -std::numeric_limits<double>::infinity(), {}};
}

IndexKey::Kind after(IndexKey::Kind kind) {
  return static_cast<IndexKey::Kind>(static_cast<int>(kind) + 1);
}

CompareOp flip(CompareOp op) {
  switch (op) {
    case CompareOp::lt: return CompareOp::gt;
    case CompareOp::le: return CompareOp::ge;
    case CompareOp::gt: return CompareOp::lt;
    case CompareOp::ge: return CompareOp::le;
    default: return op;
  }
}

class NoRow final : public Resolver {
 public:
  Datum read(ExprId, Scratch&) const override { return Datum::undefined(); }
  const model::CompiledInterface* model_of(SlotId) const override { return nullptr; }
};

// A literal comparison `anchor.path op literal` (either way round), or false.
struct Comparison {
  ExprId path = kNoExpr;
  CompareOp op = CompareOp::eq;
  Datum literal;
};

bool comparison_of(const Plan& plan, ExprId c, Scratch& s, Comparison& out) {
  const Query& q = plan.query;
  const Expr& e = q.expr(c);
  if (e.kind != ExprKind::compare || e.op == CompareOp::ne) return false;
  const auto kids = q.children(e);
  auto is_anchor_path = [&](ExprId id) {
    return q.expr(id).kind == ExprKind::path && plan.paths[id].slot == plan.anchor &&
           !plan.paths[id].names.empty();
  };
  auto is_literal = [&](ExprId id) {
    const ExprKind k = q.expr(id).kind;
    return k == ExprKind::null_literal || k == ExprKind::bool_literal || k == ExprKind::int_literal ||
           k == ExprKind::double_literal || k == ExprKind::string_literal;
  };
  if (is_anchor_path(kids[0]) && is_literal(kids[1])) {
    out = {kids[0], e.op, eval_operand(plan, kids[1], NoRow(), s)};
  } else if (is_anchor_path(kids[1]) && is_literal(kids[0])) {
    out = {kids[1], flip(e.op), eval_operand(plan, kids[0], NoRow(), s)};
  } else {
    return false;
  }
  return out.literal.defined();
}

bool same_path(const Plan& plan, ExprId path, const IndexSpec& spec) {
  const auto& names = plan.paths[path].names;
  return std::equal(names.begin(), names.end(), spec.names.begin(), spec.names.end());
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out.push_back('.');
    out.append(n);
  }
  return out;
}

}  // namespace

// --- IndexSpec ---

std::string IndexSpec::path() const {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out.push_back('.');
    out += n;
  }
  return out;
}

std::string IndexSpec::text() const { return model.empty() ? path() : model + ":" + path(); }

Result<IndexSpec> parse_index_spec(std::string_view text) {
  IndexSpec spec;
  std::string_view path = text;
  if (text.starts_with("dtmi:")) {
    const std::size_t colon = text.rfind(':');
    spec.model = std::string(text.substr(0, colon));
    path = text.substr(colon + 1);
    if (spec.model.find(';') == std::string::npos || colon <= 5)
      return Status(Code::invalid_argument,
                    "query index '" + std::string(text) +
                        "' names a model without a version; write it as dtmi:<path>;<version>:<property>");
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) dot = path.size();
    std::string_view name = path.substr(start, dot - start);
    if (!valid_name(name))
      return Status(Code::invalid_argument,
                    "query index '" + std::string(text) +
                        "' needs a property path such as 'temperature' or 'state.mode' after the model");
    spec.names.emplace_back(name);
    start = dot + 1;
  }
  return spec;
}

// --- IndexKey ---

bool IndexKey::operator<(const IndexKey& o) const {
  if (kind != o.kind) return kind < o.kind;
  if (kind == Kind::string) return text < o.text;
  return number < o.number;
}

bool IndexKey::operator==(const IndexKey& o) const {
  return kind == o.kind && number == o.number && text == o.text;
}

Datum datum_of(const IndexKey& k) {
  switch (k.kind) {
    case IndexKey::Kind::null: return Datum::null();
    case IndexKey::Kind::boolean: return Datum::of_bool(k.number != 0);
    case IndexKey::Kind::number:
      if (k.form == IndexKey::Form::real) return Datum::of_real(k.number);
      if (k.form == IndexKey::Form::integer)
        return Datum::of_int(static_cast<std::int64_t>(k.number));
      return Datum::undefined();
    case IndexKey::Kind::string: return Datum::of_text(k.text);
    default: return Datum::undefined();
  }
}

// --- ShardIndex ---

struct ShardIndex::Range {
  Indexed lo, hi;
};

void ShardIndex::update(std::string_view id, const twin::Twin* after) {
  auto it = entries_.find(id);
  if (after == nullptr) {
    if (it == entries_.end()) return;
    remove(it->second);
    entries_.erase(it);
    return;
  }
  if (it == entries_.end()) it = entries_.emplace(std::string(id), Entry{}).first;
  Entry& e = it->second;
  if (e.twin == after && e.slot != nullptr && e.slot->model == after->model) {
    // Changed in place (a patch): it keeps its place among its model's twins, only its property
    // keys may have moved. Saves the slot shuffle and its hash lookups on every write.
    drop_keys(e);
    add_keys(e, *after);
    set_cells(*e.slot, e.pos, *after);
    return;
  }
  remove(e);  // drops the old pointer and keys (the twin may be a new object, or changed in place)
  e.twin = after;
  auto slot = models_.find(after->model->id);
  if (slot == models_.end()) slot = models_.emplace(after->model->id, Slot{after->model, {}}).first;
  slot->second.model = after->model;
  e.slot = &slot->second;
  e.pos = static_cast<std::uint32_t>(e.slot->twins.size());
  e.slot->twins.push_back(after);
  push_cells(*e.slot, *after);
  add_keys(e, *after);
}

void ShardIndex::remove(Entry& e) {
  if (e.slot != nullptr) {
    auto& v = e.slot->twins;
    if (e.pos + 1 != v.size()) {
      // The last twin moves into the hole; it is alive (only `e`'s own twin may be gone).
      const twin::Twin* moved = v.back();
      v[e.pos] = moved;
      entries_.find(std::string_view(moved->id))->second.pos = e.pos;
    }
    v.pop_back();
    move_last_cells(*e.slot, e.pos);
    e.slot = nullptr;
  }
  drop_keys(e);
}

void ShardIndex::drop_keys(Entry& e) {
  for (auto& [p, key] : e.keys)
    properties_[p]->values.erase({key, reinterpret_cast<std::uintptr_t>(e.twin), {}});
  e.keys.clear();
}

void ShardIndex::add_keys(Entry& e, const twin::Twin& t) {
  for (std::uint32_t p = 0; p < properties_.size(); ++p) add_key(p, e, t);
}

bool ShardIndex::add_key(std::uint32_t p, Entry& e, const twin::Twin& t) {
  const IndexSpec& spec = properties_[p]->spec;
  if (!spec.model.empty() && !t.model->is_a(spec.model)) return false;
  std::vector<std::string_view> names(spec.names.begin(), spec.names.end());
  Scratch s;
  IndexKey k;
  if (!key_of(read_twin_path(t, names, s), k)) return false;
  properties_[p]->values.insert({k, reinterpret_cast<std::uintptr_t>(&t), t.id});
  e.keys.emplace_back(p, std::move(k));
  return true;
}

bool ShardIndex::has_property(const IndexSpec& spec) const {
  return std::any_of(properties_.begin(), properties_.end(), [&](const auto& p) {
    return p->spec.model == spec.model && p->spec.names == spec.names;
  });
}

void ShardIndex::add_declared(const IndexSpec& spec) {
  if (!has_property(spec)) properties_.push_back(std::make_unique<Property>(Property{spec, {}}));
}

void ShardIndex::add_property(const IndexSpec& spec, const twin::Shard& shard) {
  if (has_property(spec)) return;
  properties_.push_back(std::make_unique<Property>(Property{spec, {}}));
  const auto p = static_cast<std::uint32_t>(properties_.size() - 1);
  shard.for_each_twin([&](const twin::Twin& t) {
    auto it = entries_.find(std::string_view(t.id));
    if (it != entries_.end()) add_key(p, it->second, t);
  });
}

std::size_t ShardIndex::model_count(std::string_view model) const {
  auto it = models_.find(model);
  return it == models_.end() ? 0 : it->second.twins.size();
}

bool ShardIndex::count_by_model(const Plan& plan, std::uint64_t& n) const {
  const auto& local = plan.slots[plan.anchor].local;
  if (local.size() != 1 || plan.hints.model.empty() || plan.access.kind != AccessKind::scan ||
      plan.slots[plan.anchor].kind != SlotKind::twin)
    return false;
  std::vector<const Slot*> slots;
  std::size_t count = 0;
  if (!model_candidates(plan, slots, count)) return false;
  n = count;
  return true;
}

bool ShardIndex::count_by_value(const Plan& plan, std::uint64_t& n) const {
  const auto& local = plan.slots[plan.anchor].local;
  if (local.size() != 1 || plan.access.kind != AccessKind::scan ||
      plan.slots[plan.anchor].kind != SlotKind::twin)
    return false;
  Scratch s;
  Comparison cmp;
  if (!comparison_of(plan, local[0], s, cmp) || cmp.op != CompareOp::eq) return false;
  const Datum::Kind k = cmp.literal.kind;
  if (k != Datum::Kind::string && k != Datum::Kind::boolean && k != Datum::Kind::null) return false;
  for (const auto& p : properties_) {
    Range r;
    if (!p->spec.model.empty() || !range_of(plan, local[0], *p, r)) continue;
    n = p->values.distance(p->values.lower_bound(r.lo), p->values.lower_bound(r.hi));
    return true;
  }
  return false;
}

bool ShardIndex::model_candidates(const Plan& plan, std::vector<const Slot*>& slots,
                                  std::size_t& n) const {
  if (plan.hints.model.empty()) return false;
  n = 0;
  for (const auto& [id, slot] : models_) {
    if (slot.twins.empty() || !is_of_model(*slot.model, plan.hints.model, plan.hints.exact)) continue;
    slots.push_back(&slot);
    n += slot.twins.size();
  }
  return true;
}

// A model-scoped index serves a query only if every twin its IS_OF_MODEL accepts is in the
// index: IS_OF_MODEL also accepts newer versions, which need not extend the indexed model.
bool ShardIndex::covers(const Plan& plan, const std::string& model) const {
  if (plan.hints.model.empty()) return false;
  for (const auto& [id, slot] : models_) {
    if (slot.twins.empty() || !is_of_model(*slot.model, plan.hints.model, plan.hints.exact)) continue;
    if (!slot.model->is_a(model)) return false;
  }
  return true;
}

bool ShardIndex::range_of(const Plan& plan, ExprId c, const Property& p, Range& r) const {
  Scratch s;
  Comparison cmp;
  if (!comparison_of(plan, c, s, cmp) || !same_path(plan, cmp.path, p.spec)) return false;
  if (!p.spec.model.empty() && !covers(plan, p.spec.model)) return false;
  IndexKey k;
  if (!key_of(cmp.literal, k)) return false;
  if (cmp.literal.kind == Datum::Kind::integer && std::fabs(k.number) >= kExactInteger) return false;
  const bool ordered = k.kind == IndexKey::Kind::number || k.kind == IndexKey::Kind::string;
  if (cmp.op != CompareOp::eq && !ordered) return false;
  const IndexKey first = first_of(k.kind), end = first_of(after(k.kind));
  switch (cmp.op) {
    case CompareOp::eq: r = {{k, kFirst, {}}, {k, kLast, {}}}; break;
    case CompareOp::gt: r = {{k, kLast, {}}, {end, kFirst, {}}}; break;
    case CompareOp::ge: r = {{k, kFirst, {}}, {end, kFirst, {}}}; break;
    case CompareOp::lt: r = {{first, kFirst, {}}, {k, kFirst, {}}}; break;
    case CompareOp::le: r = {{first, kFirst, {}}, {k, kLast, {}}}; break;
    default: return false;
  }
  return true;
}

bool ShardIndex::candidates(const Plan& plan, std::size_t cap, Candidates& out,
                            IndexUse& use) const {
  if (plan.access.kind != AccessKind::scan || plan.slots[plan.anchor].kind != SlotKind::twin)
    return false;
  std::size_t best = cap;
  std::vector<const Slot*> slots;
  std::size_t n = 0;
  bool by_model = model_candidates(plan, slots, n) && n < best;
  if (by_model) best = n;
  const Property* best_property = nullptr;
  Range best_range;
  ExprId best_condition = kNoExpr;
  for (ExprId c : plan.hints.property_conditions) {
    for (const auto& p : properties_) {
      Range r;
      if (!range_of(plan, c, *p, r)) continue;
      const auto lo = p->values.lower_bound(r.lo);
      const auto hi = p->values.lower_bound(r.hi);
      const std::size_t count = p->values.distance(lo, hi);
      if (count < best || (count == 0 && best == 0 && best_property == nullptr)) {
        best = count;
        best_property = p.get();
        best_range = r;
        best_condition = c;
        by_model = false;
      }
    }
  }
  if (best_property != nullptr) {
    const auto lo = best_property->values.lower_bound(best_range.lo);
    const auto hi = best_property->values.lower_bound(best_range.hi);
    out.entries.reserve(best);
    best_property->values.for_each(lo, hi, [&](const Indexed& v) { out.entries.push_back(&v); });
    out.spec = &best_property->spec;
    use = {best_property->spec.path(), out.size(), best_condition};
    return true;
  }
  if (!by_model) return false;
  for (const Slot* slot : slots)
    out.twins.insert(out.twins.end(), slot->twins.begin(), slot->twins.end());
  use = {"model", out.size()};
  return true;
}

// --- IndexSet ---

IndexSet::IndexSet(IndexOptions options) : options_(std::move(options)) {}

void IndexSet::on_open(std::size_t shard_count) {
  shards_.clear();
  for (std::size_t i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<ShardIndex>());
  // No twin exists yet: property indexes start empty and fill as twins are loaded (automatic
  // ones made before, when the engine is reopened with this set, come back too).
  for (const IndexSpec& spec : specs())
    for (auto& s : shards_) s->add_declared(spec);
}

void IndexSet::on_twin_changed(std::size_t shard, std::string_view id, const twin::Twin* after) {
  shards_[shard]->update(id, after);
}

std::vector<IndexSpec> IndexSet::specs() const {
  std::lock_guard lock(mu_);
  std::vector<IndexSpec> out = options_.declared;
  out.insert(out.end(), created_.begin(), created_.end());
  return out;
}

void IndexSet::note(twin::Engine& engine, const Plan& plan) {
  if (options_.auto_after == 0 || plan.access.kind != AccessKind::scan ||
      plan.slots[plan.anchor].kind != SlotKind::twin)
    return;
  for (ExprId c : plan.hints.property_conditions) {
    Scratch s;
    Comparison cmp;
    if (!comparison_of(plan, c, s, cmp)) continue;
    IndexSpec spec;
    for (std::string_view n : plan.paths[cmp.path].names) spec.names.emplace_back(n);
    if (spec.names.front().starts_with('$')) continue;  // system properties have their own paths
    spec.automatic = true;
    {
      std::lock_guard lock(mu_);
      const std::string path = join(plan.paths[cmp.path].names);
      const bool declared = std::any_of(options_.declared.begin(), options_.declared.end(),
                                        [&](const IndexSpec& d) { return d.model.empty() && d.names == spec.names; });
      if (declared || created_.size() >= options_.auto_max) continue;
      if (++filtered_[path] != options_.auto_after) continue;
      created_.push_back(spec);
    }
    create(engine, std::move(spec));
  }
}

void IndexSet::create(twin::Engine& engine, IndexSpec spec, std::function<void()> done) {
  auto shared = std::make_shared<const IndexSpec>(std::move(spec));
  auto finished = std::make_shared<std::function<void()>>(std::move(done));
  engine.for_each_shard(
      [this, shared](twin::Shard& s) { shards_[s.index()]->add_property(*shared, s); },
      [finished] {
        if (*finished) (*finished)();
      });
}

}  // namespace castor::query
