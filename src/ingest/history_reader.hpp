// HistoryReader: range, aggregate and latest-value reads of history for one series or for one
// name across every twin of a model. Takes consistent snapshots of the series on their shards
// (head chunks included, so acknowledged points are visible at once), then reads sealed chunks
// and aggregates on its own thread, sharing the work (the series of a many-series read, or one
// long series' buckets) with one helper thread that it never waits for; never on a shard or an
// I/O thread. Read-only.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "common/job_thread.hpp"
#include "ingest/pipeline.hpp"

namespace castor::ingest {

enum class AggregateKind : unsigned char {
  count,
  sum,
  avg,
  min,
  max,
  first,
  last,
  stddev,
  quantile
};

struct AggregateSpec {
  AggregateKind kind = AggregateKind::avg;
  double q = 0;      // quantile in [0, 1]
  std::string name;  // as asked: "avg", "p99", ...
};

// "avg,max,p99,p99.9": count sum avg min max first last stddev and pNN (percentiles).
Result<std::vector<AggregateSpec>> parse_aggregates(std::string_view list);

struct HistoryQuery {
  std::string twin;   // one twin, or
  std::string model;  // every twin whose model is (or extends) this one
  std::string component;
  std::string name;
  std::int64_t from = 0;                                       // inclusive, ns
  std::int64_t to = std::numeric_limits<std::int64_t>::max();  // exclusive, ns
  std::int64_t step = 0;                                       // 0: one bucket
  std::vector<AggregateSpec> aggregates;                       // empty: raw points
  std::size_t limit = 1'000'000;                               // raw points per series
};

struct SeriesResult {
  std::string twin, component, name;
  history::ValueType type = history::ValueType::float64;
  std::vector<std::int64_t> ts;
  std::size_t columns = 1;         // values per row
  std::vector<double> numbers;     // rows x columns: aggregates, raw float64 and boolean
  std::vector<std::int64_t> ints;  // raw int64
  std::vector<std::string> texts;  // raw string
  bool truncated = false;          // more raw points than `limit`
  bool has_latest = false;         // latest(): whether the series has a point
};

class HistoryReader {
 public:
  explicit HistoryReader(IngestPipeline& pipeline);
  ~HistoryReader();
  HistoryReader(const HistoryReader&) = delete;
  HistoryReader& operator=(const HistoryReader&) = delete;

  // `done` runs once on the reader's thread. A twin query for an unknown twin is not_found
  // (DigitalTwinNotFound); a known twin without points gives one empty series.
  void read(HistoryQuery q, std::function<void(Result<std::vector<SeriesResult>>)> done);
  // The last point of each series (one row; `has_latest` false when the series has none).
  void latest(HistoryQuery q, std::function<void(Result<std::vector<SeriesResult>>)> done);
  // Runs `job` on the reader's thread, after the jobs already posted (history_export.cpp reads
  // there too).
  void post(std::function<void()> job);

 private:
  using Snapshots = std::vector<history::SeriesSnapshot>;
  void snapshot(const HistoryQuery& q, std::function<void(Result<Snapshots>)> done);
  // `may_split`: a long series may be aggregated with the helper's help (when it is the only
  // one read).
  Result<SeriesResult> evaluate(const HistoryQuery& q, const history::SeriesSnapshot& snap,
                                bool may_split);

  IngestPipeline& pipeline_;
  // Takes parts of a read (series, or one long series' buckets) when it gets a core in time;
  // the reader does whatever the helper has not finished, so a busy machine never makes a read
  // wait for it.
  JobThread helper_{"castor-hhelp"};
  JobThread reader_{"castor-hread"};
};

}  // namespace castor::ingest
