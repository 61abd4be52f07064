// Parsers of the HTTP batch formats: a JSON array of observations, NDJSON (one observation per
// line) and InfluxDB line protocol (`<twinId>[,component=<c>] <name>=<value>[,...] [<ns ts>]`).
// They only turn bytes into observations; every malformed entry is reported with its position
// and a sentence saying what to fix, never skipped silently and never guessed at.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "ingest/observation.hpp"

namespace castor::ingest {

struct ParsedBatch {
  std::vector<Observation> observations;
  // Where each observation came from: its array index (JSON), or its 1-based line (NDJSON, line
  // protocol), for error reports.
  std::vector<std::size_t> origin;
  // Entries that could not be parsed; `index` is the array index or the 1-based line.
  std::vector<Rejection> errors;
};

enum class BatchFormat { json, ndjson, line_protocol };

// From a Content-Type: application/json, application/x-ndjson (or application/jsonl),
// text/plain (line protocol, as InfluxDB clients send it). Unknown types give invalid_argument.
Result<BatchFormat> batch_format(std::string_view content_type);

ParsedBatch parse_json_batch(std::string_view body);
ParsedBatch parse_ndjson_batch(std::string_view body);
ParsedBatch parse_line_protocol(std::string_view body);
ParsedBatch parse_batch(BatchFormat format, std::string_view body);

// RFC 3339 date-time or integer nanoseconds since the Unix epoch.
bool parse_timestamp(std::string_view text, std::int64_t& ns);

}  // namespace castor::ingest
