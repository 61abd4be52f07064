// The recursive-descent parser's state, shared by the parse_*.cpp files (one per clause).
// Internal to src/query: callers use parser.hpp. Every method returns false or kNoExpr after it
// recorded the error; nothing here throws, and recursion is bounded by QueryLimits::max_nesting.
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "query/ast.hpp"
#include "query/lexer.hpp"
#include "query/limits.hpp"
#include "query/query_error.hpp"

namespace castor::query {

class Parser {
 public:
  Parser(std::string_view text, const QueryLimits& limits, Query& out);
  bool run(QueryError& error);

 private:
  // Where a name stands decides which words it may be without [[...]].
  enum class NameUse : std::uint8_t {
    alias,     // a collection, node, variable or column name
    property,  // a property path segment or relationship name ($ names allowed)
  };

  // Tokens and errors (parser.cpp).
  const Token& peek(std::size_t ahead = 0);
  Token take();
  bool at(TokenKind k) { return peek().kind == k; }
  bool at(Keyword k) { return peek().kind == TokenKind::word && peek().keyword == k; }
  bool accept(TokenKind k);
  bool accept(Keyword k);
  bool fail(std::uint32_t offset, std::string message);
  // "Expected <what> at position N, found <token>." plus a hint for common mistakes.
  bool fail_expected(std::string_view what);
  std::uint32_t position(std::uint32_t offset) const;
  std::string describe(const Token& t) const;
  bool can_start_name(const Token& t, NameUse use) const;
  bool take_name(NameUse use, std::string_view role, TextRef& out);
  bool check_source_size();
  bool parse_end();

  // SELECT (parse_select.cpp).
  bool parse_select();
  bool parse_count();
  bool parse_top();
  bool parse_projection();

  // FROM and JOIN (parse_from.cpp).
  bool parse_from();
  bool parse_join();
  bool find_join_source(TextRef name, std::uint32_t offset, CollectionId& id);
  bool declare(TextRef name, CollectionKind kind, std::uint32_t offset, CollectionId& id);
  CollectionId find_collection(std::string_view name) const;
  std::string spelling_hint(std::string_view name) const;

  // MATCH (parse_match.cpp).
  bool parse_match();
  bool parse_node(CollectionId& id);
  bool parse_arrow(Edge& edge);
  bool parse_condition(Edge& edge);
  bool parse_hops(Edge& edge, std::uint32_t star_offset);

  // Conditions (parse_expression.cpp).
  ExprId parse_or();
  ExprId parse_and();
  ExprId parse_not();
  ExprId parse_predicate();
  ExprId parse_operand();
  ExprId parse_literal();
  ExprId parse_path();
  ExprId parse_in_list(ExprId tested, bool negated);
  bool enter_nesting(std::uint32_t offset);
  bool count_logical(const Token& op);
  void push_operand(ExprKind flatten, ExprId id);
  ExprId make_node(ExprKind kind, std::size_t mark, std::uint32_t offset);

  // Function calls (parse_function.cpp).
  ExprId parse_call();
  ExprId parse_is_of_model(std::uint32_t offset);
  ExprId parse_argument(Function f);
  bool unknown_function(const Token& name);
  bool check_arguments(Function f, std::uint32_t offset, std::size_t mark);

  std::string_view text_;
  const QueryLimits& limits_;
  Query& q_;
  Lexer lexer_;
  std::array<Token, 3> ahead_{};
  std::size_t ahead_count_ = 0;
  QueryError error_;
  bool failed_ = false;
  std::vector<ExprId> scratch_;  // operands of the nodes being built, as a stack
  std::uint32_t nesting_ = 0;
  std::uint32_t logical_operators_ = 0;
  std::uint32_t joins_ = 0;
};

}  // namespace castor::query
