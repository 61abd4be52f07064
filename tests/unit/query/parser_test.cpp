// The AST a planner receives: the graph pattern, name binding, n-ary conditions, literal values,
// and error details. The corpus checks syntax through the printer; these check structure.
#include "query/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "query/printer.hpp"

namespace castor::query {
namespace {

Query parsed(std::string_view text) {
  Query q;
  QueryError error;
  EXPECT_TRUE(parse(text, q, error)) << text << "\n" << error.message;
  return q;
}

std::vector<std::string> strings(const Query& q, std::span<const TextRef> refs) {
  std::vector<std::string> out;
  for (TextRef r : refs) out.emplace_back(q.str(r));
  return out;
}

using Names = std::vector<std::string>;

TEST(QueryAst, JoinsFormAGraphPattern) {
  const Query q = parsed(
      "SELECT T, C, R FROM DIGITALTWINS T JOIN C RELATED T.contains R JOIN D RELATED C.feeds "
      "WHERE T.$dtId = 'a'");
  EXPECT_EQ(q.traversal, Traversal::join);
  EXPECT_EQ(q.from_collection(), 0u);
  ASSERT_EQ(q.collections.size(), 4u);
  EXPECT_EQ(q.collection_name(2), "R");
  EXPECT_EQ(q.collections[2].kind, CollectionKind::relationship);
  EXPECT_EQ(q.collections[3].kind, CollectionKind::twin);
  ASSERT_EQ(q.edges.size(), 2u);
  const Edge& first = q.edges[0];
  EXPECT_EQ(first.source, 0u);
  EXPECT_EQ(first.target, 1u);
  EXPECT_EQ(first.relationship, 2u);
  EXPECT_EQ(first.direction, Direction::forward);
  EXPECT_EQ(strings(q, q.relationship_names(first)), Names{"contains"});
  EXPECT_EQ(q.edges[1].source, 1u);
  EXPECT_EQ(q.edges[1].target, 3u);
  EXPECT_EQ(q.edges[1].relationship, kNoCollection);
  EXPECT_TRUE(q.match_nodes.empty());
}

TEST(QueryAst, MatchFormsAChainWithNormalisedHops) {
  const Query q = parsed(
      "SELECT a FROM DIGITALTWINS MATCH (a)-[r:x|y]->(b)<-[*2..4]-()-[:z*..3]-(a) "
      "WHERE a.$dtId = 'a'");
  EXPECT_EQ(q.traversal, Traversal::match);
  EXPECT_EQ(q.from_collection(), kNoCollection);
  ASSERT_EQ(q.collections.size(), 4u);  // a, r, b and the anonymous node
  EXPECT_EQ(q.collection_name(3), "");
  EXPECT_EQ(q.match_nodes, (std::vector<CollectionId>{0, 2, 3, 0}));
  ASSERT_EQ(q.edges.size(), 3u);
  EXPECT_EQ(q.edges[0].relationship, 1u);
  EXPECT_EQ(strings(q, q.relationship_names(q.edges[0])), (Names{"x", "y"}));
  EXPECT_EQ(q.edges[0].direction, Direction::forward);
  EXPECT_EQ(q.edges[1].direction, Direction::backward);
  EXPECT_EQ(q.edges[1].source, 2u);
  EXPECT_EQ(q.edges[1].target, 3u);
  // *2..4 excludes its start: three or four hops.
  EXPECT_EQ(q.edges[1].min_hops, 3u);
  EXPECT_EQ(q.edges[1].max_hops, 4u);
  EXPECT_EQ(q.edges[2].direction, Direction::any);
  EXPECT_EQ(q.edges[2].min_hops, 1u);
  EXPECT_EQ(q.edges[2].max_hops, 3u);
}

TEST(QueryAst, PathsBindToTheCollectionTheyStartFrom) {
  const Query q = parsed(
      "SELECT T.name, CT, T.$metadata.temp.lastUpdateTime FROM DIGITALTWINS T "
      "JOIN CT RELATED T.contains WHERE other.x = 1");
  const auto& p = q.select.projections;
  const Expr& name = q.expr(p[0].expr);
  EXPECT_TRUE(name.qualified);
  EXPECT_EQ(name.collection, 0u);
  EXPECT_EQ(strings(q, q.property_path(name)), Names{"name"});
  const Expr& whole = q.expr(p[1].expr);
  EXPECT_EQ(whole.collection, 1u);
  EXPECT_TRUE(q.property_path(whole).empty());
  EXPECT_EQ(strings(q, q.property_path(q.expr(p[2].expr))),
            (Names{"$metadata", "temp", "lastUpdateTime"}));
  // `other` names no collection and there are two: the path is unresolved, not an error.
  const Expr& other = q.expr(q.children(q.expr(q.where))[0]);
  EXPECT_FALSE(other.qualified);
  EXPECT_EQ(other.collection, kNoCollection);
  EXPECT_EQ(strings(q, q.path_names(other)), (Names{"other", "x"}));
}

TEST(QueryAst, UnqualifiedNamesBelongToTheOnlyCollection) {
  for (const char* text : {"SELECT name FROM DIGITALTWINS", "SELECT name FROM DIGITALTWINS T",
                           "SELECT name FROM RELATIONSHIPS R"}) {
    const Query q = parsed(text);
    const Expr& e = q.expr(q.select.projections[0].expr);
    EXPECT_FALSE(e.qualified) << text;
    EXPECT_EQ(e.collection, 0u) << text;
    EXPECT_EQ(strings(q, q.property_path(e)), Names{"name"}) << text;
  }
}

TEST(QueryAst, IsOfModelKnowsWhichTwinsItTests) {
  const Query q = parsed(
      "SELECT B FROM DIGITALTWINS A JOIN B RELATED A.x WHERE IS_OF_MODEL(B, 'dtmi:m;1', exact) "
      "AND A.$dtId = 'a'");
  const Expr& call = q.expr(q.children(q.expr(q.where))[0]);
  ASSERT_EQ(call.kind, ExprKind::call);
  EXPECT_EQ(call.function, Function::is_of_model);
  EXPECT_EQ(call.collection, 1u);
  EXPECT_TRUE(call.exact);
  const Expr& model = q.expr(q.children(call).back());
  EXPECT_EQ(q.str(model.text), "dtmi:m;1");

  const Query single = parsed("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:m;1')");
  EXPECT_EQ(single.expr(single.where).collection, 0u);
  EXPECT_FALSE(single.expr(single.where).exact);
  const Query node = parsed("SELECT * FROM DIGITALTWINS MATCH (n) WHERE IS_OF_MODEL('dtmi:m;1')");
  EXPECT_EQ(node.expr(node.where).collection, 0u);
}

TEST(QueryAst, AndOrAreFlatNaryNodes) {
  const Query q = parsed(
      "SELECT * FROM DIGITALTWINS WHERE (a = 1 AND (b = 2 AND c = 3)) AND (d = 4 OR e = 5 OR f = "
      "6)");
  const Expr& top = q.expr(q.where);
  ASSERT_EQ(top.kind, ExprKind::logical_and);
  ASSERT_EQ(q.children(top).size(), 4u);
  const Expr& alternatives = q.expr(q.children(top)[3]);
  EXPECT_EQ(alternatives.kind, ExprKind::logical_or);
  EXPECT_EQ(q.children(alternatives).size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(q.expr(q.children(top)[i]).kind, ExprKind::compare);
}

TEST(QueryAst, LiteralsCarryTypedValues) {
  const Query q = parsed(
      "SELECT * FROM DIGITALTWINS WHERE x IN [7, -7, 2.5, -0.5, 'caf\\u00e9', \"q'\", true, null, "
      "-9223372036854775808, 9223372036854775808]");
  const auto items = q.children(q.expr(q.where));
  ASSERT_EQ(items.size(), 11u);  // the tested operand, then ten values
  auto at = [&](int i) -> const Expr& { return q.expr(items[i]); };
  EXPECT_EQ(at(1).kind, ExprKind::int_literal);
  EXPECT_EQ(at(1).integer, 7);
  EXPECT_EQ(at(2).integer, -7);
  EXPECT_EQ(at(3).kind, ExprKind::double_literal);
  EXPECT_DOUBLE_EQ(at(3).number, 2.5);
  EXPECT_DOUBLE_EQ(at(4).number, -0.5);
  EXPECT_EQ(q.str(at(5).text), "caf\xC3\xA9");
  EXPECT_EQ(q.str(at(6).text), "q'");
  EXPECT_EQ(at(7).kind, ExprKind::bool_literal);
  EXPECT_TRUE(at(7).boolean);
  EXPECT_EQ(at(8).kind, ExprKind::null_literal);
  EXPECT_EQ(at(9).integer, INT64_MIN);
  EXPECT_EQ(at(10).kind, ExprKind::double_literal);
}

TEST(QueryAst, InListsAndComparisonsRecordTheirOperator) {
  const Query q = parsed("SELECT * FROM DIGITALTWINS WHERE a NOT IN [1] AND b >= 2 AND c IN [3]");
  const auto parts = q.children(q.expr(q.where));
  EXPECT_TRUE(q.expr(parts[0]).negated);
  EXPECT_EQ(q.expr(parts[1]).op, CompareOp::ge);
  EXPECT_FALSE(q.expr(parts[2]).negated);
}

TEST(QueryAst, ProjectionsKnowTheirColumnNames) {
  const Query q = parsed("SELECT T, T.a.b, T.c AS d, COUNTRY FROM DIGITALTWINS T");
  const auto& p = q.select.projections;
  EXPECT_EQ(q.output_name(p[0]), "T");
  EXPECT_EQ(q.output_name(p[1]), "b");
  EXPECT_EQ(q.output_name(p[2]), "d");
  EXPECT_EQ(q.output_name(p[3]), "COUNTRY");
  EXPECT_EQ(parsed("SELECT TOP(3) T FROM DIGITALTWINS T").select.top, 3);
  EXPECT_EQ(parsed("SELECT COUNT() FROM DIGITALTWINS").select.kind, SelectKind::count);
}

TEST(QueryAst, PrintsOneExpressionForLogs) {
  const Query q = parsed("select * from digitaltwins T where not (T.a=1 or T.b in [\"x\"])");
  std::string out;
  print_expr(q, q.where, out);
  EXPECT_EQ(out, "NOT (T.a = 1 OR T.b IN ['x'])");
}

TEST(QueryAst, NodesPointBackIntoTheQueryText) {
  const std::string text = "SELECT * FROM DIGITALTWINS WHERE x = 1 AND STARTSWITH(y, 'a')";
  const Query q = parsed(text);
  const auto parts = q.children(q.expr(q.where));
  EXPECT_EQ(text.substr(q.expr(parts[0]).offset, 5), "x = 1");
  EXPECT_EQ(text.substr(q.expr(parts[1]).offset, 10), "STARTSWITH");
}

// The round-trip property in the corpus is only as good as ==: it must see every difference.
TEST(QueryAst, EqualityNoticesEveryDifference) {
  const std::vector<std::pair<const char*, const char*>> different = {
      {"SELECT * FROM DIGITALTWINS WHERE a = 1", "SELECT * FROM DIGITALTWINS WHERE a = 2"},
      {"SELECT * FROM DIGITALTWINS WHERE a = 1", "SELECT * FROM DIGITALTWINS WHERE a = 1.0"},
      {"SELECT * FROM DIGITALTWINS WHERE a = 'x'", "SELECT * FROM DIGITALTWINS WHERE a = 'y'"},
      {"SELECT * FROM DIGITALTWINS WHERE a < 1", "SELECT * FROM DIGITALTWINS WHERE a <= 1"},
      {"SELECT * FROM DIGITALTWINS WHERE a = 1", "SELECT * FROM DIGITALTWINS WHERE b = 1"},
      {"SELECT * FROM DIGITALTWINS WHERE a = 1", "SELECT * FROM DIGITALTWINS WHERE NOT a = 1"},
      {"SELECT * FROM DIGITALTWINS WHERE a AND b", "SELECT * FROM DIGITALTWINS WHERE a OR b"},
      {"SELECT * FROM DIGITALTWINS WHERE a IN [1]", "SELECT * FROM DIGITALTWINS WHERE a NIN [1]"},
      {"SELECT * FROM DIGITALTWINS WHERE a = true", "SELECT * FROM DIGITALTWINS WHERE a = false"},
      {"SELECT * FROM DIGITALTWINS WHERE a.b = 1", "SELECT * FROM DIGITALTWINS WHERE a.c = 1"},
      {"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('m')",
       "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('m', exact)"},
      {"SELECT * FROM DIGITALTWINS WHERE IS_NULL(a)",
       "SELECT * FROM DIGITALTWINS WHERE IS_BOOL(a)"},
      {"SELECT * FROM DIGITALTWINS", "SELECT * FROM RELATIONSHIPS"},
      {"SELECT * FROM DIGITALTWINS", "SELECT * FROM DIGITALTWINS T"},
      {"SELECT * FROM DIGITALTWINS", "SELECT COUNT() FROM DIGITALTWINS"},
      {"SELECT TOP(5) FROM DIGITALTWINS", "SELECT TOP(6) FROM DIGITALTWINS"},
      {"SELECT T FROM DIGITALTWINS T", "SELECT T AS U FROM DIGITALTWINS T"},
      {"SELECT T FROM DIGITALTWINS T", "SELECT T, T.x FROM DIGITALTWINS T"},
      {"SELECT T FROM DIGITALTWINS T JOIN C RELATED T.x",
       "SELECT T FROM DIGITALTWINS T JOIN C RELATED T.y"},
      {"SELECT T FROM DIGITALTWINS T JOIN C RELATED T.x",
       "SELECT T FROM DIGITALTWINS T JOIN C RELATED T.x R"},
      {"SELECT a FROM DIGITALTWINS MATCH (a)-[]->(b)",
       "SELECT a FROM DIGITALTWINS MATCH (a)<-[]-(b)"},
      {"SELECT a FROM DIGITALTWINS MATCH (a)-[*2]-(b)",
       "SELECT a FROM DIGITALTWINS MATCH (a)-[*3]-(b)"},
      {"SELECT a FROM DIGITALTWINS MATCH (a)-[:x]-(b)",
       "SELECT a FROM DIGITALTWINS MATCH (a)-[:y]-(b)"},
      {"SELECT a FROM DIGITALTWINS MATCH (a)-[]-(b)",
       "SELECT a FROM DIGITALTWINS MATCH (a)-[]-(c)"},
      {"SELECT a FROM DIGITALTWINS MATCH (a)-[]-(b)-[]-(a)",
       "SELECT a FROM DIGITALTWINS MATCH (a)-[]-(b)-[]-(c)"},
  };
  for (const auto& [x, y] : different) EXPECT_FALSE(parsed(x) == parsed(y)) << x << "\n" << y;
  EXPECT_TRUE(parsed("select * from digitaltwins where ((a = 1) and b = \"x\")") ==
              parsed("SELECT *\nFROM DIGITALTWINS\nWHERE a = 1 AND b = 'x'"));
}

TEST(QueryErrors, CarryOffsetPositionLineAndColumn) {
  Query q;
  QueryError error;
  const std::string text = "SELECT *\nFROM DIGITALTWINS\nWHERE name = 'caf\xC3\xA9' AND x = 'open";
  ASSERT_FALSE(parse(text, q, error));
  EXPECT_EQ(error.offset, text.rfind('\''));
  EXPECT_EQ(error.position, error.offset);  // one two-byte character before it: offset - 1 + 1
  EXPECT_EQ(error.line, 3u);
  EXPECT_EQ(error.column, 29u);  // "WHERE name = 'café' AND x = " is 28 characters
  EXPECT_EQ(QueryError::kAdtCode, "SqlQueryError");
}

TEST(QueryErrors, ConvenienceOverloadReturnsInvalidArgument) {
  const Result<Query> bad = parse("SELECT * FROM NOWHERE");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Code::invalid_argument);
  EXPECT_EQ(bad.status().message(),
            "Expected DIGITALTWINS or RELATIONSHIPS after FROM at position 15, found 'NOWHERE'.");
  const Result<Query> good = parse("SELECT * FROM DIGITALTWINS");
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(print(*good), "SELECT * FROM DIGITALTWINS");
}

TEST(QueryErrors, LimitsAreConfigurable) {
  QueryLimits limits;
  limits.max_joins = 1;
  limits.max_in_values = 2;
  limits.max_logical_operators = 1;
  limits.max_match_hops = 3;
  limits.max_nesting = 2;
  auto error_of = [&](std::string_view text) {
    Query q;
    QueryError e;
    EXPECT_FALSE(parse(text, q, e, limits)) << text;
    return e.message;
  };
  EXPECT_NE(error_of("SELECT A FROM DIGITALTWINS A JOIN B RELATED A.x JOIN C RELATED B.x")
                .find("at most 1 JOINs"),
            std::string::npos);
  EXPECT_NE(error_of("SELECT * FROM DIGITALTWINS WHERE x IN [1, 2, 3]").find("at most 2 values"),
            std::string::npos);
  EXPECT_NE(error_of("SELECT * FROM DIGITALTWINS WHERE a AND b AND c").find("at most 1 AND / OR"),
            std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM DIGITALTWINS MATCH (a)-[*..2]-(b)-[*2]-(c)")
                .find("spans up to 4 hops; a query may traverse at most 3"),
            std::string::npos);
  EXPECT_NE(error_of("SELECT * FROM DIGITALTWINS WHERE ((((a))))").find("more than 2 levels"),
            std::string::npos);
  limits.max_characters = 60;
  EXPECT_NE(error_of(std::string(61, ' ')).find("61 characters; the limit is 60"),
            std::string::npos);
}

}  // namespace
}  // namespace castor::query
