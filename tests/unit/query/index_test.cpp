// Twin indexes: the planner's choice of access path shows in the work a query does (twins
// examined, shard scans answered by an index), results stay exactly those of a full scan, and
// the indexes follow every put, replace, patch and delete, and a restart.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "graph_fixture.hpp"
#include "query/query_service.hpp"
#include "query/twin_index.hpp"

namespace castor::query::testing {
namespace {

constexpr std::string_view kModels = R"([
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:f:Asset;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "temp", "schema": "double", "writable": true},
               {"@type": "Property", "name": "state", "schema": "string", "writable": true},
               {"@type": "Property", "name": "info", "writable": true, "schema": {"@type": "Map",
                 "mapKey": {"name": "k", "schema": "string"}, "mapValue": {"name": "v", "schema": "string"}}}]},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:f:Robot;1", "@type": "Interface",
  "extends": "dtmi:f:Asset;1"},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:f:Sensor;1", "@type": "Interface",
  "extends": "dtmi:f:Asset;1"},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:f:Line;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "temp", "schema": "double", "writable": true}]}
])";

json::value twin_of(std::string_view model, double temp, std::string_view state) {
  return json::object{{"$metadata", json::object{{"$model", model}}}, {"temp", temp}, {"state", state}};
}

struct Indexed {
  std::shared_ptr<IndexSet> indexes;
  std::unique_ptr<GraphFixture> fixture;
  std::shared_ptr<QueryService> service;
};

// 1,000 sensors (temp = i / 10), 20 robots, 5 lines; `declared` property indexes.
Indexed plant(std::vector<std::string> declared, std::size_t auto_after = 0) {
  IndexOptions io;
  for (const std::string& d : declared) io.declared.push_back(*parse_index_spec(d));
  io.auto_after = auto_after;
  Indexed p;
  p.indexes = std::make_shared<IndexSet>(io);
  auto f = GraphFixture::empty(*json::parse(kModels), 4, p.indexes);
  EXPECT_TRUE(f.is_ok()) << f.status().message();
  p.fixture = std::move(*f);
  std::vector<std::pair<std::string, json::value>> twins;
  for (int i = 0; i < 1000; ++i)
    twins.emplace_back("s" + std::to_string(i), twin_of("dtmi:f:Sensor;1", i / 10.0, i % 2 ? "on" : "off"));
  for (int i = 0; i < 20; ++i) twins.emplace_back("r" + std::to_string(i), twin_of("dtmi:f:Robot;1", 50, "on"));
  for (int i = 0; i < 5; ++i)
    twins.emplace_back("l" + std::to_string(i),
                       json::object{{"$metadata", json::object{{"$model", "dtmi:f:Line;1"}}}, {"temp", 20.0}});
  EXPECT_TRUE(p.fixture->put_twins(twins).is_ok());
  QueryOptions qo;
  qo.indexes = p.indexes;
  p.service = std::make_shared<QueryService>(p.fixture->engine(), qo);
  return p;
}

QueryPage must_run(QueryService& s, const std::string& q) {
  auto r = run_sync(s, q);
  EXPECT_TRUE(r.is_ok()) << q << ": " << r.status().message();
  return r ? std::move(*r) : QueryPage{};
}

std::uint64_t count_of(QueryService& s, const std::string& where) {
  auto page = must_run(s, "SELECT COUNT() FROM DIGITALTWINS T WHERE " + where);
  auto v = json::parse(page.rows.at(0));
  return v->get_object().at("COUNT").to_number<std::uint64_t>();
}

TEST(IndexSpec, ParsesModelScopedAndPlainPaths) {
  auto a = parse_index_spec("dtmi:com:example:Robot;1:status.mode");
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_EQ(a->model, "dtmi:com:example:Robot;1");
  EXPECT_EQ(a->path(), "status.mode");
  auto b = parse_index_spec("temperature");
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->model, "");
  EXPECT_EQ(b->text(), "temperature");
  for (std::string_view bad : {"", "a..b", "dtmi:x:Robot:temp", "9lives", "dtmi:x;1:"})
    EXPECT_FALSE(parse_index_spec(bad).is_ok()) << bad;
}

TEST(ModelIndex, IsOfModelExaminesOnlyThatModelsTwins) {
  auto p = plant({});
  auto page = must_run(*p.service, "SELECT T FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:f:Robot;1')");
  EXPECT_EQ(page.rows.size(), 20u);
  EXPECT_EQ(page.stats.examined, 20u);
  EXPECT_GT(page.stats.indexed, 0u);
  // Inheritance: sensors and robots are assets; lines are not.
  auto assets = must_run(*p.service, "SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:f:Asset;1')");
  EXPECT_EQ(assets.rows.at(0), "{\"COUNT\":1020}");
  EXPECT_EQ(assets.stats.examined, 0u);  // COUNT by model: the lists' sizes, no twin visited
  auto robots = must_run(*p.service, "SELECT T FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:f:Asset;1')");
  EXPECT_EQ(robots.stats.examined, 1020u);
  auto all = must_run(*p.service, "SELECT COUNT() FROM DIGITALTWINS");
  EXPECT_EQ(all.rows.at(0), "{\"COUNT\":1025}");
  EXPECT_EQ(all.stats.examined, 0u);
  auto exact = must_run(*p.service,
                        "SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:f:Asset;1', exact)");
  EXPECT_EQ(exact.rows.at(0), "{\"COUNT\":0}");
  auto exact_rows = must_run(*p.service,
                             "SELECT T FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:f:Sensor;1', exact) AND T.temp < 1");
  EXPECT_EQ(exact_rows.rows.size(), 10u);
  EXPECT_EQ(exact_rows.stats.examined, 1000u);
}

TEST(PropertyIndex, RangeAndEqualityExamineOnlyMatches) {
  auto p = plant({"temp", "dtmi:f:Sensor;1:state"});
  auto hot = must_run(*p.service, "SELECT COUNT() FROM DIGITALTWINS T WHERE T.temp > 95");
  EXPECT_EQ(hot.rows.at(0), "{\"COUNT\":49}");  // 95.1 .. 99.9
  EXPECT_EQ(hot.stats.examined, 49u);
  auto band = must_run(*p.service, "SELECT COUNT() FROM DIGITALTWINS T WHERE 10 <= T.temp AND T.temp < 12.5");
  EXPECT_EQ(band.rows.at(0), "{\"COUNT\":25}");
  EXPECT_LE(band.stats.examined, 900u);  // the more selective bound: < 12.5 (125 + 5 lines)
  auto eq = must_run(*p.service, "SELECT COUNT() FROM DIGITALTWINS T WHERE T.temp = 50");
  EXPECT_EQ(eq.rows.at(0), "{\"COUNT\":21}");  // s500 and the 20 robots
  EXPECT_EQ(eq.stats.examined, 21u);
  // A model-scoped index serves only queries about that model.
  auto scoped = must_run(*p.service,
                         "SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:f:Sensor;1') AND T.state = 'on'");
  EXPECT_EQ(scoped.rows.at(0), "{\"COUNT\":500}");
  EXPECT_EQ(scoped.stats.examined, 500u);
  auto unscoped = must_run(*p.service, "SELECT COUNT() FROM DIGITALTWINS T WHERE T.state = 'on'");
  EXPECT_EQ(unscoped.rows.at(0), "{\"COUNT\":520}");
  EXPECT_EQ(unscoped.stats.examined, 1025u);  // no usable index: a scan
  EXPECT_EQ(unscoped.stats.indexed, 0u);
  // A newer version of the model is of the model for IS_OF_MODEL but not in the scoped index:
  // once one exists, the index no longer serves the query (the result stays complete).
  ASSERT_TRUE(p.fixture->engine().add_models(std::array{*json::parse(R"({"@context": "dtmi:dtdl:context;3",
      "@id": "dtmi:f:Sensor;2", "@type": "Interface", "extends": "dtmi:f:Asset;1"})")}).status.is_ok());
  ASSERT_TRUE(p.fixture->put_twin("v2", twin_of("dtmi:f:Sensor;2", 1, "on")).is_ok());
  EXPECT_EQ(count_of(*p.service, "IS_OF_MODEL(T, 'dtmi:f:Sensor;1') AND T.state = 'on'"), 501u);
  // Types never mix: a string literal finds no number.
  EXPECT_EQ(count_of(*p.service, "T.temp > '5'"), 0u);
}

TEST(PropertyIndex, CountsStringEqualityWithoutVisitingTwins) {
  auto p = plant({"state", "temp"});
  auto on = must_run(*p.service, "SELECT COUNT() FROM DIGITALTWINS T WHERE T.state = 'on'");
  EXPECT_EQ(on.rows.at(0), "{\"COUNT\":520}");
  EXPECT_EQ(on.stats.examined, 0u);
  EXPECT_GT(on.stats.indexed, 0u);
  ASSERT_TRUE(p.fixture->patch_twin("s1", *json::parse(R"([{"op":"replace","path":"/state","value":"off"}])")).is_ok());
  EXPECT_EQ(count_of(*p.service, "T.state = 'on'"), 519u);
  // Numbers are counted by looking at their candidates (doubles are not exact for large integers).
  auto fifty = must_run(*p.service, "SELECT COUNT() FROM DIGITALTWINS T WHERE T.temp = 50");
  EXPECT_EQ(fifty.rows.at(0), "{\"COUNT\":21}");
  EXPECT_EQ(fifty.stats.examined, 21u);
}

TEST(PropertyIndex, FollowsPutPatchDeleteAndRestart) {
  auto p = plant({"temp"});
  auto& f = *p.fixture;
  EXPECT_EQ(count_of(*p.service, "T.temp >= 99"), 10u);
  ASSERT_TRUE(f.patch_twin("s1", *json::parse(R"([{"op":"replace","path":"/temp","value":150}])")).is_ok());
  ASSERT_TRUE(f.put_twin("new", twin_of("dtmi:f:Sensor;1", 120, "on")).is_ok());
  ASSERT_TRUE(f.put_twin("s999", twin_of("dtmi:f:Robot;1", 1, "on")).is_ok());  // replace: model and value
  ASSERT_TRUE(f.delete_twin("s998").is_ok());
  ASSERT_TRUE(f.patch_twin("s997", *json::parse(R"([{"op":"remove","path":"/temp"}])")).is_ok());
  auto check = [&] {
    auto page = must_run(*p.service, "SELECT T.$dtId AS id FROM DIGITALTWINS T WHERE T.temp >= 99");
    std::set<std::string> ids;
    for (const auto& r : page.rows) ids.insert(std::string(json::sv(json::parse(r)->get_object().at("id").get_string())));
    EXPECT_EQ(ids, (std::set<std::string>{"s1", "new", "s990", "s991", "s992", "s993", "s994", "s995", "s996"}));
    EXPECT_EQ(page.stats.examined, 9u);
    EXPECT_EQ(count_of(*p.service, "IS_OF_MODEL(T, 'dtmi:f:Robot;1')"), 21u);
  };
  check();
  ASSERT_TRUE(f.reopen().is_ok());
  QueryOptions qo;
  qo.indexes = p.indexes;
  p.service = std::make_shared<QueryService>(f.engine(), qo);
  check();
}

// Random puts, patches and deletes, then random ranges: the indexed query returns exactly the
// twins a brute-force filter over what was written finds (the scan trusts the index's comparison).
TEST(PropertyIndex, RandomWritesThenRangesMatchABruteForceFilter) {
  auto p = plant({"temp"});
  auto& f = *p.fixture;
  struct Written {
    std::optional<double> temp;
    std::string state;
  };
  std::map<std::string, Written> twins;  // what the plant and the writes below hold
  for (int i = 0; i < 1000; ++i) twins["s" + std::to_string(i)] = {i / 10.0, i % 2 ? "on" : "off"};
  for (int i = 0; i < 20; ++i) twins["r" + std::to_string(i)] = {50.0, "on"};
  for (int i = 0; i < 5; ++i) twins["l" + std::to_string(i)] = {20.0, ""};
  std::mt19937 rng(11);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  for (int op = 0; op < 1500; ++op) {
    const std::string id = (pick(2) ? "s" : "x") + std::to_string(pick(1200));
    const double temp = pick(2) ? pick(120) : pick(1200) / 10.0;  // integers and reals
    const std::string state = pick(2) ? "on" : "off";
    switch (pick(4)) {
      case 0:
        ASSERT_TRUE(f.put_twin(id, twin_of("dtmi:f:Sensor;1", temp, state)).is_ok());
        twins[id] = {temp, state};
        break;
      case 1:
        if (!twins.contains(id) || id[0] == 'l') break;
        ASSERT_TRUE(f.patch_twin(id, json::value(json::array{json::object{
                                          {"op", "add"}, {"path", "/temp"}, {"value", temp}}})).is_ok());
        twins[id].temp = temp;
        break;
      case 2:
        if (!twins.contains(id) || !twins[id].temp || id[0] == 'l') break;
        ASSERT_TRUE(f.patch_twin(id, *json::parse(R"([{"op":"remove","path":"/temp"}])")).is_ok());
        twins[id].temp.reset();
        break;
      default:
        if (!twins.contains(id)) break;
        ASSERT_TRUE(f.delete_twin(id).is_ok());
        twins.erase(id);
    }
  }
  const std::array<std::string, 4> ops = {">", ">=", "<", "="};
  for (int q = 0; q < 60; ++q) {
    const std::string& cmp = ops[static_cast<std::size_t>(pick(4))];
    const double bound = pick(2) ? pick(120) : pick(1200) / 10.0;
    const bool also_state = pick(3) == 0;  // a second condition the scan must still check
    std::set<std::string> want;
    for (const auto& [id, w] : twins) {
      if (!w.temp) continue;
      const double t = *w.temp;
      const bool in = cmp == ">" ? t > bound : cmp == ">=" ? t >= bound : cmp == "<" ? t < bound : t == bound;
      if (in && (!also_state || w.state == "on")) want.insert(id);
    }
    std::ostringstream where;
    where << "T.temp " << cmp << " " << bound << (also_state ? " AND T.state = 'on'" : "");
    const std::string query = "SELECT T.$dtId AS id FROM DIGITALTWINS T WHERE " + where.str();
    if (want.size() > 1000) {  // more than one page: compare the counts
      EXPECT_EQ(count_of(*p.service, where.str()), want.size()) << query;
      continue;
    }
    auto page = must_run(*p.service, query);
    std::set<std::string> got;
    for (const auto& r : page.rows) got.insert(std::string(json::sv(json::parse(r)->get_object().at("id").get_string())));
    EXPECT_EQ(got, want) << query;
    EXPECT_GT(page.stats.indexed, 0u) << query;
  }
}

// Rows that read only $dtId and the indexed property come from the index entries, and are
// byte for byte the rows a service without indexes renders from the twins: integers and reals,
// strings that need escaping, values changed after the index was made; anything else the query
// reads (another column, a second condition, the whole twin) sends the scan to the twins.
TEST(PropertyIndex, IndexOnlyRowsEqualRowsReadFromTheTwins) {
  auto p = plant({"temp", "state"});
  auto& f = *p.fixture;
  ASSERT_TRUE(
      f.patch_twin("s5", *json::parse(R"([{"op":"replace","path":"/temp","value":70}])")).is_ok());
  ASSERT_TRUE(f.patch_twin("s6", *json::parse(R"([{"op":"replace","path":"/temp","value":70.25}])"))
                  .is_ok());
  ASSERT_TRUE(f.patch_twin("s7", *json::parse(R"([{"op":"replace","path":"/temp","value":1e300}])"))
                  .is_ok());
  ASSERT_TRUE(f.patch_twin("s8", *json::parse(R"([{"op":"replace","path":"/temp","value":-0.0}])"))
                  .is_ok());
  ASSERT_TRUE(
      f.put_twin("q\"uote", twin_of("dtmi:f:Sensor;1", 80.5, "x\"y\\z\u00e9\u0001\t")).is_ok());
  QueryOptions plain;  // no indexes: every row read from its twin
  auto twins_only = std::make_shared<QueryService>(f.engine(), plain);
  auto rows = [](const QueryPage& page) {
    std::multiset<std::string> out(page.rows.begin(), page.rows.end());
    return out;
  };
  const std::vector<std::pair<std::string, bool>> queries = {
      {"SELECT T.$dtId, T.temp FROM DIGITALTWINS T WHERE T.temp > 60", true},
      {"SELECT T.temp AS t, T.$dtId AS id, T.$dtId FROM DIGITALTWINS T WHERE T.temp >= 70", true},
      {"SELECT T.temp FROM DIGITALTWINS T WHERE T.temp < 1", true},
      {"SELECT T.$dtId FROM DIGITALTWINS T WHERE T.temp = 70", true},
      {"SELECT T.state, T.$dtId FROM DIGITALTWINS T WHERE T.state > 'p'", true},
      {"SELECT TOP(3) T.$dtId, T.temp FROM DIGITALTWINS T WHERE T.temp > 60", true},
      {"SELECT T.$dtId, T.state FROM DIGITALTWINS T WHERE T.temp > 60", false},
      {"SELECT T.$dtId, T.temp FROM DIGITALTWINS T WHERE T.temp > 60 AND T.state = 'on'", false},
      {"SELECT T FROM DIGITALTWINS T WHERE T.temp > 95", false},
      {"SELECT * FROM DIGITALTWINS T WHERE T.temp > 95", false},
      {"SELECT T.$dtId, T.$metadata.temp.lastUpdateTime FROM DIGITALTWINS T WHERE T.temp > 95",
       false},
  };
  for (const auto& [query, index_only] : queries) {
    const QueryPage indexed = must_run(*p.service, query);
    const QueryPage read = must_run(*twins_only, query);
    EXPECT_GT(indexed.stats.indexed, 0u) << query;
    if (query.find("TOP") != std::string::npos) {
      EXPECT_EQ(indexed.rows.size(), 3u) << query;  // which 3 is up to the plan
    } else {
      EXPECT_EQ(rows(indexed), rows(read)) << query;
      EXPECT_FALSE(indexed.rows.empty()) << query;
    }
    EXPECT_EQ(indexed.stats.index_only > 0, index_only) << query;
    if (index_only) {
      EXPECT_EQ(indexed.stats.index_only, indexed.stats.examined) << query;
    }
  }
}

TEST(AutomaticIndex, RepeatedFiltersGetAnIndex) {
  auto p = plant({}, 3);
  const std::string q = "SELECT COUNT() FROM DIGITALTWINS T WHERE T.temp < 1";
  for (int i = 0; i < 2; ++i) {
    auto page = must_run(*p.service, q);
    EXPECT_EQ(page.stats.examined, 1025u);
  }
  auto third = must_run(*p.service, q);  // the third filter on temp creates the index first
  EXPECT_EQ(third.rows.at(0), "{\"COUNT\":10}");
  EXPECT_EQ(third.stats.examined, 10u);
  ASSERT_EQ(p.indexes->specs().size(), 1u);
  EXPECT_TRUE(p.indexes->specs()[0].automatic);
  // Reopened with the same set, the automatic index is rebuilt with the twins.
  ASSERT_TRUE(p.fixture->reopen().is_ok());
  QueryOptions qo;
  qo.indexes = p.indexes;
  p.service = std::make_shared<QueryService>(p.fixture->engine(), qo);
  auto after = must_run(*p.service, q);
  EXPECT_EQ(after.rows.at(0), "{\"COUNT\":10}");
  EXPECT_EQ(after.stats.examined, 10u);
}

// Full scans over hot properties read columns instead of twins: the same rows as a scan of the
// live twins (a service without indexes), through puts, patches, removals, deletes, long texts
// (viewed in the twin) and map values (which send the scan to the twin itself).
TEST(HotColumns, FullScansThroughColumnsMatchScansOfTheTwins) {
  auto p = plant({}, 1);  // a property's first full scan makes its column
  auto& f = *p.fixture;
  auto plain = std::make_shared<QueryService>(f.engine(), QueryOptions{});
  const std::array<std::string, 8> wheres = {
      "ENDSWITH(T.state, 'n')",
      "STARTSWITH(T.state, 'o') AND T.temp != 3",
      "NOT (T.temp > 50)",
      "T.temp IN [1, 2, 3.5, 50, 77]",
      "IS_DEFINED(T.temp) AND NOT IS_DEFINED(T.state)",
      "CONTAINS(T.state, 'long state')",
      "IS_OBJECT(T.info) OR T.state = 'off'",
      "IS_NUMBER(T.temp) AND ENDSWITH(T.state, 'ff') AND NOT STARTSWITH(T.state, 'x')",
  };
  auto same = [&](const std::string& where) {
    EXPECT_EQ(count_of(*p.service, where), count_of(*plain, where)) << where;
    const std::string q = "SELECT T.$dtId AS id FROM DIGITALTWINS T WHERE " + where;
    auto a = must_run(*p.service, q);
    auto b = must_run(*plain, q);
    std::multiset<std::string> ra(a.rows.begin(), a.rows.end()), rb(b.rows.begin(), b.rows.end());
    if (a.rows.size() < 1000) {
      EXPECT_EQ(ra, rb) << where;
    }
  };
  for (const std::string& w : wheres) same(w);
  std::size_t columns = 0;
  for (std::size_t i = 0; i < f.engine().shard_count(); ++i) columns += p.indexes->shard(i).column_count();
  EXPECT_EQ(columns, 3 * f.engine().shard_count()) << "state, temp and info on every shard";

  std::mt19937 rng(5);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::array<std::string, 5> states = {"on", "off", "a long state that is not inline",
                                             "another long state, also off", "x"};
  for (int round = 0; round < 6; ++round) {
    for (int op = 0; op < 150; ++op) {
      const std::string id = (pick(2) ? "s" : "y") + std::to_string(pick(1100));
      const std::string& state = states[static_cast<std::size_t>(pick(5))];
      switch (pick(5)) {
        case 0: ASSERT_TRUE(f.put_twin(id, twin_of("dtmi:f:Sensor;1", pick(100), state)).is_ok()); break;
        case 1:
          (void)f.patch_twin(id, json::value(json::array{json::object{
                                     {"op", "add"}, {"path", "/state"}, {"value", state}}}));
          break;
        case 2: (void)f.patch_twin(id, *json::parse(R"([{"op":"remove","path":"/temp"}])")); break;
        case 3:
          (void)f.patch_twin(id, *json::parse(R"([{"op":"add","path":"/info","value":{"a":"b"}}])"));
          break;
        default: (void)f.delete_twin(id);
      }
    }
    for (const std::string& w : wheres) same(w);
  }
}

// Every property a full scan reads counts once per scan towards its column, and they get their
// columns together: a condition over state (read twice) and temp, at a threshold of 2 scans.
TEST(HotColumns, AColumnComesAtTheThresholdCountingEachScanOnce) {
  auto p = plant({}, 2);
  auto columns = [&] {
    std::size_t n = 0;
    for (std::size_t i = 0; i < p.fixture->engine().shard_count(); ++i) n += p.indexes->shard(i).column_count();
    return n;
  };
  const std::string where = "STARTSWITH(T.state, 'o') OR ENDSWITH(T.state, 'n') OR NOT (T.temp > 3)";
  const std::uint64_t all = count_of(*p.service, where);
  EXPECT_EQ(columns(), 0u);
  EXPECT_EQ(count_of(*p.service, where), all);
  EXPECT_EQ(columns(), 2 * p.fixture->engine().shard_count());
}

TEST(EarlyTermination, TopStopsEveryShardScan) {
  auto p = plant({});
  auto page = must_run(*p.service, "SELECT TOP(5) T FROM DIGITALTWINS T");
  EXPECT_EQ(page.rows.size(), 5u);
  EXPECT_LE(page.stats.examined, 20u);  // at most 5 per shard, 4 shards
  auto filtered = must_run(*p.service, "SELECT TOP(3) T FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:f:Robot;1')");
  EXPECT_EQ(filtered.rows.size(), 3u);
  EXPECT_LE(filtered.stats.examined, 12u);
}

}  // namespace
}  // namespace castor::query::testing
