// Evaluates WHERE conditions and their operands with ADT's semantics: three-valued logic,
// comparisons and IN / NIN under the type rules of datum.hpp, and every documented function
// (IS_OF_MODEL with inheritance, versions and `exact`, IS_DEFINED, IS_NULL, the type checks,
// STARTSWITH, ENDSWITH, CONTAINS, ARRAY_CONTAINS). Paths are read through a Resolver, so the
// same code runs inside a shard scan and on values captured from several shards. Never throws,
// never allocates except through the Scratch.
#pragma once

#include <string_view>

#include "model/compiled_model.hpp"
#include "query/datum.hpp"
#include "query/planner.hpp"

namespace castor::query {

// Where the values of a row come from.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // The value of path expression `path` (its slot and names are in Plan::paths).
  virtual Datum read(ExprId path, Scratch& s) const = 0;
  // The model of the twin bound to `slot`, or null when the resolver has none.
  virtual const model::CompiledInterface* model_of(SlotId slot) const = 0;
};

Truth eval_condition(const Plan& plan, ExprId e, const Resolver& r, Scratch& s);
Datum eval_operand(const Plan& plan, ExprId e, const Resolver& r, Scratch& s);

// True when every conjunct in `conditions` is true; `known` (if any) is taken as true unread.
bool all_true(const Plan& plan, const std::vector<ExprId>& conditions, const Resolver& r,
              Scratch& s, ExprId known = kNoExpr);

// IS_OF_MODEL: `m` is `wanted`, or (unless `exact`) extends it, where a model with the same
// name and an equal or higher version counts as the wanted one (how-to-query-graph.md).
bool is_of_model(const model::CompiledInterface& m, std::string_view wanted, bool exact);

}  // namespace castor::query
