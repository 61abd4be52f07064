// Bindings: what a result row holds for each slot (a twin id, or a relationship's source and
// id) plus a snapshot of the values that conditions across slots will read, captured on the
// shard that owns the twin; and the Resolvers that read paths from a live twin or relationship
// (on its shard) or from a row's snapshots (anywhere). Snapshots are immutable once made.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "query/eval.hpp"
#include "query/planner.hpp"
#include "twin/twin.hpp"

namespace castor::query {

struct Snapshot {
  model::InterfacePtr model;                           // twins: for IS_OF_MODEL
  std::vector<std::pair<ExprId, json::value>> values;  // the defined values of captured paths
};

struct Bound {
  std::string id;                            // the twin, or the relationship's source twin
  std::string rel_id;                        // the relationship; empty for a twin
  std::shared_ptr<const Snapshot> snapshot;  // null when nothing reads the slot later

  std::size_t bytes() const noexcept { return sizeof(Bound) + id.capacity() + rel_id.capacity(); }
};

class TwinResolver final : public Resolver {
 public:
  TwinResolver(const Plan& plan, const twin::Twin& t) : plan_(plan), twin_(t) {}
  Datum read(ExprId path, Scratch& s) const override;
  const model::CompiledInterface* model_of(SlotId) const override { return twin_.model.get(); }

 private:
  const Plan& plan_;
  const twin::Twin& twin_;
};

class RelationshipResolver final : public Resolver {
 public:
  RelationshipResolver(const Plan& plan, std::string_view source, const twin::Relationship& r)
      : plan_(plan), source_(source), rel_(r) {}
  Datum read(ExprId path, Scratch& s) const override;
  const model::CompiledInterface* model_of(SlotId) const override { return nullptr; }

 private:
  const Plan& plan_;
  std::string_view source_;
  const twin::Relationship& rel_;
};

// Reads a row from the snapshots of its bindings: `row[slot]` indexes `bound`.
class RowResolver final : public Resolver {
 public:
  RowResolver(const Plan& plan, const std::vector<Bound>& bound, std::span<const std::uint32_t> row)
      : plan_(plan), bound_(bound), row_(row) {}
  Datum read(ExprId path, Scratch& s) const override;
  const model::CompiledInterface* model_of(SlotId slot) const override;

 private:
  const Snapshot* snapshot(SlotId slot) const;
  const Plan& plan_;
  const std::vector<Bound>& bound_;
  std::span<const std::uint32_t> row_;
};

inline constexpr std::uint32_t kUnbound = UINT32_MAX;

// Whether the slot's own conditions hold for a live twin or relationship. `known`: a conjunct
// already known to hold (the one a property index found the twin by), not evaluated again.
bool twin_matches(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s,
                  ExprId known = kNoExpr);
bool relationship_matches(const Plan& plan, SlotId slot, std::string_view source,
                          const twin::Relationship& r, Scratch& s);
// The binding of a matching twin or relationship, with a snapshot of what later conditions read.
Bound twin_binding(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s);
Bound relationship_binding(const Plan& plan, SlotId slot, std::string_view source,
                           const twin::Relationship& r, Scratch& s);
// Both: false when a condition fails.
bool bind_twin(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s, Bound& out);
bool bind_relationship(const Plan& plan, SlotId slot, std::string_view source,
                       const twin::Relationship& r, Scratch& s, Bound& out);

}  // namespace castor::query
