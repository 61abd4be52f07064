// The twin engine end to end (without HTTP): models, twins, patches, ETags, components,
// relationships, telemetry, change events, and recovery after a restart.
#include "twin/engine.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <filesystem>
#include <future>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "twin/codec.hpp"
#include "twin/observation_writer.hpp"
#include "twin/twin_json.hpp"

namespace castor::twin {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  static std::mt19937_64 rng(std::random_device{}());
  fs::path p = fs::temp_directory_path() / ("castor-twin-test-" + std::to_string(rng()));
  fs::create_directories(p);
  return p;
}

json::value J(std::string_view text) {
  auto v = json::parse(text);
  EXPECT_TRUE(v.is_ok()) << v.status().to_string() << "\n" << text;
  return v.is_ok() ? *v : json::value();
}

template <class T>
Result<T> wait(std::function<void(Callback<T>)> call) {
  std::promise<Result<T>> p;
  auto f = p.get_future();
  call([&p](Result<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

Status wait_done(std::function<void(Done)> call) {
  std::promise<Status> p;
  auto f = p.get_future();
  call([&p](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

constexpr std::string_view kModels = R"([
 {"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"],
  "@id": "dtmi:test:Robot;1", "@type": "Interface",
  "contents": [
   {"@type": "Property", "name": "serial", "schema": "string"},
   {"@type": "Property", "name": "speed", "schema": "double", "writable": true},
   {"@type": "Property", "name": "mode", "schema": {"@type": "Enum", "valueSchema": "string",
     "enumValues": [{"name": "auto", "enumValue": "auto"}, {"name": "manual", "enumValue": "manual"}]}},
   {"@type": ["Telemetry", "Temperature"], "name": "temperature", "schema": "double", "unit": "degreeCelsius"},
   {"@type": "Component", "name": "joint1", "schema": "dtmi:test:Joint;1"},
   {"@type": "Relationship", "name": "feeds", "target": "dtmi:test:Conveyor;1", "maxMultiplicity": 2,
    "properties": [{"@type": "Property", "name": "slot", "schema": "integer"}]}
  ]},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:test:Joint;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "angle", "schema": "double"},
               {"@type": "Telemetry", "name": "current", "schema": "double"}]},
 {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:test:Conveyor;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "beltSpeed", "schema": "double"}]}
])";

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    open();
    auto models = J(kModels);
    auto r = engine_->add_models(std::span<const json::value>(models.as_array().data(), models.as_array().size()));
    ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }
  void open() {
    EngineOptions o;
    o.data_dir = dir_;
    o.shards = 2;
    auto e = Engine::open(o);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    engine_ = std::move(*e);
  }
  void reopen() {
    engine_.reset();
    open();
  }
  Result<Rendered> put(const std::string& id, std::string_view body, Conditions c = {}) {
    return wait<Rendered>([&](Callback<Rendered> cb) { engine_->put_twin(id, J(body), c, cb); });
  }
  Result<Rendered> get(const std::string& id) {
    return wait<Rendered>([&](Callback<Rendered> cb) { engine_->get_twin(id, cb); });
  }
  Result<std::string> patch(const std::string& id, std::string_view ops, Conditions c = {}) {
    return wait<std::string>([&](Callback<std::string> cb) { engine_->patch_twin(id, J(ops), c, cb); });
  }
  Result<Rendered> relate(const std::string& src, const std::string& rel, std::string_view body, Conditions c = {}) {
    return wait<Rendered>([&](Callback<Rendered> cb) { engine_->put_relationship(src, rel, J(body), c, cb); });
  }
  void make_robot(const std::string& id) {
    auto r = put(id, R"({"$metadata": {"$model": "dtmi:test:Robot;1"}, "serial": "S1", "speed": 1.5,
                       "joint1": {"$metadata": {}, "angle": 10}})");
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  }
  void make_conveyor(const std::string& id) {
    auto r = put(id, R"({"$metadata": {"$model": "dtmi:test:Conveyor;1"}, "beltSpeed": 0.5})");
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  }

  fs::path dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, PutGetRendersAdtShape) {
  make_robot("robot-1");
  auto g = get("robot-1");
  ASSERT_TRUE(g.is_ok());
  auto doc = J(g->json).as_object();
  EXPECT_EQ(doc.at("$dtId").as_string(), "robot-1");
  EXPECT_EQ(doc.at("$etag").as_string(), g->etag);
  EXPECT_EQ(doc.at("$metadata").at("$model").as_string(), "dtmi:test:Robot;1");
  EXPECT_TRUE(doc.at("$metadata").at("speed").as_object().contains("lastUpdateTime"));
  // Properties written with the twin show its time, in ADT's 7-digit format.
  const auto& updated = doc.at("$metadata").at("$lastUpdateTime").as_string();
  EXPECT_EQ(updated.size(), kTimeTextSize);
  EXPECT_EQ(updated.back(), 'Z');
  EXPECT_EQ(doc.at("$metadata").at("speed").at("lastUpdateTime").as_string(), updated);
  EXPECT_EQ(doc.at("$metadata").at("serial").at("lastUpdateTime").as_string(), updated);
  EXPECT_EQ(doc.at("speed").as_double(), 1.5);
  EXPECT_EQ(doc.at("joint1").at("angle").as_int64(), 10);
  EXPECT_TRUE(doc.at("joint1").at("$metadata").as_object().contains("angle"));
  EXPECT_EQ(engine_->twin_count(), 1u);
}

TEST_F(EngineTest, PutRejectsInvalidTwinsAndChangesNothing) {
  auto bad = put("r", R"({"$metadata": {"$model": "dtmi:test:Robot;1"}, "joint1": {"$metadata": {}}, "speed": "fast"})");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().reason(), "ValidationFailed");
  EXPECT_EQ(http_status_of(bad.status()), 400);
  auto missing = put("r", R"({"$metadata": {"$model": "dtmi:test:Nope;1"}})");
  EXPECT_EQ(missing.status().reason(), "ValidationFailed");
  auto no_model = put("r", R"({"speed": 1})");
  EXPECT_EQ(no_model.status().code(), Code::invalid_argument);
  EXPECT_EQ(get("r").status().reason(), "DigitalTwinNotFound");
  EXPECT_EQ(engine_->twin_count(), 0u);
}

TEST_F(EngineTest, ConditionalPutAndPatch) {
  make_robot("r");
  Conditions create_only;
  create_only.if_none_match_star = true;
  auto again = put("r", R"({"$metadata": {"$model": "dtmi:test:Robot;1"}, "joint1": {"$metadata": {}}})", create_only);
  EXPECT_EQ(again.status().reason(), "PreconditionFailed");
  EXPECT_EQ(http_status_of(again.status()), 412);

  std::string etag = get("r")->etag;
  Conditions stale;
  stale.if_match = "W/\"0000000000000000\"";
  EXPECT_EQ(patch("r", R"([{"op": "replace", "path": "/speed", "value": 2}])", stale).status().reason(),
            "PreconditionFailed");
  Conditions fresh;
  fresh.if_match = etag;
  auto p = patch("r", R"([{"op": "replace", "path": "/speed", "value": 2}])", fresh);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_NE(*p, etag);
  EXPECT_EQ(get("r")->etag, *p);
}

TEST_F(EngineTest, PatchValidatesAndKeepsTwinOnError) {
  make_robot("r");
  std::string before = get("r")->json;
  auto bad = patch("r", R"([{"op": "add", "path": "/mode", "value": "turbo"}])");
  EXPECT_EQ(bad.status().reason(), "ValidationFailed");
  auto bad_op = patch("r", R"([{"op": "jump", "path": "/speed"}])");
  EXPECT_EQ(bad_op.status().reason(), "JsonPatchInvalid");
  auto telemetry = patch("r", R"([{"op": "add", "path": "/temperature", "value": 3}])");
  EXPECT_EQ(telemetry.status().reason(), "ValidationFailed");
  auto missing = patch("r", R"([{"op": "replace", "path": "/mode", "value": "auto"}])");
  EXPECT_EQ(missing.status().reason(), "JsonPatchInvalid");  // RFC 6902: replace needs a value
  EXPECT_EQ(get("r")->json, before);
  auto ok = patch("r", R"([{"op": "add", "path": "/mode", "value": "manual"},
                           {"op": "add", "path": "/$metadata/speed/sourceTime", "value": "2026-11-24T10:00:00Z"}])");
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  auto doc = J(get("r")->json);
  EXPECT_EQ(doc.at("mode").as_string(), "manual");
  EXPECT_EQ(doc.at("$metadata").at("speed").at("sourceTime").as_string(), "2026-11-24T10:00:00.0000000Z");
}

TEST_F(EngineTest, Components) {
  make_robot("r");
  auto c = wait<Rendered>([&](Callback<Rendered> cb) { engine_->get_component("r", "joint1", cb); });
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(J(c->json).at("angle").as_int64(), 10);
  auto none = wait<Rendered>([&](Callback<Rendered> cb) { engine_->get_component("r", "joint9", cb); });
  EXPECT_EQ(none.status().reason(), "ComponentNotFound");
  auto p = wait<std::string>([&](Callback<std::string> cb) {
    engine_->patch_component("r", "joint1", J(R"([{"op": "replace", "path": "/angle", "value": 45.5}])"), {}, cb);
  });
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(J(get("r")->json).at("joint1").at("angle").as_double(), 45.5);
}

TEST_F(EngineTest, RelationshipsBothWaysAndDeletionRules) {
  make_robot("r");
  make_conveyor("c1");
  auto rel = relate("r", "r-feeds-c1", R"({"$relationshipName": "feeds", "$targetId": "c1", "slot": 3})");
  ASSERT_TRUE(rel.is_ok()) << rel.status().to_string();
  auto doc = J(rel->json);
  EXPECT_EQ(doc.at("$sourceId").as_string(), "r");
  EXPECT_EQ(doc.at("slot").as_int64(), 3);

  auto out = wait<std::vector<std::string>>([&](auto cb) { engine_->list_relationships("r", "", cb); });
  ASSERT_EQ(out->size(), 1u);
  auto in = wait<std::vector<std::string>>([&](auto cb) { engine_->list_incoming("c1", cb); });
  ASSERT_EQ(in->size(), 1u);
  EXPECT_EQ(J((*in)[0]).at("$relationshipLink").as_string(), "/digitaltwins/r/relationships/r-feeds-c1");

  auto del_target = wait_done([&](Done d) { engine_->delete_twin("c1", {}, d); });
  EXPECT_EQ(del_target.reason(), "RelationshipsNotDeleted");
  auto del_source = wait_done([&](Done d) { engine_->delete_twin("r", {}, d); });
  EXPECT_EQ(del_source.reason(), "RelationshipsNotDeleted");

  EXPECT_TRUE(wait_done([&](Done d) { engine_->delete_relationship("r", "r-feeds-c1", {}, d); }).is_ok());
  in = wait<std::vector<std::string>>([&](auto cb) { engine_->list_incoming("c1", cb); });
  EXPECT_TRUE(in->empty());
  EXPECT_TRUE(wait_done([&](Done d) { engine_->delete_twin("c1", {}, d); }).is_ok());
  EXPECT_EQ(get("c1").status().reason(), "DigitalTwinNotFound");
}

TEST_F(EngineTest, RelationshipValidation) {
  make_robot("r");
  make_robot("r2");
  make_conveyor("c1");
  EXPECT_EQ(relate("r", "x", R"({"$relationshipName": "feeds", "$targetId": "nobody"})").status().reason(),
            "TargetTwinNotFound");
  EXPECT_EQ(relate("r", "x", R"({"$relationshipName": "feeds", "$targetId": "r2"})").status().reason(),
            "ValidationFailed");  // target must be a Conveyor
  EXPECT_EQ(relate("r", "x", R"({"$relationshipName": "eats", "$targetId": "c1"})").status().reason(),
            "ValidationFailed");
  EXPECT_EQ(relate("r", "x", R"({"$relationshipName": "feeds", "$targetId": "r"})").status().reason(),
            "OperationNotAllowed");
  ASSERT_TRUE(relate("r", "a", R"({"$relationshipName": "feeds", "$targetId": "c1"})").is_ok());
  ASSERT_TRUE(relate("r", "b", R"({"$relationshipName": "feeds", "$targetId": "c1"})").is_ok());
  EXPECT_EQ(relate("r", "c", R"({"$relationshipName": "feeds", "$targetId": "c1"})").status().reason(),
            "ValidationFailed");  // maxMultiplicity 2
  // A failed attempt left no dangling incoming edge: c1 has exactly a and b.
  auto in = wait<std::vector<std::string>>([&](auto cb) { engine_->list_incoming("c1", cb); });
  EXPECT_EQ(in->size(), 2u);
}

TEST_F(EngineTest, TelemetryIsValidatedAndPublished) {
  make_robot("r");
  std::vector<EventPtr> seen;
  std::mutex mu;
  engine_->events().subscribe([&](const EventPtr& e) {
    std::lock_guard l(mu);
    seen.push_back(e);
  });
  EXPECT_TRUE(wait_done([&](Done d) { engine_->send_telemetry("r", "", J(R"({"temperature": 21.5})"), "m1", 0, d); }).is_ok());
  EXPECT_TRUE(wait_done([&](Done d) { engine_->send_telemetry("r", "joint1", J(R"({"current": 2})"), "m2", 0, d); }).is_ok());
  EXPECT_EQ(wait_done([&](Done d) { engine_->send_telemetry("r", "", J(R"({"humidity": 1})"), "m3", 0, d); }).reason(),
            "ValidationFailed");
  EXPECT_EQ(wait_done([&](Done d) { engine_->send_telemetry("zz", "", J(R"({"temperature": 1})"), "m4", 0, d); }).reason(),
            "DigitalTwinNotFound");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard l(mu);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0]->type, EventType::telemetry);
  EXPECT_EQ(seen[1]->component, "joint1");
}

TEST_F(EngineTest, ChangeEventsFollowCommits) {
  std::vector<EventType> types;
  std::mutex mu;
  engine_->events().subscribe([&](const EventPtr& e) {
    std::lock_guard l(mu);
    types.push_back(e->type);
  });
  make_robot("r");
  make_conveyor("c");
  ASSERT_TRUE(patch("r", R"([{"op": "replace", "path": "/speed", "value": 9}])").is_ok());
  ASSERT_TRUE(patch("r", R"([{"op": "replace", "path": "/speed", "value": 9}])").is_ok());  // no-op: no event
  ASSERT_TRUE(relate("r", "x", R"({"$relationshipName": "feeds", "$targetId": "c"})").is_ok());
  ASSERT_TRUE(wait_done([&](Done d) { engine_->delete_relationship("r", "x", {}, d); }).is_ok());
  ASSERT_TRUE(wait_done([&](Done d) { engine_->delete_twin("c", {}, d); }).is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard l(mu);
  EXPECT_EQ(types, (std::vector<EventType>{EventType::twin_create, EventType::twin_create, EventType::twin_update,
                                           EventType::relationship_create, EventType::relationship_delete,
                                           EventType::twin_delete}));
}

TEST_F(EngineTest, RestartRecoversModelsTwinsAndRelationships) {
  make_robot("r");
  make_conveyor("c");
  ASSERT_TRUE(relate("r", "x", R"({"$relationshipName": "feeds", "$targetId": "c", "slot": 1})").is_ok());
  ASSERT_TRUE(patch("r", R"([{"op": "replace", "path": "/speed", "value": 7.25},
                              {"op": "add", "path": "/$metadata/speed/sourceTime", "value": "2026-01-02T03:04:05.5Z"}])").is_ok());
  ASSERT_TRUE(engine_->decommission_model("dtmi:test:Conveyor;1").is_ok());
  std::string before = get("r")->json;
  reopen();
  EXPECT_EQ(get("r")->json, before);
  EXPECT_EQ(engine_->twin_count(), 2u);
  EXPECT_EQ(engine_->relationship_count(), 1u);
  EXPECT_TRUE(engine_->models().get("dtmi:test:Conveyor;1")->decommissioned);
  auto in = wait<std::vector<std::string>>([&](auto cb) { engine_->list_incoming("c", cb); });
  EXPECT_EQ(in->size(), 1u);
  // Decommissioned: no new twins of it.
  auto p = put("c2", R"({"$metadata": {"$model": "dtmi:test:Conveyor;1"}})");
  EXPECT_EQ(p.status().reason(), "ModelDecommissioned");
}

TEST_F(EngineTest, ModelsInUseRules) {
  EXPECT_EQ(engine_->delete_model("dtmi:test:Joint;1").reason(), "ModelReferencesNotDeleted");
  EXPECT_EQ(engine_->delete_model("dtmi:test:None;1").reason(), "ModelNotFound");
  make_robot("r");
  // A model twins use is not deleted (a restart would lose their definition).
  Status in_use = engine_->delete_model("dtmi:test:Robot;1");
  EXPECT_EQ(in_use.reason(), "ModelReferencesNotDeleted");
  EXPECT_NE(in_use.message().find("1 twins use"), std::string::npos);
  EXPECT_TRUE(engine_->models().get("dtmi:test:Robot;1"));
  EXPECT_TRUE(wait_done([&](Done d) { engine_->delete_twin("r", {}, d); }).is_ok());
  EXPECT_TRUE(engine_->delete_model("dtmi:test:Robot;1").is_ok());
  reopen();
  EXPECT_FALSE(engine_->models().get("dtmi:test:Robot;1"));
  EXPECT_TRUE(engine_->models().get("dtmi:test:Joint;1"));
}

TEST_F(EngineTest, ManyWritersAcrossShards) {
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = "c-" + std::to_string(t) + "-" + std::to_string(i);
        if (put(id, R"({"$metadata": {"$model": "dtmi:test:Conveyor;1"}, "beltSpeed": 1})").is_ok()) ++ok;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(engine_->twin_count(), static_cast<std::size_t>(kThreads * kPerThread));
  reopen();
  EXPECT_EQ(engine_->twin_count(), static_cast<std::size_t>(kThreads * kPerThread));
}

// A hook that removes one twin during the first check of a batch on that twin's shard: the twin
// was found by the batch's first phase, so its second phase must look again (the twin is gone)
// instead of taking the first phase's findings.
class RemovingHook final : public ObservationHook {
 public:
  explicit RemovingHook(std::string victim) : victim_(std::move(victim)) {}
  void check(Shard& s, std::span<const CheckedObservation>, std::vector<Status>&) override {
    if (!removed_ && s.find(victim_)) {
      s.erase(victim_);
      removed_ = true;
    }
  }
  void apply(Shard&, std::span<const CheckedObservation>) override {}

 private:
  std::string victim_;
  std::atomic<bool> removed_{false};
};

TEST_F(EngineTest, TwinRemovedBetweenTheTwoPhasesOfABatchIsRejectedNotWritten) {
  std::vector<std::string> ids;
  std::set<std::size_t> shards;
  for (int i = 0; shards.size() < 2 || ids.size() < 4; ++i) {
    ids.push_back("r" + std::to_string(i));
    shards.insert(engine_->shard_of(ids.back()));
    make_robot(ids.back());
  }
  RemovingHook hook(ids[0]);
  ObservationWriter writer(*engine_, &hook);
  std::vector<Observation> batch;
  for (const auto& id : ids)
    for (int k = 0; k < 3; ++k) {
      Observation& o = batch.emplace_back();
      o.twin = id;
      o.name = "temperature";
      o.ts_ns = 1'700'000'000'000'000'000 + k;
      o.value = 20.5 + k;
    }
  std::promise<IngestOutcome> p;
  writer.ingest(std::move(batch), IngestMode::reject_whole,
                [&p](IngestOutcome out) { p.set_value(std::move(out)); });
  IngestOutcome out = p.get_future().get();
  ASSERT_TRUE(out.status.is_ok()) << out.status.to_string();
  EXPECT_EQ(out.accepted, 3 * (ids.size() - 1));
  ASSERT_EQ(out.rejections.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(out.rejections[k].index, k);
    EXPECT_EQ(out.rejections[k].code, "DigitalTwinNotFound");
  }
  EXPECT_EQ(get(ids[0]).status().reason(), "DigitalTwinNotFound");
}

// A hook whose first-phase findings are kept for the second phase of a batch checked on every
// shard: check() runs once per shard when they still hold, and again when they do not.
class KeepingHook final : public ObservationHook {
 public:
  explicit KeepingHook(bool holds) : holds_(holds) {}
  void check(Shard&, std::span<const CheckedObservation>, std::vector<Status>&) override {
    ++checks;
  }
  void apply(Shard&, std::span<const CheckedObservation>) override { ++applies; }
  std::unique_ptr<KeptCheck> keep_check(Shard&) override {
    ++kept;
    return std::make_unique<KeptCheck>();
  }
  bool reuse_check(Shard&, std::span<const CheckedObservation>, KeptCheck&) override {
    ++reuses;
    return holds_;
  }
  std::atomic<int> checks{0}, applies{0}, kept{0}, reuses{0};

 private:
  bool holds_;
};

TEST_F(EngineTest, TheSecondPhaseTakesTheHooksKeptFindingsWhileTheyHold) {
  std::vector<std::string> ids;
  std::set<std::size_t> shards;
  for (int i = 0; shards.size() < 2; ++i) {
    ids.push_back("k" + std::to_string(i));
    shards.insert(engine_->shard_of(ids.back()));
    make_robot(ids.back());
  }
  for (bool holds : {true, false}) {
    KeepingHook hook(holds);
    ObservationWriter writer(*engine_, &hook);
    std::vector<Observation> batch;
    for (const auto& id : ids) {
      Observation& o = batch.emplace_back();
      o.twin = id;
      o.name = "temperature";
      o.ts_ns = holds ? 1'700'000'000'000'000'000 : 1'700'000'000'000'000'001;
      o.value = 20.5;
    }
    std::promise<IngestOutcome> p;
    writer.ingest(std::move(batch), IngestMode::reject_whole,
                  [&p](IngestOutcome out) { p.set_value(std::move(out)); });
    IngestOutcome out = p.get_future().get();
    ASSERT_TRUE(out.status.is_ok()) << out.status.to_string();
    EXPECT_EQ(out.accepted, ids.size());
    const int n = static_cast<int>(shards.size());
    EXPECT_EQ(hook.kept.load(), n);
    EXPECT_EQ(hook.reuses.load(), n);
    EXPECT_EQ(hook.checks.load(), holds ? n : 2 * n) << "holds=" << holds;
    EXPECT_EQ(hook.applies.load(), n);
  }
}

TEST_F(EngineTest, TasksPostedFirstRunBeforeWaitingOnesInTheirOwnOrder) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::vector<std::string> order;  // written on shard 0's thread only
  std::promise<void> finished;
  ASSERT_TRUE(engine_->run_on_shard(0, [gate](Shard&) { gate.wait(); }));  // holds the shard
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto note = [&order](std::string name) {
    return [&order, name](Shard&) { order.push_back(name); };
  };
  ASSERT_TRUE(engine_->run_on_shard(0, note("a")));
  ASSERT_TRUE(engine_->run_on_shard_first(0, note("c")));
  ASSERT_TRUE(engine_->run_on_shard(0, note("b")));
  ASSERT_TRUE(engine_->run_on_shard_first(0, note("d")));
  ASSERT_TRUE(engine_->run_on_shard(0, [&finished](Shard&) { finished.set_value(); }));
  release.set_value();
  finished.get_future().wait();
  EXPECT_EQ(order, (std::vector<std::string>{"c", "d", "a", "b"}));
}

// Engine::spread: a shard's next turn runs off the spreading thread's CPU, and the turn after it
// may use every CPU again.
TEST(EngineSpread, NextTurnRunsOnAnotherCpuThenEveryCpuAgain) {
  cpu_set_t all;
  CPU_ZERO(&all);
  ASSERT_EQ(sched_getaffinity(0, sizeof all, &all), 0);
  if (CPU_COUNT(&all) < 2) GTEST_SKIP() << "needs two usable CPUs";
  int here = 0;
  while (!CPU_ISSET(here, &all)) ++here;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(here, &one);
  const fs::path dir = temp_dir();
  EngineOptions o;
  o.data_dir = dir;
  o.shards = 2;
  auto e = Engine::open(o);  // before the pinning below: threads inherit their creator's CPUs
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  // The test thread on `here` from now on.
  ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof one, &one), 0);
  struct Seen {
    int cpu = -1;
    int usable = 0;
  };
  auto run = [&](std::size_t shard) {
    std::promise<Seen> p;
    EXPECT_TRUE((*e)->run_on_shard(shard, [&p](Shard&) {
      Seen s;
      s.cpu = sched_getcpu();
      cpu_set_t set;
      CPU_ZERO(&set);
      if (pthread_getaffinity_np(pthread_self(), sizeof set, &set) == 0) s.usable = CPU_COUNT(&set);
      p.set_value(s);
    }));
    return p.get_future().get();
  };
  for (int round = 0; round < 20; ++round) {
    (*e)->spread({0, 1});
    for (std::size_t shard = 0; shard < 2; ++shard) {
      const Seen s = run(shard);
      EXPECT_NE(s.cpu, here) << "round " << round << ", shard " << shard;
      EXPECT_EQ(s.usable, CPU_COUNT(&all) - 1) << "round " << round << ", shard " << shard;
    }
    for (std::size_t shard = 0; shard < 2; ++shard)  // the turn after: every CPU again
      EXPECT_EQ(run(shard).usable, CPU_COUNT(&all)) << "round " << round << ", shard " << shard;
  }
  e->reset();
  fs::remove_all(dir);
  ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof all, &all), 0);
}

Status build_twin_for_test(const model::ModelRegistry& reg, const json::value& doc, Twin& t) {
  return build_twin("r", reg.interface("dtmi:test:Robot;1"), doc.as_object(), 1'700'000'000'123'456'789, t);
}

TEST(TwinValue, CompactTypedValues) {
  EXPECT_EQ(sizeof(Value), 16u);
  Value s = Value::from_json(J(R"("hello")"));
  Value o = Value::from_json(J(R"({"x": 1.5, "y": [1, 2]})"));
  Value copy = o;
  EXPECT_EQ(copy, o);
  EXPECT_EQ(s.as_text(), "hello");
  std::string out;
  o.append_json(out);
  EXPECT_EQ(out, R"({"x":1.5,"y":[1,2]})");
  double d = 0;
  EXPECT_TRUE(Value::integer(3).numeric(d));
  EXPECT_EQ(d, 3.0);
  Value moved = std::move(s);
  EXPECT_EQ(moved.as_text(), "hello");
}

// Texts up to kInlineText bytes live inside the value (no heap block to chase), longer ones on
// the heap; both keep their tag, copy, move, compare and render alike.
TEST(TwinValue, ShortTextsInlineLongOnesOnTheHeap) {
  const std::string limit(Value::kInlineText, 'x');
  const std::string longer(Value::kInlineText + 1, 'y');
  for (const std::string& text : {std::string(), std::string("running"), limit, longer}) {
    SCOPED_TRACE(text);
    Value v = Value::text(text);
    v.set_tag(0xDEADBEEF);
    EXPECT_EQ(v.kind(), Value::Kind::string);
    EXPECT_EQ(v.as_text(), text);
    EXPECT_EQ(v.tag(), 0xDEADBEEFu);
    const bool inline_text = text.size() <= Value::kInlineText;
    EXPECT_EQ(v.heap_address() == nullptr, inline_text);
    EXPECT_EQ(v.heap_bytes(), inline_text ? 0u : text.size() + 5);
    Value copy = v;
    EXPECT_EQ(copy, v);
    EXPECT_EQ(copy.tag(), 0xDEADBEEFu);
    EXPECT_EQ(copy.as_text(), text);
    Value moved = std::move(copy);
    EXPECT_EQ(moved.as_text(), text);
    EXPECT_FALSE(copy.is_set());  // NOLINT(bugprone-use-after-move): a moved-from value is unset
    moved = Value::integer(-7);   // releases the text, inline or not
    EXPECT_EQ(moved.as_int(), -7);
    EXPECT_EQ(moved.tag(), 0u);
    std::string out;
    v.append_json(out);
    EXPECT_EQ(out, "\"" + text + "\"");
    EXPECT_NE(v, Value::text(text + "z"));
  }
  Value j = Value::json_text("[1,2]");
  EXPECT_EQ(j.kind(), Value::Kind::json);
  EXPECT_EQ(j.to_json(), J("[1,2]"));
  Value r = Value::real(2.5);
  r.set_tag(3);
  EXPECT_EQ(r.as_double(), 2.5);
  EXPECT_EQ(r.tag(), 3u);
  EXPECT_TRUE(Value::boolean(true).as_bool());
  EXPECT_EQ(Value::from_json(J("18446744073709551615")).as_uint(), 18446744073709551615ull);
}

TEST(TwinTime, FormatAndParse) {
  EXPECT_EQ(format_time(1'700'000'000'123'456'789), "2023-11-14T22:13:20.1234567Z");
  Nanos t = 0;
  ASSERT_TRUE(parse_time("2023-11-14T23:13:20.1234567+01:00", t));
  EXPECT_EQ(t, 1'700'000'000'123'456'700);
  EXPECT_FALSE(parse_time("2023-11-14 23:13:20Z", t));
  EXPECT_TRUE(etag_matches("W/\"00000000000000ff\", W/\"x\"", 255));
  EXPECT_TRUE(etag_matches("*", 1));
  EXPECT_FALSE(etag_matches("W/\"0000000000000001\"", 2));
}

void add_models(model::ModelRegistry& reg, std::string_view models_json) {
  auto models = J(models_json);
  ASSERT_TRUE(
      reg.add(std::span<const json::value>(models.as_array().data(), models.as_array().size()))
          .status.is_ok());
}

// A twin with a string, a double of negative zero, an enum, a source time and a component.
constexpr std::string_view kCodecTwin = R"({
  "$metadata": {"$model": "dtmi:test:Robot;1", "speed": {"sourceTime": "2026-01-01T00:00:00Z"}},
  "serial": "S\u00e9", "speed": -0.0, "mode": "auto", "joint1": {"$metadata": {}, "angle": 1e300}})";

TEST(TwinCodec, RoundTripAndCorruption) {
  model::ModelRegistry reg;
  ASSERT_NO_FATAL_FAILURE(add_models(reg, kModels));
  Twin t;
  ASSERT_TRUE(build_twin_for_test(reg, J(kCodecTwin), t).is_ok());
  std::string bytes;
  encode_twin(t, bytes);
  Twin back;
  auto resolve = [&](std::string_view id) { return reg.interface(id); };
  ASSERT_TRUE(decode_twin("r", bytes, resolve, back).is_ok());
  std::string a, b;
  encode_twin(back, a);
  EXPECT_EQ(a, bytes);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    Twin x;
    EXPECT_FALSE(decode_twin("r", std::string_view(bytes).substr(0, cut), resolve, x).is_ok()) << cut;
  }
}

// Stores written before format 2 hold format-1 records: these bytes are what the format-1 encoder
// wrote for the twin of RoundTripAndCorruption. They must decode to the same twin, and re-encoded
// in format 2 they shrink.
TEST(TwinCodec, ReadsFormatOneRecords) {
  model::ModelRegistry reg;
  ASSERT_NO_FATAL_FAILURE(add_models(reg, kModels));
  const std::string v1(
      "\x01\x11\x64\x74\x6d\x69\x3a\x74\x65\x73\x74\x3a\x52\x6f\x62\x6f\x74\x3b\x31\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x15\xcd\x85\x3d\xfe\x9c\x97\x17\x03\x06\x73\x65\x72\x69\x61\x6c\x06\x03\x53"
      "\xc3\xa9\x15\xcd\x85\x3d\xfe\x9c\x97\x17\x00\x00\x00\x00\x00\x00\x00\x00\x05\x73\x70\x65\x65"
      "\x64\x05\x00\x00\x00\x00\x00\x00\x00\x80\x15\xcd\x85\x3d\xfe\x9c\x97\x17\x00\x00\xfa\xed\x51"
      "\x72\x86\x18\x04\x6d\x6f\x64\x65\x06\x04\x61\x75\x74\x6f\x15\xcd\x85\x3d\xfe\x9c\x97\x17\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x01\x06\x6a\x6f\x69\x6e\x74\x31\x15\xcd\x85\x3d\xfe\x9c\x97\x17"
      "\x01\x05\x61\x6e\x67\x6c\x65\x05\x9c\x75\x00\x88\x3c\xe4\x37\x7e\x15\xcd\x85\x3d\xfe\x9c\x97"
      "\x17\x00\x00\x00\x00\x00\x00\x00\x00",
      170);
  auto resolve = [&](std::string_view id) { return reg.interface(id); };
  Twin old;
  ASSERT_TRUE(decode_twin("r", v1, resolve, old).is_ok());
  Twin t;
  ASSERT_TRUE(build_twin_for_test(reg, J(kCodecTwin), t).is_ok());
  std::string now, again;
  encode_twin(t, now);
  encode_twin(old, again);
  EXPECT_EQ(again, now);  // the same twin: values, times, source time, component
  EXPECT_LT(now.size(), v1.size() * 2 / 3) << now.size();
  std::string rendered_old, rendered_now;
  render_twin(old, rendered_old);
  render_twin(t, rendered_now);
  EXPECT_EQ(rendered_old, rendered_now);
  for (std::size_t cut = 0; cut < v1.size(); ++cut) {
    Twin x;
    EXPECT_FALSE(decode_twin("r", std::string_view(v1).substr(0, cut), resolve, x).is_ok()) << cut;
  }
}

// Times far from the twin's last update (before it, after it, the epoch, the extremes) and integers
// of every size come back exactly from the varint encoding.
TEST(TwinCodec, ExtremeTimesAndIntegersRoundTrip) {
  model::ModelRegistry reg;
  ASSERT_NO_FATAL_FAILURE(add_models(reg, R"([{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:test:Ints;1", "@type": "Interface",
    "contents": [{"@type": "Property", "name": "a", "schema": "long", "writable": true},
                 {"@type": "Property", "name": "b", "schema": "long", "writable": true},
                 {"@type": "Property", "name": "c", "schema": "integer", "writable": true},
                 {"@type": "Property", "name": "d", "schema": "double", "writable": true}]}])"));
  auto resolve = [&](std::string_view id) { return reg.interface(id); };
  const std::int64_t ints[] = {0,
                               -1,
                               1,
                               std::numeric_limits<std::int64_t>::min(),
                               std::numeric_limits<std::int64_t>::max(),
                               -300,
                               1'700'000'000'000};
  const Nanos times[] = {0,
                         1,
                         -1,
                         std::numeric_limits<Nanos>::min(),
                         std::numeric_limits<Nanos>::max(),
                         1'700'000'000'123'456'789,
                         4'000'000'000'000'000'000};
  for (std::int64_t i : ints) {
    for (Nanos when : times) {
      Twin t;
      auto doc =
          J(R"({"$metadata": {"$model": "dtmi:test:Ints;1"}, "a": 1, "b": 2, "c": 3, "d": 0.5})");
      ASSERT_TRUE(build_twin("x", reg.interface("dtmi:test:Ints;1"), doc.as_object(),
                             1'700'000'000'123'456'789, t)
                      .is_ok());
      t.cells[0] = Value::integer(i);
      t.cells[1] = Value::integer(-(i / 3));
      t.set_time(t.cells[1], when);
      t.set_source_time(0, 2, when == 0 ? 7 : when);
      std::string bytes, again;
      encode_twin(t, bytes);
      Twin back;
      ASSERT_TRUE(decode_twin("x", bytes, resolve, back).is_ok()) << i << " " << when;
      EXPECT_EQ(back.cells[0].as_int(), i);
      EXPECT_EQ(back.cells[1].as_int(), -(i / 3));
      EXPECT_EQ(back.time_of(back.cells[1]), t.time_of(t.cells[1])) << when;
      EXPECT_EQ(back.source_time(0, 2), t.source_time(0, 2)) << when;
      EXPECT_EQ(back.last_update, t.last_update);
      encode_twin(back, again);
      EXPECT_EQ(again, bytes);
    }
  }
}

}  // namespace
}  // namespace castor::twin

namespace castor::twin {
namespace {

TEST(TwinIds, RefusesWhatCannotBeAddressedOrRendered) {
  EXPECT_TRUE(check_id("robot-1", "twin").is_ok());
  EXPECT_TRUE(check_id("Ünïcødé/ok", "twin").is_ok());
  EXPECT_EQ(check_id("", "twin").reason(), "InvalidArgument");
  EXPECT_FALSE(check_id(std::string(1025, 'a'), "twin").is_ok());
  EXPECT_FALSE(check_id("a\nb", "twin").is_ok());
  EXPECT_FALSE(check_id("a\xFF" "b", "twin").is_ok());
  EXPECT_FALSE(check_id("\xC0\xAF", "twin").is_ok());      // overlong '/'
  EXPECT_FALSE(check_id("\xED\xA0\x80", "twin").is_ok());  // a surrogate
  EXPECT_FALSE(check_id("\xE2\x82", "twin").is_ok());      // truncated
  EXPECT_FALSE(check_id("..", "twin").is_ok());
  EXPECT_TRUE(check_id("...", "twin").is_ok());
}

}  // namespace
}  // namespace castor::twin
