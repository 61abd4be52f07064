// MqttConnector against a real mosquitto on a free loopback port: messages arrive as
// observations, PUBACK waits for the durable commit (the broker redelivers otherwise), reconnect
// and resubscribe after a broker restart, TLS with a generated CA, backpressure.
#include "ingest/mqtt_connector.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/json.hpp"
#include "mosquitto.hpp"

namespace castor::ingest {
namespace {

using namespace std::chrono_literals;
using testing::Mosquitto;
using testing::RecordingSink;

MqttConfig connection(int port, const std::string& client_id) {
  MqttConfig c;
  c.name = "test";
  c.url = "mqtt://127.0.0.1:" + std::to_string(port);
  c.client_id = client_id;
  c.keep_alive = std::chrono::seconds(2);
  c.reconnect_initial = 50ms;
  c.reconnect_max = 200ms;
  MqttSubscriptionConfig s;
  s.topic = "plant/{line}/{twinId}/telemetry";
  s.timestamp_field = "ts";
  c.subscriptions.push_back(s);
  return c;
}

void publish(int port, const std::string& topic, const std::string& payload,
             std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{
      "mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port), "-q", "1", "-t",
      topic,           "-m", payload};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ASSERT_EQ(testing::run(argv), 0) << "mosquitto_pub failed";
}

// One mosquitto_pub for all lines, so they reach the connector in as few reads as possible.
void publish_lines(int port, const std::string& topic, const std::vector<std::string>& lines) {
  std::string cmd =
      "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(port) + " -q 1 -t " + topic + " -l";
  FILE* pipe = ::popen(cmd.c_str(), "w");
  ASSERT_NE(pipe, nullptr);
  for (const auto& l : lines) std::fprintf(pipe, "%s\n", l.c_str());
  ASSERT_EQ(::pclose(pipe), 0);
}

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 10s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

std::unique_ptr<MqttConnector> started(const MqttConfig& c, ObservationSink& sink,
                                       metrics::Registry* registry = nullptr) {
  auto connector = MqttConnector::create(c, sink, registry);
  EXPECT_TRUE(connector) << connector.status().message();
  if (!connector) return nullptr;
  (*connector)->start();
  EXPECT_TRUE(eventually([&] { return (*connector)->stats().connected == 1; }));
  std::this_thread::sleep_for(100ms);  // SUBACK
  return std::move(*connector);
}

class MqttBroker : public ::testing::Test {
 protected:
  // The broker's config, log and persistence: kept for a look when the test failed.
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_ =
      testing::temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
};

TEST_F(MqttBroker, MessagesArriveAsObservations) {
  Mosquitto broker(dir_);
  RecordingSink sink;
  metrics::Registry registry;
  auto connector = started(connection(broker.port(), "castor-arrive"), sink, &registry);
  publish(broker.port(), "plant/l1/robot-1/telemetry",
          R"({"temp": 21.5, "on": true, "ts": "2024-05-01T12:00:00Z"})");
  ASSERT_TRUE(sink.wait_received(2));
  auto got = sink.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].twin, "robot-1");
  EXPECT_EQ(got[0].name, "temp");
  EXPECT_EQ(json::serialize(got[0].value), "21.5");
  EXPECT_EQ(got[0].ts_ns, 1714564800000000000);
  EXPECT_EQ(got[1].name, "on");
  ASSERT_TRUE(eventually([&] { return connector->stats().acknowledged == 1; }));
  auto text = registry.expose();
  EXPECT_NE(text.find("castor_mqtt_messages_total{connection=\"test\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("castor_mqtt_observations_total{connection=\"test\"} 2"), std::string::npos);
  EXPECT_NE(text.find("castor_mqtt_in_flight{connection=\"test\"} 0"), std::string::npos);
}

TEST_F(MqttBroker, InvalidPayloadsAreCountedAcknowledgedAndDoNotStopTheStream) {
  Mosquitto broker(dir_);
  RecordingSink sink;
  auto connector = started(connection(broker.port(), "castor-invalid"), sink);
  publish(broker.port(), "plant/l1/r1/telemetry", "this is not json");
  publish(broker.port(), "plant/l1/r1/telemetry", R"({"temp": 1})");  // no "ts" member
  publish(broker.port(), "plant/l1/r1/telemetry", R"({"temp": 2, "ts": 1714564800})");
  ASSERT_TRUE(sink.wait_received(1));
  ASSERT_TRUE(eventually([&] { return connector->stats().acknowledged == 3; }));
  auto stats = connector->stats();
  EXPECT_EQ(stats.messages, 3u);
  EXPECT_EQ(stats.invalid, 2u);
  EXPECT_EQ(sink.received().size(), 1u);
  EXPECT_EQ(sink.received()[0].ts_ns, 1714564800000000000);
}

// The acceptance point: a message whose observations are not durable yet is not acknowledged,
// so a connector that dies before the commit gets it again from the broker; once acknowledged
// after the commit it is not delivered again.
TEST_F(MqttBroker, PubackWaitsForTheDurableCommit) {
  Mosquitto broker(dir_);
  auto config = connection(broker.port(), "castor-puback");
  {
    RecordingSink held;
    held.hold(true);  // the pipeline never commits
    auto connector = started(config, held);
    publish(broker.port(), "plant/l1/r1/telemetry", R"({"temp": 7, "ts": 1})");
    ASSERT_TRUE(held.wait_received(1));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(connector->stats().acknowledged, 0u);
    connector->stop();  // dies before `done`
  }
  RecordingSink sink;
  {
    auto connector = started(config, sink);
    ASSERT_TRUE(sink.wait_received(1)) << "the broker did not redeliver the unacknowledged message";
    EXPECT_EQ(json::serialize(sink.received()[0].value), "7");
    ASSERT_TRUE(eventually([&] { return connector->stats().acknowledged == 1; }));
    connector->stop();
  }
  RecordingSink after;
  auto connector = started(config, after);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(after.received().size(), 0u) << "an acknowledged message was delivered again";
}

// A pipeline that could not commit (overloaded, stopping) gets no PUBACK: the connector
// reconnects and the broker delivers the same message again.
TEST_F(MqttBroker, NothingIsAcknowledgedWhenThePipelineDidNotCommit) {
  Mosquitto broker(dir_);
  RecordingSink sink;
  sink.fail_next(1);
  auto connector = started(connection(broker.port(), "castor-refused"), sink);
  publish(broker.port(), "plant/l1/r1/telemetry", R"({"n": 5, "ts": 1})");
  ASSERT_TRUE(sink.wait_received(2)) << "the message did not come again";
  ASSERT_TRUE(eventually([&] { return connector->stats().acknowledged == 1; }));
  EXPECT_EQ(connector->stats().observations, 1u);
  EXPECT_GE(connector->stats().reconnects, 1u);
  auto got = sink.received();
  EXPECT_EQ(json::serialize(got[0].value), "5");
  EXPECT_EQ(json::serialize(got[1].value), "5");
}

// MQTT 5: the session outlives the connection only with a Session Expiry Interval, and PUBLISH
// carries properties (here a content type from an MQTT 5 publisher) before the payload.
TEST_F(MqttBroker, Mqtt5SessionKeepsUnacknowledgedMessages) {
  Mosquitto broker(dir_);
  auto config = connection(broker.port(), "castor-mqtt5");
  config.protocol_version = 5;
  auto publish5 = [&](const std::string& payload) {
    ASSERT_EQ(testing::run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                            "-V", "5", "-D", "publish", "content-type", "application/json", "-q",
                            "1", "-t", "plant/l1/r5/telemetry", "-m", payload}),
              0);
  };
  {
    RecordingSink held;
    held.hold(true);
    auto connector = started(config, held);
    publish5(R"({"v": 1, "ts": 1})");
    ASSERT_TRUE(held.wait_received(1));
    EXPECT_EQ(json::serialize(held.received()[0].value), "1");
    connector->stop();
  }
  RecordingSink sink;
  auto connector = started(config, sink);
  ASSERT_TRUE(sink.wait_received(1)) << "the MQTT 5 session did not keep the message";
  publish5(R"({"v": 2, "ts": 2})");
  ASSERT_TRUE(sink.wait_received(2));
  ASSERT_TRUE(eventually([&] { return connector->stats().acknowledged == 2; }));
  EXPECT_EQ(json::serialize(sink.received()[1].value), "2");
}

TEST_F(MqttBroker, ReconnectsAndResubscribesAfterTheBrokerRestarts) {
  auto broker = std::make_unique<Mosquitto>(dir_);
  int port = broker->port();
  RecordingSink sink;
  auto connector = started(connection(port, "castor-restart"), sink);
  publish(port, "plant/l1/r1/telemetry", R"({"n": 1, "ts": 1})");
  ASSERT_TRUE(sink.wait_received(1));
  broker.reset();  // no persistence: the restarted broker has forgotten the subscription
  ASSERT_TRUE(eventually([&] { return connector->stats().connected == 0; }));
  broker = std::make_unique<Mosquitto>(dir_, "", port);
  ASSERT_TRUE(eventually([&] { return connector->stats().connected == 1; }));
  EXPECT_GE(connector->stats().reconnects, 1u);
  std::this_thread::sleep_for(200ms);  // SUBACK
  publish(port, "plant/l1/r1/telemetry", R"({"n": 2, "ts": 2})");
  ASSERT_TRUE(sink.wait_received(2)) << "not resubscribed after the reconnect";
  EXPECT_EQ(json::serialize(sink.received()[1].value), "2");
}

TEST_F(MqttBroker, StopsReadingWhileThePipelineIsBehind) {
  Mosquitto broker(dir_);
  RecordingSink sink;
  sink.hold(true);
  auto config = connection(broker.port(), "castor-backpressure");
  config.max_in_flight = 5;
  metrics::Registry registry;
  auto connector = started(config, sink, &registry);
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i) lines.push_back(R"({"n": )" + std::to_string(i) + R"(, "ts": 1})");
  publish_lines(broker.port(), "plant/l1/r1/telemetry", lines);
  ASSERT_TRUE(sink.wait_received(5));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink.received().size(), 5u) << "read past max_in_flight";
  EXPECT_EQ(connector->stats().acknowledged, 0u);
  EXPECT_NE(registry.expose().find("castor_mqtt_in_flight{connection=\"test\"} 5"),
            std::string::npos);
  sink.hold(false);
  ASSERT_TRUE(sink.wait_received(20));
  ASSERT_TRUE(eventually([&] { return connector->stats().acknowledged == 20; }));
  auto got = sink.received();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(json::serialize(got[i].value), std::to_string(i));
}

// TLS with a CA generated here by the openssl CLI; the broker's certificate names "localhost".
TEST_F(MqttBroker, TlsWithAGeneratedCa) {
  auto d = dir_.string();
  auto sh = "cd " + d +
            " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=castor-test-ca"
            " -keyout ca.key -out ca.pem 2>/dev/null"
            " && openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key"
            " -out server.csr 2>/dev/null"
            " && printf 'subjectAltName=DNS:localhost' > san.ext"
            " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
            " -days 2 -extfile san.ext -out server.pem 2>/dev/null"
            " && chmod 644 server.key";  // mosquitto drops root privileges before reading it
  ASSERT_EQ(std::system(sh.c_str()), 0);
  Mosquitto broker(dir_, "cafile " + d + "/ca.pem\ncertfile " + d + "/server.pem\nkeyfile " + d +
                             "/server.key\n");
  auto config = connection(broker.port(), "castor-tls");
  config.url = "mqtts://localhost:" + std::to_string(broker.port());
  config.ca_file = d + "/ca.pem";
  RecordingSink sink;
  auto connector = started(config, sink);
  testing::run({"mosquitto_pub", "-h", "localhost", "-p", std::to_string(broker.port()), "--cafile",
                d + "/ca.pem", "-q", "1", "-t", "plant/l1/r9/telemetry", "-m",
                R"({"v": 9, "ts": 1})"});
  ASSERT_TRUE(sink.wait_received(1));
  EXPECT_EQ(sink.received()[0].twin, "r9");

  // Without the CA (the system's trust store) the handshake must fail: no session.
  config.ca_file.clear();
  config.client_id = "castor-tls-untrusted";
  RecordingSink other;
  auto untrusted = MqttConnector::create(config, other, nullptr);
  ASSERT_TRUE(untrusted);
  (*untrusted)->start();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ((*untrusted)->stats().connected, 0u);
  EXPECT_EQ((*untrusted)->stats().reconnects > 0, true);
}

TEST_F(MqttBroker, BadConfigurationIsRefusedAtCreate) {
  RecordingSink sink;
  auto c = connection(1, "x");
  c.subscriptions[0].twin = "robot-{robot}";
  auto r = MqttConnector::create(c, sink, nullptr);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("{robot}"), std::string::npos);
  c = connection(1, "x");
  c.url = "mqtts://localhost:1";
  c.ca_file = "/nonexistent/ca.pem";
  r = MqttConnector::create(c, sink, nullptr);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("ca_file"), std::string::npos);
}

// Set-points: a user's write of a writable property goes to the machine on the topic learned
// from its telemetry; a device's own report (observed) and read-only properties do not; a twin
// that never sent anything has no {line} yet and is counted as unroutable.
TEST_F(MqttBroker, UsersSetPointsArePublishedOnTheTwinsLearnedTopic) {
  Mosquitto broker(dir_);
  model::ModelRegistry models;
  auto defs = json::parse(R"([{"@id": "dtmi:t:Conveyor;1", "@type": "Interface",
      "@context": "dtmi:dtdl:context;3", "contents": [
      {"@type": "Property", "name": "speedSetpoint", "schema": "double", "writable": true},
      {"@type": "Property", "name": "serial", "schema": "string"}]}])").value();
  ASSERT_TRUE(models.add(std::span<const json::value>(defs.get_array().data(), 1)).status.is_ok());
  twin::EventBus bus;
  RecordingSink sink;
  MqttConfig c = connection(broker.port(), "castor-setpoints");
  c.setpoint_topic = "plant/{line}/{twinId}/set/{name}";
  auto connector = MqttConnector::create(c, sink, nullptr, &bus, &models);
  ASSERT_TRUE(connector) << connector.status().message();
  (*connector)->start();
  ASSERT_TRUE(eventually([&] { return (*connector)->stats().connected == 1; }));
  std::this_thread::sleep_for(100ms);
  publish(broker.port(), "plant/line-7/conveyor-1/telemetry", R"({"speed": 0.5, "ts": "2024-05-01T12:00:00Z"})");
  ASSERT_TRUE(sink.wait_received(1));

  std::string out_path = (dir_ / "sub.txt").string();
  std::string cmd = "mosquitto_sub -h 127.0.0.1 -p " + std::to_string(broker.port()) +
                    " -q 1 -v -C 1 -W 10 -t 'plant/+/+/set/#' > " + out_path;
  FILE* sub = ::popen(cmd.c_str(), "r");
  ASSERT_NE(sub, nullptr);
  std::this_thread::sleep_for(300ms);  // subscribed

  auto update = [&](std::string twin, std::string patch, bool observed) {
    auto e = std::make_shared<twin::ChangeEvent>();
    e->type = twin::EventType::twin_update;
    e->twin_id = std::move(twin);
    e->model_id = "dtmi:t:Conveyor;1";
    e->observed = observed;
    e->data = R"({"modelId":"dtmi:t:Conveyor;1","patch":)" + patch + "}";
    bus.publish(std::move(e));
  };
  update("conveyor-1", R"([{"op":"replace","path":"/speedSetpoint","value":9.9}])", true);
  update("conveyor-1", R"([{"op":"replace","path":"/serial","value":"x"}])", false);
  update("conveyor-1", R"([{"op":"replace","path":"/speedSetpoint","value":0.8}])", false);
  ASSERT_EQ(::pclose(sub), 0);
  std::ifstream in(out_path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "plant/line-7/conveyor-1/set/speedSetpoint 0.8");
  ASSERT_TRUE(eventually([&] { return (*connector)->stats().setpoints_sent == 1; }));

  update("conveyor-2", R"([{"op":"add","path":"/speedSetpoint","value":1}])", false);
  ASSERT_TRUE(eventually([&] { return (*connector)->stats().setpoints_unroutable == 1; }));
  EXPECT_EQ((*connector)->stats().setpoints_sent, 1u);
}

}  // namespace
}  // namespace castor::ingest
