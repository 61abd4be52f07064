#include "ingest/batch_parsers.hpp"

#include <charconv>
#include <limits>

#include "common/strings.hpp"
#include "twin/twin.hpp"

namespace castor::ingest {
namespace {

Rejection error(std::size_t index, std::string message) {
  return Rejection{index, "InvalidObservation", std::move(message)};
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

bool parse_int(std::string_view s, std::int64_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

// One JSON observation object; an empty string when it is valid, else what is wrong.
std::string read_observation(const json::value& v, Observation& out) {
  if (!v.is_object())
    return "an observation must be a JSON object with twin, name, value and optional component and "
           "ts";
  const json::object& o = v.get_object();
  bool has_value = false;
  for (const auto& kv : o) {
    std::string_view key = kv.key();
    const json::value& f = kv.value();
    if (key == "twin" || key == "name" || key == "component") {
      if (!f.is_string()) return "\"" + std::string(key) + "\" must be a string";
      std::string s(json::sv(f.get_string()));
      if (key == "twin")
        out.twin = std::move(s);
      else if (key == "name")
        out.name = std::move(s);
      else
        out.component = std::move(s);
    } else if (key == "ts") {
      if (f.is_string()) {
        if (!parse_timestamp(json::sv(f.get_string()), out.ts_ns))
          return "\"ts\" must be an RFC 3339 date-time (2026-11-24T10:00:00.5Z) or integer "
                 "nanoseconds";
      } else {
        long long n = 0;
        if (!json::as_int64(f, n) || n <= 0)
          return "\"ts\" must be an RFC 3339 date-time or a positive integer of nanoseconds since "
                 "1970";
        out.ts_ns = n;
      }
    } else if (key == "value") {
      if (f.is_null() || f.is_array())
        return "\"value\" must be a number, a boolean, a string or an object";
      out.value = f;
      has_value = true;
    } else {
      return "unknown member \"" + std::string(key) +
             "\" (expected twin, name, component, ts, value)";
    }
  }
  if (out.twin.empty()) return "\"twin\" (the twin id) is missing or empty";
  if (out.name.empty()) return "\"name\" (a telemetry or property name) is missing or empty";
  if (!has_value) return "\"value\" is missing";
  return {};
}

void add_json(ParsedBatch& b, const json::value& v, std::size_t index) {
  Observation o;
  std::string why = read_observation(v, o);
  if (!why.empty()) return b.errors.push_back(error(index, std::move(why)));
  b.observations.push_back(std::move(o));
  b.origin.push_back(index);
}

}  // namespace

bool parse_timestamp(std::string_view text, std::int64_t& ns) {
  if (text.empty()) return false;
  if (text.find_first_not_of("0123456789") == std::string_view::npos)
    return parse_int(text, ns) && ns > 0;
  twin::Nanos t = 0;
  if (!twin::parse_time(text, t)) return false;
  ns = t;
  return true;
}

Result<BatchFormat> batch_format(std::string_view content_type) {
  const std::string_view type = media_type(content_type);
  const auto is = [type](std::string_view name) { return equals_ignoring_case(type, name); };
  if (is("application/json")) return BatchFormat::json;
  if (is("application/x-ndjson") || is("application/ndjson") || is("application/jsonl") ||
      is("application/x-jsonlines"))
    return BatchFormat::ndjson;
  if (is("text/plain") || is("application/x-influx-line-protocol"))
    return BatchFormat::line_protocol;
  return Status(
      Code::invalid_argument,
      "Content-Type '" + std::string(content_type) +
          "' is not an ingest format: use application/json (an array), application/x-ndjson or "
          "text/plain (InfluxDB line protocol)",
      "UnsupportedMediaType");
}

ParsedBatch parse_json_batch(std::string_view body) {
  ParsedBatch b;
  json::value doc;
  json::ParseError e;
  if (!json::parse(body, doc, e)) {
    b.errors.push_back(error(0, "the body is not valid JSON: " + e.message));
    return b;
  }
  if (!doc.is_array()) {
    b.errors.push_back(error(0, "the body must be a JSON array of observations"));
    return b;
  }
  const auto& arr = doc.get_array();
  b.observations.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) add_json(b, arr[i], i);
  return b;
}

ParsedBatch parse_ndjson_batch(std::string_view body) {
  ParsedBatch b;
  std::size_t line = 0;
  while (!body.empty()) {
    std::size_t nl = body.find('\n');
    std::string_view text = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line;
    if (trimmed(text).empty()) continue;
    json::value v;
    json::ParseError e;
    if (!json::parse(text, v, e)) {
      b.errors.push_back(
          error(line, "line " + std::to_string(line) + " is not valid JSON: " + e.message));
      continue;
    }
    add_json(b, v, line);
  }
  return b;
}

ParsedBatch parse_batch(BatchFormat format, std::string_view body) {
  switch (format) {
    case BatchFormat::json: return parse_json_batch(body);
    case BatchFormat::ndjson: return parse_ndjson_batch(body);
    case BatchFormat::line_protocol: return parse_line_protocol(body);
  }
  return {};
}

}  // namespace castor::ingest
