// WHERE conditions: OR over AND over NOT over predicates (comparisons, IN / NIN, functions,
// parenthesised conditions), with literals and property paths as operands.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "query/parser_impl.hpp"

namespace castor::query {
namespace {

bool is_comparison(TokenKind k) {
  return k == TokenKind::eq || k == TokenKind::ne || k == TokenKind::lt || k == TokenKind::le ||
         k == TokenKind::gt || k == TokenKind::ge;
}

CompareOp comparison_of(TokenKind k) {
  switch (k) {
    case TokenKind::ne: return CompareOp::ne;
    case TokenKind::lt: return CompareOp::lt;
    case TokenKind::le: return CompareOp::le;
    case TokenKind::gt: return CompareOp::gt;
    case TokenKind::ge: return CompareOp::ge;
    default: return CompareOp::eq;
  }
}

}  // namespace

bool Parser::enter_nesting(std::uint32_t offset) {
  const std::uint32_t limit = std::min(limits_.max_nesting, kNestingCeiling);
  if (++nesting_ <= limit) return true;
  return fail(offset, fmt::format("The condition nests more than {} levels of parentheses and NOT "
                                  "(position {}); simplify it.",
                                  limit, position(offset)));
}

bool Parser::count_logical(const Token& op) {
  if (++logical_operators_ <= limits_.max_logical_operators) return true;
  return fail(op.offset, fmt::format("A query may combine conditions with at most {} AND / OR "
                                     "operators; the one at position {} is one too many. Use "
                                     "IN [...] for alternatives of one property.",
                                     limits_.max_logical_operators, position(op.offset)));
}

void Parser::push_operand(ExprKind flatten, ExprId id) {
  const Expr& e = q_.expr(id);
  if (e.kind != flatten) {
    scratch_.push_back(id);
    return;
  }
  // (a AND b) AND c is a AND b AND c: keep n-ary nodes flat so a planner sees every conjunct.
  for (ExprId child : q_.children(e)) scratch_.push_back(child);
}

ExprId Parser::make_node(ExprKind kind, std::size_t mark, std::uint32_t offset) {
  Expr e;
  e.kind = kind;
  e.offset = offset;
  e.first = static_cast<std::uint32_t>(q_.operands.size());
  e.count = static_cast<std::uint32_t>(scratch_.size() - mark);
  q_.operands.insert(q_.operands.end(), scratch_.begin() + static_cast<std::ptrdiff_t>(mark),
                     scratch_.end());
  scratch_.resize(mark);
  return q_.add_expr(e);
}

ExprId Parser::parse_or() {
  const std::size_t mark = scratch_.size();
  const std::uint32_t offset = peek().offset;
  ExprId id = parse_and();
  if (id == kNoExpr) return kNoExpr;
  if (!at(Keyword::or_)) return id;
  push_operand(ExprKind::logical_or, id);
  while (at(Keyword::or_)) {
    if (!count_logical(take()) || (id = parse_and()) == kNoExpr) return kNoExpr;
    push_operand(ExprKind::logical_or, id);
  }
  return make_node(ExprKind::logical_or, mark, offset);
}

ExprId Parser::parse_and() {
  const std::size_t mark = scratch_.size();
  const std::uint32_t offset = peek().offset;
  ExprId id = parse_not();
  if (id == kNoExpr) return kNoExpr;
  if (!at(Keyword::and_)) return id;
  push_operand(ExprKind::logical_and, id);
  while (at(Keyword::and_)) {
    if (!count_logical(take()) || (id = parse_not()) == kNoExpr) return kNoExpr;
    push_operand(ExprKind::logical_and, id);
  }
  return make_node(ExprKind::logical_and, mark, offset);
}

ExprId Parser::parse_not() {
  if (!at(Keyword::not_)) return parse_predicate();
  const Token op = take();
  if (!enter_nesting(op.offset)) return kNoExpr;
  const ExprId operand = parse_not();
  if (operand == kNoExpr) return kNoExpr;
  --nesting_;
  const std::size_t mark = scratch_.size();
  scratch_.push_back(operand);
  return make_node(ExprKind::logical_not, mark, op.offset);
}

ExprId Parser::parse_predicate() {
  if (at(TokenKind::lparen)) {
    const Token open = take();
    if (!enter_nesting(open.offset)) return kNoExpr;
    const ExprId inner = parse_or();
    if (inner == kNoExpr) return kNoExpr;
    if (!accept(TokenKind::rparen)) {
      fail_expected(
          fmt::format("AND, OR or ')' to close the '(' at position {}", position(open.offset)));
      return kNoExpr;
    }
    --nesting_;
    return inner;
  }
  const ExprId left = parse_operand();
  if (left == kNoExpr) return kNoExpr;
  const Token op = peek();
  if (is_comparison(op.kind)) {
    take();
    const ExprId right = parse_operand();
    if (right == kNoExpr) return kNoExpr;
    if (is_comparison(peek().kind)) {
      fail(peek().offset, fmt::format("Comparisons cannot be chained (position {}); join them "
                                      "with AND, as in a > 1 AND a < 5.",
                                      position(peek().offset)));
      return kNoExpr;
    }
    const std::size_t mark = scratch_.size();
    scratch_.push_back(left);
    scratch_.push_back(right);
    const ExprId id = make_node(ExprKind::compare, mark, q_.expr(left).offset);
    q_.exprs[id].op = comparison_of(op.kind);
    return id;
  }
  if (op.kind == TokenKind::word) {
    if (op.keyword == Keyword::in || op.keyword == Keyword::nin) {
      take();
      return parse_in_list(left, op.keyword == Keyword::nin);
    }
    if (op.keyword == Keyword::not_ && peek(1).kind == TokenKind::word &&
        peek(1).keyword == Keyword::in) {
      take();
      take();
      return parse_in_list(left, true);  // NOT IN is the service-limits page's NIN
    }
  }
  if (op.kind == TokenKind::lbracket) {
    fail(op.offset, fmt::format("Array indexing (position {}) is not supported; test membership "
                                "with ARRAY_CONTAINS(array, value).",
                                position(op.offset)));
    return kNoExpr;
  }
  return left;
}

ExprId Parser::parse_in_list(ExprId tested, bool negated) {
  if (at(TokenKind::lparen)) {
    fail(peek().offset, fmt::format("Write the IN list in square brackets, as in IN ['a', 'b'] "
                                    "(position {}).",
                                    position(peek().offset)));
    return kNoExpr;
  }
  if (!accept(TokenKind::lbracket)) {
    fail_expected("'[' to start the list of values");
    return kNoExpr;
  }
  const std::size_t mark = scratch_.size();
  scratch_.push_back(tested);
  do {
    const Token item = peek();
    if (scratch_.size() - mark > limits_.max_in_values) {
      fail(item.offset, fmt::format("An IN list holds at most {} values; the one at position {} is "
                                    "one too many. Split the query or narrow the list.",
                                    limits_.max_in_values, position(item.offset)));
      return kNoExpr;
    }
    const ExprId value = parse_literal();
    if (value == kNoExpr) return kNoExpr;
    scratch_.push_back(value);
  } while (accept(TokenKind::comma));
  if (!accept(TokenKind::rbracket)) {
    fail_expected("',' or ']' in the IN list");
    return kNoExpr;
  }
  const ExprId id = make_node(ExprKind::in_list, mark, q_.expr(tested).offset);
  q_.exprs[id].negated = negated;
  return id;
}

ExprId Parser::parse_literal() {
  const Token t = peek();
  Expr e;
  e.offset = t.offset;
  bool negative = false;
  if (t.kind == TokenKind::minus) {
    take();
    negative = true;
    if (!at(TokenKind::integer) && !at(TokenKind::number)) {
      fail_expected("a number after '-'");
      return kNoExpr;
    }
  }
  const Token v = peek();
  constexpr std::uint64_t kMagnitudeOfMin = std::uint64_t{1} << 63;
  if (v.kind == TokenKind::integer && v.integer < kMagnitudeOfMin + (negative ? 1 : 0)) {
    e.kind = ExprKind::int_literal;
    // Unsigned negation wraps, so -9223372036854775808 lands exactly on INT64_MIN.
    e.integer = static_cast<std::int64_t>(negative ? 0 - v.integer : v.integer);
  } else if (v.kind == TokenKind::integer || v.kind == TokenKind::number) {
    e.kind = ExprKind::double_literal;
    const double magnitude =
        v.kind == TokenKind::integer ? static_cast<double>(v.integer) : v.number;
    e.number = negative ? -magnitude : magnitude;
  } else if (v.kind == TokenKind::string) {
    e.kind = ExprKind::string_literal;
    const auto start = static_cast<std::uint32_t>(q_.text.size());
    lexer_.append_string(v, q_.text);
    e.text = TextRef{start, static_cast<std::uint32_t>(q_.text.size()) - start};
  } else if (v.kind == TokenKind::word && v.keyword == Keyword::null_) {
    e.kind = ExprKind::null_literal;
  } else if (v.kind == TokenKind::word &&
             (v.keyword == Keyword::true_ || v.keyword == Keyword::false_)) {
    e.kind = ExprKind::bool_literal;
    e.boolean = v.keyword == Keyword::true_;
  } else {
    fail_expected("a literal value (a string, number, true, false or null)");
    return kNoExpr;
  }
  take();
  return q_.add_expr(e);
}

ExprId Parser::parse_operand() {
  const Token& t = peek();
  switch (t.kind) {
    case TokenKind::string:
    case TokenKind::integer:
    case TokenKind::number:
    case TokenKind::minus: return parse_literal();
    case TokenKind::system_word:
    case TokenKind::escaped: return parse_path();
    case TokenKind::word: break;
    default: fail_expected("a value, a property or a function"); return kNoExpr;
  }
  if (t.keyword == Keyword::true_ || t.keyword == Keyword::false_ || t.keyword == Keyword::null_) {
    return parse_literal();
  }
  switch (t.keyword) {
    case Keyword::select:
      fail(t.offset,
           fmt::format("Subqueries are not supported (position {}).", position(t.offset)));
      return kNoExpr;
    case Keyword::and_:
    case Keyword::or_:
    case Keyword::not_:
    case Keyword::in:
    case Keyword::where:
    case Keyword::from:
    case Keyword::as:
      // A clause word where an operand belongs: something is missing, not a name to escape.
      fail_expected("a value, a property or a function");
      return kNoExpr;
    default: break;
  }
  if (peek(1).kind == TokenKind::lparen) return parse_call();
  return parse_path();
}

ExprId Parser::parse_path() {
  Expr e;
  e.kind = ExprKind::path;
  e.offset = peek().offset;
  e.first = static_cast<std::uint32_t>(q_.names.size());
  TextRef name;
  if (!take_name(NameUse::property, "a collection or property name", name)) return kNoExpr;
  q_.names.push_back(name);
  while (accept(TokenKind::dot)) {
    if (!take_name(NameUse::property, "a property name after '.'", name)) return kNoExpr;
    q_.names.push_back(name);
  }
  e.count = static_cast<std::uint32_t>(q_.names.size()) - e.first;
  return q_.add_expr(e);
}

}  // namespace castor::query
