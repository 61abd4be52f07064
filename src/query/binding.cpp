#include "query/binding.hpp"

#include "query/path_reader.hpp"

namespace castor::query {
namespace {

// `model` by reference: most slots capture nothing, and copying the pointer would bump a count
// that every twin of the model shares, from both shard threads at once (a contended line).
std::shared_ptr<const Snapshot> capture(const Plan& plan, SlotId slot, const Resolver& r,
                                        const model::InterfacePtr& model, Scratch& s) {
  const SlotPlan& sp = plan.slots[slot];
  if (!sp.in_residual) return nullptr;
  auto snap = std::make_shared<Snapshot>();
  snap->model = model;
  for (ExprId path : sp.captured) {
    const Datum d = r.read(path, s);
    if (d.defined()) snap->values.emplace_back(path, d.to_json());
  }
  return snap;
}

}  // namespace

Datum TwinResolver::read(ExprId path, Scratch& s) const {
  return read_twin_path(twin_, plan_.paths[path].names, s);
}

Datum RelationshipResolver::read(ExprId path, Scratch& s) const {
  return read_relationship_path(source_, rel_, plan_.paths[path].names, s);
}

const Snapshot* RowResolver::snapshot(SlotId slot) const {
  if (slot >= row_.size() || row_[slot] == kUnbound) return nullptr;
  return bound_[row_[slot]].snapshot.get();
}

Datum RowResolver::read(ExprId path, Scratch&) const {
  const Snapshot* snap = snapshot(plan_.paths[path].slot);
  if (snap == nullptr) return Datum::undefined();
  for (const auto& [id, value] : snap->values) {
    if (id == path) return Datum::of_json(value);
  }
  return Datum::undefined();
}

const model::CompiledInterface* RowResolver::model_of(SlotId slot) const {
  const Snapshot* snap = snapshot(slot);
  return snap ? snap->model.get() : nullptr;
}

bool twin_matches(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s, ExprId known) {
  return all_true(plan, plan.slots[slot].local, TwinResolver(plan, t), s, known);
}

bool relationship_matches(const Plan& plan, SlotId slot, std::string_view source,
                          const twin::Relationship& r, Scratch& s) {
  return all_true(plan, plan.slots[slot].local, RelationshipResolver(plan, source, r), s);
}

Bound twin_binding(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s) {
  return Bound{t.id, {}, capture(plan, slot, TwinResolver(plan, t), t.model, s)};
}

Bound relationship_binding(const Plan& plan, SlotId slot, std::string_view source,
                           const twin::Relationship& r, Scratch& s) {
  return Bound{std::string(source), r.id,
               capture(plan, slot, RelationshipResolver(plan, source, r), {}, s)};
}

bool bind_twin(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s, Bound& out) {
  if (!twin_matches(plan, slot, t, s)) return false;
  out = twin_binding(plan, slot, t, s);
  return true;
}

bool bind_relationship(const Plan& plan, SlotId slot, std::string_view source,
                       const twin::Relationship& r, Scratch& s, Bound& out) {
  if (!relationship_matches(plan, slot, source, r, s)) return false;
  out = relationship_binding(plan, slot, source, r, s);
  return true;
}

}  // namespace castor::query
