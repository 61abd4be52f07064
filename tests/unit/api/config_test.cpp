#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "common/config.hpp"
#include "test_dir.hpp"

namespace castor {
namespace {

ConfigSources sources(std::map<std::string, std::string, std::less<>> flags,
                      std::map<std::string, std::string> env = {}) {
  ConfigSources s;
  s.flags = std::move(flags);
  s.env = [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return s;
}

std::string write_toml(const castor::testing::TempDir& dir, const std::string& text) {
  auto path = (dir.path() / "castor.toml").string();
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsAreDocumentedValues) {
  auto c = load_config(sources({}));
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->data_dir, "castor-data");
  EXPECT_EQ(c->effective_listen(), "127.0.0.1:8443");
  EXPECT_EQ(c->io_threads, 0u);  // half the CPUs, resolved by the server
  EXPECT_EQ(c->max_body_size, 8u << 20);
  EXPECT_EQ(c->header_timeout, std::chrono::seconds(30));
  EXPECT_TRUE(c->access_log);
  auto insecure = load_config(sources({{"insecure_local", "true"}}));
  ASSERT_TRUE(insecure.is_ok());
  EXPECT_EQ(insecure->effective_listen(), "127.0.0.1:8080");
}

TEST(Config, FlagBeatsEnvBeatsFileBeatsDefault) {
  castor::testing::TempDir dir;
  auto file = write_toml(dir,
                         "listen = \"127.0.0.1:1001\"\nio_threads = 3\n"
                         "max_body_size = \"1MiB\"\nlog_level = \"debug\"\n");
  auto c = load_config(sources({{"config", file}, {"listen", "127.0.0.1:1003"}},
                               {{"CASTOR_LISTEN", "127.0.0.1:1002"}, {"CASTOR_IO_THREADS", "4"}}));
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->listen, "127.0.0.1:1003");                // flag
  EXPECT_EQ(c->io_threads, 4u);                          // env over file
  EXPECT_EQ(c->max_body_size, 1u << 20);                 // file
  EXPECT_EQ(c->log_level, "debug");                      // file
  EXPECT_EQ(c->body_timeout, std::chrono::seconds(60));  // default
  EXPECT_EQ(c->config_file, file);
}

TEST(Config, ConfigFileComesFromEnvToo) {
  castor::testing::TempDir dir;
  auto file = write_toml(dir, "data = \"/tmp/x\"\n");
  auto c = load_config(sources({}, {{"CASTOR_CONFIG", file}}));
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->data_dir, "/tmp/x");
}

TEST(Config, UnknownKeyIsAnErrorNamingTheKeyAndASuggestion) {
  castor::testing::TempDir dir;
  auto file = write_toml(dir, "lisen = \"127.0.0.1:1\"\n");
  auto c = load_config(sources({{"config", file}}));
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("unknown key 'lisen'"), std::string::npos);
  EXPECT_NE(c.status().message().find("did you mean 'listen'"), std::string::npos);
  auto nested = load_config(sources({{"config", write_toml(dir, "[tls]\ncert = \"x\"\n")}}));
  ASSERT_FALSE(nested.is_ok());
  EXPECT_NE(nested.status().message().find("unknown key 'tls'"), std::string::npos);
}

TEST(Config, BadValuesNameTheirSource) {
  castor::testing::TempDir dir;
  auto c = load_config(sources({{"io_threads", "257"}}));
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("--io-threads"), std::string::npos);
  c = load_config(sources({}, {{"CASTOR_HEADER_TIMEOUT", "soon"}}));
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("CASTOR_HEADER_TIMEOUT"), std::string::npos);
  c = load_config(sources({{"config", write_toml(dir, "io_threads = \"two\"\n")}}));
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("key 'io_threads'"), std::string::npos);
  c = load_config(sources({{"config", write_toml(dir, "listen = [\n")}}));
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("line"), std::string::npos);
  c = load_config(sources({{"config", (dir.path() / "missing.toml").string()}}));
  EXPECT_FALSE(c.is_ok());
  c = load_config(sources({{"log_level", "loud"}}));
  EXPECT_FALSE(c.is_ok());
}

TEST(Config, InsecureLocalRefusesNonLoopbackAndTlsFilesGoTogether) {
  auto c = load_config(sources({{"insecure_local", "true"}, {"listen", "0.0.0.0:8080"}}));
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("loopback"), std::string::npos);
  EXPECT_TRUE(load_config(sources({{"insecure_local", "true"}, {"listen", "[::1]:0"}})).is_ok());
  EXPECT_TRUE(load_config(sources({{"insecure_local", "1"}, {"listen", "localhost:1"}})).is_ok());
  EXPECT_FALSE(load_config(sources({{"tls_cert", "a.pem"}})).is_ok());
  EXPECT_FALSE(
      load_config(sources({{"insecure_local", "true"}, {"tls_cert", "a"}, {"tls_key", "b"}}))
          .is_ok());
}

TEST(Config, ParsesListenSizesAndDurations) {
  auto l = parse_listen("[::1]:8443");
  ASSERT_TRUE(l.is_ok());
  EXPECT_EQ(l->host, "::1");
  EXPECT_EQ(l->port, 8443);
  EXPECT_FALSE(parse_listen("::1:8443").is_ok());
  EXPECT_FALSE(parse_listen("host").is_ok());
  EXPECT_FALSE(parse_listen("host:70000").is_ok());
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_EQ(*parse_size("512KiB"), 512u * 1024);
  EXPECT_EQ(*parse_size("2MB"), 2000000u);
  EXPECT_EQ(*parse_size("100"), 100u);
  EXPECT_FALSE(parse_size("1.5MiB").is_ok());
  EXPECT_FALSE(parse_size("99999999999999999999").is_ok());
  EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(*parse_duration("5"), std::chrono::seconds(5));
  EXPECT_FALSE(parse_duration("5 s").is_ok());
}

TEST(Config, FlagAndEnvNamesDeriveFromTheKey) {
  EXPECT_EQ(flag_name("tls_cert"), "--tls-cert");
  EXPECT_EQ(env_name("tls_cert"), "CASTOR_TLS_CERT");
  bool has_listen = false;
  for (const auto& o : config_options()) has_listen |= o.key == "listen";
  EXPECT_TRUE(has_listen);
}

}  // namespace
}  // namespace castor
