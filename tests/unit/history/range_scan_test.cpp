// RangeScan and aggregate_range over several chunks: the right points come out, chunks outside
// the range are skipped, and chunk lists that would reorder points are refused.
#include <gtest/gtest.h>

#include "history/range_aggregate.hpp"
#include "history/range_scan.hpp"
#include "history_test_util.hpp"

namespace castor::history {
namespace {

using testing::encode_all;
using testing::Series;

// Three chunks of 300 points: ts 0..299, 1000..1299, 2000..2299, value = ts.
std::vector<Bytes> three_chunks(ValueType type) {
  std::vector<Bytes> chunks;
  for (std::int64_t c = 0; c < 3; ++c) {
    Series s;
    s.ts = testing::regular_ts(300, c * 1000, 1);
    for (const auto t : s.ts) {
      s.doubles.push_back(static_cast<double>(t));
      s.ints.push_back(t);
    }
    chunks.push_back(encode_all(type, s));
  }
  return chunks;
}

std::vector<RangeScan::ChunkBytes> views(const std::vector<Bytes>& chunks) {
  return {chunks.begin(), chunks.end()};
}

std::vector<std::int64_t> scan_ts(ValueType type, std::span<const RangeScan::ChunkBytes> chunks,
                                  std::int64_t from, std::int64_t to) {
  Result<RangeScan> scan = RangeScan::open(type, chunks, from, to);
  EXPECT_TRUE(scan.is_ok()) << scan.status().to_string();
  std::vector<std::int64_t> out;
  for (;;) {
    Result<bool> more = scan->next();
    EXPECT_TRUE(more.is_ok());
    if (!more.is_ok() || !*more) break;
    const auto ts = scan->timestamps();
    const auto values = scan->numeric();
    EXPECT_EQ(values.size(), ts.size());
    for (std::size_t i = 0; i < ts.size(); ++i) EXPECT_EQ(values[i], static_cast<double>(ts[i]));
    out.insert(out.end(), ts.begin(), ts.end());
  }
  return out;
}

TEST(RangeScan, ReturnsExactlyThePointsInRange) {
  for (ValueType type : {ValueType::float64, ValueType::int64}) {
    const auto chunks = three_chunks(type);
    const auto v = views(chunks);
    for (auto [from, to] : std::vector<std::pair<std::int64_t, std::int64_t>>{{-100, 10'000},
                                                                              {150, 1150},
                                                                              {299, 1000},
                                                                              {300, 1000},
                                                                              {1290, 2001},
                                                                              {2299, 2300},
                                                                              {5000, 6000},
                                                                              {-5, 0},
                                                                              {10, 10}}) {
      std::vector<std::int64_t> want;
      for (std::int64_t c = 0; c < 3; ++c) {
        for (std::int64_t t = c * 1000; t < c * 1000 + 300; ++t) {
          if (t >= from && t < to) want.push_back(t);
        }
      }
      EXPECT_EQ(scan_ts(type, v, from, to), want) << from << ".." << to;
    }
  }
}

TEST(RangeScan, SkipsChunksOutsideTheRangeWithoutDecodingThem) {
  auto chunks = three_chunks(ValueType::float64);
  chunks[0].back() ^= 0xff;  // corrupt the first and last chunk's bodies
  chunks[2].back() ^= 0xff;
  const auto v = views(chunks);
  EXPECT_EQ(scan_ts(ValueType::float64, v, 1000, 1300).size(), 300u);
  Result<RangeScan> all = RangeScan::open(ValueType::float64, v, 0, 3000);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(all->next().status().code(), Code::invalid_argument) << "and reports them when read";
}

TEST(RangeScan, RefusesOverlappingOrForeignChunks) {
  const auto floats = three_chunks(ValueType::float64);
  const auto ints = three_chunks(ValueType::int64);
  std::vector<RangeScan::ChunkBytes> swapped = {floats[1], floats[0]};
  EXPECT_EQ(RangeScan::open(ValueType::float64, swapped, 0, 10).status().code(),
            Code::failed_precondition);
  std::vector<RangeScan::ChunkBytes> mixed = {floats[0], ints[1]};
  EXPECT_EQ(RangeScan::open(ValueType::float64, mixed, 0, 10).status().code(),
            Code::failed_precondition);
}

TEST(RangeAggregate, AggregatesAcrossChunksPerStep) {
  const auto chunks = three_chunks(ValueType::int64);
  AggregateQuery q;
  q.from = 0;
  q.to = 3000;
  q.step = 1000;
  q.quantiles = {0.5};
  Result<AggregateResult> r = aggregate_range(ValueType::int64, views(chunks), q);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->buckets.size(), 3u);
  for (std::size_t b = 0; b < 3; ++b) {
    const Bucket& k = r->buckets[b];
    const double base = static_cast<double>(b) * 1000;
    EXPECT_EQ(k.count, 300u);
    EXPECT_EQ(k.min, base);
    EXPECT_EQ(k.max, base + 299);
    EXPECT_EQ(k.sum, 300 * base + 299 * 150);
    EXPECT_EQ(r->quantile(b, 0), base + 149.5);
  }
  EXPECT_EQ(aggregate_range(ValueType::string, {}, q).status().code(), Code::invalid_argument);
}

}  // namespace
}  // namespace castor::history
