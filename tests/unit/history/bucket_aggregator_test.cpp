// BucketAggregator against a naive reference (every bucket recomputed from scratch with the
// textbook formulas) on random data, plus the edges: empty buckets, NaN, limits, order.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "history/bucket_aggregator.hpp"

namespace castor::history {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Points {
  std::vector<std::int64_t> ts;
  std::vector<double> values;
};

// The reference: filter, sort, two-pass variance, interpolated quantiles. Slow and obvious.
struct Reference {
  std::uint64_t count = 0;
  double sum = 0, mean = kNaN, min = kNaN, max = kNaN, first = kNaN, last = kNaN, stddev = kNaN;
  std::vector<double> quantiles;
};

Reference reference(const Points& p, std::int64_t from, std::int64_t to,
                    const std::vector<double>& qs) {
  Reference r;
  std::vector<double> in;
  for (std::size_t i = 0; i < p.ts.size(); ++i) {
    if (p.ts[i] >= from && p.ts[i] < to) in.push_back(p.values[i]);
  }
  r.quantiles.assign(qs.size(), kNaN);
  if (in.empty()) return r;
  r.count = in.size();
  for (double v : in) r.sum += v;
  r.mean = r.sum / static_cast<double>(in.size());
  double squares = 0;
  for (double v : in) squares += (v - r.mean) * (v - r.mean);
  r.stddev = std::sqrt(squares / static_cast<double>(in.size()));
  r.first = in.front();
  r.last = in.back();
  std::vector<double> sorted;
  for (double v : in) {
    if (!std::isnan(v)) sorted.push_back(v);
  }
  std::sort(sorted.begin(), sorted.end());
  if (sorted.empty()) return r;
  r.min = sorted.front();
  r.max = sorted.back();
  for (std::size_t k = 0; k < qs.size(); ++k) {
    const double rank = qs[k] * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(rank);
    const double frac = rank - static_cast<double>(lo);
    const double hi = lo + 1 < sorted.size() ? sorted[lo + 1] : sorted[lo];
    r.quantiles[k] =
        frac <= 0 || sorted[lo] == hi ? sorted[lo] : sorted[lo] + (hi - sorted[lo]) * frac;
  }
  return r;
}

Points random_points(std::mt19937_64& rng, std::size_t n) {
  Points p;
  std::int64_t t = static_cast<std::int64_t>(rng() % 1000) - 500;
  const double level = static_cast<double>(rng() % 1000);
  for (std::size_t i = 0; i < n; ++i) {
    t += static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % 200 : rng() % 5);  // bursts and gaps
    p.ts.push_back(t);
    p.values.push_back(level + static_cast<double>(rng() % 10000) / 100);
  }
  return p;
}

// Feeds the points in random-sized slices, as a scan over blocks would.
Result<AggregateResult> run(const AggregateQuery& q, const Points& p, std::mt19937_64& rng) {
  Result<BucketAggregator> agg = BucketAggregator::create(q);
  if (!agg.is_ok()) return agg.status();
  std::size_t i = 0;
  while (i < p.ts.size()) {
    const std::size_t n = std::min<std::size_t>(p.ts.size() - i, 1 + rng() % 200);
    CASTOR_RETURN_IF_ERROR(
        agg->add(std::span(p.ts).subspan(i, n), std::span(p.values).subspan(i, n)));
    i += n;
  }
  return std::move(agg).value().finish();
}

// The width of `r`'s buckets (the whole range when the query has no step); one bucket per step.
void bucket_step(const AggregateQuery& q, const AggregateResult& r, std::int64_t& step) {
  step = q.step == 0 ? q.to - q.from : q.step;
  ASSERT_EQ(r.buckets.size(), static_cast<std::size_t>((q.to - q.from + step - 1) / step));
}

void expect_same(double want, double got, const char* what, std::size_t bucket) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << " bucket " << bucket;
  } else {
    EXPECT_EQ(want, got) << what << " bucket " << bucket;
  }
}

TEST(BucketAggregator, MatchesTheNaiveReferenceOnRandomData) {
  std::mt19937_64 rng(12);
  for (int round = 0; round < 300; ++round) {
    const Points p = random_points(rng, rng() % 3000);
    AggregateQuery q;
    q.from = static_cast<std::int64_t>(rng() % 2000) - 1000;
    q.to = q.from + 1 + static_cast<std::int64_t>(rng() % 20000);
    q.step = rng() % 4 == 0 ? 0 : 1 + static_cast<std::int64_t>(rng() % 500);
    if (rng() % 2) q.quantiles = {0.0, 0.5, 0.9, 0.99, 1.0, 0.25};
    Result<AggregateResult> r = run(q, p, rng);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    std::int64_t step = 0;
    ASSERT_NO_FATAL_FAILURE(bucket_step(q, *r, step));
    for (std::size_t b = 0; b < r->buckets.size(); ++b) {
      const Bucket& got = r->buckets[b];
      const std::int64_t start = q.from + static_cast<std::int64_t>(b) * step;
      const Reference want = reference(p, start, std::min(start + step, q.to), q.quantiles);
      ASSERT_EQ(got.start, start);
      ASSERT_EQ(got.count, want.count) << "bucket " << b;
      EXPECT_EQ(got.sum, want.sum) << "bucket " << b;  // same order of additions: bit-equal
      expect_same(want.mean, got.mean, "mean", b);
      expect_same(want.min, got.min, "min", b);
      expect_same(want.max, got.max, "max", b);
      expect_same(want.first, got.first, "first", b);
      expect_same(want.last, got.last, "last", b);
      if (want.count > 0) {
        EXPECT_NEAR(got.stddev, want.stddev, 1e-9 * (1 + want.stddev)) << "bucket " << b;
      } else {
        EXPECT_TRUE(std::isnan(got.stddev));
      }
      for (std::size_t k = 0; k < q.quantiles.size(); ++k) {
        expect_same(want.quantiles[k], r->quantile(b, k), "quantile", b);
      }
    }
  }
}

// Without min, max, stddev and quantiles (spread off: what agg=avg, sum, count, first, last ask)
// the aggregator runs its sum-only loop: every bucket must still be the plain sum of its values
// in order, bit for bit, whatever the step, the slices and the values (NaN, Inf, overflow).
TEST(BucketAggregator, SumsOnlyEqualTheNaiveReferenceBitForBit) {
  std::mt19937_64 rng(21);
  for (int round = 0; round < 600; ++round) {
    Points p = random_points(rng, rng() % 4000);
    for (auto& v : p.values) {
      const auto pick = rng() % 64;
      if (pick == 0) v = kNaN;
      if (pick == 1) v = (rng() % 2 ? 1 : -1) * std::numeric_limits<double>::infinity();
      if (pick == 2) v = static_cast<double>(rng()) * 1e290;  // sums that overflow
      if (pick > 40) v = v / 3 - 1e-3 * static_cast<double>(rng() % 1000);  // inexact sums
    }
    AggregateQuery q;
    q.spread = false;
    q.from = static_cast<std::int64_t>(rng() % 2000) - 1000;
    q.to = q.from + 1 + static_cast<std::int64_t>(rng() % 40000);
    // Steps from below the points' spacing (a run per point, many runs per slice) to all.
    q.step = rng() % 5 == 0 ? 0 : 1 + static_cast<std::int64_t>((rng() >> (rng() % 64)) % 600);
    Result<AggregateResult> r = run(q, p, rng);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    std::int64_t step = 0;
    ASSERT_NO_FATAL_FAILURE(bucket_step(q, *r, step));
    for (std::size_t b = 0; b < r->buckets.size(); ++b) {
      const Bucket& got = r->buckets[b];
      const std::int64_t start = q.from + static_cast<std::int64_t>(b) * step;
      const Reference want = reference(p, start, std::min(start + step, q.to), {});
      ASSERT_EQ(got.count, want.count) << "bucket " << b;
      if (want.count == 0) continue;
      ASSERT_EQ(std::bit_cast<std::uint64_t>(got.sum), std::bit_cast<std::uint64_t>(want.sum))
          << "round " << round << " bucket " << b;
      expect_same(want.mean, got.mean, "mean", b);
      expect_same(want.first, got.first, "first", b);
      expect_same(want.last, got.last, "last", b);
    }
  }
}

TEST(BucketAggregator, EmptyBucketsAreReportedNotSkipped) {
  AggregateQuery q{.from = 0, .to = 60, .step = 10};
  Result<BucketAggregator> agg = BucketAggregator::create(q);
  ASSERT_TRUE(agg.is_ok());
  const std::vector<std::int64_t> ts = {5, 45, 46};
  const std::vector<double> v = {1, 2, 4};
  ASSERT_TRUE(agg->add(ts, v).is_ok());
  const AggregateResult r = std::move(agg).value().finish();
  ASSERT_EQ(r.buckets.size(), 6u);
  EXPECT_EQ(r.buckets[0].count, 1u);
  for (std::size_t b : {1, 2, 3, 5}) {
    EXPECT_EQ(r.buckets[b].count, 0u);
    EXPECT_EQ(r.buckets[b].start, static_cast<std::int64_t>(b) * 10);
    EXPECT_EQ(r.buckets[b].sum, 0);
    EXPECT_TRUE(std::isnan(r.buckets[b].mean));
    EXPECT_TRUE(std::isnan(r.buckets[b].min));
    EXPECT_TRUE(std::isnan(r.buckets[b].last));
  }
  EXPECT_EQ(r.buckets[4].count, 2u);
  EXPECT_EQ(r.buckets[4].mean, 3);
  EXPECT_EQ(r.buckets[4].stddev, 1);
  EXPECT_EQ(r.buckets[4].first_ts, 45);
  EXPECT_EQ(r.buckets[4].last_ts, 46);
}

TEST(BucketAggregator, NanIsCountedPropagatedOrSkippedAsDocumented) {
  AggregateQuery q{.from = 0, .to = 10, .quantiles = {0.5}};
  Result<BucketAggregator> agg = BucketAggregator::create(q);
  const std::vector<std::int64_t> ts = {1, 2, 3};
  const std::vector<double> v = {kNaN, 5, 1};
  ASSERT_TRUE(agg->add(ts, v).is_ok());
  const AggregateResult r = std::move(agg).value().finish();
  const Bucket& b = r.buckets[0];
  EXPECT_EQ(b.count, 3u);
  EXPECT_TRUE(std::isnan(b.sum));
  EXPECT_TRUE(std::isnan(b.stddev));
  EXPECT_TRUE(std::isnan(b.first));
  EXPECT_EQ(b.min, 1);
  EXPECT_EQ(b.max, 5);
  EXPECT_EQ(r.quantile(0, 0), 3);

  Result<BucketAggregator> all_nan = BucketAggregator::create(q);
  ASSERT_TRUE(all_nan->add(std::span(ts).first(1), std::span(v).first(1)).is_ok());
  const AggregateResult n = std::move(all_nan).value().finish();
  EXPECT_TRUE(std::isnan(n.buckets[0].min));
  EXPECT_TRUE(std::isnan(n.quantile(0, 0)));
}

TEST(BucketAggregator, StddevSurvivesALargeOffset) {
  // Values around 1e9 with unit spread: the sum-of-squares formula would lose every digit.
  AggregateQuery q{.from = 0, .to = 1000};
  Result<BucketAggregator> agg = BucketAggregator::create(q);
  std::vector<std::int64_t> ts;
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) {
    ts.push_back(i);
    v.push_back(1e9 + (i % 2 ? 1 : -1));
  }
  ASSERT_TRUE(agg->add(ts, v).is_ok());
  EXPECT_NEAR(std::move(agg).value().finish().buckets[0].stddev, 1.0, 1e-9);
}

TEST(BucketAggregator, ExtremeRangesDoNotOverflow) {
  constexpr auto lo = std::numeric_limits<std::int64_t>::min();
  constexpr auto hi = std::numeric_limits<std::int64_t>::max();
  AggregateQuery q{.from = lo, .to = hi, .step = std::int64_t{1} << 62};
  Result<BucketAggregator> agg = BucketAggregator::create(q);
  ASSERT_TRUE(agg.is_ok());
  const std::vector<std::int64_t> ts = {lo, -1, 0, hi - 1};
  const std::vector<double> v = {1, 2, 3, 4};
  ASSERT_TRUE(agg->add(ts, v).is_ok());
  const AggregateResult r = std::move(agg).value().finish();
  ASSERT_EQ(r.buckets.size(), 4u);
  EXPECT_EQ(r.buckets[0].count, 1u);
  EXPECT_EQ(r.buckets[1].count, 1u);
  EXPECT_EQ(r.buckets[2].count, 1u);
  EXPECT_EQ(r.buckets[3].count, 1u);
  EXPECT_EQ(r.buckets[3].start, std::int64_t{1} << 62);
}

TEST(BucketAggregator, RefusesBadQueriesAndDisorder) {
  EXPECT_EQ(BucketAggregator::create({.from = 5, .to = 5}).status().code(), Code::invalid_argument);
  EXPECT_EQ(BucketAggregator::create({.from = 0, .to = 5, .step = -1}).status().code(),
            Code::invalid_argument);
  EXPECT_EQ(BucketAggregator::create({.from = 0, .to = 5, .quantiles = {1.5}}).status().code(),
            Code::invalid_argument);
  EXPECT_EQ(BucketAggregator::create({.from = 0, .to = 5, .quantiles = {kNaN}}).status().code(),
            Code::invalid_argument);
  EXPECT_EQ(BucketAggregator::create({.from = 0, .to = 1'000'000, .step = 1}).status().code(),
            Code::resource_exhausted);

  Result<BucketAggregator> agg = BucketAggregator::create({.from = 0, .to = 100, .step = 10});
  const std::vector<std::int64_t> late = {50, 60};
  const std::vector<std::int64_t> early = {40};
  const std::vector<std::int64_t> unsorted = {70, 65};
  const std::vector<double> v = {1, 2};
  ASSERT_TRUE(agg->add(late, v).is_ok());
  EXPECT_EQ(agg->add(early, std::span(v).first(1)).code(), Code::failed_precondition);
  EXPECT_EQ(agg->add(unsorted, v).code(), Code::failed_precondition);
  EXPECT_EQ(agg->add(late, std::span(v).first(1)).code(), Code::invalid_argument);
}

TEST(BucketAggregator, RefusesQuantilesOverTooManyValues) {
  AggregateQuery q{.from = 0, .to = 100, .quantiles = {0.5}, .max_quantile_values = 10};
  Result<BucketAggregator> agg = BucketAggregator::create(q);
  std::vector<std::int64_t> ts(11);
  std::vector<double> v(11, 1.0);
  for (std::size_t i = 0; i < ts.size(); ++i) ts[i] = static_cast<std::int64_t>(i);
  EXPECT_EQ(agg->add(ts, v).code(), Code::resource_exhausted);
}

}  // namespace
}  // namespace castor::history
