// The parser of the event route filter language, as Azure Digital Twins documents it: `true`,
// `false`, comparisons (= != <> < <= > >=) of CloudEvent attributes, $body paths and literals,
// AND / OR / NOT with parentheses, and STARTS_WITH / ENDS_WITH / CONTAINS (plus IS_DEFINED and
// type tests as Castor extensions). Bounded by filter_ast.hpp's limits; never crashes on input.
#pragma once

#include <string_view>

#include "common/status.hpp"
#include "rules/filter_ast.hpp"

namespace castor::rules::filter {

// Errors are 400 EventRouteFilterInvalid with the 1-based character position and a sentence.
Result<Ast> parse(std::string_view text);

}  // namespace castor::rules::filter
