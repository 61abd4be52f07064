// Hostile and runaway queries: a per-query time budget (TimeoutError) and memory budget
// (SqlQueryError), 100 KB queries, deep nesting, long IN lists and too many operators are all
// clear errors, never a crash or a query that runs on; the engine keeps serving afterwards.
#include <gtest/gtest.h>

#include "graph_fixture.hpp"
#include "query/query_service.hpp"

namespace castor::query::testing {
namespace {

constexpr std::string_view kModels = R"([
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:b:Node;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "n", "schema": "integer"},
               {"@type": "Relationship", "name": "link"}]}
])";

// `count` twins; with `hub`, node-0 links to every other node and every node links back.
std::unique_ptr<GraphFixture> graph(int count, bool hub) {
  auto f = GraphFixture::empty(*json::parse(kModels));
  EXPECT_TRUE(f.is_ok());
  std::vector<std::pair<std::string, json::value>> twins;
  for (int i = 0; i < count; ++i) {
    twins.emplace_back(
        "node-" + std::to_string(i),
        json::object{{"$metadata", json::object{{"$model", "dtmi:b:Node;1"}}}, {"n", i}});
  }
  EXPECT_TRUE((*f)->put_twins(twins).is_ok());
  if (hub) {
    std::vector<std::tuple<std::string, std::string, json::value>> rels;
    for (int i = 1; i < count; ++i) {
      const std::string node = "node-" + std::to_string(i);
      rels.emplace_back("node-0", "out-" + std::to_string(i),
                        json::object{{"$relationshipName", "link"}, {"$targetId", node}});
      rels.emplace_back(node, "back",
                        json::object{{"$relationshipName", "link"}, {"$targetId", "node-0"}});
    }
    EXPECT_TRUE((*f)->put_relationships(rels).is_ok());
  }
  return std::move(*f);
}

void expect_error(const Result<QueryPage>& r, std::string_view code, std::string_view fragment) {
  ASSERT_FALSE(r.is_ok()) << "succeeded with " << r->rows.size() << " rows";
  EXPECT_EQ(r.status().reason(), code) << r.status().message();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().back(), '.') << "errors are sentences";
}

TEST(QueryBudget, ScansStopAtTheDeadline) {
  auto f = graph(2000, false);
  QueryOptions o;
  o.timeout = std::chrono::milliseconds(0);
  auto s = std::make_shared<QueryService>(f->engine(), o);
  expect_error(run_sync(*s, "SELECT * FROM DIGITALTWINS"), "TimeoutError", "time budget of 0 ms");
  expect_error(run_sync(*s, "SELECT COUNT() FROM DIGITALTWINS"), "TimeoutError", "--query-timeout");
}

TEST(QueryBudget, TraversalsStopAtTheDeadline) {
  auto f = graph(300, true);
  QueryOptions o;
  o.timeout = std::chrono::milliseconds(0);
  auto s = std::make_shared<QueryService>(f->engine(), o);
  expect_error(run_sync(*s, "SELECT B FROM DIGITALTWINS A JOIN B RELATED A.link"), "TimeoutError",
               "time budget");
  expect_error(
      run_sync(*s, "SELECT B FROM DIGITALTWINS MATCH (A)-[*..10]-(B) WHERE A.$dtId = 'node-0'"),
      "TimeoutError", "time budget");
}

TEST(QueryBudget, ResultsStayWithinTheMemoryBudget) {
  auto f = graph(5000, false);
  QueryOptions o;
  o.memory_limit = 64 * 1024;
  auto s = std::make_shared<QueryService>(f->engine(), o);
  expect_error(run_sync(*s, "SELECT T.$dtId FROM DIGITALTWINS T"), "SqlQueryError",
               "memory budget of 64 KiB");
  // COUNT keeps no rows, so it fits.
  auto count = run_sync(*s, "SELECT COUNT() FROM DIGITALTWINS");
  ASSERT_TRUE(count.is_ok()) << count.status().message();
  EXPECT_EQ(count->rows[0], "{\"COUNT\":5000}");
}

TEST(QueryBudget, ExplodingTraversalsStayWithinTheMemoryBudget) {
  auto f = graph(400, true);
  QueryOptions o;
  o.memory_limit = 1 << 20;
  auto s = std::make_shared<QueryService>(f->engine(), o);
  // Every node -> hub -> every node, twice over: 400^3 rows if nothing stopped it.
  expect_error(
      run_sync(*s, "SELECT COUNT() FROM DIGITALTWINS MATCH (A)-[]->(H)-[]->(B)-[]->(C)-[]->(D)"),
      "SqlQueryError", "memory budget");
  // Bounded hops over a cycle-rich graph end at the hop limit.
  auto hops = run_sync(
      *s, "SELECT B.$dtId FROM DIGITALTWINS MATCH (A)-[*..10]-(B) WHERE A.$dtId = 'node-1'");
  ASSERT_TRUE(hops.is_ok()) << hops.status().message();
  EXPECT_EQ(hops->rows.size(), 400u);
}

TEST(QueryBudget, HostileTextIsASqlQueryError) {
  auto f = graph(10, false);
  auto s = std::make_shared<QueryService>(f->engine(), QueryOptions{});
  expect_error(run_sync(*s, "SELECT * FROM DIGITALTWINS WHERE name = '" +
                                std::string(100 * 1024, 'x') + "'"),
               "SqlQueryError", "characters; the limit is 8000");
  std::string nested = "SELECT * FROM DIGITALTWINS WHERE ";
  for (int i = 0; i < 300; ++i) nested += "(";
  nested += "n = 1";
  for (int i = 0; i < 300; ++i) nested += ")";
  expect_error(run_sync(*s, nested), "SqlQueryError", "nests more than");
  std::string nots = "SELECT * FROM DIGITALTWINS WHERE ";
  for (int i = 0; i < 1000; ++i) nots += "NOT ";
  expect_error(run_sync(*s, nots + "n = 1"), "SqlQueryError", "nests more than");
  std::string in = "SELECT * FROM DIGITALTWINS WHERE n IN [0";
  for (int i = 1; i < 60; ++i) in += ", " + std::to_string(i);
  expect_error(run_sync(*s, in + "]"), "SqlQueryError", "at most 50 values");
  std::string ors = "SELECT * FROM DIGITALTWINS WHERE n = 0";
  for (int i = 1; i < 60; ++i) ors += " OR n = " + std::to_string(i);
  expect_error(run_sync(*s, ors), "SqlQueryError", "at most 50 AND / OR");
  expect_error(run_sync(*s, ""), "SqlQueryError", "position 1");
  expect_error(run_sync(*s, std::string("SELECT * FROM DIGITALTWINS WHERE n = '\xff'")),
               "SqlQueryError", "not valid UTF-8");
  // The engine still answers.
  auto ok = run_sync(*s, "SELECT COUNT() FROM DIGITALTWINS");
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->rows[0], "{\"COUNT\":10}");
}

}  // namespace
}  // namespace castor::query::testing
