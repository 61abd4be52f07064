#include "common/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <memory>

#include "common/json.hpp"

namespace castor::log {
namespace {

// Events travel through spdlog as a compact neutral encoding that the formatter renders:
// message, then per field: kFieldSep, 's' (quoted) or 'r' (raw), key, kValueSep, value.
constexpr char kFieldSep = '\x1f';
constexpr char kValueSep = '\x1e';

void append_clean(std::string& out, std::string_view s) {
  for (char c : s) out += (c == kFieldSep || c == kValueSep) ? ' ' : c;
}

std::string encode(std::string_view message, Fields fields) {
  std::string out;
  out.reserve(message.size() + fields.size() * 24);
  append_clean(out, message);
  for (const Field& f : fields) {
    out += kFieldSep;
    out += f.quoted ? 's' : 'r';
    append_clean(out, f.key);
    out += kValueSep;
    append_clean(out, f.value);
  }
  return out;
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void append_logfmt_value(std::string& out, std::string_view v, bool quoted) {
  if (!quoted || !needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

struct DecodedField {
  bool quoted;
  std::string_view key;
  std::string_view value;
};

// Calls fn(field) for every encoded field; returns the message part.
template <class Fn>
std::string_view decode(std::string_view payload, Fn&& fn) {
  std::size_t pos = payload.find(kFieldSep);
  std::string_view message = payload.substr(0, pos);
  while (pos != std::string_view::npos) {
    std::size_t next = payload.find(kFieldSep, pos + 1);
    std::string_view item = payload.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    std::size_t eq = item.find(kValueSep);
    if (!item.empty() && eq != std::string_view::npos) {
      fn(DecodedField{item[0] == 's', item.substr(1, eq - 1), item.substr(eq + 1)});
    }
    pos = next;
  }
  return message;
}

void render_payload(Format format, std::string_view payload, std::string& out) {
  if (format == Format::json) {
    std::string_view message = decode(payload, [](const DecodedField&) {});
    out += "\"msg\":";
    json::append_string(out, message);
    decode(payload, [&](const DecodedField& f) {
      out += ',';
      json::append_string(out, f.key);
      out += ':';
      if (f.quoted) {
        json::append_string(out, f.value);
      } else {
        out += f.value;
      }
    });
    return;
  }
  std::string_view message = decode(payload, [](const DecodedField&) {});
  out += "msg=";
  append_logfmt_value(out, message, true);
  decode(payload, [&](const DecodedField& f) {
    out += ' ';
    out += f.key;
    out += '=';
    append_logfmt_value(out, f.value, f.quoted);
  });
}

std::string_view level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// Renders ts, level and the event in the configured format; one line per event.
class EventFormatter final : public spdlog::formatter {
 public:
  explicit EventFormatter(Format format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    std::string ts = utc_timestamp(msg.time);
    std::string_view level = level_name(msg.level);
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (format_ == Format::json) {
      line = "{\"ts\":\"" + ts + "\",\"level\":\"" + std::string(level) + "\",";
      render_payload(format_, payload, line);
      line += "}\n";
    } else {
      line = "ts=" + ts + " level=" + std::string(level) + " ";
      render_payload(format_, payload, line);
      line += '\n';
    }
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<EventFormatter>(format_);
  }

 private:
  Format format_;
};

spdlog::level::level_enum to_spdlog(Level l) {
  switch (l) {
    case Level::trace: return spdlog::level::trace;
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
    case Level::off: return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k), quoted(false) {
  json::append_double(value, v);
}

Result<Level> parse_level(std::string_view text) {
  if (text == "trace") return Level::trace;
  if (text == "debug") return Level::debug;
  if (text == "info") return Level::info;
  if (text == "warn" || text == "warning") return Level::warn;
  if (text == "error") return Level::error;
  if (text == "off") return Level::off;
  return invalid_argument("unknown log level '" + std::string(text) +
                          "'; use one of trace, debug, info, warn, error, off");
}

Result<Format> parse_format(std::string_view text) {
  if (text == "logfmt") return Format::logfmt;
  if (text == "json") return Format::json;
  return invalid_argument("unknown log format '" + std::string(text) + "'; use logfmt or json");
}

void init(const Options& options) {
  // spdlog's default logger is the one process-wide sink; only the composition root sets it.
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(std::make_unique<EventFormatter>(options.format));
  auto logger = std::make_shared<spdlog::logger>("castor", std::move(sink));
  logger->set_level(to_spdlog(options.level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

bool enabled(Level level) noexcept {
  return spdlog::default_logger_raw()->should_log(to_spdlog(level));
}

void write(Level level, std::string_view message, Fields fields) {
  auto* logger = spdlog::default_logger_raw();
  auto l = to_spdlog(level);
  if (!logger->should_log(l)) return;
  std::string payload = encode(message, fields);
  logger->log(l, spdlog::string_view_t(payload.data(), payload.size()));
}

std::string render(Format format, std::string_view message, Fields fields) {
  std::string out;
  render_payload(format, encode(message, fields), out);
  return out;
}

}  // namespace castor::log
