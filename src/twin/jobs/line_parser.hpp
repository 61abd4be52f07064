// LineParser: one NDJSON line of an import file into a JSON object, fast (simdjson) and as strict
// as Castor's own parser (valid UTF-8, no duplicate keys, bounded depth). One per thread; the
// objects it builds use the caller's memory resource (one arena per block of lines).
#pragma once

#include <memory>
#include <string_view>

#include "common/json.hpp"
#include "common/status.hpp"

namespace castor::twin::jobs {

class LineParser {
 public:
  LineParser();
  ~LineParser();
  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  // Parses `line`, which must be followed by kLinePadding readable bytes (import_reader.hpp),
  // into `out`. Fails (Code::invalid_argument) unless the line is one JSON object.
  Status parse_object(std::string_view line, json::object& out);
  // The same for any JSON value (models are objects too, but need no arena).
  Status parse_value(std::string_view line, json::value& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace castor::twin::jobs
