// Paging exactly as ADT: continuation tokens that cover every row once, stay stable while twins
// are written, patched and deleted between and during pages, survive retries, expire, and are
// bounded in memory; and the work figures behind query-charge (TOP stops early, COUNT renders
// nothing, point lookups touch only their twins).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "graph_fixture.hpp"
#include "query/query_service.hpp"
#include "twin/twin_json.hpp"

namespace castor::query::testing {
namespace {

constexpr std::string_view kModels = R"([
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:p:Item;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "n", "schema": "integer", "writable": true},
               {"@type": "Property", "name": "batch", "schema": "string", "writable": true},
               {"@type": "Relationship", "name": "link"}]}
])";

json::value item(int n, std::string_view batch = "a") {
  return json::object{
      {"$metadata", json::object{{"$model", "dtmi:p:Item;1"}}}, {"n", n}, {"batch", batch}};
}

std::string item_id(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "item-%05d", i);
  return buf;
}

std::unique_ptr<GraphFixture> items(int count, std::size_t shards = 4) {
  auto f = GraphFixture::empty(*json::parse(kModels), shards);
  EXPECT_TRUE(f.is_ok()) << f.status().message();
  std::vector<std::pair<std::string, json::value>> twins;
  for (int i = 0; i < count; ++i) twins.emplace_back(item_id(i), item(i));
  EXPECT_TRUE((*f)->put_twins(twins).is_ok());
  return std::move(*f);
}

std::string id_of(std::string_view row) {
  auto v = json::parse(row);
  if (!v || !v->is_object() || !v->get_object().contains("$dtId")) return "?" + std::string(row);
  return std::string(json::sv(v->get_object().at("$dtId").get_string()));
}

// Every page; `between` runs before each page after the first.
std::vector<std::string> page_through(QueryService& s, const std::string& q, std::size_t page,
                                      const std::function<void()>& between = {}) {
  auto first = run_sync(s, q, page);
  EXPECT_TRUE(first.is_ok()) << first.status().message();
  if (!first) return {};
  std::vector<std::string> ids;
  for (const auto& r : first->rows) ids.push_back(id_of(r));
  std::string token = first->continuation;
  while (!token.empty()) {
    if (between) between();
    auto next = next_sync(s, token, page);
    EXPECT_TRUE(next.is_ok()) << next.status().message();
    if (!next) break;
    EXPECT_LE(next->rows.size(), page);
    for (const auto& r : next->rows) ids.push_back(id_of(r));
    token = next->continuation;
  }
  return ids;
}

TEST(QueryPaging, PagesCoverEveryRowOnce) {
  auto f = items(1000);
  auto s = std::make_shared<QueryService>(f->engine(), QueryOptions{});
  const auto ids = page_through(*s, "SELECT T.$dtId FROM DIGITALTWINS T", 37);
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1000u);
  EXPECT_EQ(s->cursors().size(), 0u) << "the last page drops its cursor";
}

TEST(QueryPaging, LargestPageByDefaultAndAtMostTheMaximum) {
  auto f = items(30);
  QueryOptions o;
  o.max_page_size = 10;
  auto s = std::make_shared<QueryService>(f->engine(), o);
  auto page = run_sync(*s, "SELECT * FROM DIGITALTWINS", 0);
  ASSERT_TRUE(page.is_ok());
  EXPECT_EQ(page->rows.size(), 10u);
  page = run_sync(*s, "SELECT * FROM DIGITALTWINS", 500);
  ASSERT_TRUE(page.is_ok());
  EXPECT_EQ(page->rows.size(), 10u);
  EXPECT_FALSE(page->continuation.empty());
}

// Membership is decided at the first page: rows that still exist come exactly once, with their
// current values; twins created later do not join; deleted ones are left out.
TEST(QueryPaging, StableUnderConcurrentWrites) {
  auto f = items(2000);
  auto s = std::make_shared<QueryService>(f->engine(), QueryOptions{});
  std::atomic<bool> stop{false};
  std::atomic<int> created{0};
  std::set<std::string> deleted;
  for (int i = 0; i < 2000; i += 97) deleted.insert(item_id(i));
  auto write = [&] {
    for (int round = 0; !stop.load(); ++round) {
      const int i = (round * 7919 + 1) % 2000;
      if (i % 97 != 0) {
        EXPECT_TRUE(f->patch_twin(item_id(i),
                                  *json::parse(R"([{"op": "replace", "path": "/n", "value": -1}])"))
                        .is_ok());
      }
      EXPECT_TRUE(f->put_twin("new-" + std::to_string(round), item(round)).is_ok());
      ++created;
    }
  };
  // The writer starts once the first page is out, and runs while the other pages are fetched.
  std::thread writer;
  const auto ids = page_through(*s, "SELECT * FROM DIGITALTWINS T WHERE T.batch = 'a'", 100, [&] {
    if (writer.joinable()) return;
    for (const auto& id : deleted) EXPECT_TRUE(f->delete_twin(id).is_ok());
    writer = std::thread(write);
    // At least one round of writes lands before the second page, even on a busy machine.
    while (created.load() == 0) std::this_thread::yield();
  });
  stop = true;
  writer.join();
  EXPECT_GT(created.load(), 0);
  std::set<std::string> seen;
  for (const auto& id : ids) EXPECT_TRUE(seen.insert(id).second) << id << " came twice";
  for (int i = 0; i < 2000; ++i) {
    const std::string id = item_id(i);
    if (deleted.count(id) == 0) {
      EXPECT_TRUE(seen.count(id)) << id << " was skipped";
    }
  }
  for (const auto& id : seen)
    EXPECT_EQ(id.rfind("item-", 0), 0u) << id << " joined after the first page";
}

TEST(QueryPaging, TraversalsPageToo) {
  auto f = items(200);
  std::vector<std::tuple<std::string, std::string, json::value>> rels;
  for (int i = 1; i < 200; ++i) {
    rels.emplace_back(item_id(0), "l" + std::to_string(i),
                      json::object{{"$relationshipName", "link"}, {"$targetId", item_id(i)}});
  }
  ASSERT_TRUE(f->put_relationships(rels).is_ok());
  auto s = std::make_shared<QueryService>(f->engine(), QueryOptions{});
  const auto ids = page_through(
      *s, "SELECT B.$dtId FROM DIGITALTWINS A JOIN B RELATED A.link WHERE A.$dtId = 'item-00000'",
      16);
  EXPECT_EQ(ids.size(), 199u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 199u);
}

TEST(QueryPaging, SkewedShardsStillFillTheFirstPage) {
  auto f = items(0);
  std::vector<std::pair<std::string, json::value>> twins;
  for (int i = 0; twins.size() < 50; ++i) {
    const std::string id = "skew-" + std::to_string(i);
    if (f->engine().shard_of(id) == 0) twins.emplace_back(id, item(i, "skew"));
  }
  for (int i = 0; i < 40; ++i) twins.emplace_back("other-" + std::to_string(i), item(i, "other"));
  ASSERT_TRUE(f->put_twins(twins).is_ok());
  auto s = std::make_shared<QueryService>(f->engine(), QueryOptions{});
  auto first = run_sync(*s, "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.batch = 'skew'", 20);
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->rows.size(), 20u);
  const auto ids =
      page_through(*s, "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.batch = 'skew'", 20);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 50u);
}

TEST(QueryPaging, ARetriedTokenGivesTheSamePage) {
  auto f = items(50);
  auto s = std::make_shared<QueryService>(f->engine(), QueryOptions{});
  auto first = run_sync(*s, "SELECT T.$dtId FROM DIGITALTWINS T", 10);
  ASSERT_TRUE(first.is_ok());
  auto a = next_sync(*s, first->continuation, 10);
  auto b = next_sync(*s, first->continuation, 10);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->rows, b->rows);
  EXPECT_EQ(a->continuation, b->continuation);
}

TEST(QueryPaging, BadAndFinishedTokensAreBadRequests) {
  auto f = items(15);
  auto s = std::make_shared<QueryService>(f->engine(), QueryOptions{});
  for (const char* token :
       {"nope", "0123456789abcdef0123456789abcdef.x", "0123456789abcdef0123456789abcdef.10",
        "0123456789ABCDEF0123456789abcdef.1"}) {
    auto r = next_sync(*s, token);
    ASSERT_FALSE(r.is_ok()) << token;
    EXPECT_EQ(r.status().reason(), "BadRequest") << token;
  }
  auto first = run_sync(*s, "SELECT * FROM DIGITALTWINS", 10);
  ASSERT_TRUE(first.is_ok());
  auto last = next_sync(*s, first->continuation, 10);
  ASSERT_TRUE(last.is_ok());
  EXPECT_TRUE(last->continuation.empty());
  auto again = next_sync(*s, first->continuation, 10);
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.status().reason(), "BadRequest");
}

TEST(QueryPaging, TokensExpire) {
  auto f = items(20);
  QueryOptions o;
  o.cursor_ttl = std::chrono::milliseconds(50);
  auto s = std::make_shared<QueryService>(f->engine(), o);
  auto first = run_sync(*s, "SELECT * FROM DIGITALTWINS", 5);
  ASSERT_TRUE(first.is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  auto next = next_sync(*s, first->continuation, 5);
  ASSERT_FALSE(next.is_ok());
  EXPECT_EQ(next.status().reason(), "BadRequest");
  EXPECT_NE(next.status().message().find("expired"), std::string::npos);
  EXPECT_EQ(s->cursors().size(), 0u);
}

TEST(QueryPaging, KeptResultsStayWithinTheirMemory) {
  auto f = items(2000);
  QueryOptions o;
  o.cursor_memory = 100 * 1024;
  auto s = std::make_shared<QueryService>(f->engine(), o);
  std::vector<std::string> tokens;
  for (int i = 0; i < 4; ++i) {
    auto page = run_sync(*s, "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.n < 1500", 10);
    ASSERT_TRUE(page.is_ok()) << page.status().message();
    tokens.push_back(page->continuation);
    EXPECT_LE(s->cursors().bytes(), o.cursor_memory);
  }
  EXPECT_FALSE(next_sync(*s, tokens.front(), 10).is_ok()) << "the least recently used went first";
  EXPECT_TRUE(next_sync(*s, tokens.back(), 10).is_ok());
  o.cursor_memory = 16 * 1024;
  auto small = std::make_shared<QueryService>(f->engine(), o);
  auto too_big = run_sync(*small, "SELECT T.$dtId FROM DIGITALTWINS T", 10);
  ASSERT_FALSE(too_big.is_ok());
  EXPECT_EQ(too_big.status().reason(), "SqlQueryError");
  EXPECT_NE(too_big.status().message().find("paging"), std::string::npos);
}

TEST(QueryStatsTest, TopStopsEarlyAndCountRendersNothing) {
  auto f = items(1000, 1);
  auto s = std::make_shared<QueryService>(f->engine(), QueryOptions{});
  auto top = run_sync(*s, "SELECT TOP(3) FROM DIGITALTWINS");
  ASSERT_TRUE(top.is_ok());
  EXPECT_EQ(top->rows.size(), 3u);
  EXPECT_EQ(top->stats.examined, 3u);
  auto count = run_sync(*s, "SELECT COUNT() FROM DIGITALTWINS T WHERE T.n >= 10");
  ASSERT_TRUE(count.is_ok());
  EXPECT_EQ(std::vector<std::string>(count->rows.begin(), count->rows.end()),
            std::vector<std::string>{"{\"COUNT\":990}"});
  EXPECT_EQ(count->stats.returned, 1u);
  EXPECT_EQ(count->stats.bytes, count->rows[0].size());
  EXPECT_GT(count->charge, 10.0);
  auto point = run_sync(
      *s, "SELECT * FROM DIGITALTWINS WHERE $dtId IN ['item-00001', 'item-00002', 'nope']");
  ASSERT_TRUE(point.is_ok());
  EXPECT_EQ(point->rows.size(), 2u);
  EXPECT_EQ(point->stats.examined, 2u);
  EXPECT_LT(point->charge, 2.0);
}

TEST(QueryRows, SelectStarIsTheTwinDocumentExactly) {
  auto f = items(3);
  auto s = std::make_shared<QueryService>(f->engine(), QueryOptions{});
  auto page = run_sync(*s, "SELECT * FROM DIGITALTWINS WHERE $dtId = 'item-00001'");
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->rows.size(), 1u);
  std::promise<std::string> got;
  f->engine().get_twin("item-00001",
                       [&](Result<twin::Rendered> r) { got.set_value(r ? r->json : ""); });
  EXPECT_EQ(page->rows[0], got.get_future().get());
}

}  // namespace
}  // namespace castor::query::testing
