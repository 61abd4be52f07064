// EventRouting against a real engine: the EventRoutes resource as ADT checks it, routes that
// survive a restart, and change events that reach their endpoints through the filters.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "common/json.hpp"
#include "fakes.hpp"
#include "rules/event_routing.hpp"
#include "temp_dir.hpp"
#include "twin/engine.hpp"

namespace castor::rules {
namespace {

using namespace std::chrono_literals;
using testing::ScriptedSender;
using testing::SharedSender;

constexpr const char* kModel =
    R"({"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Robot;1","@type":"Interface","contents":[)"
    R"({"@type":"Property","name":"temperature","schema":"double","writable":true},)"
    R"({"@type":"Telemetry","name":"vibration","schema":"double"}]})";

class Routing : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void TearDown() override { close(); }

  void open(std::size_t limit = 3) {
    twin::EngineOptions eo;
    eo.data_dir = dir_.path();
    eo.shards = 1;
    auto e = twin::Engine::open(eo);
    ASSERT_TRUE(e.is_ok()) << e.status().message();
    engine_ = std::move(*e);
    RoutingOptions o;
    o.data_dir = dir_.path();
    o.source = "castor.test";
    o.routes_limit = limit;
    EndpointConfig hook;
    hook.name = "hook";
    hook.kind = "webhook";
    o.endpoints = {hook};
    o.senders = [this](const EndpointConfig&) -> Result<std::unique_ptr<EndpointSender>> {
      return std::unique_ptr<EndpointSender>(std::make_unique<SharedSender>(hook_));
    };
    auto r = EventRouting::open(*engine_, std::move(o));
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    routing_ = std::move(*r);
  }

  void close() {
    if (routing_) routing_->stop();
    if (engine_) engine_->close();
    routing_.reset();
    engine_.reset();
  }

  void add_model() {
    std::vector<json::value> models{*json::parse(kModel)};
    auto r = engine_->add_models(models);
    ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  }

  void put_twin(const std::string& id) {
    std::promise<Status> done;
    engine_->put_twin(
        id, *json::parse(R"({"$metadata":{"$model":"dtmi:test:Robot;1"},"temperature":20.5})"), {},
        [&](Result<twin::Rendered> r) { done.set_value(r.status()); });
    ASSERT_TRUE(done.get_future().get().is_ok());
  }

  Status put_route(const std::string& id, const std::string& endpoint, const std::string& filter) {
    return routing_->put_route(id, RouteBody{endpoint, filter});
  }

  testing::TempDir dir_;
  ScriptedSender hook_{nullptr, {}, SendResult::ok()};
  std::unique_ptr<twin::Engine> engine_;
  std::unique_ptr<EventRouting> routing_;
};

TEST_F(Routing, RoutesAreCheckedAsAdtChecksThem) {
  EXPECT_EQ(put_route("r1", "nowhere", "true").reason(), "EventRouteEndpointInvalid");
  Status bad_filter = put_route("r1", "hook", "type = ");
  EXPECT_EQ(bad_filter.reason(), "EventRouteFilterInvalid");
  EXPECT_NE(bad_filter.message().find("position 8"), std::string::npos) << bad_filter.message();
  EXPECT_EQ(put_route("a b", "hook", "true").reason(), "EventRouteIdInvalid");
  EXPECT_EQ(put_route("", "hook", "true").reason(), "EventRouteIdInvalid");
  ASSERT_TRUE(put_route("r1", "hook", "true").is_ok());
  ASSERT_TRUE(put_route("r2", "default", "false").is_ok());
  ASSERT_TRUE(put_route("r3", "hook", "type = 'x'").is_ok());
  Status limit = put_route("r4", "hook", "true");
  EXPECT_EQ(limit.reason(), "LimitExceeded");
  EXPECT_EQ(limit.code(), Code::invalid_argument);
  EXPECT_TRUE(put_route("r3", "default", "true").is_ok());  // a replace is not a new route
  EXPECT_EQ(routing_->get_route("r9").status().reason(), "EventRouteNotFound");
  EXPECT_EQ(routing_->delete_route("r9").reason(), "EventRouteNotFound");
  auto r3 = routing_->get_route("r3");
  ASSERT_TRUE(r3.is_ok());
  EXPECT_EQ(to_json(*r3), R"({"id":"r3","endpointName":"default","filter":"true"})");
  ASSERT_TRUE(routing_->delete_route("r2").is_ok());
  auto all = routing_->routes();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "r1");
  EXPECT_EQ(all[1].id, "r3");
}

TEST_F(Routing, RoutesSurviveARestart) {
  ASSERT_TRUE(put_route("b-route", "hook", "STARTS_WITH(subject, 'robot')").is_ok());
  ASSERT_TRUE(put_route("a-route", "default", "true").is_ok());
  ASSERT_TRUE(put_route("gone", "default", "true").is_ok());
  ASSERT_TRUE(routing_->delete_route("gone").is_ok());
  close();
  open();
  auto all = routing_->routes();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(to_json(all[0]), R"({"id":"a-route","endpointName":"default","filter":"true"})");
  EXPECT_EQ(all[1].filter.text(), "STARTS_WITH(subject, 'robot')");
}

TEST_F(Routing, EventsReachTheirEndpointsThroughTheFilters) {
  add_model();
  ASSERT_TRUE(put_route("creates", "hook", "type = 'Microsoft.DigitalTwins.Twin.Create'").is_ok());
  ASSERT_TRUE(put_route("also-creates", "hook", "STARTS_WITH(subject, 'robot')").is_ok());
  ASSERT_TRUE(put_route("live", "default",
                        "type = 'Microsoft.DigitalTwins.Twin.Update' OR $body.vibration > 0.1")
                  .is_ok());
  std::mutex mu;
  std::vector<json::value> live;
  auto sub = routing_->live().subscribe([&](const std::string& m) {
    std::lock_guard lock(mu);
    live.push_back(*json::parse(m));
    return true;
  });
  put_twin("robot-1");
  std::promise<std::string> patched;
  engine_->patch_twin(
      "robot-1", *json::parse(R"([{"op":"replace","path":"/temperature","value":30}])"), {},
      [&](Result<std::string> r) { patched.set_value(r ? *r : r.status().message()); });
  patched.get_future().get();
  std::promise<Status> sent;
  engine_->send_telemetry("robot-1", "", *json::parse(R"({"vibration":0.5})"), "msg-1", 0,
                          [&](Status s) { sent.set_value(s); });
  ASSERT_TRUE(sent.get_future().get().is_ok());

  for (int i = 0; i < 500; ++i) {
    std::lock_guard lock(mu);
    if (live.size() >= 2 && routing_->endpoint_stats().at("hook").delivered >= 2) break;
    std::this_thread::sleep_for(10ms);
  }
  // The hook: the create once (two matching routes, one endpoint), then the update through
  // "also-creates" (subject robot-1); the telemetry has no subject, so no route matches it.
  auto calls = hook_.calls();
  ASSERT_EQ(calls.size(), 2u);
  auto create = *json::parse(calls[0].event);
  EXPECT_EQ(json::sv(create.at("type").get_string()), "Microsoft.DigitalTwins.Twin.Create");
  EXPECT_EQ(json::sv(create.at("source").get_string()), "castor.test");
  EXPECT_EQ(json::sv(create.at("data").at("$dtId").get_string()), "robot-1");
  auto update = *json::parse(calls[1].event);
  EXPECT_EQ(json::sv(update.at("type").get_string()), "Microsoft.DigitalTwins.Twin.Update");
  EXPECT_EQ(json::sv(update.at("data").at("patch").at(0).at("path").get_string()), "/temperature");

  std::lock_guard lock(mu);
  ASSERT_EQ(live.size(), 2u);  // the create matches neither condition
  EXPECT_EQ(json::sv(live[0].at("type").get_string()), "Microsoft.DigitalTwins.Twin.Update");
  EXPECT_EQ(json::sv(live[1].at("type").get_string()), "microsoft.iot.telemetry");
  EXPECT_EQ(json::sv(live[1].at("id").get_string()), "msg-1");
  EXPECT_EQ(json::sv(live[1].at("dataschema").get_string()), "dtmi:test:Robot;1");
  EXPECT_EQ(json::sv(live[1].at("source").get_string()), "castor.test/digitaltwins/robot-1");
}

TEST_F(Routing, AnEndpointThatCannotBeBuiltStopsStartUpWithItsName) {
  close();
  twin::EngineOptions eo;
  eo.data_dir = dir_.path();
  eo.shards = 1;
  auto e = twin::Engine::open(eo);
  ASSERT_TRUE(e.is_ok());
  RoutingOptions o;
  o.data_dir = dir_.path();
  EndpointConfig bad;
  bad.name = "broken";
  o.endpoints = {bad};
  o.senders = [](const EndpointConfig&) -> Result<std::unique_ptr<EndpointSender>> {
    return invalid_argument("the url is wrong");
  };
  auto r = EventRouting::open(**e, std::move(o));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "endpoint 'broken': the url is wrong");
  (*e)->close();
}

TEST(RouteBody, IsCheckedStrictly) {
  auto parse = [](const char* text) { return parse_route_body(*json::parse(text)); };
  auto ok = parse(R"({"id":"ignored","endpointName":"hook","filter":"true"})");
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->endpoint, "hook");
  EXPECT_EQ(ok->filter, "true");
  EXPECT_EQ(parse(R"([])").status().reason(), "InvalidArgument");
  EXPECT_EQ(parse(R"({"endpointName":"hook","filter":"true","extra":1})").status().reason(),
            "InvalidArgument");
  EXPECT_EQ(parse(R"({"endpointName":5,"filter":"true"})").status().reason(), "InvalidArgument");
  EXPECT_EQ(parse(R"({"filter":"true"})").status().reason(), "EventRouteEndpointInvalid");
  EXPECT_EQ(parse(R"({"endpointName":"hook"})").status().reason(), "EventRouteFilterInvalid");
}

}  // namespace
}  // namespace castor::rules
