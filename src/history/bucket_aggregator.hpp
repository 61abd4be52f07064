// Aggregation kernels for range queries: count, sum, mean, min, max, first, last, stddev and
// exact quantiles over [from, to), one bucket per step, empty buckets included. Points arrive as
// time-ordered columns; the per-point path is a tight loop over runs of one bucket that never
// allocates. It must never drop a point in range silently or accept points out of time order.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "common/status.hpp"

namespace castor::history {

// Quantiles one query may ask for per bucket (they multiply the result's size).
inline constexpr std::size_t kMaxQuantiles = 32;

struct AggregateQuery {
  std::int64_t from = 0;  // inclusive, ns since the Unix epoch
  std::int64_t to = 0;    // exclusive; must be after `from`
  // Bucket width in ns: buckets start at from, from + step, ...; the last one is cut at `to`.
  // 0 means one bucket for the whole range.
  std::int64_t step = 0;
  // Quantiles per bucket, each in [0, 1] (0.5 = median, 0.99 = p99). Exact: each bucket's values
  // are kept and selected with nth_element, then interpolated linearly between the two closest
  // ranks (rank q * (n - 1), like Prometheus' quantile_over_time). Empty: no buffering at all.
  std::vector<double> quantiles;
  // Default 100'000: a query that would produce more buckets is refused (resource_exhausted)
  // before anything is allocated. Trades the largest answer against memory per query.
  std::size_t max_buckets = 100'000;
  // Default 8 Mi values (64 MiB): exact quantiles over a bucket holding more are refused
  // (resource_exhausted); ask for a smaller step.
  std::size_t max_quantile_values = std::size_t{8} << 20;
  // Default true. False when the caller reads none of min, max and stddev: they are then left
  // NaN in every bucket, and the per-point loop keeps only the sum (count, sum, mean, first and
  // last are the same bits either way), which roughly halves its work.
  bool spread = true;
};

// One bucket. An empty bucket has count 0, sum 0, first_ts = last_ts = 0 and NaN elsewhere.
// NaN values count in count/first/last, propagate into sum/mean/stddev, and are skipped by
// min/max/quantiles (which are NaN only if every value is). stddev is the population one (divides
// by n), as in Prometheus and VictoriaMetrics.
struct Bucket {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::int64_t start = 0;  // covers [start, start + step), cut at the query's `to`
  std::uint64_t count = 0;
  double sum = 0;
  double mean = kNaN;
  double min = kNaN;
  double max = kNaN;
  double first = kNaN;
  double last = kNaN;
  double stddev = kNaN;
  std::int64_t first_ts = 0;
  std::int64_t last_ts = 0;
};

struct AggregateResult {
  std::vector<Bucket> buckets;
  std::size_t quantiles_per_bucket = 0;
  std::vector<double> quantile_values;  // bucket-major: buckets.size() * quantiles_per_bucket

  double quantile(std::size_t bucket, std::size_t q) const {
    return quantile_values[bucket * quantiles_per_bucket + q];
  }
};

class BucketAggregator {
 public:
  // invalid_argument for an empty range, a negative step or a quantile outside [0, 1];
  // resource_exhausted for more than max_buckets buckets.
  static Result<BucketAggregator> create(AggregateQuery query);

  // Adds points; timestamps must not decrease, within a call and across calls
  // (failed_precondition otherwise). Points outside [from, to) are ignored.
  Status add(std::span<const std::int64_t> ts, std::span<const double> values);
  // add() for slices whose order was verified already (RangeScan's: the chunk decoder checks
  // that timestamps increase strictly): only the order against the previous call is checked,
  // which saves a pass over every point of a range read.
  Status add_sorted(std::span<const std::int64_t> ts, std::span<const double> values);

  // Closes the last bucket and hands over the result.
  AggregateResult finish() &&;

 private:
  // Running sums of the open bucket. Variance uses sums shifted by the bucket's first finite
  // value, which avoids the cancellation of the textbook sum-of-squares formula.
  struct Accumulator {
    std::uint64_t count = 0;
    std::uint64_t nans = 0;
    double sum = 0;
    double shift = 0;
    double shifted_sum = 0;
    double shifted_squares = 0;
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
  };

  explicit BucketAggregator(AggregateQuery query) : query_(std::move(query)) {}
  void open_bucket(std::int64_t ts);
  void close_bucket();
  Status accumulate(std::span<const std::int64_t> ts, std::span<const double> values);
  void accumulate_spread(std::span<const double> values) noexcept;
  Status add_runs(std::span<const std::int64_t> ts, std::span<const double> values);

  AggregateQuery query_;
  AggregateResult result_;
  std::uint64_t step_ = 0;  // effective step (the whole range when the query's is 0)
  std::size_t current_ = 0;
  bool open_ = false;
  std::int64_t current_end_ = 0;
  bool seen_ = false;
  std::int64_t last_seen_ = 0;
  Accumulator acc_;
  std::vector<double> scratch_;  // the open bucket's values, for quantiles
};

}  // namespace castor::history
