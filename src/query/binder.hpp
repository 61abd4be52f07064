// The binder: resolves the first name of every path to the collection it starts from, and
// enforces the rules that need no twin data (SELECT * over a single collection, IS_OF_MODEL's
// collection, ARRAY_CONTAINS on twins only, distinct column names). It never looks at twins.
#pragma once

#include <string_view>

#include "query/ast.hpp"
#include "query/query_error.hpp"

namespace castor::query {

// `text` is the query the Query was parsed from, for error positions.
bool bind(std::string_view text, Query& query, QueryError& error);

}  // namespace castor::query
