// The printer: turns a Query back into canonical query text (keywords in upper case, single
// spaces, names escaped only where needed). For every parsed query, parse(print(q)) == q.
// It never fails and never consults the original text.
#pragma once

#include <string>

#include "query/ast.hpp"

namespace castor::query {

std::string print(const Query& q);
void print_expr(const Query& q, ExprId e, std::string& out);

}  // namespace castor::query
