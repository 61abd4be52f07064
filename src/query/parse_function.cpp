// Function calls: the twelve documented functions, their arities and the kinds of argument each
// accepts, and IS_OF_MODEL's own shape: ([collection,] 'model-id' [, exact]).
#include <fmt/format.h>

#include "query/keywords.hpp"
#include "query/parser_impl.hpp"

namespace castor::query {
namespace {

struct Signature {
  std::size_t arity;
  std::string_view example;
};

Signature signature_of(Function f) {
  switch (f) {
    case Function::array_contains: return {2, "ARRAY_CONTAINS(T.tags, 'red')"};
    case Function::contains: return {2, "CONTAINS(T.$dtId, '-route')"};
    case Function::endswith: return {2, "ENDSWITH(T.$dtId, '-small')"};
    case Function::startswith: return {2, "STARTSWITH(T.$dtId, 'area1-')"};
    case Function::is_of_model: return {1, "IS_OF_MODEL(T, 'dtmi:example:Room;1', exact)"};
    default: return {1, "IS_DEFINED(T.name)"};
  }
}

bool is_string_function(Function f) {
  return f == Function::contains || f == Function::endswith || f == Function::startswith;
}

std::string_view kind_name(ExprKind k) {
  switch (k) {
    case ExprKind::null_literal: return "null";
    case ExprKind::bool_literal: return "a boolean";
    case ExprKind::int_literal:
    case ExprKind::double_literal: return "a number";
    case ExprKind::string_literal: return "a string";
    default: return "a property";
  }
}

}  // namespace

ExprId Parser::parse_call() {
  const Token name = take();
  const auto function = find_function(lexer_.text_of(name));
  if (!function) {
    unknown_function(name);
    return kNoExpr;
  }
  take();  // (
  if (*function == Function::is_of_model) return parse_is_of_model(name.offset);
  const std::size_t mark = scratch_.size();
  if (!at(TokenKind::rparen)) {
    do {
      const ExprId arg = parse_argument(*function);
      if (arg == kNoExpr) return kNoExpr;
      scratch_.push_back(arg);
    } while (accept(TokenKind::comma));
  }
  if (!accept(TokenKind::rparen)) {
    fail_expected(fmt::format("',' or ')' in the arguments of {}", function_name(*function)));
    return kNoExpr;
  }
  if (!check_arguments(*function, name.offset, mark)) return kNoExpr;
  const ExprId id = make_node(ExprKind::call, mark, name.offset);
  q_.exprs[id].function = *function;
  return id;
}

ExprId Parser::parse_argument(Function f) {
  const Token& t = peek();
  if (t.kind == TokenKind::word && t.keyword == Keyword::select) {
    fail(t.offset, fmt::format("Subqueries are not supported (position {}).", position(t.offset)));
    return kNoExpr;
  }
  if (t.kind == TokenKind::word && peek(1).kind == TokenKind::lparen) {
    fail(t.offset, fmt::format("The arguments of {} are properties or values, not function calls "
                               "(position {}).",
                               function_name(f), position(t.offset)));
    return kNoExpr;
  }
  return parse_operand();
}

bool Parser::unknown_function(const Token& name) {
  const std::string_view word = lexer_.text_of(name);
  const std::uint32_t pos = position(name.offset);
  switch (name.keyword) {
    case Keyword::starts_with:
    case Keyword::ends_with:
      return fail(
          name.offset,
          fmt::format("Unknown function '{}' at position {}; the twin query "
                      "language spells it {}.",
                      word, pos, name.keyword == Keyword::starts_with ? "STARTSWITH" : "ENDSWITH"));
    case Keyword::count:
      return fail(name.offset, fmt::format("COUNT() at position {} can only stand alone in the "
                                           "SELECT list: SELECT COUNT() FROM ...",
                                           pos));
    case Keyword::avg:
    case Keyword::sum:
    case Keyword::min:
    case Keyword::max:
      return fail(name.offset, fmt::format("The aggregate {} (position {}) is not supported; the "
                                           "only aggregate is SELECT COUNT().",
                                           word, pos));
    default: break;
  }
  return fail(name.offset, fmt::format("Unknown function '{}' at position {}. The functions are "
                                       "ARRAY_CONTAINS, CONTAINS, ENDSWITH, IS_BOOL, IS_DEFINED, "
                                       "IS_NULL, IS_NUMBER, IS_OBJECT, IS_OF_MODEL, IS_PRIMITIVE, "
                                       "IS_STRING and STARTSWITH.",
                                       word, pos));
}

bool Parser::check_arguments(Function f, std::uint32_t offset, std::size_t mark) {
  const Signature sig = signature_of(f);
  const std::size_t given = scratch_.size() - mark;
  if (given != sig.arity) {
    return fail(offset, fmt::format("{} at position {} takes {} argument{}, as in {}; found {}.",
                                    function_name(f), position(offset), sig.arity,
                                    sig.arity == 1 ? "" : "s", sig.example, given));
  }
  for (std::size_t i = 0; i < given; ++i) {
    const Expr& arg = q_.expr(scratch_[mark + i]);
    const bool path = arg.kind == ExprKind::path;
    bool ok = path;
    std::string_view wanted = "a property";
    if (is_string_function(f)) {
      ok = path || arg.kind == ExprKind::string_literal;
      wanted = "a property or a quoted string";
    } else if (f == Function::array_contains && i == 1) {
      ok = path || (arg.kind != ExprKind::null_literal);
      wanted = "a string, number, boolean or property (null is not searchable)";
    }
    if (!ok) {
      return fail(arg.offset, fmt::format("Argument {} of {} (position {}) must be {}, not {}; "
                                          "write it as in {}.",
                                          i + 1, function_name(f), position(arg.offset), wanted,
                                          kind_name(arg.kind), sig.example));
    }
  }
  return true;
}

ExprId Parser::parse_is_of_model(std::uint32_t offset) {
  const std::size_t mark = scratch_.size();
  if (at(TokenKind::word) || at(TokenKind::escaped) || at(TokenKind::system_word)) {
    // The optional first argument names the twin collection to test.
    Expr collection;
    collection.kind = ExprKind::path;
    collection.offset = peek().offset;
    collection.first = static_cast<std::uint32_t>(q_.names.size());
    collection.count = 1;
    TextRef name;
    if (!take_name(NameUse::alias, "the twin collection IS_OF_MODEL tests", name)) return kNoExpr;
    q_.names.push_back(name);
    scratch_.push_back(q_.add_expr(collection));
    if (!accept(TokenKind::comma)) {
      fail_expected(
          "',' and a model ID in quotes (IS_OF_MODEL's first argument is a twin "
          "collection such as T, not a property)");
      return kNoExpr;
    }
  }
  if (!at(TokenKind::string)) {
    fail_expected("the model ID as a quoted string, as in IS_OF_MODEL('dtmi:example:Room;1')");
    return kNoExpr;
  }
  scratch_.push_back(parse_literal());
  bool exact = false;
  if (accept(TokenKind::comma)) {
    if (!at(Keyword::exact)) {
      fail_expected("exact (the only option IS_OF_MODEL takes after the model ID)");
      return kNoExpr;
    }
    take();
    exact = true;
  }
  if (!accept(TokenKind::rparen)) {
    fail_expected("')' to close IS_OF_MODEL");
    return kNoExpr;
  }
  const ExprId id = make_node(ExprKind::call, mark, offset);
  q_.exprs[id].function = Function::is_of_model;
  q_.exprs[id].exact = exact;
  return id;
}

}  // namespace castor::query
