// The words of the twin query language: keywords (case-insensitive), which of them are reserved
// (documented list: usable as names only when escaped as [[word]]), and the function names.
// Pure lookups over constant tables; nothing here allocates or keeps state.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "query/ast.hpp"

namespace castor::query {

enum class Keyword : std::uint8_t {
  none,
  // Structural words. JOIN, RELATED, MATCH, DIGITALTWINS, RELATIONSHIPS, NIN and EXACT are not in
  // ADT's reserved list: they are keywords only where the grammar expects them.
  select,
  from,
  where,
  join,
  related,
  match,
  as,
  top,
  count,
  digitaltwins,
  relationships,
  and_,
  or_,
  not_,
  in,
  nin,
  true_,
  false_,
  null_,
  exact,
  // Reserved for the IoT Hub dialect ADT inherits; rejected as bare names, unused by the grammar.
  all,
  asc,
  avg,
  by,
  desc,
  devices,
  devices_jobs,
  devices_modules,
  ends_with,
  group,
  is_bool,
  is_defined,
  is_null,
  is_number,
  is_object,
  is_of_model,
  is_primitive,
  is_string,
  max,
  min,
  not_in,
  order,
  starts_with,
  sum,
};

// The keyword spelled by `word` in any letter case, or Keyword::none.
Keyword find_keyword(std::string_view word) noexcept;
// True for the words ADT documents as reserved (reference-query-reserved.md).
bool is_reserved(Keyword k) noexcept;
// True for the structural words that would be read as a clause where an alias may stand.
bool ends_alias(Keyword k) noexcept;

// The function spelled by `word` in any letter case.
std::optional<Function> find_function(std::string_view word) noexcept;
// Canonical (upper-case) spelling.
std::string_view function_name(Function f) noexcept;

// How a name may be written without [[...]] escaping.
bool is_name_start(char c) noexcept;
bool is_name_char(char c) noexcept;
bool is_plain_name(std::string_view name) noexcept;   // letters, digits, _; not a digit first
bool is_system_name(std::string_view name) noexcept;  // $ followed by a plain name

}  // namespace castor::query
