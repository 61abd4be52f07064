// The twin query parser: query text in, a checked Query out, or a QueryError saying where and
// why. It enforces QueryLimits and every rule that needs no twin data; it never executes
// anything, never throws on bad input, and bounds its own recursion.
#pragma once

#include <string_view>

#include "common/status.hpp"
#include "query/ast.hpp"
#include "query/limits.hpp"
#include "query/query_error.hpp"

namespace castor::query {

// On failure `error` is filled and `out` is left in an unspecified state.
bool parse(std::string_view text, Query& out, QueryError& error, const QueryLimits& limits = {});

// Convenience: Code::invalid_argument carrying QueryError::message.
Result<Query> parse(std::string_view text, const QueryLimits& limits = {});

}  // namespace castor::query
