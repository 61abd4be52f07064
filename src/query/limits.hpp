// The limits a twin query must stay within, checked by the parser before anything runs.
// Defaults are the documented Azure Digital Twins limits; a limit never changes what a query
// means, it only decides whether the query is accepted.
#pragma once

#include <cstdint>

namespace castor::query {

struct QueryLimits {
  // Longest accepted query in characters (Unicode code points). Default 8,000: ADT's documented,
  // adjustable limit. Raising it costs only parse time, which is linear in the length.
  std::uint32_t max_characters = 8000;
  // Most JOIN clauses in one query. Default 5: ADT's depth limit for JOIN traversals.
  std::uint32_t max_joins = 5;
  // Most AND / OR operators in one query. Default 50: ADT's documented, adjustable limit.
  std::uint32_t max_logical_operators = 50;
  // Most values in one IN / NIN list. Default 50: the service-limits table (the operators page
  // says 100; the table is newer and marked adjustable, so it wins).
  std::uint32_t max_in_values = 50;
  // Most relationship hops a MATCH pattern may span, summed over its chained conditions.
  // Default 10: "the maximum hops supported in a query is 10".
  std::uint32_t max_match_hops = 10;
  // Deepest nesting of parentheses and NOT in a condition. Default 64. Not an ADT limit: it
  // bounds the recursion of the parser, printer and planner so hostile input cannot exhaust the
  // stack. Values above kNestingCeiling act as kNestingCeiling.
  std::uint32_t max_nesting = 64;
};

// Hard bound on max_nesting: a few hundred frames per level fit in the smallest thread stacks.
inline constexpr std::uint32_t kNestingCeiling = 256;

}  // namespace castor::query
