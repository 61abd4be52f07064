#include "rules/filter_parser.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

#include "common/strings.hpp"
#include "rules/filter_lexer.hpp"

namespace castor::rules::filter {
namespace {

constexpr std::array<std::pair<std::string_view, Attribute>, 9> kAttributes{{
    {"id", Attribute::id},
    {"source", Attribute::source},
    {"specversion", Attribute::specversion},
    {"type", Attribute::type},
    {"datacontenttype", Attribute::datacontenttype},
    {"dataschema", Attribute::dataschema},
    {"subject", Attribute::subject},
    {"time", Attribute::time},
    {"traceparent", Attribute::traceparent},
}};

struct FunctionInfo {
  std::string_view name;
  Function function;
  std::size_t arity;
};
constexpr std::array<FunctionInfo, 9> kFunctions{{
    {"STARTS_WITH", Function::starts_with, 2},
    {"ENDS_WITH", Function::ends_with, 2},
    {"CONTAINS", Function::contains, 2},
    {"IS_DEFINED", Function::is_defined, 1},
    {"IS_NULL", Function::is_null, 1},
    {"IS_STRING", Function::is_string, 1},
    {"IS_NUMBER", Function::is_number, 1},
    {"IS_BOOL", Function::is_bool, 1},
    {"IS_OBJECT", Function::is_object, 1},
}};

constexpr std::string_view kValueHint =
    "a value: an attribute such as type or subject, a $body.<property> path, a 'string', a "
    "number, true, false or null";

std::optional<CompareOp> compare_op(TokenKind k) {
  switch (k) {
    case TokenKind::eq: return CompareOp::eq;
    case TokenKind::ne: return CompareOp::ne;
    case TokenKind::lt: return CompareOp::lt;
    case TokenKind::le: return CompareOp::le;
    case TokenKind::gt: return CompareOp::gt;
    case TokenKind::ge: return CompareOp::ge;
    default: return std::nullopt;
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  Result<Ast> run() {
    auto root = disjunction(0);
    if (!root) return root.status();
    if (peek().kind != TokenKind::end) {
      return error(peek(), "unexpected " + describe(peek()) +
                               "; join conditions with AND or OR, and compare values with =, !=, "
                               "<, <=, > or >=");
    }
    ast_.root = *root;
    return std::move(ast_);
  }

 private:
  using NodeResult = Result<std::uint32_t>;

  const Token& peek() const { return tokens_[pos_]; }
  const Token& take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool keyword(std::string_view word) const {
    return peek().kind == TokenKind::identifier && equals_ignoring_case(peek().text, word);
  }
  Status error(const Token& at, std::string_view problem) const {
    return filter_error(text_, at.offset, problem);
  }

  NodeResult add(Node n) {
    if (ast_.nodes.size() >= kMaxNodes)
      return filter_error(text_, n.position,
                          "the filter has more than " + std::to_string(kMaxNodes) +
                              " terms; split it into several routes");
    ast_.nodes.push_back(std::move(n));
    return static_cast<std::uint32_t>(ast_.nodes.size() - 1);
  }

  // left (OP right)*, flattened into one n-ary node.
  NodeResult chain(std::size_t depth, std::string_view word, NodeKind kind,
                   NodeResult (Parser::*operand)(std::size_t)) {
    std::size_t start = peek().offset;
    auto first = (this->*operand)(depth);
    if (!first || !keyword(word)) return first;
    Node n;
    n.kind = kind;
    n.position = static_cast<std::uint32_t>(start);
    n.operands.push_back(*first);
    while (keyword(word)) {
      take();
      auto next = (this->*operand)(depth);
      if (!next) return next;
      n.operands.push_back(*next);
    }
    return add(std::move(n));
  }

  NodeResult disjunction(std::size_t depth) {
    return chain(depth, "OR", NodeKind::or_, &Parser::conjunction);
  }
  NodeResult conjunction(std::size_t depth) {
    return chain(depth, "AND", NodeKind::and_, &Parser::unary);
  }

  NodeResult unary(std::size_t depth) {
    const Token& t = peek();
    bool is_not = keyword("NOT");
    if (!is_not && t.kind != TokenKind::lparen) return condition();
    if (depth + 1 > kMaxDepth)
      return error(t, "parentheses and NOT are nested more than " + std::to_string(kMaxDepth) +
                          " deep; simplify the filter");
    take();
    if (is_not) {
      auto inner = unary(depth + 1);
      if (!inner) return inner;
      Node n;
      n.kind = NodeKind::not_;
      n.position = static_cast<std::uint32_t>(t.offset);
      n.operands.push_back(*inner);
      return add(std::move(n));
    }
    auto inner = disjunction(depth + 1);
    if (!inner) return inner;
    if (peek().kind != TokenKind::rparen)
      return error(peek(), "expected ')' to close the '(' at position " +
                               std::to_string(char_position(text_, t.offset)) + ", found " +
                               describe(peek()));
    take();
    return inner;
  }

  NodeResult condition() {
    const Token& start = peek();
    auto left = operand();
    if (!left) return left;
    auto op = compare_op(peek().kind);
    if (!op) {
      NodeKind k = ast_.nodes[*left].kind;
      if (k == NodeKind::boolean || k == NodeKind::call || k == NodeKind::body_path) return left;
      return error(start, describe(start) + " is not a condition on its own; compare it, as in " +
                              "type = 'Microsoft.DigitalTwins.Twin.Create'");
    }
    take();
    auto right = operand();
    if (!right) return right;
    Node n;
    n.kind = NodeKind::compare;
    n.position = static_cast<std::uint32_t>(start.offset);
    n.op = *op;
    n.operands = {*left, *right};
    return add(std::move(n));
  }

  NodeResult operand() {
    const Token& t = peek();
    Node n;
    n.position = static_cast<std::uint32_t>(t.offset);
    switch (t.kind) {
      case TokenKind::string:
        n.kind = NodeKind::string;
        n.text = take().text;
        return add(std::move(n));
      case TokenKind::number: return number();
      case TokenKind::identifier: return name();
      default:
        return error(t, "expected " + std::string(kValueHint) + ", but found " + describe(t));
    }
  }

  NodeResult number() {
    const Token& t = take();
    Node n;
    n.kind = NodeKind::number;
    n.position = static_cast<std::uint32_t>(t.offset);
    const char* b = t.text.data();
    const char* e = b + t.text.size();
    auto ri = std::from_chars(b, e, n.integer);
    n.integral = ri.ec == std::errc() && ri.ptr == e;
    auto rd = std::from_chars(b, e, n.number);
    if (rd.ec != std::errc() || rd.ptr != e)
      return error(t, "the number " + t.text + " is out of range");
    return add(std::move(n));
  }

  NodeResult name() {
    const Token& t = take();
    Node n;
    n.position = static_cast<std::uint32_t>(t.offset);
    if (equals_ignoring_case(t.text, "true") || equals_ignoring_case(t.text, "false")) {
      n.kind = NodeKind::boolean;
      n.flag = equals_ignoring_case(t.text, "true");
      return add(std::move(n));
    }
    if (equals_ignoring_case(t.text, "null")) {
      n.kind = NodeKind::null;
      return add(std::move(n));
    }
    if (peek().kind == TokenKind::lparen) return call(t);
    if (equals_ignoring_case(t.text, "$body") || t.text == "data") return path(t);
    for (const auto& [attr_name, attr] : kAttributes) {
      if (!equals_ignoring_case(t.text, attr_name)) continue;
      n.kind = NodeKind::attribute;
      n.attribute = attr;
      return add(std::move(n));
    }
    for (std::string_view word : {"AND", "OR", "NOT"})
      if (equals_ignoring_case(t.text, word))
        return error(t, "expected " + std::string(kValueHint) + " before " + describe(t));
    return error(t, "unknown name '" + t.text +
                        "'; use type, source, subject, id, specversion, datacontenttype, "
                        "dataschema, time, traceparent or $body.<property>, and quote text as "
                        "'text'");
  }

  NodeResult path(const Token& head) {
    Node n;
    n.kind = NodeKind::body_path;
    n.position = static_cast<std::uint32_t>(head.offset);
    while (peek().kind == TokenKind::dot || peek().kind == TokenKind::lbracket) {
      const Token& sep = take();
      if (n.path.size() >= kMaxPathSegments)
        return error(sep,
                     "the path is deeper than " + std::to_string(kMaxPathSegments) + " properties");
      const Token& seg = take();
      if (sep.kind == TokenKind::dot) {
        if (seg.kind != TokenKind::identifier)
          return error(seg, "expected a property name after '.', found " + describe(seg) +
                                "; write names with other characters as $body['name']");
        n.path.push_back(seg.text);
        continue;
      }
      if (seg.kind == TokenKind::number)
        return error(seg,
                     "filters cannot look inside arrays (Azure Digital Twins does not support it)");
      if (seg.kind != TokenKind::string)
        return error(seg, "expected a quoted property name after '[', as in $body['my name']");
      if (peek().kind != TokenKind::rbracket)
        return error(peek(), "expected ']' after the property name");
      take();
      n.path.push_back(seg.text);
    }
    return add(std::move(n));
  }

  NodeResult call(const Token& name) {
    const FunctionInfo* fn = nullptr;
    for (const auto& f : kFunctions)
      if (equals_ignoring_case(name.text, f.name)) fn = &f;
    if (fn == nullptr)
      return error(name, "unknown function '" + name.text +
                             "'; use STARTS_WITH, ENDS_WITH, CONTAINS, IS_DEFINED, IS_NULL, "
                             "IS_STRING, IS_NUMBER, IS_BOOL or IS_OBJECT");
    take();  // (
    Node n;
    n.kind = NodeKind::call;
    n.function = fn->function;
    n.position = static_cast<std::uint32_t>(name.offset);
    while (peek().kind != TokenKind::rparen) {
      if (!n.operands.empty()) {
        if (peek().kind != TokenKind::comma)
          return error(peek(), "expected ',' or ')' in the arguments of " + std::string(fn->name) +
                                   ", found " + describe(peek()));
        take();
      }
      auto arg = operand();
      if (!arg) return arg;
      n.operands.push_back(*arg);
    }
    if (n.operands.size() != fn->arity)
      return error(name, std::string(fn->name) + " takes " + std::to_string(fn->arity) +
                             (fn->arity == 1 ? " argument" : " arguments") + ", not " +
                             std::to_string(n.operands.size()));
    take();  // )
    return add(std::move(n));
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  Ast ast_;
};

}  // namespace

Result<Ast> parse(std::string_view text) {
  if (text.size() > kMaxLength)
    return filter_error(text, kMaxLength,
                        "the filter is longer than " + std::to_string(kMaxLength) +
                            " bytes; split it into several routes");
  auto tokens = tokenize(text);
  if (!tokens) return tokens.status();
  if (tokens->size() == 1)
    return filter_error(text, 0, "the filter is empty; use 'true' to route every event");
  return Parser(text, std::move(*tokens)).run();
}

}  // namespace castor::rules::filter
