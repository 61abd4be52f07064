// Topic templates, payload mappings, timestamps and the [[mqtt]] config tables.
#include "ingest/mqtt_mapping.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/config.hpp"
#include "common/json.hpp"

namespace castor::ingest {
namespace {

MqttSubscriptionConfig sub(std::string topic) {
  MqttSubscriptionConfig s;
  s.topic = std::move(topic);
  return s;
}

std::vector<Observation> map_ok(const MqttSubscriptionConfig& s, std::string_view topic,
                                std::string_view payload) {
  auto mapper = MessageMapper::compile({s});
  EXPECT_TRUE(mapper) << mapper.status().message();
  std::vector<Observation> out;
  Status st = mapper->map(topic, payload, out);
  EXPECT_TRUE(st) << st.message();
  return out;
}

Status map_error(const MqttSubscriptionConfig& s, std::string_view topic,
                 std::string_view payload) {
  auto mapper = MessageMapper::compile({s});
  EXPECT_TRUE(mapper) << mapper.status().message();
  std::vector<Observation> out;
  Status st = mapper->map(topic, payload, out);
  EXPECT_TRUE(out.empty());
  return st;
}

TEST(TopicTemplate, BindsWholeLevelsAndBuildsTheFilter) {
  auto t = TopicTemplate::parse("plant/{line}/{twinId}/telemetry");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->filter(), "plant/+/+/telemetry");
  Bindings b;
  ASSERT_TRUE(t->match("plant/l3/robot-7/telemetry", b));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].first, "line");
  EXPECT_EQ(b[0].second, "l3");
  EXPECT_EQ(b[1].second, "robot-7");
  EXPECT_FALSE(t->match("plant/l3/robot-7", b));
  EXPECT_FALSE(t->match("plant/l3/robot-7/telemetry/x", b));
  EXPECT_FALSE(t->match("other/l3/robot-7/telemetry", b));
}

TEST(TopicTemplate, WildcardsBindNothing) {
  auto t = TopicTemplate::parse("site/+/{twinId}/#");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->filter(), "site/+/+/#");
  Bindings b;
  EXPECT_TRUE(t->match("site/a/r1/x/y", b));
  EXPECT_TRUE(t->match("site/a/r1/x", b));
  EXPECT_EQ(b.size(), 1u);
}

TEST(TopicTemplate, BadTemplatesSayWhatToFix) {
  EXPECT_NE(TopicTemplate::parse("a/x{id}").status().message().find("whole level"),
            std::string::npos);
  EXPECT_NE(TopicTemplate::parse("a/#/b").status().message().find("last level"), std::string::npos);
  EXPECT_NE(TopicTemplate::parse("{a}/{a}").status().message().find("twice"), std::string::npos);
  EXPECT_FALSE(TopicTemplate::parse("a/{}"));
  auto s = sub("plant/{line}/telemetry");
  s.twin = "robot-{robot}";
  auto m = MessageMapper::compile({s});
  ASSERT_FALSE(m);
  EXPECT_NE(m.status().message().find("{robot}"), std::string::npos);
}

TEST(PayloadMapping, ObjectMembersBecomeObservationsWithRenamesAndUnits) {
  auto s = sub("plant/{line}/{robot}/telemetry");
  s.twin = "robot-{robot}";
  s.component = "arm";
  s.timestamp_field = "ts";
  s.fields["temp_mc"] = {"temperature", 0.001, 0, false};
  s.fields["seq"] = {"seq", 1, 0, true};
  auto out =
      map_ok(s, "plant/l1/7/telemetry",
             R"({"temp_mc": 21500, "speed": 1.5, "seq": 9, "ts": "2024-05-01T12:00:00.25Z"})");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].twin, "robot-7");
  EXPECT_EQ(out[0].component, "arm");
  EXPECT_EQ(out[0].name, "temperature");
  EXPECT_DOUBLE_EQ(out[0].value.as_double(), 21.5);
  EXPECT_EQ(out[0].ts_ns, 1714564800250000000);
  EXPECT_EQ(out[1].name, "speed");
  EXPECT_EQ(json::serialize(out[1].value), "1.5");
}

TEST(PayloadMapping, OnlyMappedKeepsListedMembers) {
  auto s = sub("{twinId}/t");
  s.only_mapped = true;
  s.fields["a"] = {"alpha", 1, 0, false};
  auto out = map_ok(s, "r1/t", R"({"a": true, "b": 2})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "alpha");
  EXPECT_TRUE(out[0].value.as_bool());
  EXPECT_EQ(out[0].ts_ns, 0);  // no timestamp field: the pipeline stamps receipt time
}

TEST(PayloadMapping, SingleValueNamedByTheTopic) {
  auto s = sub("dev/{twinId}/{name}");
  s.payload = "value";
  auto out = map_ok(s, "dev/pump-1/pressure", "3.25");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].twin, "pump-1");
  EXPECT_EQ(out[0].name, "pressure");
  EXPECT_DOUBLE_EQ(out[0].value.as_double(), 3.25);
  out = map_ok(s, "dev/pump-1/state", R"({"mode":"auto"})");
  EXPECT_TRUE(out[0].value.is_object());
}

TEST(PayloadMapping, InvalidPayloadsAreErrorsWithNothingMapped) {
  auto s = sub("plant/{twinId}");
  s.timestamp_field = "ts";
  EXPECT_NE(map_error(s, "plant/r1", "not json").message().find("not JSON"), std::string::npos);
  EXPECT_NE(map_error(s, "plant/r1", "[1,2]").message().find("object"), std::string::npos);
  EXPECT_NE(map_error(s, "plant/r1", R"({"a":1})").message().find("timestamp member"),
            std::string::npos);
  EXPECT_NE(map_error(s, "plant/r1", R"({"a":1,"ts":"yesterday"})").message().find("RFC 3339"),
            std::string::npos);
  EXPECT_NE(map_error(s, "plant/r1", R"({"ts":5})").message().find("no member"), std::string::npos);
  EXPECT_FALSE(map_error(s, "plant/", R"({"a":1})"));  // empty twin id
  EXPECT_NE(map_error(s, "elsewhere/r1", R"({"a":1})").message().find("no subscription"),
            std::string::npos);
  EXPECT_FALSE(map_error(s, "plant/r1", R"({"a":1,"a":2})"));  // duplicate keys are refused
}

TEST(Timestamps, Rfc3339AndEpochUnits) {
  EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parse_rfc3339("2024-05-01T14:00:00.5+02:00"), 1714564800500000000);
  EXPECT_EQ(*parse_rfc3339("2024-02-29T00:00:00.123456789Z") % 1000000000, 123456789);
  EXPECT_FALSE(parse_rfc3339("2024-05-01T12:00:00"));   // no offset
  EXPECT_FALSE(parse_rfc3339("2024-13-01T12:00:00Z"));  // month 13
  EXPECT_FALSE(parse_rfc3339("2024-05-01T12:00:00Zjunk"));
  json::value s(1714564800), ms(1714564800123LL), ns(1714564800123456789LL);
  EXPECT_EQ(*parse_timestamp(s, "auto"), 1714564800000000000);
  EXPECT_EQ(*parse_timestamp(ms, "auto"), 1714564800123000000);
  EXPECT_EQ(*parse_timestamp(ns, "auto"), 1714564800123456789);
  EXPECT_EQ(*parse_timestamp(s, "ms"), 1714564800000000);
  EXPECT_EQ(*parse_timestamp(json::value(1.5), "s"), 1500000000);
  EXPECT_FALSE(parse_timestamp(json::value(-1), "auto"));
  EXPECT_FALSE(parse_timestamp(json::value("2024-05-01T12:00:00Z"), "ms"));
  EXPECT_FALSE(parse_timestamp(json::value(true), "auto"));
}

// --- the [[mqtt]] config tables ---

Result<Config> load_toml(const std::string& text) {
  std::string path = ::testing::TempDir() + "mqtt_config_" + std::to_string(::getpid()) + ".toml";
  std::ofstream(path) << text;
  ConfigSources sources;
  sources.flags["config"] = path;
  sources.env = [](const std::string&) { return std::optional<std::string>{}; };
  auto config = load_config(sources);
  std::remove(path.c_str());
  return config;
}

TEST(MqttConfigTables, ReadsConnectionsSubscriptionsAndFields) {
  auto c = load_toml(R"(
[[mqtt]]
name = "plant"
url = "mqtts://broker.local:8883"
ca_file = "/etc/ca.pem"
username = "castor"
password = "secret"
keep_alive = "10s"
max_in_flight = 500
protocol = "5"
setpoint_topic = "plant/{line}/{twinId}/set/{name}"
  [[mqtt.subscriptions]]
  topic = "plant/{line}/{robot}/telemetry"
  twin = "robot-{robot}"
  timestamp_field = "ts"
  timestamp_unit = "ms"
  fields.temp_mc = { name = "temperature", scale = 0.001 }
  fields.speed = "velocity"
  fields.seq = { ignore = true }
  [[mqtt.subscriptions]]
  topic = "dev/{twinId}/{name}"
  payload = "value"
  qos = 0
)");
  ASSERT_TRUE(c) << c.status().message();
  ASSERT_EQ(c->mqtt.size(), 1u);
  const auto& m = c->mqtt[0];
  EXPECT_EQ(m.client_id, "castor-plant");
  EXPECT_EQ(m.keep_alive, std::chrono::seconds(10));
  EXPECT_EQ(m.max_in_flight, 500u);
  EXPECT_EQ(m.protocol_version, 5);
  EXPECT_EQ(m.setpoint_topic, "plant/{line}/{twinId}/set/{name}");
  ASSERT_EQ(m.subscriptions.size(), 2u);
  EXPECT_EQ(m.subscriptions[0].fields.at("temp_mc").name, "temperature");
  EXPECT_DOUBLE_EQ(m.subscriptions[0].fields.at("temp_mc").scale, 0.001);
  EXPECT_EQ(m.subscriptions[0].fields.at("speed").name, "velocity");
  EXPECT_TRUE(m.subscriptions[0].fields.at("seq").ignore);
  EXPECT_EQ(m.subscriptions[1].qos, 0);
  EXPECT_TRUE(MessageMapper::compile(m.subscriptions));
}

TEST(MqttConfigTables, MistakesNameTheKeyAndTheFix) {
  auto expect_error = [](const std::string& toml, std::string_view part) {
    auto c = load_toml(toml);
    ASSERT_FALSE(c) << toml;
    EXPECT_NE(c.status().message().find(part), std::string::npos) << c.status().message();
  };
  std::string head = "[[mqtt]]\nname = \"p\"\n";
  std::string sub = "[[mqtt.subscriptions]]\ntopic = \"a/{twinId}\"\n";
  expect_error(head + "url = \"tcp://h:1\"\n" + sub, "mqtt://HOST:PORT");
  expect_error(head + "url = \"mqtt://h\"\n", "at least one [[mqtt.subscriptions]]");
  expect_error(head + "url = \"mqtt://h\"\nbroker = 1\n" + sub, "key 'broker' is unknown");
  expect_error(head + "url = \"mqtt://h\"\nca_file = \"x\"\n" + sub, "need an mqtts:// url");
  expect_error(head + "url = \"mqtts://h\"\ncert_file = \"x\"\n" + sub, "cert_file and key_file");
  expect_error(head + "url = \"mqtt://h\"\n" + sub + "qos = 2\n", "from 0 to 1");
  expect_error(head + "url = \"mqtt://h\"\nprotocol = \"4\"\n" + sub, "\"3.1.1\" or \"5\"");
  expect_error(head + "url = \"mqtt://h\"\n" + sub + "payload = \"csv\"\n",
               "\"object\" or \"value\"");
  expect_error(head + "url = \"mqtt://h\"\n" + sub + "timestamp_unit = \"days\"\n",
               "timestamp_unit");
  expect_error(head + "url = \"mqtt://h\"\n" + sub + head + "url = \"mqtt://h\"\n" + sub,
               "already named");
  expect_error(head + "url = \"mqtt://h\"\nsetpoint_topic = \"set/{twinId}\"\n" + sub,
               "must name the property with {name}");
  expect_error(head + "url = \"mqtt://h\"\nsetpoint_topic = \"set/+/{name}\"\n" + sub,
               "no + or #");
}

}  // namespace
}  // namespace castor::ingest
