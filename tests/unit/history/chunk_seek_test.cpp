// ChunkCursor reads points one by one and seeks to a time, forwards and backwards, across block
// boundaries, for every value type.
#include <random>

#include <gtest/gtest.h>

#include "history/chunk_cursor.hpp"
#include "history_test_util.hpp"

namespace castor::history {
namespace {

using testing::encode_all;
using testing::Series;

Series irregular_series(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Series s;
  std::int64_t t = -1'000'000;
  for (std::size_t i = 0; i < n; ++i) {
    t += 1 + static_cast<std::int64_t>(rng() % 1000);
    s.ts.push_back(t);
    s.doubles.push_back(static_cast<double>(i));
  }
  return s;
}

TEST(ChunkCursor, IteratesEveryPointInOrder) {
  const Series s = irregular_series(1000, 1);
  const Bytes chunk = encode_all(ValueType::float64, s);
  Result<ChunkCursor> c = ChunkCursor::open(chunk);
  ASSERT_TRUE(c.is_ok());
  std::size_t i = 0;
  while (c->next()) {
    ASSERT_LT(i, s.ts.size());
    EXPECT_EQ(c->ts(), s.ts[i]);
    EXPECT_EQ(c->double_value(), s.doubles[i]);
    ++i;
  }
  EXPECT_TRUE(c->status().is_ok());
  EXPECT_EQ(i, s.ts.size());
  EXPECT_FALSE(c->next()) << "stays at the end";
}

TEST(ChunkCursor, SeeksToTheFirstPointAtOrAfterATime) {
  const Series s = irregular_series(1000, 2);
  const Bytes chunk = encode_all(ValueType::float64, s);
  Result<ChunkCursor> c = ChunkCursor::open(chunk);
  ASSERT_TRUE(c.is_ok());
  std::mt19937_64 rng(3);
  for (int round = 0; round < 500; ++round) {
    // Targets before, inside and after the chunk, on points and between them, in random order.
    const std::int64_t target =
        s.ts.front() - 10 +
        static_cast<std::int64_t>(rng() %
                                  static_cast<std::uint64_t>(s.ts.back() - s.ts.front() + 20));
    const auto want = std::lower_bound(s.ts.begin(), s.ts.end(), target);
    if (want == s.ts.end()) {
      EXPECT_FALSE(c->seek(target)) << target;
      EXPECT_TRUE(c->status().is_ok());
      continue;
    }
    ASSERT_TRUE(c->seek(target)) << target;
    EXPECT_EQ(c->ts(), *want);
    EXPECT_EQ(c->double_value(), static_cast<double>(want - s.ts.begin()));
    if (want + 1 != s.ts.end()) {  // and reading on continues from there
      ASSERT_TRUE(c->next());
      EXPECT_EQ(c->ts(), want[1]);
    }
  }
}

TEST(ChunkCursor, SeekOnEveryBlockBoundary) {
  Series s;
  s.ts = testing::regular_ts(5 * kBlockSize, 0, 10);
  s.ints.assign(s.ts.size(), 0);
  for (std::size_t i = 0; i < s.ts.size(); ++i) s.ints[i] = static_cast<std::int64_t>(i);
  const Bytes chunk = encode_all(ValueType::int64, s);
  Result<ChunkCursor> c = ChunkCursor::open(chunk);
  ASSERT_TRUE(c.is_ok());
  for (std::size_t b = 5; b-- > 0;) {  // backwards: every seek rewinds
    for (std::int64_t offset : {-1, 0, 1}) {
      const auto i = static_cast<std::int64_t>(b * kBlockSize) + offset;
      if (i < 0) continue;
      ASSERT_TRUE(c->seek(i * 10 - 5)) << i;
      EXPECT_EQ(c->int_value(), i);
    }
  }
}

TEST(ChunkCursor, ReadsEveryValueType) {
  Series s;
  s.ts = {1, 2, 3};
  s.ints = {1, 0, 1};
  const Bytes bools = encode_all(ValueType::boolean, s);
  Result<ChunkCursor> b = ChunkCursor::open(bools);
  ASSERT_TRUE(b.is_ok());
  ASSERT_TRUE(b->seek(2));
  EXPECT_FALSE(b->bool_value());
  EXPECT_EQ(b->numeric_value(), 0.0);

  s.strings = {"a", "β", "a"};
  const Bytes strings = encode_all(ValueType::string, s);
  Result<ChunkCursor> c = ChunkCursor::open(strings);
  ASSERT_TRUE(c.is_ok());
  ASSERT_TRUE(c->seek(2));
  EXPECT_EQ(c->string_value(), "β");
  ASSERT_TRUE(c->next());
  EXPECT_EQ(c->string_value(), "a");
}

}  // namespace
}  // namespace castor::history
