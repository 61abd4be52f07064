// The syntax tree of an event route filter (the ADT route filter language): a flat vector of
// nodes that refer to their operands by index, plus the limits that keep parsing and evaluation
// bounded for any input. Vocabulary only: the parser builds it, the evaluator reads it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace castor::rules::filter {

// Limits on what a filter may be; a filter beyond them is rejected with a position.
inline constexpr std::size_t kMaxLength = 8192;  // bytes of filter text
inline constexpr std::size_t kMaxDepth = 32;     // nesting of ( ) and NOT
inline constexpr std::size_t kMaxNodes = 1024;   // literals, paths, calls and operators
inline constexpr std::size_t kMaxPathSegments = 32;

enum class Attribute : std::uint8_t {
  id,
  source,
  specversion,
  type,
  datacontenttype,
  dataschema,
  subject,
  time,
  traceparent,
};

enum class CompareOp : std::uint8_t { eq, ne, lt, le, gt, ge };

enum class Function : std::uint8_t {
  starts_with,  // STARTS_WITH(x, y): x is a string that starts with the string y
  ends_with,    // ENDS_WITH(x, y)
  contains,     // CONTAINS(x, y)
  is_defined,   // IS_DEFINED(x): x exists (Castor extension)
  is_null,      // IS_NULL(x): x is JSON null (Castor extension)
  is_string,    // IS_STRING(x), IS_NUMBER(x), IS_BOOL(x), IS_OBJECT(x) (Castor extensions)
  is_number,
  is_bool,
  is_object,
};

enum class NodeKind : std::uint8_t {
  boolean,    // true / false
  null,       // null
  number,     // 5, -2.5, 1e3
  string,     // 'text' or "text"
  attribute,  // type, source, subject, ...
  body_path,  // $body.a.b (or data.a.b)
  call,       // a function
  compare,    // operand op operand
  and_,
  or_,
  not_,
};

struct Node {
  NodeKind kind = NodeKind::boolean;
  std::uint32_t position = 0;  // byte offset of the node's first token in the filter text
  bool flag = false;           // boolean literal
  bool integral = false;       // number literal fits in int64 exactly
  long long integer = 0;
  double number = 0;
  std::string text;               // string literal (decoded)
  std::vector<std::string> path;  // body_path segments, [] for $body itself
  Attribute attribute = Attribute::id;
  CompareOp op = CompareOp::eq;
  Function function = Function::starts_with;
  std::vector<std::uint32_t> operands;  // compare: 2; and/or: 2; not: 1; call: its arguments
};

struct Ast {
  std::vector<Node> nodes;
  std::uint32_t root = 0;
};

}  // namespace castor::rules::filter
