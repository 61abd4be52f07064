// SELECT: *, COUNT(), TOP(n), and projections of collections and property paths with AS.
#include <fmt/format.h>

#include <cstdint>
#include <limits>

#include "query/parser_impl.hpp"

namespace castor::query {

bool Parser::parse_select() {
  if (!accept(Keyword::select)) {
    return fail_expected("SELECT (a query starts with SELECT, as in SELECT * FROM DIGITALTWINS)");
  }
  Select& s = q_.select;
  s.offset = peek().offset;
  if (at(Keyword::count)) return parse_count();
  if (at(Keyword::top) && !parse_top()) return false;
  if (accept(TokenKind::star) || (s.top != 0 && at(Keyword::from))) {
    s.kind = SelectKind::all;
    return true;
  }
  if (at(Keyword::from)) {
    return fail(peek().offset, fmt::format("The SELECT list is empty at position {}; write SELECT "
                                           "* for whole items, or name collections and properties "
                                           "as in SELECT T.name.",
                                           position(peek().offset)));
  }
  s.kind = SelectKind::projections;
  do {
    if (!parse_projection()) return false;
  } while (accept(TokenKind::comma));
  return true;
}

bool Parser::parse_count() {
  take();
  if (!accept(TokenKind::lparen)) return fail_expected("'(' after COUNT (write COUNT())");
  if (at(TokenKind::star) || !at(TokenKind::rparen)) {
    return fail(peek().offset, fmt::format("COUNT takes no argument (position {}); write COUNT().",
                                           position(peek().offset)));
  }
  take();
  q_.select.kind = SelectKind::count;
  if (at(TokenKind::comma) || at(Keyword::as)) {
    return fail(peek().offset, fmt::format("COUNT() stands alone in the SELECT list; remove {} at "
                                           "position {}.",
                                           describe(peek()), position(peek().offset)));
  }
  return true;
}

bool Parser::parse_top() {
  take();
  if (!accept(TokenKind::lparen)) return fail_expected("'(' after TOP (write TOP(5))");
  const Token n = peek();
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (n.kind != TokenKind::integer || n.integer == 0 || n.integer > kMax) {
    return fail(n.offset, fmt::format("TOP takes a whole number of items from 1 to {} (position "
                                      "{}), as in TOP(5); found {}.",
                                      kMax, position(n.offset), describe(n)));
  }
  take();
  q_.select.top = static_cast<std::int64_t>(n.integer);
  return accept(TokenKind::rparen) || fail_expected("')' to close TOP(");
}

bool Parser::parse_projection() {
  const Token& t = peek();
  const bool call = t.kind == TokenKind::word && peek(1).kind == TokenKind::lparen;
  if (t.kind == TokenKind::star) {
    return fail(t.offset, fmt::format("'*' at position {} cannot be combined with other columns; "
                                      "write SELECT * alone, or list what to return.",
                                      position(t.offset)));
  }
  if (t.kind == TokenKind::word && t.keyword == Keyword::count) {
    return fail(t.offset, fmt::format("COUNT() at position {} cannot be combined with TOP or "
                                      "other columns; write SELECT COUNT() alone.",
                                      position(t.offset)));
  }
  const bool literal =
      t.kind == TokenKind::string || t.kind == TokenKind::integer || t.kind == TokenKind::number ||
      t.kind == TokenKind::minus ||
      (t.kind == TokenKind::word && (t.keyword == Keyword::true_ || t.keyword == Keyword::false_ ||
                                     t.keyword == Keyword::null_));
  if (call || literal) {
    return fail(t.offset,
                fmt::format("SELECT returns collections and properties, such as T or "
                            "T.name, not {} (position {}); put conditions in WHERE.",
                            call ? "function results" : "literal values", position(t.offset)));
  }
  Projection p;
  p.expr = parse_path();
  if (p.expr == kNoExpr) return false;
  if (accept(Keyword::as) && !take_name(NameUse::alias, "a column name after AS", p.alias)) {
    return false;
  }
  q_.select.projections.push_back(p);
  return true;
}

}  // namespace castor::query
