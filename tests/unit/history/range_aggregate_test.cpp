// aggregate_range (decode and aggregate straight from chunks) against the plain path: the points
// that were encoded fed to a BucketAggregator as they are. Every field must be bit-equal, on
// random data with NaN, gaps (empty buckets), partial blocks, several sealed chunks plus a head
// snapshot, stddev and quantiles; and the decoder's fast loops must round-trip what the encoder
// writes for every timestamp and mantissa shape they special-case.
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "history/range_aggregate.hpp"
#include "history_test_util.hpp"

namespace castor::history {
namespace {

using testing::bits;
using testing::encode_all;
using testing::Series;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A day-like series: mostly a regular clock (zero delta of delta), sometimes jitter and gaps
// longer than a bucket; three-decimal values (the decimal codec), some full precision, some NaN.
Series random_series(std::mt19937_64& rng, std::size_t n) {
  Series s;
  std::int64_t t = static_cast<std::int64_t>(rng() % 1000);
  for (std::size_t i = 0; i < n; ++i) {
    const auto roll = rng() % 100;
    t += roll < 85   ? 1000
         : roll < 95 ? 1 + static_cast<std::int64_t>(rng() % 2000)
                     : 1 + static_cast<std::int64_t>(rng() % 200'000);
    s.ts.push_back(t);
    const auto kind = rng() % 100;
    double v = static_cast<double>(static_cast<std::int64_t>(rng() % 2'000'000) - 1'000'000) / 1000;
    if (kind < 2) v = kNaN;
    if (kind >= 2 && kind < 6) v = std::ldexp(static_cast<double>(rng() >> 11), -40);
    s.doubles.push_back(v);
  }
  return s;
}

// Cuts `s` into sealed chunks of random sizes (rarely a multiple of the block size); the last
// one is a head snapshot, as a reader sees the head.
std::vector<Bytes> chunked(const Series& s, std::mt19937_64& rng) {
  std::vector<Bytes> out;
  ChunkEncoder enc(ValueType::float64);
  std::size_t cut = 1 + rng() % 5000;
  for (std::size_t i = 0; i < s.ts.size(); ++i) {
    EXPECT_TRUE(enc.append(s.ts[i], s.doubles[i]).is_ok());
    if (enc.count() == cut) {
      out.push_back(*enc.seal());
      cut = 1 + rng() % 5000;
    }
  }
  if (!enc.empty()) out.push_back(*enc.snapshot());
  return out;
}

AggregateResult plain(const AggregateQuery& q, const Series& s) {
  Result<BucketAggregator> agg = BucketAggregator::create(q);
  EXPECT_TRUE(agg.is_ok());
  EXPECT_TRUE(agg->add(s.ts, s.doubles).is_ok());
  return std::move(agg).value().finish();
}

void expect_bit_equal(const AggregateResult& want, const AggregateResult& got) {
  ASSERT_EQ(want.buckets.size(), got.buckets.size());
  for (std::size_t b = 0; b < want.buckets.size(); ++b) {
    const Bucket& w = want.buckets[b];
    const Bucket& g = got.buckets[b];
    ASSERT_EQ(w.start, g.start);
    ASSERT_EQ(w.count, g.count) << "bucket " << b;
    ASSERT_EQ(w.first_ts, g.first_ts) << "bucket " << b;
    ASSERT_EQ(w.last_ts, g.last_ts) << "bucket " << b;
    for (auto [name, x, y] : {std::tuple{"sum", w.sum, g.sum},
                              {"mean", w.mean, g.mean},
                              {"min", w.min, g.min},
                              {"max", w.max, g.max},
                              {"first", w.first, g.first},
                              {"last", w.last, g.last},
                              {"stddev", w.stddev, g.stddev}}) {
      ASSERT_EQ(bits(x), bits(y)) << name << " of bucket " << b << ": " << x << " vs " << y;
    }
  }
  ASSERT_EQ(want.quantile_values.size(), got.quantile_values.size());
  for (std::size_t i = 0; i < want.quantile_values.size(); ++i) {
    ASSERT_EQ(bits(want.quantile_values[i]), bits(got.quantile_values[i])) << "quantile " << i;
  }
}

TEST(RangeAggregate, EqualsThePlainPathBitForBitOnRandomData) {
  std::mt19937_64 rng(2026);
  std::size_t empty_buckets = 0, nan_buckets = 0;
  for (int round = 0; round < 60; ++round) {
    const Series s = random_series(rng, 1 + rng() % 20'000);
    const std::vector<Bytes> chunks = chunked(s, rng);
    const std::vector<RangeScan::ChunkBytes> views(chunks.begin(), chunks.end());
    AggregateQuery q;
    // Sometimes the whole series, sometimes a window that cuts chunks and blocks.
    const std::int64_t span = s.ts.back() - s.ts.front() + 1;
    q.from = s.ts.front() - (rng() % 2 ? 0 : static_cast<std::int64_t>(rng() % 5000));
    q.to = rng() % 2 ? s.ts.back() + 1 : q.from + 1 + static_cast<std::int64_t>(rng() % span);
    const std::int64_t steps[] = {0, 1000, 60'000, 7'777, 1'000'000};
    q.step = steps[rng() % std::size(steps)];
    if (rng() % 3 == 0) q.quantiles = {0.5, 0.99, 0.0, 1.0};
    Result<AggregateResult> got = aggregate_range(ValueType::float64, views, q);
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    const AggregateResult want = plain(q, s);
    expect_bit_equal(want, *got);
    // Without the spread (min, max, stddev) every other field keeps its bits.
    AggregateQuery lean = q;
    lean.spread = false;
    Result<AggregateResult> sums = aggregate_range(ValueType::float64, views, lean);
    ASSERT_TRUE(sums.is_ok()) << sums.status().to_string();
    for (const Bucket& b : sums->buckets) {
      EXPECT_TRUE(std::isnan(b.min) && std::isnan(b.max) && std::isnan(b.stddev));
    }
    AggregateResult want_lean = want;
    for (std::size_t k = 0; k < want_lean.buckets.size(); ++k) {
      Bucket& b = want_lean.buckets[k];
      b.min = b.max = b.stddev = kNaN;
    }
    expect_bit_equal(want_lean, *sums);
    for (const Bucket& b : got->buckets) {
      empty_buckets += b.count == 0;
      nan_buckets += b.count > 0 && std::isnan(b.sum);
    }
  }
  // The data really has the edges the test is about.
  EXPECT_GT(empty_buckets, 100u);
  EXPECT_GT(nan_buckets, 100u);
}

// The timestamp decoder has one loop per transform and a shortcut for a perfectly regular clock;
// each must continue from the previous block exactly.
TEST(RangeAggregate, TimestampShapesRoundTrip) {
  std::mt19937_64 rng(7);
  for (int shape = 0; shape < 4; ++shape) {
    Series s;
    std::int64_t t = -5'000'000'000;
    for (std::size_t i = 0; i < 1000; ++i) {
      switch (shape) {
        case 0: t += 1'000'000'000; break;  // regular
        case 1: t += 1'000'000'000 + static_cast<std::int64_t>(rng() % 3) * 1'000'000; break;
        case 2: t += 1 + static_cast<std::int64_t>(rng() % (std::int64_t{1} << 40)); break;
        default: t += i % 300 < 150 ? 1000 : 1 + static_cast<std::int64_t>(rng() % 977); break;
      }
      s.ts.push_back(t);
      s.ints.push_back(static_cast<std::int64_t>(rng()));  // raw integers
    }
    Result<Series> back = testing::decode_all(encode_all(ValueType::int64, s));
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->ts, s.ts) << "shape " << shape;
    EXPECT_EQ(back->ints, s.ints) << "shape " << shape;
  }
}

// Decimal values are rebuilt as mantissa / 10^e; mantissas up to the encoder's limit and of
// either sign must come back with the same bits.
TEST(RangeAggregate, DecimalMantissasRoundTripAtTheirLimits) {
  Series s;
  const std::int64_t big = (std::int64_t{1} << 51) - 1;
  for (std::int64_t i = 0; i < 300; ++i) {
    s.ts.push_back(i);
    const std::int64_t m = i % 3 == 0 ? big - i : i % 3 == 1 ? -big + i : i * 12345 - 99999;
    s.doubles.push_back(static_cast<double>(m) / 1000);
  }
  Result<Series> back = testing::decode_all(encode_all(ValueType::float64, s));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  testing::expect_same_doubles(s.doubles, back->doubles);
}

}  // namespace
}  // namespace castor::history
