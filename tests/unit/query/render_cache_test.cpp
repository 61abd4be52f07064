// The query render cache: rows that show whole twins are the twins exactly as GET shows them,
// whether copied from the cache or rendered; every kind of write (patch, component patch,
// replace, delete, import, relationship changes) is seen by the next query; the cache stays
// within its budget, keeps nothing when its budget is 0 or when the engine does not know it, and
// never serves an entry whose twin's ETag moved on.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>
#include <tuple>

#include "graph_fixture.hpp"
#include "query/query_service.hpp"
#include "query/render_cache.hpp"

namespace castor::query::testing {
namespace {

constexpr std::string_view kModels = R"([
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:rc:Cfg;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "gain", "schema": "double", "writable": true}]},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:rc:Sensor;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "temp", "schema": "double", "writable": true},
               {"@type": "Property", "name": "state", "schema": "string", "writable": true},
               {"@type": "Relationship", "name": "next"},
               {"@type": "Component", "name": "cfg", "schema": "dtmi:rc:Cfg;1"}]}
])";

json::value sensor(double temp, std::string_view state) {
  return json::object{{"$metadata", json::object{{"$model", "dtmi:rc:Sensor;1"}}},
                      {"temp", temp},
                      {"state", state},
                      {"cfg", json::object{{"$metadata", json::object{}}, {"gain", 1.0}}}};
}

struct Plant {
  std::shared_ptr<RenderCache> cache;
  std::unique_ptr<GraphFixture> fixture;
  std::shared_ptr<QueryService> service;
};

// 200 sensors s0..s199 on 4 shards; the cache registered with the engine unless `registered`
// is false (then the service uses a cache the engine never told of anything).
Plant plant(std::size_t budget, bool registered = true) {
  Plant p;
  p.cache = std::make_shared<RenderCache>(budget);
  auto f = GraphFixture::empty(*json::parse(kModels), 4, registered ? p.cache : nullptr);
  EXPECT_TRUE(f.is_ok()) << f.status().message();
  p.fixture = std::move(*f);
  std::vector<std::pair<std::string, json::value>> twins;
  for (int i = 0; i < 200; ++i) twins.emplace_back("s" + std::to_string(i), sensor(i, "on"));
  EXPECT_TRUE(p.fixture->put_twins(twins).is_ok());
  QueryOptions qo;
  qo.render_cache = p.cache;
  p.service = std::make_shared<QueryService>(p.fixture->engine(), qo);
  return p;
}

std::string get_twin(twin::Engine& e, const std::string& id) {
  std::promise<Result<twin::Rendered>> pr;
  e.get_twin(id, [&pr](Result<twin::Rendered> r) { pr.set_value(std::move(r)); });
  auto r = pr.get_future().get();
  return r ? r->json : std::string("missing: ") + r.status().message();
}

std::vector<std::string> rows(QueryService& s, const std::string& q, std::size_t page = 0) {
  std::vector<std::string> out;
  auto r = run_sync(s, q, page);
  EXPECT_TRUE(r.is_ok()) << q << ": " << (r ? "" : r.status().message());
  while (r.is_ok()) {
    out.insert(out.end(), r->rows.begin(), r->rows.end());
    if (r->continuation.empty()) break;
    r = next_sync(s, r->continuation, page);
    EXPECT_TRUE(r.is_ok());
  }
  return out;
}

std::string one(QueryService& s, const std::string& id) {
  auto r = rows(s, "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = '" + id + "'");
  return r.size() == 1 ? r[0] : std::string("rows: ") + std::to_string(r.size());
}

TEST(RenderCache, RowsAreTheTwinsAsGetShowsThemCachedOrNot) {
  auto p = plant(std::size_t{8} << 20);
  auto& e = p.fixture->engine();
  const std::string first = one(*p.service, "s7");
  EXPECT_EQ(first, get_twin(e, "s7"));
  EXPECT_EQ(one(*p.service, "s7"), first);  // shown twice: kept
  EXPECT_EQ(p.cache->hits(), 0u);
  EXPECT_EQ(one(*p.service, "s7"), first);
  EXPECT_EQ(p.cache->hits(), 1u);
  // Whole twins in projections, in JOIN-less multi-row results and across pages (render_page).
  const auto all = rows(*p.service, "SELECT T FROM DIGITALTWINS T", 7);
  ASSERT_EQ(all.size(), 200u);
  EXPECT_EQ(rows(*p.service, "SELECT T FROM DIGITALTWINS T", 7), all);
  const std::uint64_t before = p.cache->hits();
  EXPECT_EQ(rows(*p.service, "SELECT T FROM DIGITALTWINS T", 7), all);
  EXPECT_GE(p.cache->hits(), before + 200);
  for (const std::string& row : all) {
    auto v = json::parse(row);
    ASSERT_TRUE(v.is_ok());
    const auto& t = v->get_object().at("T").get_object();
    const std::string id(json::sv(t.at("$dtId").get_string()));
    EXPECT_EQ(json::serialize(t), json::serialize(*json::parse(get_twin(e, id))));
  }
  EXPECT_GT(p.cache->bytes(), 0u);
}

TEST(RenderCache, EveryKindOfWriteIsSeenByTheNextQuery) {
  auto p = plant(std::size_t{8} << 20);
  auto& f = *p.fixture;
  auto& e = f.engine();
  auto fresh = [&](const std::string& id) {
    const std::string row = one(*p.service, id);
    EXPECT_EQ(row, get_twin(f.engine(), id)) << id;  // not `e`: reopen() below replaces it
    return row;
  };
  for (int round = 0; round < 3; ++round) {  // kept from the second on, served on the third
    for (const char* id : {"s1", "s2", "s3", "s4", "s5", "s6", "s7"}) fresh(id);
  }
  EXPECT_GE(p.cache->hits(), 7u);

  const std::string before_patch = one(*p.service, "s1");
  ASSERT_TRUE(f.patch_twin("s1", *json::parse(R"([{"op":"replace","path":"/temp","value":-5}])")).is_ok());
  EXPECT_NE(fresh("s1"), before_patch);
  EXPECT_NE(one(*p.service, "s1").find("-5"), std::string::npos);

  const std::string before_component = one(*p.service, "s2");
  std::promise<Result<std::string>> pc;
  e.patch_component("s2", "cfg", *json::parse(R"([{"op":"replace","path":"/gain","value":3.5}])"), {},
                    [&pc](Result<std::string> r) { pc.set_value(std::move(r)); });
  ASSERT_TRUE(pc.get_future().get().is_ok());
  EXPECT_NE(fresh("s2"), before_component);
  EXPECT_NE(one(*p.service, "s2").find("3.5"), std::string::npos);

  const std::string before_replace = one(*p.service, "s3");
  ASSERT_TRUE(f.put_twin("s3", sensor(77, "replaced")).is_ok());
  EXPECT_NE(fresh("s3"), before_replace);
  EXPECT_NE(one(*p.service, "s3").find("replaced"), std::string::npos);

  ASSERT_TRUE(f.delete_twin("s4").is_ok());
  EXPECT_EQ(one(*p.service, "s4"), "rows: 0");
  ASSERT_TRUE(f.put_twin("s4", sensor(4, "reborn")).is_ok());
  EXPECT_NE(fresh("s4").find("reborn"), std::string::npos);

  const std::string before_import = one(*p.service, "s5");
  std::vector<twin::BulkItem> items;
  json::object doc = sensor(55, "imported").get_object();
  doc["$dtId"] = "s5";
  items.push_back(twin::BulkItem{1, std::move(doc)});
  std::promise<twin::BulkOutcome> pi;
  e.import_twins(e.prepare_twins(std::move(items)), [&pi](twin::BulkOutcome o) { pi.set_value(std::move(o)); });
  ASSERT_EQ(pi.get_future().get().imported, 1u);
  EXPECT_NE(fresh("s5"), before_import);
  EXPECT_NE(one(*p.service, "s5").find("imported"), std::string::npos);

  // Relationships are not part of a twin's document: rows stay right before and after.
  fresh("s6");
  ASSERT_TRUE(f.put_relationship("s6", "r1", *json::parse(R"({"$relationshipName":"next","$targetId":"s7"})"))
                  .is_ok());
  fresh("s6");
  auto joined = rows(*p.service, "SELECT B FROM DIGITALTWINS A JOIN B RELATED A.next WHERE A.$dtId = 's6'");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0], "{\"B\":" + get_twin(e, "s7") + "}");
  ASSERT_TRUE(f.delete_relationship("s6", "r1").is_ok());
  fresh("s6");

  // And after a restart, which loads every twin again.
  const std::string before_restart = one(*p.service, "s1");
  ASSERT_TRUE(f.reopen().is_ok());
  QueryOptions qo;
  qo.render_cache = p.cache;
  p.service = std::make_shared<QueryService>(f.engine(), qo);
  EXPECT_EQ(fresh("s1"), before_restart);
}

TEST(RenderCache, StaysWithinItsBudget) {
  auto p = plant(16 << 10);  // 4 KiB per shard: a couple of twins each
  const auto all = rows(*p.service, "SELECT * FROM DIGITALTWINS");
  ASSERT_EQ(all.size(), 200u);
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(rows(*p.service, "SELECT * FROM DIGITALTWINS"), all);
    EXPECT_LE(p.cache->bytes(), std::size_t{16} << 10);
    EXPECT_GT(p.cache->bytes(), 0u);
  }
  for (const std::string& row : all) {
    const std::string id(json::sv(json::parse(row)->get_object().at("$dtId").get_string()));
    EXPECT_EQ(one(*p.service, id), get_twin(p.fixture->engine(), id));
  }
}

TEST(RenderCache, KeepsNothingWhenOffOrNotAnObserver) {
  for (bool registered : {true, false}) {
    auto p = plant(registered ? 0 : std::size_t{8} << 20, registered);
    const std::string a = one(*p.service, "s9");
    EXPECT_EQ(one(*p.service, "s9"), a);
    EXPECT_EQ(one(*p.service, "s9"), a);
    EXPECT_EQ(a, get_twin(p.fixture->engine(), "s9"));
    EXPECT_EQ(p.cache->hits(), 0u);
    EXPECT_EQ(p.cache->bytes(), 0u);
  }
}

// prefetch() is only a hint: any twin address and any shard index, before the engine opened or
// with the cache off, is harmless and changes nothing the cache serves or counts.
TEST(RenderCache, PrefetchIsAHintOnly) {
  RenderCache unopened(std::size_t{8} << 20);
  twin::Twin t;
  unopened.prefetch(0, &t);
  unopened.prefetch(7, nullptr);
  for (std::size_t budget : {std::size_t{0}, std::size_t{8} << 20}) {
    auto p = plant(budget);
    for (std::size_t shard = 0; shard < 6; ++shard) {
      p.cache->prefetch(shard, &t);
      p.cache->prefetch(shard, nullptr);
    }
    EXPECT_EQ(p.cache->hits() + p.cache->misses(), 0u);
    const std::string a = one(*p.service, "s9");
    EXPECT_EQ(a, get_twin(p.fixture->engine(), "s9"));
    EXPECT_EQ(p.cache->bytes(), 0u);
  }
}

TEST(RenderCache, NeverServesAnEntryWhoseTwinsEtagMovedOn) {
  auto p = plant(std::size_t{8} << 20);
  auto& e = p.fixture->engine();
  std::promise<std::pair<std::string, std::string>> pr;
  ASSERT_TRUE(e.run_on_owner("s8", [&](twin::Shard& s) {
    twin::Twin* t = s.find("s8");
    std::string first, second, cached, moved;
    p.cache->append_twin(s.index(), *t, first);
    p.cache->append_twin(s.index(), *t, second);  // kept
    p.cache->append_twin(s.index(), *t, cached);  // served
    EXPECT_EQ(first, cached);
    EXPECT_EQ(second, cached);
    const std::uint64_t etag = t->etag;
    t->etag = etag + 1;  // a change the cache was not told of
    p.cache->append_twin(s.index(), *t, moved);
    t->etag = etag;
    pr.set_value({cached, moved});
  }));
  auto [cached, moved] = pr.get_future().get();
  EXPECT_NE(cached, moved);
  EXPECT_EQ(p.cache->hits(), 1u);  // the third call only
  EXPECT_EQ(cached, get_twin(e, "s8"));
}

}  // namespace
}  // namespace castor::query::testing

namespace castor::query::testing {
namespace {

// Twins of one batch whose properties share one lastUpdateTime share the text of their
// $metadata members (twin::RenderMemo); twins patched since, with a sourceTime, with a property
// removed or created at another time must each show their own, in scans, pages and traversals.
TEST(RenderCache, RowsOfABatchShowTheirOwnMetadata) {
  for (std::size_t budget : {std::size_t{0}, std::size_t{8} << 20}) {
    auto p = plant(budget);
    auto& f = *p.fixture;
    auto patch = [&](const std::string& id, std::string_view ops) {
      ASSERT_TRUE(f.patch_twin(id, *json::parse(ops)).is_ok()) << id;
    };
    patch("s5", R"([{"op":"replace","path":"/temp","value":55.5}])");
    patch("s6",
          R"([{"op":"add","path":"/$metadata/temp/sourceTime","value":"2026-01-02T03:04:05Z"}])");
    patch("s8", R"([{"op":"remove","path":"/state"}])");
    ASSERT_TRUE(f.put_twin("s9", sensor(9, "on")).is_ok());  // created again, later
    std::vector<std::tuple<std::string, std::string, json::value>> rels;
    for (int i = 1; i <= 12; ++i) {
      rels.emplace_back(
          "s0", "r" + std::to_string(i),
          json::object{{"$relationshipName", "next"}, {"$targetId", "s" + std::to_string(i)}});
    }
    ASSERT_TRUE(f.put_relationships(rels).is_ok());
    auto& e = f.engine();
    auto check = [&](const std::vector<std::string>& got, const char* column) {
      for (const std::string& row : got) {
        auto v = json::parse(row);
        ASSERT_TRUE(v.is_ok());
        const auto& t = v->get_object().at(column).get_object();
        const std::string id(json::sv(t.at("$dtId").get_string()));
        EXPECT_EQ(json::serialize(t), json::serialize(*json::parse(get_twin(e, id)))) << id;
      }
    };
    for (std::size_t page : {std::size_t{7}, std::size_t{1000}}) {
      const auto all = rows(*p.service, "SELECT T FROM DIGITALTWINS T", page);
      ASSERT_EQ(all.size(), 200u);
      check(all, "T");
      const auto joined =
          rows(*p.service,
               "SELECT B FROM DIGITALTWINS A JOIN B RELATED A.next WHERE A.$dtId = 's0'", page);
      ASSERT_EQ(joined.size(), 12u);
      check(joined, "B");
    }
    // The batch really mixed twins of one time with others (else the test shows nothing).
    auto meta = [&](const std::string& id) {
      return json::parse(get_twin(e, id))->get_object().at("$metadata").get_object();
    };
    EXPECT_NE(meta("s5").at("temp").at("lastUpdateTime"),
              meta("s5").at("state").at("lastUpdateTime"));
    EXPECT_EQ(meta("s4").at("temp").at("lastUpdateTime"),
              meta("s4").at("state").at("lastUpdateTime"));
    EXPECT_NE(meta("s9").at("temp").at("lastUpdateTime"),
              meta("s4").at("temp").at("lastUpdateTime"));
    EXPECT_TRUE(meta("s6").at("temp").as_object().contains("sourceTime"));
    EXPECT_FALSE(meta("s8").contains("state"));
  }
}

// JOIN and MATCH rows are rendered while their last step binds them when they fit the first
// page, else page by page: both give the same rows, twins reached twice included.
TEST(RenderCache, TraversalRowsAreTheSameHoweverTheyAreRendered) {
  for (std::size_t budget : {std::size_t{0}, std::size_t{8} << 20}) {
    auto p = plant(budget);
    auto& f = *p.fixture;
    auto rel = [](const std::string& target) {
      return json::object{{"$relationshipName", "next"}, {"$targetId", target}};
    };
    std::vector<std::tuple<std::string, std::string, json::value>> rels;
    for (int i = 1; i <= 12; ++i) rels.emplace_back("s0", "a" + std::to_string(i), rel("s" + std::to_string(i)));
    rels.emplace_back("s0", "again", rel("s3"));  // s3 is reached twice
    for (int i = 1; i <= 12; ++i) rels.emplace_back("s" + std::to_string(i), "b", rel("s" + std::to_string(100 + i)));
    ASSERT_TRUE(f.put_relationships(rels).is_ok());
    std::multiset<std::string> join_expected, match_expected;
    for (int i = 1; i <= 12; ++i) {
      join_expected.insert("{\"B\":" + get_twin(f.engine(), "s" + std::to_string(i)) + "}");
      match_expected.insert("{\"C\":" + get_twin(f.engine(), "s" + std::to_string(100 + i)) + "}");
    }
    join_expected.insert("{\"B\":" + get_twin(f.engine(), "s3") + "}");
    match_expected.insert("{\"C\":" + get_twin(f.engine(), "s103") + "}");
    for (std::size_t page : {1, 5, 13, 1000}) {
      for (int round = 0; round < 2; ++round) {
        auto j = rows(*p.service, "SELECT B FROM DIGITALTWINS A JOIN B RELATED A.next WHERE A.$dtId = 's0'", page);
        EXPECT_EQ(std::multiset<std::string>(j.begin(), j.end()), join_expected) << page;
        auto m = rows(*p.service,
                      "SELECT C FROM DIGITALTWINS MATCH (A)-[:next]->(B)-[:next]->(C) WHERE A.$dtId = 's0'", page);
        EXPECT_EQ(std::multiset<std::string>(m.begin(), m.end()), match_expected) << page;
      }
    }
    // A change between queries shows in the next one.
    ASSERT_TRUE(f.patch_twin("s105", *json::parse(R"([{"op":"replace","path":"/state","value":"moved"}])")).is_ok());
    auto m = rows(*p.service, "SELECT C FROM DIGITALTWINS MATCH (A)-[:next]->(B)-[:next]->(C) WHERE A.$dtId = 's0'");
    const std::string fresh = "{\"C\":" + get_twin(f.engine(), "s105") + "}";
    EXPECT_NE(fresh.find("moved"), std::string::npos);
    EXPECT_EQ(std::count(m.begin(), m.end(), fresh), 1);
  }
}

}  // namespace
}  // namespace castor::query::testing
