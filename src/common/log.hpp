// Structured logging: one event per line on stderr, as logfmt (key=value) or JSON, through spdlog.
// The composition root calls log::init once; library code only emits events. Never writes to
// stdout (stdout belongs to command output) and never logs secrets such as tokens or keys.
#pragma once

#include <concepts>
#include <initializer_list>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace castor::log {

enum class Format : unsigned char { logfmt, json };
enum class Level : unsigned char { trace, debug, info, warn, error, off };

struct Options {
  Level level = Level::info;       // events below this level are dropped before formatting
  Format format = Format::logfmt;  // logfmt for people at a terminal, json for log shippers
};

Result<Level> parse_level(std::string_view text);    // trace|debug|info|warn|error|off
Result<Format> parse_format(std::string_view text);  // logfmt|json

// Installs the stderr logger. Safe to call again (e.g. once config is loaded).
void init(const Options& options);

// One key=value pair of an event. Strings are quoted as needed; numbers and booleans are not.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : ""), quoted(true) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}
  template <std::integral T>
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, double v);

  std::string_view key;
  std::string value;
  bool quoted;
};
using Fields = std::initializer_list<Field>;

bool enabled(Level level) noexcept;
void write(Level level, std::string_view message, Fields fields);

inline void trace(std::string_view m, Fields f = {}) {
  write(Level::trace, m, f);
}
inline void debug(std::string_view m, Fields f = {}) {
  write(Level::debug, m, f);
}
inline void info(std::string_view m, Fields f = {}) {
  write(Level::info, m, f);
}
inline void warn(std::string_view m, Fields f = {}) {
  write(Level::warn, m, f);
}
inline void error(std::string_view m, Fields f = {}) {
  write(Level::error, m, f);
}

// Renders one event without the timestamp and level prefix (exposed for tests).
std::string render(Format format, std::string_view message, Fields fields);

}  // namespace castor::log
