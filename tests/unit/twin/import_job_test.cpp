// Import and delete jobs end to end without HTTP: the JobManager over a real engine and store —
// what a successful import leaves (durably), how bad lines are logged and skipped, cancellation,
// one job at a time, what a restart does to a job that was running, and deleting everything.
#include "twin/jobs/job_manager.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

namespace castor::twin::jobs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view kModels = R"({"Section": "Models"}
{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:test:Conveyor;1", "@type": "Interface", "contents": [{"@type": "Property", "name": "beltSpeed", "schema": "double"}]}
{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:test:Robot;1", "@type": "Interface", "contents": [{"@type": "Property", "name": "serial", "schema": "string"}, {"@type": "Property", "name": "speed", "schema": "double"}, {"@type": "Relationship", "name": "feeds", "target": "dtmi:test:Conveyor;1", "maxMultiplicity": 2, "properties": [{"@type": "Property", "name": "slot", "schema": "integer"}]}]}
)";

std::string header() {
  return "{\"Section\": \"Header\"}\n{\"fileVersion\": \"1.0.0\", \"author\": \"test\", "
         "\"organization\": \"castor\"}\n";
}

std::string robot(int i, double speed = 1.5) {
  return "{\"$dtId\": \"robot-" + std::to_string(i) +
         "\", \"$metadata\": {\"$model\": \"dtmi:test:Robot;1\"}, \"serial\": \"SN-" +
         std::to_string(i) + "\", \"speed\": " + std::to_string(speed) + "}\n";
}
std::string conveyor(int i) {
  return "{\"$dtId\": \"conveyor-" + std::to_string(i) +
         "\", \"$metadata\": {\"$model\": \"dtmi:test:Conveyor;1\"}, \"beltSpeed\": 0.5}\n";
}
std::string feeds(int robot, int conveyor, const std::string& id = "feeds-1", int slot = 1) {
  return "{\"$dtId\": \"robot-" + std::to_string(robot) + "\", \"$relationshipId\": \"" + id +
         "\", \"$targetId\": \"conveyor-" + std::to_string(conveyor) +
         "\", \"$relationshipName\": \"feeds\", \"slot\": " + std::to_string(slot) + "}\n";
}

// A plant: `robots` robots, each feeding conveyor (i % 10) — ten conveyors.
std::string plant(int robots, double speed = 1.5) {
  std::string s = header() + std::string(kModels) + "{\"Section\": \"Twins\"}\n";
  for (int i = 0; i < 10; ++i) s += conveyor(i);
  for (int i = 0; i < robots; ++i) s += robot(i, speed);
  s += "{\"Section\": \"Relationships\"}\n";
  for (int i = 0; i < robots; ++i) s += feeds(i, i % 10);
  return s;
}

template <class T>
Result<T> wait(std::function<void(Callback<T>)> call) {
  std::promise<Result<T>> p;
  auto f = p.get_future();
  call([&p](Result<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

class ImportJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::mt19937_64 rng(std::random_device{}());
    dir_ = fs::temp_directory_path() / ("castor-import-job-test-" + std::to_string(rng()));
    fs::create_directories(dir_ / "import");
    open();
  }
  void TearDown() override {
    close();
    fs::remove_all(dir_);
  }
  void open(std::size_t block_lines = 16) {
    EngineOptions eo;
    eo.data_dir = dir_ / "data";
    eo.shards = 2;
    auto e = Engine::open(eo);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    engine_ = std::move(*e);
    JobManagerOptions jo;
    jo.import_dir = dir_ / "import";
    jo.import.threads = 2;
    jo.import.reader.block_lines = block_lines;
    auto j = JobManager::open(*engine_, jo);
    ASSERT_TRUE(j.is_ok()) << j.status().to_string();
    jobs_ = std::move(*j);
  }
  void close() {
    jobs_.reset();
    engine_.reset();
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / "import" / name, std::ios::binary) << text;
  }
  ImportJob finish(const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + 300s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto j = jobs_->get_import(id);
      if (!j) return ADD_FAILURE() << j.status().to_string(), ImportJob{};
      if (is_finished(j->status)) return *j;
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "job " << id << " did not finish";
    return {};
  }
  ImportJob run(const std::string& id, const std::string& text) {
    write(id + ".ndjson", text);
    auto j = jobs_->create_import(id, "file://" + id + ".ndjson", "file://" + id + ".log");
    if (!j) return ADD_FAILURE() << j.status().to_string(), ImportJob{};
    EXPECT_EQ(j->status, JobStatus::notstarted);
    return finish(id);
  }
  std::vector<json::object> log(const std::string& id) {
    std::ifstream in(dir_ / "import" / (id + ".log"));
    std::vector<json::object> out;
    for (std::string line; std::getline(in, line);) {
      auto v = json::parse(line);
      EXPECT_TRUE(v && v->is_object()) << line;
      if (v && v->is_object()) out.push_back(v->get_object());
    }
    return out;
  }
  std::string twin(const std::string& id) {
    auto r = wait<Rendered>([&](Callback<Rendered> cb) { engine_->get_twin(id, cb); });
    return r ? r->json : r.status().reason();
  }
  std::vector<std::string> incoming(const std::string& id) {
    auto r = wait<std::vector<std::string>>(
        [&](Callback<std::vector<std::string>> cb) { engine_->list_incoming(id, cb); });
    return r ? *r : std::vector<std::string>{r.status().reason()};
  }

  fs::path dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<JobManager> jobs_;
};

TEST_F(ImportJobTest, ImportsModelsTwinsAndRelationshipsDurably) {
  ImportJob j = run("plant", plant(100));
  ASSERT_EQ(j.status, JobStatus::succeeded) << (j.error ? j.error->message : "");
  EXPECT_EQ(j.progress.models, 2u);
  EXPECT_EQ(j.progress.twins, 110u);
  EXPECT_EQ(j.progress.relationships, 100u);
  EXPECT_EQ(j.progress.errors, 0u);
  EXPECT_GT(j.finished, 0);
  EXPECT_GE(j.finished, j.created);

  auto lines = log("plant");
  ASSERT_GE(lines.size(), 8u);
  for (const auto& l : lines) {
    EXPECT_EQ(l.at("jobId"), "plant");
    EXPECT_EQ(l.at("jobType"), "Import");
    EXPECT_EQ(l.at("logType"), "Info");
    Nanos t = 0;
    EXPECT_TRUE(parse_time(json::sv(l.at("timestamp").get_string()), t));
  }
  EXPECT_EQ(json::serialize(lines.front().at("details")), R"({"status":"Started"})");
  EXPECT_EQ(json::serialize(lines[1].at("details")), R"({"section":"Models","status":"Started"})");
  EXPECT_EQ(json::serialize(lines.back().at("details")), R"({"status":"Succeeded"})");

  close();  // durable: a fresh engine finds everything
  open();
  EXPECT_EQ(engine_->twin_count(), 110u);
  EXPECT_EQ(engine_->relationship_count(), 100u);
  EXPECT_NE(twin("robot-42").find(R"("serial":"SN-42")"), std::string::npos) << twin("robot-42");
  EXPECT_EQ(incoming("conveyor-3").size(), 10u);
  auto rel = wait<Rendered>(
      [&](Callback<Rendered> cb) { engine_->get_relationship("robot-13", "feeds-1", cb); });
  ASSERT_TRUE(rel.is_ok());
  EXPECT_NE(rel->json.find(R"("$targetId":"conveyor-3","slot":1)"), std::string::npos) << rel->json;
  EXPECT_TRUE(engine_->models().get("dtmi:test:Robot;1"));
  auto again = jobs_->get_import("plant");
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->status, JobStatus::succeeded);
  EXPECT_EQ(again->progress.twins, 110u);
}

TEST_F(ImportJobTest, BadLinesAreLoggedWithTheirLineAndSkipped) {
  std::string s = header() + std::string(kModels) + "{\"Section\": \"Twins\"}\n";
  s += conveyor(0) + robot(1) + robot(2);  // lines 7-9
  s += "{\"$dtId\": \"broken\", \n";       // 10: not JSON
  s +=
      "{\"$dtId\": \"r9\", \"$metadata\": {\"$model\": \"dtmi:test:Robot;1\"}, \"color\": 1}\n";  // 11: no such property
  s += "{\"$dtId\": \"r10\", \"$metadata\": {\"$model\": \"dtmi:test:Nope;1\"}}\n";  // 12: unknown
                                                                                     // model
  s += "{\"$metadata\": {\"$model\": \"dtmi:test:Robot;1\"}}\n";                     // 13: no $dtId
  s += "{\"Section\": \"Relationships\"}\n";                                         // 14
  s += feeds(1, 0) + feeds(1, 7);  // 15 ok, 16: no target
  s += "{\"$dtId\": \"robot-2\", \"$relationshipId\": \"x\", \"$targetId\": \"conveyor-0\", "
       "\"$relationshipName\": \"feeds\", \"slot\": \"two\"}\n";  // 17
  s += feeds(2, 0, "a") + feeds(2, 0, "b") + feeds(2, 0, "c");  // 18, 19 ok; 20: maxMultiplicity 2
  s += "{\"$dtId\": \"robot-2\", \"$relationshipId\": \"self\", \"$targetId\": \"robot-2\", "
       "\"$relationshipName\": \"feeds\"}\n";  // 21
  ImportJob j = run("bad", s);
  ASSERT_EQ(j.status, JobStatus::failed);
  ASSERT_TRUE(j.error);
  EXPECT_EQ(j.error->code, "JobFailed");
  EXPECT_NE(j.error->message.find("8 entities could not be imported"), std::string::npos)
      << j.error->message;
  EXPECT_EQ(j.error->details.size(), 8u);
  EXPECT_EQ(j.progress.twins, 3u);
  EXPECT_EQ(j.progress.relationships, 3u);
  EXPECT_EQ(j.progress.errors, 8u);

  std::map<std::int64_t, std::string> errors;  // line -> code
  for (const auto& l : log("bad"))
    if (l.at("logType") == "Error") {
      const auto& d = l.at("details").get_object();
      errors[d.at("line").as_int64()] = std::string(json::sv(d.at("code").get_string()));
    }
  std::map<std::int64_t, std::string> want = {
      {10, "InvalidArgument"},  {11, "ValidationFailed"},   {12, "ValidationFailed"},
      {13, "ValidationFailed"}, {16, "TargetTwinNotFound"}, {17, "ValidationFailed"},
      {20, "ValidationFailed"}, {21, "OperationNotAllowed"}};
  EXPECT_EQ(errors, want);
  // Failed relationships leave no reservation behind: only the three stored ones are listed,
  // and a twin whose only would-be relationships failed can be deleted.
  EXPECT_EQ(incoming("conveyor-0").size(), 3u);
  EXPECT_EQ(twin("r9"), "DigitalTwinNotFound");
}

TEST_F(ImportJobTest, AMalformedFileFailsTheJobAndImportsNothing) {
  ImportJob j = run("header", "{\"Section\": \"Twins\"}\n" + conveyor(1));
  ASSERT_EQ(j.status, JobStatus::failed);
  ASSERT_TRUE(j.error);
  EXPECT_EQ(j.error->code, "InvalidImportFile");
  EXPECT_NE(j.error->message.find("starts with {\"Section\": \"Header\"}"), std::string::npos);
  EXPECT_EQ(engine_->twin_count(), 0u);
  auto lines = log("header");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].at("logType"), "Error");
  EXPECT_EQ(json::serialize(lines[2].at("details")), R"({"status":"Failed"})");
}

TEST_F(ImportJobTest, RunningAnImportAgainKeepsModelsAndReplacesTwinsAndRelationships) {
  ASSERT_EQ(run("first", plant(20, 1.5)).status, JobStatus::succeeded);
  std::string again = plant(20, 2.5);
  again += feeds(3, 9, "feeds-1");  // moves robot-3's relationship from conveyor-3 to conveyor-9
  ImportJob j = run("second", again);
  ASSERT_EQ(j.status, JobStatus::succeeded) << (j.error ? j.error->message : "");
  EXPECT_EQ(j.progress.models, 0u);
  int warnings = 0;
  for (const auto& l : log("second")) warnings += l.at("logType") == "Warning";
  EXPECT_EQ(warnings, 2);
  EXPECT_EQ(engine_->twin_count(), 30u);
  EXPECT_EQ(engine_->relationship_count(), 20u);
  EXPECT_NE(twin("robot-5").find(R"("speed":2.5)"), std::string::npos) << twin("robot-5");
  EXPECT_EQ(incoming("conveyor-3").size(), 1u);  // robot-13 only
  EXPECT_EQ(incoming("conveyor-9").size(), 3u);  // robot-9, robot-19 and robot-3
}

TEST_F(ImportJobTest, OneJobAtATimeAndCancelStopsAtABlockBoundary) {
  close();
  open(64);
  std::string s = header() + std::string(kModels) + "{\"Section\": \"Twins\"}\n";
  for (int i = 0; i < 60000; ++i) s += conveyor(i);
  write("big.ndjson", s);
  ASSERT_TRUE(jobs_->create_import("big", "big.ndjson", "big.log").is_ok());
  write("small.ndjson", plant(1));
  auto refused = jobs_->create_import("small", "small.ndjson", "small.log");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().reason(), "JobLimitReached");
  EXPECT_EQ(jobs_->create_delete("d1", 60).status().reason(), "JobLimitReached");
  while (jobs_->get_import("big")->progress.twins == 0) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(jobs_->delete_import("big").reason(), "ValidationFailed");  // running: cancel first
  auto c = jobs_->cancel_import("big");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->status, JobStatus::cancelling);
  ImportJob j = finish("big");
  EXPECT_EQ(j.status, JobStatus::cancelled);
  EXPECT_LT(j.progress.twins, 60000u);
  EXPECT_EQ(engine_->twin_count(), j.progress.twins);
  EXPECT_EQ(json::serialize(log("big").back().at("details")), R"({"status":"Cancelled"})");
  EXPECT_EQ(jobs_->cancel_import("big").status().reason(), "ValidationFailed");  // ended already
  EXPECT_TRUE(jobs_->delete_import("big").is_ok());
  EXPECT_EQ(jobs_->get_import("big").status().reason(), "ImportJobNotFound");
  EXPECT_EQ(run("big", plant(3)).status, JobStatus::succeeded);  // the id is free again
}

TEST_F(ImportJobTest, AJobRunningAtShutdownIsFailedAtTheNextStart) {
  close();
  open(64);
  std::string s = header() + std::string(kModels) + "{\"Section\": \"Twins\"}\n";
  for (int i = 0; i < 60000; ++i) s += conveyor(i);
  write("big.ndjson", s);
  ASSERT_TRUE(jobs_->create_import("big", "big.ndjson", "big.log").is_ok());
  while (jobs_->get_import("big")->progress.twins == 0) std::this_thread::sleep_for(1ms);
  close();  // stops mid-way
  open();
  auto j = jobs_->get_import("big");
  ASSERT_TRUE(j.is_ok());
  EXPECT_EQ(j->status, JobStatus::failed);
  ASSERT_TRUE(j->error);
  EXPECT_EQ(j->error->code, "JobInterrupted");
  EXPECT_GT(j->progress.twins, 0u);
  EXPECT_EQ(engine_->twin_count(), j->progress.twins);  // what it reported is what is durable
  EXPECT_EQ(run("again", plant(2)).status, JobStatus::succeeded);  // the slot is free
}

TEST_F(ImportJobTest, AfterACrashRunningJobsFailWaitingJobsRunAndOldJobsArePurged) {
  write("w.ndjson", plant(5));
  auto cf = *engine_->store().column_family(kJobsFamily);
  ImportJob crashed{
      "crashed", "file://w.ndjson", "file://crashed.log", JobStatus::running, 1, 1, 0, std::nullopt,
      {}};
  ImportJob waiting{"waiting",
                    "file://w.ndjson",
                    "file://waiting.log",
                    JobStatus::notstarted,
                    2,
                    2,
                    0,
                    std::nullopt,
                    {}};
  ImportJob old{
      "old", "file://w.ndjson", "file://old.log", JobStatus::succeeded, 3, 3, 4, std::nullopt, {}};
  for (const auto* j : {&crashed, &waiting, &old})
    ASSERT_TRUE(engine_->store().put(cf, "import/" + j->id, render(*j)).is_ok());
  DeleteJob d{"del", JobStatus::running, 5, 0, 60, std::nullopt};
  ASSERT_TRUE(engine_->store().put(cf, "delete/del", render(d, true)).is_ok());
  close();
  open();
  EXPECT_EQ(jobs_->get_import("crashed")->error->code, "JobInterrupted");
  EXPECT_EQ(jobs_->get_delete("del")->status, JobStatus::failed);
  EXPECT_EQ(jobs_->get_import("old").status().reason(),
            "ImportJobNotFound");  // finished in 1970: purged
  EXPECT_EQ(finish("waiting").status, JobStatus::succeeded);
  EXPECT_EQ(engine_->twin_count(), 15u);
  EXPECT_EQ(jobs_->list_imports().size(), 2u);
}

TEST_F(ImportJobTest, ADeleteJobDeletesEveryModelTwinAndRelationshipDurably) {
  ASSERT_EQ(run("plant", plant(50)).status, JobStatus::succeeded);
  auto d = jobs_->create_delete("wipe", 15);
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_EQ(jobs_->create_delete("wipe", 15).status().reason(), "ValidationFailed");  // id taken
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!is_finished(jobs_->get_delete("wipe")->status) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  auto done = jobs_->get_delete("wipe");
  ASSERT_EQ(done->status, JobStatus::succeeded) << (done->error ? done->error->message : "");
  EXPECT_GT(done->finished, 0);
  EXPECT_EQ(engine_->twin_count(), 0u);
  EXPECT_EQ(engine_->relationship_count(), 0u);
  EXPECT_EQ(engine_->models().size(), 0u);
  close();
  open();
  EXPECT_EQ(engine_->twin_count(), 0u);
  EXPECT_EQ(engine_->relationship_count(), 0u);
  EXPECT_EQ(engine_->models().size(), 0u);
  EXPECT_EQ(jobs_->list_deletes().size(), 1u);
  EXPECT_EQ(run("plant2", plant(5)).status,
            JobStatus::succeeded);  // and the instance is usable again
}

TEST_F(ImportJobTest, ARelationshipNamedTwiceInAFileEndsWhereTheLastLineSaysIt) {
  std::string s = header() + std::string(kModels) + "{\"Section\": \"Twins\"}\n" + conveyor(1) +
                  conveyor(2) + robot(1);
  s += "{\"Section\": \"Relationships\"}\n" + feeds(1, 1, "r") + feeds(1, 2, "r") +
       feeds(1, 1, "r", 7) + feeds(1, 2, "q");
  ImportJob j = run("twice", s);
  ASSERT_EQ(j.status, JobStatus::succeeded);
  EXPECT_EQ(engine_->relationship_count(), 2u);
  EXPECT_EQ(incoming("conveyor-1").size(), 1u);
  EXPECT_EQ(incoming("conveyor-2").size(), 1u);  // "q" only
  auto rel =
      wait<Rendered>([&](Callback<Rendered> cb) { engine_->get_relationship("robot-1", "r", cb); });
  EXPECT_NE(rel->json.find(R"("$targetId":"conveyor-1","slot":7)"), std::string::npos) << rel->json;
}

}  // namespace
}  // namespace castor::twin::jobs
