// The value stream's filters, event decoding and coalescing, with a sink whose queue the test
// controls (the transport itself is covered by tests/integration/value_stream_test.py).
#include "api/value_stream.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace castor::api {
namespace {

class FakeSink final : public StreamSink {
 public:
  bool send(std::string message) override {
    if (!open_) return false;
    sent.push_back(json::parse(message).value());
    return true;
  }
  void close() override { open_ = false; }
  bool is_open() const noexcept override { return open_; }
  StreamTransport transport() const noexcept override { return StreamTransport::websocket; }
  std::size_t queued() const noexcept override { return sent.size() - written; }
  void pause_reading() override {}
  void resume_reading() override {}
  void defer(std::function<void()> fn) override { deferred.push_back(std::move(fn)); }
  void run_deferred() {
    auto fns = std::move(deferred);
    deferred.clear();
    for (auto& f : fns) f();
  }
  std::vector<std::function<void()>> deferred;
  std::vector<json::value> sent;
  std::size_t written = 0;  // how many of `sent` the client has read
  bool open_ = true;
};

const char* kModels = R"([
  {"@id": "dtmi:t:Base;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
   "contents": [{"@type": "Telemetry", "name": "temp", "schema": "double"},
                {"@type": "Property", "name": "mode", "schema": "string"}]},
  {"@id": "dtmi:t:Joint;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
   "contents": [{"@type": "Telemetry", "name": "angle", "schema": "double"}]},
  {"@id": "dtmi:t:Robot;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
   "extends": "dtmi:t:Base;1",
   "contents": [{"@type": "Component", "name": "joint1", "schema": "dtmi:t:Joint;1"},
                {"@type": "Property", "name": "pos", "schema": {"@type": "Object", "fields": [
                  {"name": "x", "schema": "double"}]}}]}
])";

class ValueStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = json::parse(kModels).value();
    auto r = models.add(std::span<const json::value>(v.get_array().data(), v.get_array().size()));
    ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  }

  std::shared_ptr<FakeSink> open(ValueFilter f) {
    auto sink = std::make_shared<FakeSink>();
    listeners.push_back(hub.open(std::move(f), sink));
    return sink;
  }

  void telemetry(std::string twin, std::string model, std::string component, std::string data,
                 std::vector<std::pair<std::string, std::uint32_t>> superseded = {}) {
    auto e = std::make_shared<twin::ChangeEvent>();
    e->type = twin::EventType::telemetry;
    e->twin_id = std::move(twin);
    e->model_id = std::move(model);
    e->component = std::move(component);
    e->source_time = 1'700'000'000'000'000'000;
    e->data = std::move(data);
    e->superseded = std::move(superseded);
    bus.publish(std::move(e));
  }

  void patch(std::string twin, std::string model, std::string ops) {
    auto e = std::make_shared<twin::ChangeEvent>();
    e->type = twin::EventType::twin_update;
    e->twin_id = std::move(twin);
    e->model_id = model;
    e->time = 1'700'000'001'000'000'000;
    e->data = R"({"modelId":")" + model + R"(","patch":)" + ops + "}";
    bus.publish(std::move(e));
  }

  static std::vector<const json::object*> values(const FakeSink& s) {
    std::vector<const json::object*> out;
    for (const auto& m : s.sent)
      if (m.at("type") == "value") out.push_back(&m.as_object());
    return out;
  }

  twin::EventBus bus;
  model::ModelRegistry models;
  ValueStreamHub hub{bus, models, ValueStreamOptions{4, 3}};
  std::vector<std::shared_ptr<StreamListener>> listeners;
};

TEST_F(ValueStreamTest, FirstMessageNamesTheFilter) {
  auto s = open(ValueFilter{{"r1"}, {}, {"temp"}, false});
  ASSERT_EQ(s->sent.size(), 1u);
  EXPECT_EQ(s->sent[0].at("type"), "subscribed");
  EXPECT_EQ(s->sent[0].at("filter").at("twins").as_array().size(), 1u);
}

TEST_F(ValueStreamTest, FiltersByTwinModelAndName) {
  auto by_twin = open(ValueFilter{{"r2"}, {}, {}, false});
  auto by_base = open(ValueFilter{{}, {"dtmi:t:Base;1"}, {}, false});
  auto exact_base = open(ValueFilter{{}, {"dtmi:t:Base;1"}, {}, true});
  auto by_name = open(ValueFilter{{}, {}, {"joint1/angle"}, false});
  telemetry("r1", "dtmi:t:Robot;1", "", R"({"temp":20.5})");
  telemetry("r1", "dtmi:t:Robot;1", "joint1", R"({"angle":45})");
  telemetry("b1", "dtmi:t:Base;1", "", R"({"temp":1})");
  EXPECT_EQ(values(*by_twin).size(), 0u);
  ASSERT_EQ(values(*by_base).size(), 3u);
  ASSERT_EQ(values(*exact_base).size(), 1u);
  EXPECT_EQ(values(*exact_base)[0]->at("twin"), "b1");
  ASSERT_EQ(values(*by_name).size(), 1u);
  const auto& v = *values(*by_name)[0];
  EXPECT_EQ(v.at("component"), "joint1");
  EXPECT_EQ(v.at("name"), "angle");
  EXPECT_EQ(v.at("value").to_number<double>(), 45.0);
  EXPECT_EQ(v.at("kind"), "telemetry");
  EXPECT_EQ(v.at("sourceTime"), "2023-11-14T22:13:20.0000000Z");
}

TEST_F(ValueStreamTest, PatchesBecomePropertyValuesWithComponentsAndSourceTimes) {
  auto s = open(ValueFilter{});
  patch("r1", "dtmi:t:Robot;1",
        R"([{"op":"add","path":"/mode","value":"auto"},
            {"op":"add","path":"/$metadata/mode/sourceTime","value":"2023-11-14T22:13:25Z"},
            {"op":"replace","path":"/pos/x","value":3.5},
            {"op":"remove","path":"/joint1/angle"}])");
  auto v = values(*s);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0]->at("name"), "mode");
  EXPECT_EQ(v[0]->at("kind"), "property");
  EXPECT_EQ(v[0]->at("sourceTime"), "2023-11-14T22:13:25.0000000Z");
  EXPECT_EQ(v[1]->at("name"), "pos");
  EXPECT_EQ(v[1]->at("path"), "/x");
  EXPECT_EQ(v[1]->at("sourceTime"), "2023-11-14T22:13:21.0000000Z");  // the commit time
  EXPECT_EQ(v[2]->at("component"), "joint1");
  EXPECT_EQ(v[2]->at("name"), "angle");
  EXPECT_TRUE(v[2]->at("removed").as_bool());
  EXPECT_TRUE(v[2]->at("value").is_null());
}

TEST_F(ValueStreamTest, ASlowClientGetsTheLatestValuePerSeriesWithSkipCounts) {
  auto s = open(ValueFilter{});  // window 4: "subscribed" + 3 values fill it
  for (int i = 0; i < 10; ++i)
    telemetry("r1", "dtmi:t:Robot;1", "", "{\"temp\":" + std::to_string(i) + "}");
  telemetry("b1", "dtmi:t:Base;1", "", R"({"temp":100})", {{"temp", 2}});
  ASSERT_EQ(s->sent.size(), 4u);  // nothing more until the client reads
  s->written = s->sent.size();
  listeners[0]->on_drain();
  auto v = values(*s);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[3]->at("twin"), "r1");
  EXPECT_EQ(v[3]->at("value").to_number<double>(), 9.0);
  EXPECT_EQ(v[3]->at("skipped").to_number<int>(), 6);  // 3..8 never sent
  EXPECT_EQ(v[4]->at("twin"), "b1");
  EXPECT_EQ(v[4]->at("skipped").to_number<int>(), 2);  // superseded inside its batch
  EXPECT_EQ(hub.values_skipped(), 8u);
}

TEST_F(ValueStreamTest, HeldSeriesAreBoundedAndDropsAreCounted) {
  auto s = open(ValueFilter{});
  s->written = 0;
  for (int i = 0; i < 3; ++i) telemetry("t" + std::to_string(i), "dtmi:t:Base;1", "", R"({"temp":1})");
  // The window is full; max_pending is 3 series: the 4th and 5th new series are dropped.
  for (int i = 3; i < 8; ++i) telemetry("t" + std::to_string(i), "dtmi:t:Base;1", "", R"({"temp":2})");
  s->written = s->sent.size();
  listeners[0]->on_drain();
  auto v = values(*s);
  ASSERT_EQ(v.size(), 6u);  // 3 sent at once, 3 held
  EXPECT_EQ(v[3]->at("skipped").to_number<int>(), 2);  // the drops ride on the next message
  EXPECT_EQ(hub.values_skipped(), 2u);
}

TEST_F(ValueStreamTest, AClientMessageReplacesTheFilterOrIsAnsweredWithAnError) {
  auto s = open(ValueFilter{{"r1"}, {}, {}, false});
  listeners[0]->on_message(R"({"subscribe":{"twins":["b1"]}})");
  EXPECT_EQ(s->sent.back().at("type"), "subscribed");
  telemetry("r1", "dtmi:t:Robot;1", "", R"({"temp":1})");
  telemetry("b1", "dtmi:t:Base;1", "", R"({"temp":2})");
  ASSERT_EQ(values(*s).size(), 1u);
  EXPECT_EQ(values(*s)[0]->at("twin"), "b1");
  listeners[0]->on_message(R"({"subscribe":{"models":["dtmi:t:Nope;1"]}})");
  EXPECT_EQ(s->sent.back().at("type"), "error");
  listeners[0]->on_message("[1,2");
  EXPECT_EQ(s->sent.back().at("type"), "error");
}

TEST_F(ValueStreamTest, BatchModeGathersWhatOneCommitProducedIntoOneMessage) {
  ValueFilter f;
  f.batch = true;
  auto s = open(f);
  telemetry("r1", "dtmi:t:Robot;1", "", R"({"temp":1})");
  telemetry("r1", "dtmi:t:Robot;1", "joint1", R"({"angle":2})");
  telemetry("b1", "dtmi:t:Base;1", "", R"({"temp":3})");
  EXPECT_EQ(s->sent.size(), 1u);  // only "subscribed" until the connection's thread runs
  ASSERT_EQ(s->deferred.size(), 1u);  // one flush armed, not one per value
  s->run_deferred();
  ASSERT_EQ(s->sent.size(), 2u);
  const auto& m = s->sent[1].as_object();
  EXPECT_EQ(m.at("type"), "values");
  const auto& values = m.at("values").as_array();
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[1].at("component"), "joint1");
  EXPECT_EQ(values[2].at("twin"), "b1");
  telemetry("r1", "dtmi:t:Robot;1", "", R"({"temp":4})");
  s->run_deferred();
  EXPECT_EQ(s->sent.back().at("values").as_array().size(), 1u);
}

TEST_F(ValueStreamTest, ClosedStreamsLeaveTheHub) {
  open(ValueFilter{});
  EXPECT_EQ(hub.connections(), 1u);
  listeners[0]->on_close();
  EXPECT_EQ(hub.connections(), 0u);
  telemetry("r1", "dtmi:t:Robot;1", "", R"({"temp":1})");  // no one to send to: no crash
}

TEST(ValueFilterTest, UnknownFieldsAndModelsAreClearErrors) {
  model::ModelRegistry models;
  auto bad = json::parse(R"({"colour":["red"]})").value();
  auto r = value_filter_from_json(bad, models);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("unknown field 'colour'"), std::string::npos);
  auto unknown = json::parse(R"({"models":["dtmi:x:Y;1"]})").value();
  r = value_filter_from_json(unknown, models);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos);
  auto not_strings = json::parse(R"({"twins":[1]})").value();
  EXPECT_FALSE(value_filter_from_json(not_strings, models).is_ok());
}

}  // namespace
}  // namespace castor::api
