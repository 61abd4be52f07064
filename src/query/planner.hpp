// The planner: turns a bound Query into a Plan the executor runs. It numbers the row's slots (one
// per collection, plus one for the relationship of each unnamed single hop), splits WHERE into
// conditions checked where one slot is bound (inside the shard that owns it) and conditions
// across slots (checked on captured values once all their slots are bound), picks the anchor and
// how to reach it (point lookups by $dtId or $sourceId, else a scan), and orders the traversal
// steps outward from the anchor. Pure: it never looks at twins and never fails.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "query/ast.hpp"

namespace castor::query {

using SlotId = std::uint32_t;
inline constexpr SlotId kNoSlot = UINT32_MAX;

enum class SlotKind : std::uint8_t { twin, relationship };

struct SlotPlan {
  SlotKind kind = SlotKind::twin;
  CollectionId collection = kNoCollection;  // none: the implicit relationship of a single hop
  std::vector<ExprId> local;                // conjuncts over this slot alone, cheapest first
  std::vector<ExprId> captured;             // paths that cross-slot conjuncts read from this slot
  bool in_residual = false;            // a cross-slot conjunct reads it: bindings keep a snapshot
  std::vector<std::uint32_t> outputs;  // Plan::outputs this slot provides
  // A relationship slot is only looked at when something reads it; a twin slot always is.
  bool needed() const {
    return kind == SlotKind::twin || !local.empty() || in_residual || !outputs.empty();
  }
};

// The effective slot of a path expression and its names below that slot. `T.rel.p`, where T
// JOINs or MATCHes a relationship named rel, reads p of that relationship (DTDL forbids a
// property and a relationship of one interface to share a name, so this is never ambiguous).
struct PathPlan {
  SlotId slot = kNoSlot;  // none: the path names no collection of the query (always undefined)
  std::vector<std::string_view> names;
};

// One column of each result row.
struct Output {
  std::string_view name;  // the row key; unused for SELECT *
  std::string key;        // `name` as a JSON string and a colon: what a row writes before the value
  SlotId slot = kNoSlot;  // none: never present in any row
  ExprId path = kNoExpr;  // the projected path (kNoExpr for SELECT *)
  bool whole = false;     // the whole twin or relationship rather than a value below it
};

// How the anchor's candidates are found. Phase 2 adds model and property indexes kept by the
// shards (see IndexHints); everything else in the plan stays as it is.
enum class AccessKind : std::uint8_t {
  scan,  // every twin (or every relationship) of every shard
  ids,   // only the owners of `ids`
};

struct Access {
  AccessKind kind = AccessKind::scan;
  std::vector<std::string> ids;  // $dtId values, or $sourceId values for FROM RELATIONSHIPS
};

// What an index could answer for the anchor (top-level conjuncts only); unused in phase 1.
struct IndexHints {
  std::string model;  // IS_OF_MODEL(anchor, model[, exact])
  bool exact = false;
  std::vector<ExprId> property_conditions;  // comparisons of an anchor property with a literal
};

// Extends the bound part of the pattern by one edge.
struct Step {
  std::uint32_t edge = 0;                // index in Query::edges
  SlotId from = kNoSlot;                 // the bound twin
  SlotId to = kNoSlot;                   // the twin reached
  SlotId relationship = kNoSlot;         // the relationship crossed (single hops only)
  Direction direction = Direction::any;  // relative to `from`: forward follows its outgoing ones
  bool closes = false;                   // `to` was bound before: keep rows that reach it
  std::vector<std::string_view> names;   // relationship names; empty: any
  std::uint32_t min_hops = 1;
  std::uint32_t max_hops = 1;
};

struct Residual {
  ExprId expr = kNoExpr;
  std::uint32_t ready_after = 0;  // number of steps after which all its slots are bound
};

struct Plan {
  Query query;
  std::vector<SlotPlan> slots;
  std::vector<PathPlan> paths;  // by ExprId; meaningful for path expressions
  std::vector<Output> outputs;
  bool select_all = false;
  bool count = false;
  std::int64_t top = 0;  // 0: no TOP
  SlotId anchor = 0;
  Access access;
  IndexHints hints;
  std::vector<Step> steps;
  std::vector<ExprId> constant;  // conjuncts that read no slot: decided once
  std::vector<Residual> residuals;
  // Slots kept in result keys (those with outputs), in slot order.
  std::vector<SlotId> stored;

  bool single_slot() const { return steps.empty(); }
};

// The plan owns the query; path names view its text, so the plan is never copied or moved.
std::shared_ptr<const Plan> plan_query(Query query);

}  // namespace castor::query
