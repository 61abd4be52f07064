// JSON at Castor's edges: a strict parser (duplicate keys, byte-order marks, invalid UTF-8, depth
// and size limits are errors with a line and column) and a serializer that prints numbers
// shortest-round-trip. Boost.JSON's value is the DOM; this unit never accepts ambiguous input.
#pragma once

#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace castor::json {

using boost::json::array;
using boost::json::object;
using boost::json::value;

// Boost.JSON strings as std::string_view.
inline std::string_view sv(const boost::json::string& s) noexcept { return {s.data(), s.size()}; }
inline std::string_view sv(boost::json::string_view s) noexcept { return {s.data(), s.size()}; }

struct ParseLimits {
  // Largest accepted document in bytes. Default 32 MiB: far above any model or request body,
  // small enough that one request cannot exhaust memory.
  std::size_t max_bytes = 32u << 20;
  // Deepest accepted nesting of arrays and objects. Default 128; DTDL needs fewer than 40.
  std::size_t max_depth = 128;
};

struct ParseError {
  std::size_t offset = 0;  // byte offset of the problem
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in bytes
  std::string message;     // what is wrong, e.g. "duplicate key \"name\""
  std::string to_string() const;
};

// Parses exactly one JSON text. On failure `error` is filled and a null value returned.
bool parse(std::string_view text, value& out, ParseError& error, const ParseLimits& limits = {});

// Convenience wrapper: Code::invalid_argument with "line L, column C: message".
Result<value> parse(std::string_view text, const ParseLimits& limits = {});

// Serializes compactly; doubles shortest-round-trip (std::to_chars), NaN/Inf as null.
std::string serialize(const value& v);
void serialize_to(std::string& out, const value& v);
void append_string(std::string& out, std::string_view s);  // a quoted, escaped JSON string
// Whether append_string would escape a character of `s` (else it copies `s` as it is).
bool needs_escape(std::string_view s) noexcept;
void append_double(std::string& out, double d);

// Human-readable JSON kind ("object", "array", "string", "number", "boolean", "null").
std::string_view kind_name(const value& v) noexcept;

// True when the value is a JSON number with an integral value that fits in int64.
bool as_int64(const value& v, long long& out) noexcept;
// True when the value is any JSON number (int64, uint64 or double).
bool as_double(const value& v, double& out) noexcept;

}  // namespace castor::json
