// The typed syntax tree of one twin query, shaped for a planner: the SELECT list, a graph pattern
// of collections joined by edges (FROM, JOIN ... RELATED, MATCH), and the WHERE condition as a flat
// vector of expression nodes addressed by index. It owns copies of every name and string, never
// points into the query text, and holds no twin data.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace castor::query {

using ExprId = std::uint32_t;
using CollectionId = std::uint32_t;
inline constexpr ExprId kNoExpr = UINT32_MAX;
inline constexpr CollectionId kNoCollection = UINT32_MAX;

// A name or a decoded string literal owned by the Query: a slice of Query::text.
struct TextRef {
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
};

enum class ExprKind : std::uint8_t {
  null_literal,
  bool_literal,
  int_literal,
  double_literal,
  string_literal,
  path,         // a whole collection, or a property path below one (see Expr::collection)
  call,         // a function; children are its arguments as written
  compare,      // children: left, right
  in_list,      // children: the tested operand, then the listed literals; `negated` for NIN
  logical_and,  // children: two or more operands, none of them logical_and
  logical_or,   // children: two or more operands, none of them logical_or
  logical_not,  // children: the operand
};

enum class CompareOp : std::uint8_t { eq, ne, lt, le, gt, ge };

// Exactly the functions of the reference (reference-query-functions.md).
enum class Function : std::uint8_t {
  array_contains,
  contains,
  endswith,
  is_bool,
  is_defined,
  is_null,
  is_number,
  is_object,
  is_of_model,
  is_primitive,
  is_string,
  startswith,
};

struct Expr {
  ExprKind kind = ExprKind::null_literal;
  CompareOp op = CompareOp::eq;              // compare
  Function function = Function::is_defined;  // call
  bool boolean = false;                      // bool_literal: the value
  bool negated = false;                      // in_list: NIN
  bool exact = false;                        // call IS_OF_MODEL: the `exact` flag
  bool qualified = false;                    // path: its first name is the collection's name
  // path: the collection the path starts from, set by the binder. kNoCollection when the first
  // name is no collection and the query has several: the path's value is then undefined.
  // call IS_OF_MODEL: the twin collection it tests.
  CollectionId collection = kNoCollection;
  // call, compare, in_list, logical_*: children are Query::operands[first, first + count).
  // path: its names are Query::names[first, first + count).
  std::uint32_t first = 0;
  std::uint32_t count = 0;
  TextRef text;              // string_literal: the decoded value
  std::int64_t integer = 0;  // int_literal
  double number = 0;         // double_literal
  std::uint32_t offset = 0;  // byte offset of the node in the query text, for error messages
};

enum class SelectKind : std::uint8_t { all, count, projections };

struct Projection {
  ExprId expr = kNoExpr;  // always a path
  TextRef alias;          // size 0: no AS
};

struct Select {
  SelectKind kind = SelectKind::all;
  std::int64_t top = 0;  // TOP(n); 0 when absent
  std::vector<Projection> projections;
  std::uint32_t offset = 0;
};

enum class Source : std::uint8_t { digital_twins, relationships };
enum class Traversal : std::uint8_t { none, join, match };
enum class CollectionKind : std::uint8_t { twin, relationship };

struct Collection {
  TextRef name;  // size 0: unnamed (FROM without an alias, or an anonymous MATCH node "()")
  CollectionKind kind = CollectionKind::twin;
  std::uint32_t offset = 0;
};

// forward: relationships from source to target (every JOIN; MATCH (a)-[]->(b)).
// backward: from target to source (MATCH (a)<-[]-(b)). any: either way (MATCH (a)-[]-(b)).
enum class Direction : std::uint8_t { forward, backward, any };

struct Edge {
  CollectionId source = kNoCollection;        // JOIN: the twins before .name; MATCH: left node
  CollectionId target = kNoCollection;        // JOIN: the joined twins; MATCH: right node
  CollectionId relationship = kNoCollection;  // the alias or variable naming the relationship
  Direction direction = Direction::forward;
  std::uint32_t names_first = 0;  // relationship names: Query::names[names_first, +names_count);
  std::uint32_t names_count = 0;  // none means any name
  std::uint32_t min_hops = 1;     // inclusive bounds on the path length
  std::uint32_t max_hops = 1;
  std::uint32_t offset = 0;
};

struct Query {
  Select select;
  Source source = Source::digital_twins;
  Traversal traversal = Traversal::none;
  // Every collection the query can name, in order of appearance: the FROM collection first
  // (absent with MATCH), then JOIN targets and relationship aliases, or MATCH nodes and variables.
  std::vector<Collection> collections;
  std::vector<Edge> edges;                // JOINs or MATCH conditions, in written order
  std::vector<CollectionId> match_nodes;  // MATCH: the nodes in written order (edges + 1 of them)
  ExprId where = kNoExpr;

  // Storage the fields above index into.
  std::vector<Expr> exprs;
  std::vector<ExprId> operands;
  std::vector<TextRef> names;
  std::string text;

  const Expr& expr(ExprId id) const { return exprs[id]; }
  std::string_view str(TextRef r) const { return std::string_view(text).substr(r.offset, r.size); }
  std::span<const ExprId> children(const Expr& e) const;
  std::span<const TextRef> path_names(const Expr& e) const;     // as written
  std::span<const TextRef> property_path(const Expr& e) const;  // below the collection
  std::span<const TextRef> relationship_names(const Edge& e) const;
  std::string_view collection_name(CollectionId id) const;
  // The collection FROM names (and its alias names), or kNoCollection with MATCH.
  CollectionId from_collection() const;
  // The key a projection has in each result row: its alias, else its last name.
  std::string_view output_name(const Projection& p) const;

  TextRef add_text(std::string_view s);
  ExprId add_expr(const Expr& e);
};

// Same structure and content; byte offsets and unreferenced storage are ignored.
bool operator==(const Query& a, const Query& b);
bool same_expr(const Query& a, ExprId x, const Query& b, ExprId y);

}  // namespace castor::query
