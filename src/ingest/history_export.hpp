// History export: every point of every series in [from, to) (optionally of one model or twin),
// a page at a time, as NDJSON rows a data lake (and `castor import history`) can read. Pages are
// bounded in points and bytes and resume from a cursor, so neither server nor client ever holds
// the whole range. Reads like HistoryReader (snapshots on the shards, chunks on the reader's
// thread); it never writes and never reads the store on a shard or I/O thread.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>

#include "ingest/history_reader.hpp"

namespace castor::ingest {

// Where the previous page stopped: the series key ("twin\0component\0name") and the last
// timestamp exported of it (INT64_MAX: the whole series is done).
struct ExportCursor {
  std::string key;
  std::int64_t after_ts = std::numeric_limits<std::int64_t>::min();
};

struct ExportQuery {
  std::int64_t from = 0;                                       // inclusive, ns
  std::int64_t to = std::numeric_limits<std::int64_t>::max();  // exclusive, ns
  std::string model;            // only twins whose model is (or extends) this one; "" all
  std::string twin;             // only this twin; "" all
  std::size_t limit = 100'000;  // points per page
  std::size_t max_bytes = std::size_t{16} << 20;  // page body, roughly
  std::optional<ExportCursor> cursor;             // none: the first page
};

struct ExportPage {
  std::string ndjson;  // one row per line (see append_export_row)
  std::size_t rows = 0;
  std::size_t series = 0;            // series with at least one row on this page
  std::optional<ExportCursor> next;  // none: this was the last page
};

// Runs the page's reads on `reader`'s thread; `done` runs there once. An unknown model or twin is
// not_found.
void export_page(IngestPipeline& pipeline, HistoryReader& reader, ExportQuery q,
                 std::function<void(Result<ExportPage>)> done);

// The opaque continuationToken of a cursor, and back (invalid_argument when it is not one).
std::string encode_cursor(const ExportCursor& c);
Result<ExportCursor> decode_cursor(std::string_view token);

// One exported point. `type` is the series' value type, or "json" for a string series whose
// schema is an Object, Map or Array (its text is then written as JSON, not as a string).
struct ExportRow {
  std::string_view twin, component, name, model;
  std::int64_t ts = 0;
  std::string_view type;  // float64 int64 boolean string json
  double f = 0;
  std::int64_t i = 0;
  std::string_view s;  // string and json
};

// {"twin":..,"component":..,"name":..,"model":..,"ts":"<RFC 3339, 9 digits>","ts_ns":N,
//  "type":..,"value":V} and a newline.
void append_export_row(std::string& out, const ExportRow& row);
// The same row up to and including "value": (the caller appends the value's JSON and "}\n"),
// for rows whose time is already RFC 3339 text: the one place that fixes the field order.
void append_export_row_head(std::string& out, std::string_view twin, std::string_view component,
                            std::string_view name, std::string_view model, std::string_view ts,
                            std::int64_t ts_ns, std::string_view type);

// RFC 3339 UTC with nanoseconds: 2026-11-24T10:00:00.000000001Z (any int64, negative included).
std::string format_rfc3339_ns(std::int64_t ns);

}  // namespace castor::ingest
