// Query executor benchmarks over a 100k-twin factory in a real Engine (4 shards, relaxed
// durability): point lookup, model filter, property range, JOIN one hop, MATCH three hops and
// COUNT, each the latency of the first page a client gets (page size 1000), plus point lookups
// from two client threads for queries per second. Phase 2 adds indexes and the PostgreSQL peer.
// Run: build/bench/query_bench [--benchmark_format=json]   (medians of 5 repetitions)
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "query/query_service.hpp"
#include "twin/engine.hpp"

namespace castor::query {
namespace {

constexpr int kLines = 1000;          // 1 controller controls 1,000 lines;
constexpr int kConveyorsPerLine = 9;  // each line contains 9 conveyors
constexpr int kRobotsPerLine = 10;    // and 10 robots;
constexpr int kSensorsPerRobot = 8;   // each robot contains 8 sensors: 100,001 twins.

constexpr const char* kModels = R"([
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:factory:Asset;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "name", "schema": "string"},
               {"@type": "Relationship", "name": "contains"},
               {"@type": "Relationship", "name": "controls"},
               {"@type": "Relationship", "name": "feeds"}]},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:factory:Controller;1", "@type": "Interface",
  "extends": "dtmi:factory:Asset;1"},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:factory:Line;1", "@type": "Interface",
  "extends": "dtmi:factory:Asset;1",
  "contents": [{"@type": "Property", "name": "throughput", "schema": "double"}]},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:factory:Conveyor;1", "@type": "Interface",
  "extends": "dtmi:factory:Asset;1",
  "contents": [{"@type": "Property", "name": "beltSpeed", "schema": "double"}]},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:factory:Robot;1", "@type": "Interface",
  "extends": "dtmi:factory:Asset;1",
  "contents": [{"@type": "Property", "name": "serial", "schema": "string"},
               {"@type": "Property", "name": "temperature", "schema": "double"},
               {"@type": "Property", "name": "speed", "schema": "double"},
               {"@type": "Property", "name": "mode", "schema": "string"},
               {"@type": "Property", "name": "cycles", "schema": "long"}]},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:factory:Sensor;1", "@type": "Interface",
  "extends": "dtmi:factory:Asset;1",
  "contents": [{"@type": "Property", "name": "value", "schema": "double"},
               {"@type": "Property", "name": "unit", "schema": "string"}]}
])";

std::string line_id(int l) {
  char b[32];
  std::snprintf(b, sizeof b, "line-%04d", l);
  return b;
}
std::string robot_id(int r) {
  char b[32];
  std::snprintf(b, sizeof b, "robot-%05d", r);
  return b;
}

json::value twin(std::string_view model, json::object props) {
  props["$metadata"] =
      json::object{{"$model", std::string("dtmi:factory:") + std::string(model) + ";1"}};
  return props;
}

// Issues many engine writes and waits for them, a window at a time (shard queues are bounded).
class Loader {
 public:
  explicit Loader(twin::Engine& e) : engine_(e) {}
  void twin(std::string id, json::value body) {
    wait_below(kWindow);
    ++pending_;
    engine_.put_twin(std::move(id), std::move(body), {},
                     [this](Result<twin::Rendered> r) { done(r.status()); });
  }
  void relationship(std::string source, std::string id, std::string name, std::string target) {
    wait_below(kWindow);
    ++pending_;
    json::value body = json::object{{"$relationshipName", name}, {"$targetId", target}};
    engine_.put_relationship(std::move(source), std::move(id), std::move(body), {},
                             [this](Result<twin::Rendered> r) { done(r.status()); });
  }
  void finish() { wait_below(1); }

 private:
  static constexpr int kWindow = 20000;
  void done(const Status& s) {
    if (!s.is_ok()) {
      std::fprintf(stderr, "load failed: %s\n", s.message().c_str());
      std::abort();
    }
    std::lock_guard lock(mu_);
    --pending_;
    cv_.notify_all();
  }
  void wait_below(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return pending_ < n; });
  }
  twin::Engine& engine_;
  std::mutex mu_;
  std::condition_variable cv_;
  int pending_ = 0;
};

void load_factory(twin::Engine& e) {
  Loader load(e);
  load.twin("controller", twin("Controller", {{"name", "Main controller"}}));
  for (int l = 0; l < kLines; ++l) {
    load.twin(line_id(l), twin("Line", {{"name", "Line " + std::to_string(l)},
                                        {"throughput", 100.0 + l % 50}}));
    for (int c = 0; c < kConveyorsPerLine; ++c) {
      load.twin(line_id(l) + "-conveyor-" + std::to_string(c),
                twin("Conveyor", {{"beltSpeed", 0.5 + c * 0.1}}));
    }
  }
  for (int r = 0; r < kLines * kRobotsPerLine; ++r) {
    load.twin(robot_id(r), twin("Robot", {{"serial", "SN-" + std::to_string(r)},
                                          {"temperature", 20.0 + (r * 7919 % 6000) / 100.0},
                                          {"speed", (r % 100) / 10.0},
                                          {"mode", r % 3 ? "auto" : "manual"},
                                          {"cycles", r * 1000}}));
    for (int s = 0; s < kSensorsPerRobot; ++s) {
      load.twin(robot_id(r) + "-s" + std::to_string(s),
                twin("Sensor", {{"value", (r + s) % 100}, {"unit", "C"}}));
    }
  }
  load.finish();
  for (int l = 0; l < kLines; ++l) {
    load.relationship("controller", "controls-" + line_id(l), "controls", line_id(l));
    for (int c = 0; c < kConveyorsPerLine; ++c) {
      load.relationship(line_id(l), "c" + std::to_string(c), "contains",
                        line_id(l) + "-conveyor-" + std::to_string(c));
    }
    for (int k = 0; k < kRobotsPerLine; ++k) {
      const int r = l * kRobotsPerLine + k;
      load.relationship(line_id(l), "r" + std::to_string(k), "contains", robot_id(r));
      for (int s = 0; s < kSensorsPerRobot; ++s) {
        load.relationship(robot_id(r), "s" + std::to_string(s), "contains",
                          robot_id(r) + "-s" + std::to_string(s));
      }
    }
  }
  load.finish();
}

// Runs `text` (its first page) per iteration; `vary` makes per-iteration query text.
void run_query(benchmark::State& state, QueryService& service,
               const std::function<std::string(std::int64_t)>& vary, std::size_t expect_rows) {
  std::int64_t i = state.thread_index() * 7777;
  std::size_t rows = 0;
  double charge = 0;
  for (auto _ : state) {
    auto page = run_sync(service, vary(i++), 1000);
    if (!page) {
      state.SkipWithError(page.status().message().c_str());
      return;
    }
    rows = page->rows.size();
    charge = page->charge;
    benchmark::DoNotOptimize(page->rows.text_bytes());
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["charge"] = charge;
  state.SetItemsProcessed(state.iterations());
  if (expect_rows != 0 && rows != expect_rows) {
    state.SkipWithError(
        ("expected " + std::to_string(expect_rows) + " rows, got " + std::to_string(rows)).c_str());
  }
}

struct Case {
  const char* name;
  std::function<std::string(std::int64_t)> query;
  std::size_t rows;  // 0: not checked
  int threads = 1;
};

std::vector<Case> cases() {
  auto fixed = [](std::string q) { return [q](std::int64_t) { return q; }; };
  return {
      {"point_lookup",
       [](std::int64_t i) {
         return "SELECT * FROM DIGITALTWINS WHERE $dtId = '" +
                robot_id(static_cast<int>(i % 10000)) + "'";
       },
       1},
      {"point_lookup_2_clients",
       [](std::int64_t i) {
         return "SELECT * FROM DIGITALTWINS WHERE $dtId = '" +
                robot_id(static_cast<int>(i % 10000)) + "'";
       },
       1, 2},
      {"model_filter",
       fixed("SELECT T.$dtId, T.serial FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, "
             "'dtmi:factory:Robot;1')"),
       1000},
      {"property_range",
       fixed("SELECT T.$dtId, T.temperature FROM DIGITALTWINS T WHERE T.temperature >= 79.4"), 0},
      {"join_one_hop",
       [](std::int64_t i) {
         return "SELECT R FROM DIGITALTWINS L JOIN R RELATED L.contains WHERE L.$dtId = '" +
                line_id(static_cast<int>(i % kLines)) + "'";
       },
       kConveyorsPerLine + kRobotsPerLine},
      {"match_three_hops",
       [](std::int64_t i) {
         return "SELECT S.$dtId FROM DIGITALTWINS MATCH "
                "(C)-[:controls]->(L)-[:contains]->(R)-[:contains]->(S) "
                "WHERE C.$dtId = 'controller' AND L.name = 'Line " +
                std::to_string(i % kLines) + "'";
       },
       kRobotsPerLine * kSensorsPerRobot},
      {"match_variable_hops",
       [](std::int64_t i) {
         return "SELECT S.$dtId FROM DIGITALTWINS MATCH (L)-[:contains*2]->(S) WHERE L.$dtId = '" +
                line_id(static_cast<int>(i % kLines)) + "'";
       },
       kRobotsPerLine * kSensorsPerRobot},
      {"count_all_sensors",
       fixed("SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:factory:Sensor;1')"), 1},
      {"count_property_scan", fixed("SELECT COUNT() FROM DIGITALTWINS T WHERE T.value > 50"), 1},
  };
}

}  // namespace
}  // namespace castor::query

int main(int argc, char** argv) {
  using namespace castor;
  benchmark::Initialize(&argc, argv);
  std::string pattern = "/tmp/castor-query-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return 1;
  twin::EngineOptions options;
  options.data_dir = pattern;
  options.shards = 4;
  options.store.durability = store::Durability::relaxed;
  auto engine = twin::Engine::open(std::move(options));
  if (!engine) {
    std::fprintf(stderr, "%s\n", engine.status().message().c_str());
    return 1;
  }
  auto models = *json::parse(query::kModels);
  auto added = (*engine)->add_models(
      std::span<const json::value>(models.as_array().data(), models.as_array().size()));
  if (!added.status.is_ok()) return 1;
  const auto start = std::chrono::steady_clock::now();
  query::load_factory(**engine);
  std::fprintf(stderr, "loaded %zu twins and %zu relationships in %.1f s\n",
               (*engine)->twin_count(), (*engine)->relationship_count(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  auto service = std::make_shared<query::QueryService>(**engine, query::QueryOptions{});
  for (const auto& c : query::cases()) {
    auto* b = benchmark::RegisterBenchmark(c.name, [&service, c](benchmark::State& state) {
      query::run_query(state, *service, c.query, c.rows);
    });
    b->Unit(benchmark::kMicrosecond)->Repetitions(5)->ReportAggregatesOnly(true)->UseRealTime();
    if (c.threads > 1) b->Threads(c.threads);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  service.reset();
  engine->reset();
  std::filesystem::remove_all(pattern);
  return 0;
}
