#include "history/bucket_aggregator.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace castor::history {
namespace {

using u64 = std::uint64_t;

// Linear interpolation between the order statistics around rank q * (n - 1). Selects ranks in
// ascending order so each nth_element only partitions what lies above the previous rank.
void select_quantiles(std::vector<double>& values, std::span<const double> qs, double* out) {
  if (values.empty()) {
    std::fill(out, out + qs.size(), Bucket::kNaN);
    return;
  }
  std::vector<std::size_t> order(qs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return qs[a] < qs[b]; });
  const std::size_t n = values.size();
  std::size_t left = 0;
  for (const std::size_t k : order) {
    const double rank = qs[k] * static_cast<double>(n - 1);
    const auto lo = std::min(static_cast<std::size_t>(rank), n - 1);
    const auto base = values.begin();
    std::nth_element(base + static_cast<std::ptrdiff_t>(left),
                     base + static_cast<std::ptrdiff_t>(lo), values.end());
    left = lo;
    const double low = values[lo];
    const double frac = rank - static_cast<double>(lo);
    if (frac <= 0 || lo + 1 == n) {
      out[k] = low;
      continue;
    }
    const double high = *std::min_element(base + static_cast<std::ptrdiff_t>(lo + 1), values.end());
    out[k] = low == high ? low : low + (high - low) * frac;
  }
}

// std::lower_bound without branches on the data: where a bucket ends inside a block is a coin
// toss for the branch predictor, and a range read asks a few times per block.
std::span<const std::int64_t>::iterator branchless_lower_bound(
    std::span<const std::int64_t>::iterator it, std::span<const std::int64_t>::iterator end,
    std::int64_t key) noexcept {
  auto len = end - it;
  if (len == 0) return it;
  while (len > 1) {
    const auto half = len / 2;
    it += it[half] < key ? half : 0;
    len -= half;
  }
  return it + (*it < key);
}

// The first of the sorted [it, end) not before `key`, for *it < key <= end[-1] (a bucket end
// inside a slice). Points usually come at a steady pace, so the answer is guessed by
// interpolating between the slice's first and last timestamps and confirmed by its neighbours;
// a guess more than a few points off falls back to the search.
std::span<const std::int64_t>::iterator first_not_before(
    std::span<const std::int64_t>::iterator it, std::span<const std::int64_t>::iterator end,
    std::int64_t key) noexcept {
  constexpr std::ptrdiff_t kWalk = 3;
  const std::ptrdiff_t n = end - it;
  if (n < 2) return branchless_lower_bound(it, end, key);
  const u64 span = static_cast<u64>(end[-1]) - static_cast<u64>(it[0]);
  const u64 offset = static_cast<u64>(key) - static_cast<u64>(it[0]);  // wraps if key < *it
  if (span == 0 || offset > span) return branchless_lower_bound(it, end, key);
  auto guess = static_cast<std::ptrdiff_t>(static_cast<double>(offset) / static_cast<double>(span) *
                                               static_cast<double>(n - 1) +
                                           0.5);
  guess = std::clamp<std::ptrdiff_t>(guess, 0, n - 1);
  for (std::ptrdiff_t step = 0; step < kWalk && guess > 0 && it[guess - 1] >= key; ++step) --guess;
  for (std::ptrdiff_t step = 0; step < kWalk && guess < n && it[guess] < key; ++step) ++guess;
  if ((guess == 0 || it[guess - 1] < key) && (guess == n || it[guess] >= key)) return it + guess;
  return branchless_lower_bound(it, end, key);
}

}  // namespace

Result<BucketAggregator> BucketAggregator::create(AggregateQuery query) {
  if (query.to <= query.from) {
    return invalid_argument("the range is empty: `to` (" + std::to_string(query.to) +
                            ") must be after `from` (" + std::to_string(query.from) + ")");
  }
  if (query.step < 0) return invalid_argument("step must be positive, or 0 for a single bucket");
  if (query.quantiles.size() > kMaxQuantiles) {
    return invalid_argument("at most " + std::to_string(kMaxQuantiles) +
                            " quantiles per query; ask for fewer");
  }
  for (const double q : query.quantiles) {
    if (!(q >= 0 && q <= 1)) {
      return invalid_argument("quantile " + std::to_string(q) +
                              " is outside [0, 1]; write the 99th percentile as 0.99");
    }
  }
  const u64 span = static_cast<u64>(query.to) - static_cast<u64>(query.from);
  const u64 step = query.step == 0 ? span : static_cast<u64>(query.step);
  const u64 buckets = span / step + (span % step != 0);
  if (buckets > query.max_buckets) {
    return resource_exhausted("the query asks for " + std::to_string(buckets) +
                              " buckets, more than the limit of " +
                              std::to_string(query.max_buckets) + "; use a larger step");
  }
  BucketAggregator agg(std::move(query));
  agg.step_ = step;
  agg.current_end_ = agg.query_.from;
  agg.result_.buckets.resize(buckets);
  for (u64 k = 0; k < buckets; ++k) {
    agg.result_.buckets[k].start =
        static_cast<std::int64_t>(static_cast<u64>(agg.query_.from) + k * step);
  }
  agg.result_.quantiles_per_bucket = agg.query_.quantiles.size();
  agg.result_.quantile_values.assign(buckets * agg.query_.quantiles.size(), Bucket::kNaN);
  return agg;
}

void BucketAggregator::open_bucket(std::int64_t ts) {
  const u64 offset = static_cast<u64>(ts) - static_cast<u64>(query_.from);
  if (open_) {
    close_bucket();
    // Usually the very next bucket (ts >= its start, so the subtraction cannot wrap): no divide.
    const u64 next_start = (current_ + 1) * step_;
    current_ =
        offset - next_start < step_ ? current_ + 1 : static_cast<std::size_t>(offset / step_);
  } else {
    current_ = static_cast<std::size_t>(offset / step_);
  }
  const u64 span = static_cast<u64>(query_.to) - static_cast<u64>(query_.from);
  // The last bucket ends at `to`; (current_ + 1) * step_ cannot overflow before it.
  const u64 end = current_ + 1 == result_.buckets.size() ? span : (current_ + 1) * step_;
  current_end_ = static_cast<std::int64_t>(static_cast<u64>(query_.from) + end);
  open_ = true;
  acc_ = {};
}

void BucketAggregator::close_bucket() {
  Bucket& b = result_.buckets[current_];
  const auto n = static_cast<double>(acc_.count);
  b.count = acc_.count;
  b.sum = acc_.sum;
  b.mean = acc_.sum / n;
  if (query_.spread) {
    if (acc_.nans < acc_.count) {
      b.min = acc_.min;
      b.max = acc_.max;
    }
    const double variance = (acc_.shifted_squares - acc_.shifted_sum * acc_.shifted_sum / n) / n;
    // Rounding can leave a tiny negative variance; NaN (from NaN or Inf values) passes through.
    b.stddev = std::sqrt(variance < 0 ? 0.0 : variance);
  }
  if (!query_.quantiles.empty()) {
    select_quantiles(scratch_, query_.quantiles,
                     &result_.quantile_values[current_ * query_.quantiles.size()]);
    scratch_.clear();
  }
  open_ = false;
}

void BucketAggregator::accumulate_spread(std::span<const double> values) noexcept {
  Accumulator a = acc_;  // locals keep the loop in registers
  for (const double v : values) {
    a.sum += v;
    const double d = v - a.shift;
    a.shifted_sum += d;
    a.shifted_squares += d * d;
    a.min = v < a.min ? v : a.min;
    a.max = v > a.max ? v : a.max;
    a.nans += v != v;
  }
  a.count += values.size();
  acc_ = a;
}

Status BucketAggregator::accumulate(std::span<const std::int64_t> ts,
                                    std::span<const double> values) {
  Bucket& b = result_.buckets[current_];
  if (acc_.count == 0) {
    b.first = values.front();
    b.first_ts = ts.front();
    acc_.shift = std::isfinite(values.front()) ? values.front() : 0.0;
  }
  if (query_.spread) {
    accumulate_spread(values);
  } else {
    double sum = acc_.sum;  // the same additions in the same order as accumulate_spread()
    for (const double v : values) sum += v;
    acc_.sum = sum;
    acc_.count += values.size();
  }
  b.last = values.back();
  b.last_ts = ts.back();
  if (query_.quantiles.empty()) return Status::ok();
  if (scratch_.size() + values.size() > query_.max_quantile_values) {
    return resource_exhausted("a bucket holds more than " +
                              std::to_string(query_.max_quantile_values) +
                              " values, too many for exact quantiles; use a smaller step");
  }
  for (const double v : values) {
    if (!std::isnan(v)) scratch_.push_back(v);
  }
  return Status::ok();
}

Status BucketAggregator::add(std::span<const std::int64_t> ts, std::span<const double> values) {
  if (ts.size() != values.size()) {
    return invalid_argument("add() needs as many values as timestamps");
  }
  if (ts.empty()) return Status::ok();
  if (!std::is_sorted(ts.begin(), ts.end())) {
    return failed_precondition("points must be added in time order; merge and sort them first");
  }
  return add_runs(ts, values);
}

Status BucketAggregator::add_sorted(std::span<const std::int64_t> ts,
                                    std::span<const double> values) {
  if (ts.size() != values.size()) {
    return invalid_argument("add() needs as many values as timestamps");
  }
  if (ts.empty()) return Status::ok();
  return add_runs(ts, values);
}

Status BucketAggregator::add_runs(std::span<const std::int64_t> ts,
                                  std::span<const double> values) {
  if (seen_ && ts.front() < last_seen_) {
    return failed_precondition("points must be added in time order; merge and sort them first");
  }
  seen_ = true;
  last_seen_ = ts.back();
  // Most slices of a range read lie wholly inside the range: no search then.
  auto it = ts.front() >= query_.from ? ts.begin()
                                      : std::lower_bound(ts.begin(), ts.end(), query_.from);
  const auto end = ts.back() < query_.to ? ts.end() : std::lower_bound(it, ts.end(), query_.to);
  while (it != end) {
    if (!open_ || *it >= current_end_) open_bucket(*it);
    const auto run_end = end[-1] < current_end_ ? end : first_not_before(it, end, current_end_);
    const auto i = static_cast<std::size_t>(it - ts.begin());
    const auto n = static_cast<std::size_t>(run_end - it);
    CASTOR_RETURN_IF_ERROR(accumulate(ts.subspan(i, n), values.subspan(i, n)));
    it = run_end;
  }
  return Status::ok();
}

AggregateResult BucketAggregator::finish() && {
  if (open_) close_bucket();
  return std::move(result_);
}

}  // namespace castor::history
