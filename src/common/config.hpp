// Castor's configuration: every option is a command-line flag (--tls-cert), an environment
// variable (CASTOR_TLS_CERT) and a TOML key (tls_cert), resolved flag > env > file > default.
// This unit only parses and validates; it never opens sockets, creates files or reads DATA.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/mqtt_config.hpp"
#include "common/status.hpp"

namespace castor {

// One event-route endpoint: a [[endpoints]] table of the config file (endpoints have no flags or
// environment variables). Events that routes send to it are delivered at least once, in order,
// retried with exponential backoff and dead-lettered after `max_attempts`.
struct EndpointConfig {
  std::string name;  // name: what routes use as endpointName; "default" is the live stream.
  std::string kind;  // kind: "webhook" (HTTP POST) or "mqtt" (publish, QoS 1).
  std::string url;   // url (webhook): http:// or https:// URL that receives the CloudEvents.
  // headers (webhook): extra request headers, e.g. Authorization = "Bearer ...".
  std::vector<std::pair<std::string, std::string>> headers;
  std::string broker;     // broker (mqtt): tcp://HOST:PORT or ssl://HOST:PORT.
  std::string topic;      // topic (mqtt): where events are published; no wildcards.
  std::string username;   // username (mqtt): optional.
  std::string password;   // password (mqtt): optional; only with username.
  std::string client_id;  // client_id (mqtt): default "castor-<name>".
  std::string ca_file;    // ca_file: PEM CAs to trust for https/ssl instead of the system's.
  std::uint64_t max_attempts = 10;                // max_attempts: tries before dead-lettering.
  std::chrono::milliseconds retry_initial{1000};  // retry_initial: first backoff, then doubled.
  std::chrono::milliseconds retry_max{60000};     // retry_max: longest backoff between tries.
  std::chrono::milliseconds timeout{10000};       // timeout: per attempt (connect + send + ack).
  std::uint64_t queue_limit = 10000;  // queue_limit: undelivered events kept; more dead-letter.
};

// The resolved options of `castor serve`. To add an option: add a field here and one row to the
// table in config.cpp; flag, environment variable, TOML key, --help and docs follow from the row.
struct Config {
  std::string data_dir;          // data: where Castor keeps everything. Default "castor-data".
  std::string listen;            // listen: HOST:PORT. Default 127.0.0.1:8443, or :8080 insecure.
  bool insecure_local = false;   // insecure_local: plain HTTP, no auth, loopback only.
  std::string tls_cert;          // tls_cert: PEM certificate chain; default DATA/tls/server.pem.
  std::string tls_key;           // tls_key: PEM private key; default DATA/tls/server.key.
  std::uint64_t io_threads = 0;  // io_threads: threads serving HTTP; 0 = half the CPUs, >= 1.
  std::uint64_t max_body_size = 8u << 20;             // max_body_size: larger bodies get 413.
  std::chrono::milliseconds header_timeout{30000};    // header_timeout: incl. keep-alive idle.
  std::chrono::milliseconds body_timeout{60000};      // body_timeout: to receive a request body.
  std::chrono::milliseconds write_timeout{60000};     // write_timeout: to send a response.
  std::chrono::milliseconds shutdown_timeout{10000};  // shutdown_timeout: in-flight grace.
  std::string log_level = "info";     // log_level: trace, debug, info, warn, error, off.
  std::string log_format = "logfmt";  // log_format: logfmt or json.
  bool access_log = true;             // access_log: one log line per HTTP request.
  std::uint64_t shards = 0;           // shards: twin core threads; 0 = one per CPU.
  std::string durability = "strict";  // durability: strict (fsync) or relaxed.
  std::string import_dir;             // import_dir: root of file:// paths of import jobs.
  std::string web_root;               // web_root: the built dashboard (web/dist); "" = none.
  std::chrono::milliseconds query_timeout{30000};  // query_timeout: a query's time budget.
  std::uint64_t query_memory = 256u << 20;          // query_memory: a query's memory budget.
  std::uint64_t query_page_size = 1000;             // query_page_size: largest query page.
  std::chrono::milliseconds query_cursor_ttl{300000};  // query_cursor_ttl: token lifetime.
  std::uint64_t query_cursor_memory = 512u << 20;   // query_cursor_memory: all kept results.
  std::string query_indexes;  // query_indexes: property indexes, "[MODEL:]PATH,..."
  std::uint64_t query_auto_index_after = 3;  // query_auto_index_after: 0 = no automatic ones.
  std::uint64_t query_render_cache = 128u << 20;  // query_render_cache: rendered twins kept.
  std::string event_source;           // event_source: CloudEvents "source"; default host name.
  std::uint64_t event_routes_limit = 64;    // event_routes_limit: most event routes (ADT: 6).
  std::uint64_t event_stream_queue = 1000;  // event_stream_queue: per live-stream subscriber.
  std::chrono::milliseconds history_retention{0};  // history_retention: 0 keeps forever.
  std::string history_retention_models;  // history_retention_models: MODEL=DURATION,...
  std::uint64_t history_chunk_points = 4096;  // history_chunk_points: points per sealed chunk.
  std::chrono::milliseconds history_checkpoint_interval{30000};  // history_checkpoint_interval.
  std::uint64_t ingest_max_in_flight = 1000000;  // ingest_max_in_flight: backpressure bound.
  std::vector<EndpointConfig> endpoints;    // [[endpoints]] tables; config file only
  std::vector<MqttConfig> mqtt;             // [[mqtt]] tables (MQTT ingest); config file only
  std::string config_file;            // the file that was read ("" when none); not a TOML key

  // The listen address, with the default for the mode filled in.
  std::string effective_listen() const;
};

enum class OptionKind : unsigned char { text, boolean, count, size, duration };

struct OptionInfo {
  std::string_view key;  // TOML key, e.g. "tls_cert"
  OptionKind kind;
  std::string_view default_text;  // as a user would write it; "" means unset
  std::string_view help;          // one sentence for --help and the docs
};

// Every option, in the order --help lists them. Flag and env names derive from the key.
std::span<const OptionInfo> config_options();
std::string flag_name(std::string_view key);  // "tls_cert" -> "--tls-cert"
std::string env_name(std::string_view key);   // "tls_cert" -> "CASTOR_TLS_CERT"

// Where option values come from. `flags` holds the raw text given on the command line, keyed by
// TOML key, plus "config" for --config. `env` reads the environment (getenv when empty).
struct ConfigSources {
  std::map<std::string, std::string, std::less<>> flags;
  std::function<std::optional<std::string>(const std::string&)> env;
};

// Resolves every option. Errors name the source (flag, variable or file key) and say how to fix
// it; unknown keys in the config file are errors.
Result<Config> load_config(const ConfigSources& sources);

// HOST:PORT or [IPv6]:PORT; PORT may be 0 (pick a free port).
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
Result<ListenAddress> parse_listen(std::string_view text);
bool is_loopback_host(std::string_view host);  // localhost, 127.0.0.0/8, ::1

// Value parsers shared with other config-like inputs: "8MiB", "512k", "1048576"; "10s", "250ms".
Result<std::uint64_t> parse_size(std::string_view text);
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace castor
