// [[endpoints]] in the config file: every key read and checked, unknown keys still errors, and
// sentences that say how to fix what is wrong.
#include <gtest/gtest.h>

#include <fstream>

#include "common/config.hpp"
#include "temp_dir.hpp"

namespace castor {
namespace {

Result<Config> load(const rules::testing::TempDir& dir, const std::string& toml) {
  auto path = (dir.path() / "castor.toml").string();
  std::ofstream(path) << toml;
  ConfigSources s;
  s.flags["config"] = path;
  s.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return load_config(s);
}

void expect_error(const std::string& toml, const std::string& phrase) {
  rules::testing::TempDir dir;
  auto c = load(dir, toml);
  ASSERT_FALSE(c.is_ok()) << toml;
  EXPECT_NE(c.status().message().find(phrase), std::string::npos) << c.status().message();
}

TEST(EndpointConfig, BothKindsWithEveryOption) {
  rules::testing::TempDir dir;
  auto c = load(dir, R"(
event_source = "plant-7.example.com"
event_routes_limit = 6
event_stream_queue = 50

[[endpoints]]
name = "ops-hook"
kind = "webhook"
url = "https://hooks.example.com/castor?x=1"
headers = { Authorization = "Bearer abc", X-Tenant = "plant-7" }
ca_file = "/etc/ssl/private-ca.pem"
max_attempts = 5
retry_initial = "250ms"
retry_max = 30
timeout = "5s"
queue_limit = 500

[[endpoints]]
name = "line.bus"
kind = "mqtt"
broker = "tcp://127.0.0.1:1883"
topic = "castor/events"
username = "castor"
password = "secret"
)");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->event_source, "plant-7.example.com");
  EXPECT_EQ(c->event_routes_limit, 6u);
  EXPECT_EQ(c->event_stream_queue, 50u);
  ASSERT_EQ(c->endpoints.size(), 2u);
  const auto& w = c->endpoints[0];
  EXPECT_EQ(w.name, "ops-hook");
  EXPECT_EQ(w.kind, "webhook");
  EXPECT_EQ(w.url, "https://hooks.example.com/castor?x=1");
  ASSERT_EQ(w.headers.size(), 2u);
  EXPECT_EQ(w.headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer abc"}));
  EXPECT_EQ(w.ca_file, "/etc/ssl/private-ca.pem");
  EXPECT_EQ(w.max_attempts, 5u);
  EXPECT_EQ(w.retry_initial, std::chrono::milliseconds(250));
  EXPECT_EQ(w.retry_max, std::chrono::seconds(30));
  EXPECT_EQ(w.timeout, std::chrono::seconds(5));
  EXPECT_EQ(w.queue_limit, 500u);
  const auto& m = c->endpoints[1];
  EXPECT_EQ(m.kind, "mqtt");
  EXPECT_EQ(m.broker, "tcp://127.0.0.1:1883");
  EXPECT_EQ(m.topic, "castor/events");
  EXPECT_EQ(m.username, "castor");
  EXPECT_EQ(m.client_id, "castor-line.bus");  // default
  EXPECT_EQ(m.max_attempts, 10u);             // defaults
  EXPECT_EQ(m.retry_initial, std::chrono::seconds(1));
  EXPECT_EQ(m.queue_limit, 10000u);
}

TEST(EndpointConfig, NoEndpointsByDefault) {
  rules::testing::TempDir dir;
  auto c = load(dir, "log_level = \"warn\"\n");
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE(c->endpoints.empty());
  EXPECT_EQ(c->event_routes_limit, 64u);
}

TEST(EndpointConfig, MistakesAreErrorsThatSayWhatToDo) {
  const std::string hook =
      "[[endpoints]]\nname = \"h\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n";
  expect_error(hook + "retries = 3\n", "[[endpoints]] #1 key 'retries' is unknown");
  expect_error(hook + "topic = \"t\"\n", "key 'topic' applies only to mqtt endpoints; remove it");
  expect_error("[[endpoints]]\nname = \"x\"\nkind = \"kafka\"\n",
               "give kind = \"webhook\" or kind = \"mqtt\"");
  expect_error("[[endpoints]]\nkind = \"webhook\"\nurl = \"http://h/\"\n",
               "name '' must be 1-64 letters");
  expect_error("[[endpoints]]\nname = \"default\"\nkind = \"webhook\"\nurl = \"http://h/\"\n",
               "the endpoint 'default' is built in");
  expect_error(hook + hook, "[[endpoints]] #2: another endpoint is already named 'h'");
  expect_error("[[endpoints]]\nname = \"h\"\nkind = \"webhook\"\nurl = \"ftp://h/\"\n",
               "must start with http:// or https://");
  expect_error("[[endpoints]]\nname = \"h\"\nkind = \"webhook\"\n",
               "must start with http:// or https://");
  expect_error(
      "[[endpoints]]\nname = \"m\"\nkind = \"mqtt\"\nbroker = \"127.0.0.1:1883\"\ntopic = \"t\"\n",
      "must look like tcp://HOST:PORT or ssl://HOST:PORT");
  expect_error(
      "[[endpoints]]\nname = \"m\"\nkind = \"mqtt\"\nbroker = \"tcp://h:1\"\ntopic = \"a/#\"\n",
      "without the wildcards");
  expect_error(
      "[[endpoints]]\nname = \"m\"\nkind = \"mqtt\"\nbroker = \"tcp://h:1\"\ntopic = "
      "\"t\"\npassword = \"p\"\n",
      "password needs a username");
  expect_error(hook + "headers = \"Authorization: x\"\n", "expected a table");
  expect_error(hook + "headers = { \"Bad Name\" = \"x\" }\n", "needs a token name");
  expect_error(hook + "max_attempts = 0\n", "expected a whole number from 1 to 1000");
  expect_error(hook + "retry_initial = \"10s\"\nretry_max = \"1s\"\n",
               "retry_max must not be shorter");
  expect_error(hook + "timeout = \"soon\"\n", "is not a duration");
  expect_error("endpoints = \"webhook\"\n", "write each endpoint as an [[endpoints]] table");
  expect_error("endpoint = 1\n", "did you mean 'endpoints'?");
  expect_error("event_routes_limit = 0\n", "out of range");
}

}  // namespace
}  // namespace castor
