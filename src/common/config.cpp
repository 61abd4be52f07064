#include "common/config.hpp"

#include <arpa/inet.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <variant>
#include <vector>

#include "common/log.hpp"
#include "common/mqtt_config_toml.hpp"

namespace castor {
namespace {

using std::chrono::milliseconds;
using Field = std::variant<std::string Config::*, bool Config::*, std::uint64_t Config::*,
                           milliseconds Config::*>;

struct OptionRow {
  OptionInfo info;
  Field field;
  std::uint64_t min = 0, max = std::numeric_limits<std::uint64_t>::max();  // count and size
};

// The single source of truth for serve's options. Keep in sync with docs/operations.md.
const OptionRow kOptions[] = {
    {{"data", OptionKind::text, "castor-data", "Data directory (created if missing)."},
     &Config::data_dir},
    {{"listen", OptionKind::text, "",
      "HOST:PORT to serve on; default 127.0.0.1:8443, or 127.0.0.1:8080 with --insecure-local. "
      "Port 0 picks a free port."},
     &Config::listen},
    {{"insecure_local", OptionKind::boolean, "false",
      "Serve plain HTTP without authentication; loopback addresses only."},
     &Config::insecure_local},
    {{"tls_cert", OptionKind::text, "",
      "PEM certificate chain; default a generated one in DATA/tls/server.pem."},
     &Config::tls_cert},
    {{"tls_key", OptionKind::text, "", "PEM private key for --tls-cert."}, &Config::tls_key},
    {{"io_threads", OptionKind::count, "0",
      "Threads that serve HTTP connections (1-256); 0 means half the CPUs, at least one (the "
      "twin shards run one thread per CPU beside them)."},
     &Config::io_threads,
     0,
     256},
    {{"max_body_size", OptionKind::size, "8MiB",
      "Largest accepted request body (e.g. 512KiB, 8MiB); larger ones get 413."},
     &Config::max_body_size,
     1,
     std::uint64_t{1} << 32},
    {{"header_timeout", OptionKind::duration, "30s",
      "Time allowed to receive request headers, including keep-alive idle time."},
     &Config::header_timeout},
    {{"body_timeout", OptionKind::duration, "60s", "Time allowed to receive a request body."},
     &Config::body_timeout},
    {{"write_timeout", OptionKind::duration, "60s", "Time allowed to send a response."},
     &Config::write_timeout},
    {{"shutdown_timeout", OptionKind::duration, "10s",
      "On SIGTERM, how long in-flight requests may take before connections are cut."},
     &Config::shutdown_timeout},
    {{"log_level", OptionKind::text, "info", "trace, debug, info, warn, error or off."},
     &Config::log_level},
    {{"log_format", OptionKind::text, "logfmt",
      "logfmt (key=value) or json (one object per line)."},
     &Config::log_format},
    {{"access_log", OptionKind::boolean, "true", "Log one line per HTTP request."},
     &Config::access_log},
    {{"shards", OptionKind::count, "0",
      "Twin core shards (threads owning twins); 0 means one per CPU."},
     &Config::shards, 0, 256},
    {{"durability", OptionKind::text, "strict",
      "strict: an acknowledged write survives power loss (fsync per group commit); relaxed: it "
      "survives a crash of castor but not of the machine, for more throughput."},
     &Config::durability},
    {{"import_dir", OptionKind::text, "",
      "Folder that import jobs read from and write their logs to (file:// paths must lie inside "
      "it); default DATA/import."},
     &Config::import_dir},
    {{"web_root", OptionKind::text, "",
      "Folder of the built web dashboard (web/dist of the sources), served at / and /assets/; "
      "without it / says how to build and pass it."},
     &Config::web_root},
    {{"query_timeout", OptionKind::duration, "30s",
      "Longest a query may run before it fails with TimeoutError (ADT gives up after 60s)."},
     &Config::query_timeout},
    {{"query_memory", OptionKind::size, "256MiB",
      "Memory one query may hold for intermediate rows and result keys; more fails with "
      "SqlQueryError."},
     &Config::query_memory,
     std::uint64_t{1} << 20,
     std::uint64_t{1} << 40},
    {{"query_page_size", OptionKind::count, "1000",
      "Largest page of query results (ADT: 1000); max-items-per-page asks for fewer."},
     &Config::query_page_size,
     1,
     100000},
    {{"query_cursor_ttl", OptionKind::duration, "5m",
      "How long a query's continuation token stays valid after the page that returned it."},
     &Config::query_cursor_ttl},
    {{"query_cursor_memory", OptionKind::size, "512MiB",
      "Memory the results kept for continuation tokens may use together; the least recently "
      "read are dropped first."},
     &Config::query_cursor_memory,
     std::uint64_t{1} << 20,
     std::uint64_t{1} << 40},
    {{"query_indexes", OptionKind::text, "",
      "Property indexes for queries, comma-separated: a property path (temperature, state.mode) "
      "for every twin, or MODEL:PATH (dtmi:com:example:Robot;1:temperature) for twins of that "
      "model and models extending it."},
     &Config::query_indexes},
    {{"query_auto_index_after", OptionKind::count, "3",
      "Index a property automatically once this many queries filtered on it with =, <, <=, > or "
      ">= and a literal (at most 16 such indexes); 0 turns automatic indexes off."},
     &Config::query_auto_index_after},
    {{"query_render_cache", OptionKind::size, "128MiB",
      "Rendered JSON of whole twins that query rows show (SELECT T, SELECT *) kept per shard, "
      "so that rows of recently shown twins are copied rather than rendered again; about 1.4 KB "
      "per twin of 20 properties; any change of a twin drops its copy; 0 turns it off."},
     &Config::query_render_cache,
     0,
     std::uint64_t{1} << 40},
    {{"event_source", OptionKind::text, "",
      "The \"source\" attribute of the CloudEvents that event routes deliver (ADT: the instance "
      "host name); default this machine's host name."},
     &Config::event_source},
    {{"event_routes_limit", OptionKind::count, "64",
      "Most event routes that may exist (ADT allows 6); more get 400 LimitExceeded."},
     &Config::event_routes_limit,
     1,
     100000},
    {{"event_stream_queue", OptionKind::count, "1000",
      "Events queued per subscriber of the live event stream (/castor/v1/events); a slower "
      "subscriber loses the oldest and is told how many."},
     &Config::event_stream_queue,
     1,
     1000000},
    {{"history_retention", OptionKind::duration, "0",
      "How long history keeps points (e.g. 720h); 0 keeps them forever. Enforced continuously."},
     &Config::history_retention},
    {{"history_retention_models", OptionKind::text, "",
      "Retention per model, overriding history_retention: MODEL=DURATION pairs separated by commas "
      "(e.g. dtmi:factory:Robot;1=168h)."},
     &Config::history_retention_models},
    {{"history_chunk_points", OptionKind::count, "4096",
      "Points per compressed history chunk before it is sealed to disk (16-1048576)."},
     &Config::history_chunk_points,
     16,
     1048576},
    {{"history_checkpoint_interval", OptionKind::duration, "30s",
      "How often history head chunks are checkpointed and the history WAL trimmed (bounds restart replay)."},
     &Config::history_checkpoint_interval},
    {{"ingest_max_in_flight", OptionKind::count, "1000000",
      "Observations being written before ingest stops reading new requests (backpressure)."},
     &Config::ingest_max_in_flight,
     1000,
     100000000},
};

// The one TOML key that is a section rather than an option: [[endpoints]] tables.
constexpr std::string_view kEndpointsKey = "endpoints";

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(const std::string& file, std::string_view key) {
  std::string known, best;
  std::size_t best_distance = 3;
  for (const auto& row : kOptions) {
    if (!known.empty()) known += ", ";
    known += row.info.key;
    std::size_t d = edit_distance(key, row.info.key);
    if (d < best_distance) {
      best_distance = d;
      best = row.info.key;
    }
  }
  known += ", ";
  known += kEndpointsKey;
  if (edit_distance(key, kEndpointsKey) < best_distance) best = kEndpointsKey;
  std::string msg = "config file '" + file + "': unknown key '" + std::string(key) + "'";
  if (!best.empty()) msg += "; did you mean '" + best + "'?";
  return msg + " Remove it or fix its spelling (known keys: " + known + ").";
}

Result<bool> parse_bool(std::string_view t) {
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return invalid_argument("'" + std::string(t) + "' is not a boolean; use true or false");
}

Result<std::uint64_t> parse_count(std::string_view t) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc{} || end != t.data() + t.size()) {
    return invalid_argument("'" + std::string(t) + "' is not a whole number");
  }
  return v;
}

// A value as found in one source: text from flags and env, typed TOML from the file.
struct RawValue {
  std::string text;
  std::string source;  // "--io-threads", "environment variable CASTOR_IO_THREADS", ...
};

Status apply(Config& c, const OptionRow& row, const RawValue& raw) {
  auto fail = [&](const Status& s) {
    return invalid_argument(raw.source + ": " + s.message() + ".");
  };
  return std::visit(
      [&](auto member) -> Status {
        using T = std::remove_reference_t<decltype(c.*member)>;
        if constexpr (std::is_same_v<T, std::string>) {
          c.*member = raw.text;
        } else if constexpr (std::is_same_v<T, bool>) {
          auto v = parse_bool(raw.text);
          if (!v) return fail(v.status());
          c.*member = *v;
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          auto v = row.info.kind == OptionKind::size ? parse_size(raw.text) : parse_count(raw.text);
          if (!v) return fail(v.status());
          if (*v < row.min || *v > row.max) {
            return fail(invalid_argument("'" + raw.text + "' is out of range; use a value from " +
                                         std::to_string(row.min) + " to " +
                                         std::to_string(row.max)));
          }
          c.*member = *v;
        } else {
          auto v = parse_duration(raw.text);
          if (!v) return fail(v.status());
          c.*member = *v;
        }
        return Status::ok();
      },
      row.field);
}

// Converts a TOML node to text, checking that its TOML type suits the option.
Result<std::string> toml_text(const OptionRow& row, const toml::node& node,
                              const std::string& src) {
  auto wrong = [&](std::string_view want) {
    return invalid_argument(src + ": expected " + std::string(want) + "; fix the value's type.");
  };
  switch (row.info.kind) {
    case OptionKind::text:
      if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
      return wrong("a string in quotes");
    case OptionKind::boolean:
      if (auto b = node.as_boolean()) return std::string(b->get() ? "true" : "false");
      return wrong("true or false");
    case OptionKind::count:
      if (auto i = node.as_integer(); i && i->get() >= 0) return std::to_string(i->get());
      return wrong("a whole number");
    case OptionKind::size:
    case OptionKind::duration:
      if (auto i = node.as_integer(); i && i->get() >= 0) return std::to_string(i->get());
      if (auto s = node.as_string()) return s->get();
      return wrong(row.info.kind == OptionKind::size ? "a size such as \"8MiB\""
                                                     : "a duration such as \"30s\"");
  }
  return wrong("a value");
}

// --- [[endpoints]] ---

// How one key of an [[endpoints]] table is read; `kind` is "" when both kinds accept it.
struct EndpointKey {
  std::string_view key;
  std::string_view kind;
  Status (*read)(EndpointConfig&, const toml::node&, const std::string& src);
};

Result<std::string> endpoint_text(const toml::node& node, const std::string& src) {
  if (auto s = node.as_string()) return s->get();
  return invalid_argument(src + ": expected a string in quotes; fix the value's type.");
}

template <std::string EndpointConfig::*Member>
Status read_text(EndpointConfig& e, const toml::node& node, const std::string& src) {
  auto v = endpoint_text(node, src);
  if (!v) return v.status();
  e.*Member = std::move(*v);
  return Status::ok();
}

template <std::uint64_t EndpointConfig::*Member, std::uint64_t Min, std::uint64_t Max>
Status read_count(EndpointConfig& e, const toml::node& node, const std::string& src) {
  auto i = node.as_integer();
  if (!i || i->get() < static_cast<std::int64_t>(Min) || static_cast<std::uint64_t>(i->get()) > Max)
    return invalid_argument(src + ": expected a whole number from " + std::to_string(Min) + " to " +
                            std::to_string(Max) + ".");
  e.*Member = static_cast<std::uint64_t>(i->get());
  return Status::ok();
}

template <milliseconds EndpointConfig::*Member>
Status read_duration(EndpointConfig& e, const toml::node& node, const std::string& src) {
  std::string text;
  if (auto i = node.as_integer(); i && i->get() >= 0) {
    text = std::to_string(i->get());
  } else if (auto str = node.as_string()) {
    text = str->get();
  } else {
    return invalid_argument(src + ": expected a duration such as \"30s\"; fix the value's type.");
  }
  auto d = parse_duration(text);
  if (!d) return invalid_argument(src + ": " + d.status().message() + ".");
  if (d->count() == 0) return invalid_argument(src + ": must be longer than 0ms.");
  e.*Member = *d;
  return Status::ok();
}

bool valid_header_name(std::string_view n) {
  if (n.empty()) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

Status read_headers(EndpointConfig& e, const toml::node& node, const std::string& src) {
  const auto* table = node.as_table();
  if (table == nullptr)
    return invalid_argument(src + ": expected a table such as { Authorization = \"Bearer ...\" }.");
  for (const auto& [key, value] : *table) {
    std::string name(key.str());
    auto text = value.as_string();
    if (!valid_header_name(name) || text == nullptr)
      return invalid_argument(src + ": header '" + name +
                              "' needs a token name and a string value.");
    if (text->get().find_first_of("\r\n") != std::string::npos)
      return invalid_argument(src + ": the value of header '" + name + "' must be one line.");
    e.headers.emplace_back(std::move(name), text->get());
  }
  return Status::ok();
}

constexpr std::uint64_t kMaxAttempts = 1000, kMaxQueue = 10000000;

const EndpointKey kEndpointKeys[] = {
    {"name", "", &read_text<&EndpointConfig::name>},
    {"kind", "", &read_text<&EndpointConfig::kind>},
    {"url", "webhook", &read_text<&EndpointConfig::url>},
    {"headers", "webhook", &read_headers},
    {"broker", "mqtt", &read_text<&EndpointConfig::broker>},
    {"topic", "mqtt", &read_text<&EndpointConfig::topic>},
    {"username", "mqtt", &read_text<&EndpointConfig::username>},
    {"password", "mqtt", &read_text<&EndpointConfig::password>},
    {"client_id", "mqtt", &read_text<&EndpointConfig::client_id>},
    {"ca_file", "", &read_text<&EndpointConfig::ca_file>},
    {"max_attempts", "", &read_count<&EndpointConfig::max_attempts, 1, kMaxAttempts>},
    {"queue_limit", "", &read_count<&EndpointConfig::queue_limit, 1, kMaxQueue>},
    {"retry_initial", "", &read_duration<&EndpointConfig::retry_initial>},
    {"retry_max", "", &read_duration<&EndpointConfig::retry_max>},
    {"timeout", "", &read_duration<&EndpointConfig::timeout>},
};

bool valid_endpoint_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || !std::isalnum(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

Status validate_endpoint(const EndpointConfig& e, const std::string& where) {
  auto bad = [&](const std::string& why) { return invalid_argument(where + ": " + why); };
  if (e.kind == "webhook") {
    if (!e.url.starts_with("http://") && !e.url.starts_with("https://"))
      return bad("url '" + e.url + "' must start with http:// or https://.");
    if (e.url.find_first_of(" \t\r\n") != std::string::npos)
      return bad("url must not contain spaces.");
  } else {
    if (!e.broker.starts_with("tcp://") && !e.broker.starts_with("ssl://"))
      return bad("broker '" + e.broker + "' must look like tcp://HOST:PORT or ssl://HOST:PORT.");
    if (e.topic.empty() || e.topic.find_first_of("+#") != std::string::npos)
      return bad("topic must be a non-empty MQTT topic without the wildcards + and #.");
    if (!e.password.empty() && e.username.empty()) return bad("password needs a username.");
  }
  if (e.retry_max < e.retry_initial)
    return bad("retry_max must not be shorter than retry_initial.");
  return Status::ok();
}

Result<EndpointConfig> read_endpoint(const toml::table& table, const std::string& where) {
  EndpointConfig e;
  const auto* kind = table.get("kind");
  std::string kind_text = kind && kind->as_string() ? kind->as_string()->get() : "";
  if (kind_text != "webhook" && kind_text != "mqtt")
    return invalid_argument(where + ": give kind = \"webhook\" or kind = \"mqtt\".");
  for (const auto& [key, node] : table) {
    std::string_view k = key.str();
    const auto* row = std::find_if(std::begin(kEndpointKeys), std::end(kEndpointKeys),
                                   [&](const EndpointKey& r) { return r.key == k; });
    std::string src = where + " key '" + std::string(k) + "'";
    if (row == std::end(kEndpointKeys))
      return invalid_argument(src +
                              " is unknown; remove it or fix its spelling (see "
                              "docs/operations.md, \"Event routes and endpoints\").");
    if (!row->kind.empty() && row->kind != kind_text)
      return invalid_argument(src + " applies only to " + std::string(row->kind) +
                              " endpoints; remove it.");
    CASTOR_RETURN_IF_ERROR(row->read(e, node, src));
  }
  if (!valid_endpoint_name(e.name))
    return invalid_argument(where + ": name '" + e.name +
                            "' must be 1-64 letters, digits, '-', "
                            "'_' or '.', starting with a letter or digit.");
  if (e.name == "default")
    return invalid_argument(where +
                            ": the endpoint 'default' is built in (the live event "
                            "stream); give this endpoint another name.");
  if (e.client_id.empty()) e.client_id = "castor-" + e.name;
  CASTOR_RETURN_IF_ERROR(validate_endpoint(e, where + " ('" + e.name + "')"));
  return e;
}

Result<std::vector<EndpointConfig>> read_endpoints(const toml::node& node,
                                                   const std::string& path) {
  std::string src = "config file '" + path + "' key 'endpoints'";
  const auto* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables())
    return invalid_argument(src + ": write each endpoint as an [[endpoints]] table.");
  std::vector<EndpointConfig> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    std::string where = "config file '" + path + "' [[endpoints]] #" + std::to_string(i + 1);
    auto e = read_endpoint(*array->get(i)->as_table(), where);
    if (!e) return e.status();
    for (const auto& other : out)
      if (other.name == e->name)
        return invalid_argument(where + ": another endpoint is already named '" + e->name +
                                "'; endpoint names must be unique.");
    out.push_back(std::move(*e));
  }
  return out;
}

using FileValues = std::map<std::string, RawValue, std::less<>>;

struct FileContents {
  FileValues values;
  std::vector<EndpointConfig> endpoints;
  std::vector<MqttConfig> mqtt;
};

Result<FileContents> read_config_file(const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return invalid_argument("config file '" + path + "' line " + std::to_string(where.line) +
                            ", column " + std::to_string(where.column) + ": " +
                            std::string(e.description()) + ". Fix the TOML syntax there.");
  }
  FileContents contents;
  FileValues& values = contents.values;
  for (const auto& [key, node] : table) {
    std::string_view k = key.str();
    if (k == kEndpointsKey) {
      auto endpoints = read_endpoints(node, path);
      if (!endpoints) return endpoints.status();
      contents.endpoints = std::move(*endpoints);
      continue;
    }
    if (k == "mqtt") {
      auto mqtt = read_mqtt_tables(node, path);
      if (!mqtt) return mqtt.status();
      contents.mqtt = std::move(*mqtt);
      continue;
    }
    const OptionRow* row = nullptr;
    for (const auto& r : kOptions) {
      if (r.info.key == k) row = &r;
    }
    if (row == nullptr) return invalid_argument(unknown_key_message(path, k));
    std::string src = "config file '" + path + "' key '" + std::string(k) + "'";
    auto text = toml_text(*row, node, src);
    if (!text) return text.status();
    values.emplace(std::string(k), RawValue{std::move(*text), std::move(src)});
  }
  return contents;
}

Status validate(const Config& c) {
  if (c.data_dir.empty()) {
    return invalid_argument("the data directory is empty; give --data DIR (or CASTOR_DATA).");
  }
  if (auto l = log::parse_level(c.log_level); !l) return invalid_argument(l.status().message());
  if (auto f = log::parse_format(c.log_format); !f) return invalid_argument(f.status().message());
  if (c.durability != "strict" && c.durability != "relaxed")
    return invalid_argument("durability '" + c.durability + "' is not strict or relaxed.");
  auto listen = parse_listen(c.effective_listen());
  if (!listen) return listen.status();
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return invalid_argument(
        "--tls-cert and --tls-key go together: give both, or neither to use the certificate "
        "Castor generates in DATA/tls/.");
  }
  if (c.insecure_local && !c.tls_cert.empty()) {
    return invalid_argument(
        "--insecure-local serves plain HTTP, so --tls-cert/--tls-key cannot apply; drop one or "
        "the other.");
  }
  if (c.insecure_local && !is_loopback_host(listen->host)) {
    return invalid_argument(
        "--insecure-local serves without TLS or authentication and therefore only on a loopback "
        "address, not '" +
        listen->host +
        "'. Listen on 127.0.0.1, [::1] or localhost, or drop --insecure-local to serve TLS with "
        "tokens.");
  }
  return Status::ok();
}

}  // namespace

std::string Config::effective_listen() const {
  if (!listen.empty()) return listen;
  return insecure_local ? "127.0.0.1:8080" : "127.0.0.1:8443";
}

std::span<const OptionInfo> config_options() {
  static const std::vector<OptionInfo> infos = [] {
    std::vector<OptionInfo> out;
    for (const auto& row : kOptions) out.push_back(row.info);
    return out;
  }();
  return infos;
}

std::string flag_name(std::string_view key) {
  std::string f = "--";
  for (char c : key) f += c == '_' ? '-' : c;
  return f;
}

std::string env_name(std::string_view key) {
  std::string e = "CASTOR_";
  for (char c : key) e += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return e;
}

Result<Config> load_config(const ConfigSources& sources) {
  auto env = [&](const std::string& name) -> std::optional<std::string> {
    if (sources.env) return sources.env(name);
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  Config config;
  FileValues file;
  if (auto it = sources.flags.find("config"); it != sources.flags.end()) {
    config.config_file = it->second;
  } else if (auto v = env("CASTOR_CONFIG"); v && !v->empty()) {
    config.config_file = *v;
  }
  if (!config.config_file.empty()) {
    auto contents = read_config_file(config.config_file);
    if (!contents) return contents.status();
    file = std::move(contents->values);
    config.endpoints = std::move(contents->endpoints);
    config.mqtt = std::move(contents->mqtt);
  }
  for (const auto& row : kOptions) {
    std::string key(row.info.key);
    std::optional<RawValue> raw;
    if (auto it = sources.flags.find(key); it != sources.flags.end()) {
      raw = RawValue{it->second, flag_name(key)};
    } else if (auto v = env(env_name(key)); v && !v->empty()) {
      raw = RawValue{*v, "environment variable " + env_name(key)};
    } else if (auto f = file.find(key); f != file.end()) {
      raw = f->second;
    } else {
      raw = RawValue{std::string(row.info.default_text), "default of " + flag_name(key)};
    }
    CASTOR_RETURN_IF_ERROR(apply(config, row, *raw));
  }
  CASTOR_RETURN_IF_ERROR(validate(config));
  return config;
}

Result<ListenAddress> parse_listen(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return invalid_argument("listen address '" + std::string(text) + "' " + std::string(why) +
                            "; write HOST:PORT, e.g. 127.0.0.1:8443 or [::1]:8443.");
  };
  ListenAddress out;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("has an unterminated IPv6 address or no port");
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("has no port");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return bad("needs brackets around an IPv6 host");
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) return bad("has no host");
  auto p = parse_count(port);
  if (!p || *p > 65535) return bad("has an invalid port (0-65535)");
  out.port = static_cast<std::uint16_t>(*p);
  return out;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

Result<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  auto number = parse_count(text.substr(0, digits));
  std::string_view unit = text.substr(digits);
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {{"", 1},
                                                                          {"B", 1},
                                                                          {"k", 1ull << 10},
                                                                          {"K", 1ull << 10},
                                                                          {"KiB", 1ull << 10},
                                                                          {"KB", 1000},
                                                                          {"kB", 1000},
                                                                          {"M", 1ull << 20},
                                                                          {"MiB", 1ull << 20},
                                                                          {"MB", 1000000},
                                                                          {"G", 1ull << 30},
                                                                          {"GiB", 1ull << 30},
                                                                          {"GB", 1000000000}};
  if (number) {
    for (const auto& [name, factor] : kUnits) {
      if (unit != name) continue;
      if (*number > std::numeric_limits<std::uint64_t>::max() / factor) break;
      return *number * factor;
    }
  }
  return invalid_argument("'" + std::string(text) +
                          "' is not a size; write a number with an optional unit such as 512KiB, "
                          "8MiB or 1GiB");
}

Result<milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  auto number = parse_count(text.substr(0, digits));
  std::string_view unit = text.substr(digits);
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"ms", 1}, {"", 1000}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  if (number && *number < (std::uint64_t{1} << 40)) {
    for (const auto& [name, factor] : kUnits) {
      if (unit == name) return milliseconds(static_cast<std::int64_t>(*number * factor));
    }
  }
  return invalid_argument("'" + std::string(text) +
                          "' is not a duration; write a number with a unit such as 250ms, 30s, "
                          "5m (a bare number means seconds)");
}

}  // namespace castor
