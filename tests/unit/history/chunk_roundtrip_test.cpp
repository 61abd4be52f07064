// What goes into a head chunk comes back out of the sealed chunk, bit for bit and in order, for
// every value type and the awkward values a plant produces; and what the head refuses, it refuses
// with a status a caller can route on.
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "history/chunk_format.hpp"
#include "history_test_util.hpp"

namespace castor::history {
namespace {

using testing::bits;
using testing::decode_all;
using testing::encode_all;
using testing::regular_ts;
using testing::Series;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kEpoch2024 = 1'704'067'200 * kSecond;
constexpr auto kMinI64 = std::numeric_limits<std::int64_t>::min();
constexpr auto kMaxI64 = std::numeric_limits<std::int64_t>::max();

Series round_trip(ValueType type, const Series& in) {
  const Bytes chunk = encode_all(type, in);
  Result<Series> out = decode_all(chunk);
  EXPECT_TRUE(out.is_ok()) << out.status().to_string();
  if (!out.is_ok()) return {};
  EXPECT_EQ(out->ts, in.ts);
  return std::move(out).value();
}

TEST(ChunkRoundTrip, DoubleEdgeValues) {
  const double inf = std::numeric_limits<double>::infinity();
  Series s;
  s.doubles = {0.0,
               -0.0,
               std::nan(""),
               -std::nan(""),
               std::bit_cast<double>(std::uint64_t{0x7ff0000000000001}),  // signalling NaN
               std::bit_cast<double>(std::uint64_t{0x7ff8dead0000beef}),  // NaN with a payload
               inf,
               -inf,
               std::numeric_limits<double>::max(),
               std::numeric_limits<double>::lowest(),
               std::numeric_limits<double>::min(),
               std::numeric_limits<double>::denorm_min(),
               std::numeric_limits<double>::epsilon(),
               1.0 / 3.0,
               12.345,
               -273.15,
               0x1p60};
  s.ts = regular_ts(s.doubles.size(), kEpoch2024, kSecond);
  testing::expect_same_doubles(s.doubles, round_trip(ValueType::float64, s).doubles);
}

// Blocks switch between decimal and XOR encoding and between decimal exponents; the chains that
// carry state from block to block must survive every switch.
TEST(ChunkRoundTrip, DoublesSwitchingSchemesAcrossBlocks) {
  std::mt19937_64 rng(7);
  Series s;
  for (std::size_t i = 0; i < 20 * kBlockSize; ++i) {
    const std::size_t block = i / kBlockSize;
    double v = 0;
    switch (block % 5) {
      case 0: v = std::round(20 + std::sin(i * 0.01) * 1000) / 1000; break;  // 3 decimals
      case 1: v = static_cast<double>(rng() % 100); break;                   // integers
      case 2: v = i % 50 == 0 ? std::nan("") : 1.5; break;                   // NaN: XOR
      case 3: v = std::bit_cast<double>(rng()); break;                       // noise
      default: v = static_cast<double>(rng() % 100000) / 100; break;         // 2 decimals
    }
    s.doubles.push_back(v);
  }
  s.ts = regular_ts(s.doubles.size(), kEpoch2024, kSecond / 100);
  testing::expect_same_doubles(s.doubles, round_trip(ValueType::float64, s).doubles);
}

TEST(ChunkRoundTrip, IdenticalValuesCostAlmostNothing) {
  Series s;
  s.ts = regular_ts(10 * kBlockSize, kEpoch2024, kSecond);
  s.doubles.assign(s.ts.size(), 21.5);
  const Bytes chunk = encode_all(ValueType::float64, s);
  testing::expect_same_doubles(s.doubles, decode_all(chunk)->doubles);
  EXPECT_LT(chunk.size(), kChunkHeaderSize + 10 * 8 + 16);  // a few bytes per block
}

TEST(ChunkRoundTrip, Int64EdgeValues) {
  Series s;
  s.ints = {0, -1, 1, kMinI64, kMaxI64, kMinI64, kMaxI64, kMaxI64, 42, kMinI64 + 1, kMaxI64 - 1};
  std::mt19937_64 rng(9);
  for (int i = 0; i < 1000; ++i) s.ints.push_back(static_cast<std::int64_t>(rng()));
  std::uint64_t counter = kMaxI64 - 500;  // a counter that wraps around to negative
  for (int i = 0; i < 1000; ++i) s.ints.push_back(static_cast<std::int64_t>(counter += 3));
  s.ts = regular_ts(s.ints.size(), kEpoch2024, kSecond);
  EXPECT_EQ(round_trip(ValueType::int64, s).ints, s.ints);
}

TEST(ChunkRoundTrip, Booleans) {
  std::mt19937_64 rng(10);
  Series s;
  for (int i = 0; i < 300; ++i) s.ints.push_back(1);           // constant
  for (int i = 0; i < 300; ++i) s.ints.push_back(i % 2);       // alternating
  for (int i = 0; i < 300; ++i) s.ints.push_back(rng() % 2);   // random
  for (int i = 0; i < 300; ++i) s.ints.push_back(i / 37 % 2);  // runs
  s.ts = regular_ts(s.ints.size(), kEpoch2024, kSecond);
  EXPECT_EQ(round_trip(ValueType::boolean, s).ints, s.ints);
}

TEST(ChunkRoundTrip, Strings) {
  Series s;
  s.strings = {"",
               "RUNNING",
               "RUNNING",
               "温度センサー",
               "🤖 arm 3 ✓",
               "e\u0301",  // combining accent
               std::string("with\0nul", 8),
               std::string(kMaxStringBytes, 'x'),
               "",
               "IDLE"};
  for (int i = 0; i < 500; ++i)
    s.strings.push_back(i % 100 < 90 ? "RUNNING" : "FAULT " + std::to_string(i));
  s.ts = regular_ts(s.strings.size(), kEpoch2024, kSecond);
  EXPECT_EQ(round_trip(ValueType::string, s).strings, s.strings);
}

TEST(ChunkRoundTrip, TimestampsNegativeHugeGapsAndJitter) {
  std::mt19937_64 rng(11);
  Series s;
  s.ts = {kMinI64, kMinI64 + 1, -5 * kSecond, -1, 0, 1, kSecond};
  std::int64_t t = kEpoch2024;
  for (int i = 0; i < 400; ++i)
    s.ts.push_back(t += kSecond + static_cast<std::int64_t>(rng() % 2'000'000));  // ns jitter
  for (int i = 0; i < 400; ++i)
    s.ts.push_back(t += 1'000'000 * (1 + static_cast<std::int64_t>(rng() % 3)));  // ms
  s.ts.push_back(t += 86400 * kSecond);  // a day without data
  s.ts.push_back(kMaxI64 - 1);
  s.ts.push_back(kMaxI64);
  s.doubles.assign(s.ts.size(), 1.0);
  round_trip(ValueType::float64, s);
}

// Sizes around the block size, where the head's raw tail meets the compressed blocks.
TEST(ChunkRoundTrip, EveryCountAroundBlockBoundaries) {
  for (std::size_t n : {1, 2, 3, 127, 128, 129, 255, 256, 257, 1000}) {
    Series s;
    s.ts = regular_ts(n, -kEpoch2024, 333);
    for (std::size_t i = 0; i < n; ++i) s.doubles.push_back(static_cast<double>(i) * 0.25);
    const Series out = round_trip(ValueType::float64, s);
    testing::expect_same_doubles(s.doubles, out.doubles);
  }
}

// Property: any series the encoder accepts comes back exactly, whatever mix of clocks, value
// distributions and lengths it has.
TEST(ChunkRoundTrip, RandomSeriesOfEveryType) {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 300; ++round) {
    const auto type = static_cast<ValueType>(1 + rng() % 4);
    const std::size_t n = 1 + rng() % 1500;
    const auto period = static_cast<std::int64_t>(1 + rng() % (10 * kSecond));
    const std::uint64_t jitter = rng() % 3 == 0 ? 0 : 1 + rng() % 1'000'000;
    const unsigned digits = static_cast<unsigned>(rng() % 6);
    Series s;
    std::int64_t t = static_cast<std::int64_t>(rng()) / 4;
    for (std::size_t i = 0; i < n; ++i) {
      t += period + static_cast<std::int64_t>(jitter ? rng() % jitter : 0);
      s.ts.push_back(t);
      const std::uint64_t r = rng();
      switch (rng() % 8) {  // mostly smooth, sometimes wild
        case 0: s.doubles.push_back(std::bit_cast<double>(r)); break;
        case 1: s.doubles.push_back(s.doubles.empty() ? 0.0 : s.doubles.back()); break;
        default:
          s.doubles.push_back(
              std::round(std::sin(static_cast<double>(i) / 50) * 1e4 * std::pow(10.0, digits)) /
              std::pow(10.0, digits));
      }
      s.ints.push_back(r % 4 == 0 ? static_cast<std::int64_t>(r)
                                  : static_cast<std::int64_t>(i / 3));
      s.strings.push_back(r % 5 == 0 ? std::to_string(r % 1000) : "same");
    }
    if (type == ValueType::boolean) {
      for (auto& v : s.ints) v &= 1;
    }
    const Series out = round_trip(type, s);
    switch (type) {
      case ValueType::float64: testing::expect_same_doubles(s.doubles, out.doubles); break;
      case ValueType::string: EXPECT_EQ(out.strings, s.strings); break;
      default: EXPECT_EQ(out.ints, s.ints); break;
    }
  }
}

// Property: blocks change regime at random (steady noise whose headers repeat block after
// block, exceptions, full-precision values, another exponent, constants, extremes) and every
// chunk still comes back exactly: a repeated header (version 3) always refers to the block
// before it on the same chain, whatever came between.
TEST(ChunkRoundTrip, RandomRegimesPerBlock) {
  std::mt19937_64 rng(29);
  for (int round = 0; round < 200; ++round) {
    const auto type = static_cast<ValueType>(1 + rng() % 3);  // float64, int64, boolean
    const std::size_t n = 1 + rng() % (12 * kBlockSize);
    const bool regular = rng() % 2 == 0;
    Series s;
    std::int64_t t = static_cast<std::int64_t>(rng() % (1ull << 62)) - (1ll << 61);
    int regime = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i % kBlockSize == 0 || rng() % 400 == 0) regime = static_cast<int>(rng() % 8);
      t += kSecond + (regular ? 0 : static_cast<std::int64_t>(rng() % 5) * 1'000'000);
      s.ts.push_back(t);
      const double wave = 40 + 4 * std::sin(static_cast<double>(i) / 300);
      const std::uint64_t r = rng();
      double d = std::round((wave + static_cast<double>(r % 101) / 1000) * 1000) / 1000;
      std::int64_t v = static_cast<std::int64_t>(i / 5) + static_cast<std::int64_t>(r % 3);
      switch (regime) {
        case 0: case 1: case 2: break;  // steady: the common case, headers repeat
        case 3:
          if (r % 16 == 0) d = std::nan("");
          if (r % 16 == 1) d = -0.0;
          if (r % 16 == 2) v = kMinI64;
          break;
        case 4: d = std::bit_cast<double>(r); v = static_cast<std::int64_t>(r); break;
        case 5: d = std::round(wave * 10) / 10; v = 7; break;  // another exponent, a constant
        case 6: d = 1e300; v = kMaxI64; break;
        default: d = std::round((wave + static_cast<double>(r % 9) / 100) * 100) / 100;
                 v = static_cast<std::int64_t>(r % 1000) - 500; break;
      }
      s.doubles.push_back(d);
      s.ints.push_back(type == ValueType::boolean ? static_cast<std::int64_t>(r >> 7 & 1) : v);
    }
    const Series out = round_trip(type, s);
    if (type == ValueType::float64) {
      testing::expect_same_doubles(s.doubles, out.doubles);
    } else {
      EXPECT_EQ(out.ints, s.ints) << round;
    }
  }
}

TEST(ChunkEncoder, RefusesWhatItCannotTakeAndStaysUnchanged) {
  ChunkEncoder enc(ValueType::float64);
  ASSERT_TRUE(enc.append(100, 1.0).is_ok());
  ASSERT_TRUE(enc.append(200, 2.0).is_ok());
  EXPECT_EQ(enc.append(150, 9.0).code(), Code::failed_precondition);  // out of order
  EXPECT_EQ(enc.append(200, 9.0).code(), Code::already_exists);       // duplicate
  EXPECT_EQ(enc.append(300, std::int64_t{3}).code(), Code::invalid_argument);
  EXPECT_EQ(enc.append(300, true).code(), Code::invalid_argument);
  EXPECT_EQ(enc.append(300, "three").code(), Code::invalid_argument);
  EXPECT_EQ(enc.count(), 2u);
  EXPECT_EQ(enc.max_ts(), 200);
  Result<Series> s = decode_all(*enc.seal());
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->ts, (std::vector<std::int64_t>{100, 200}));
  EXPECT_EQ(s->doubles, (std::vector<double>{1.0, 2.0}));
}

TEST(ChunkEncoder, RefusesOversizeStringsAndAFullDictionary) {
  ChunkEncoder enc(ValueType::string);
  EXPECT_EQ(enc.append(1, std::string(kMaxStringBytes + 1, 'a')).code(), Code::invalid_argument);
  std::int64_t ts = 1;
  Status last;
  for (int i = 0; last.is_ok(); ++i) {
    last = enc.append(++ts, std::to_string(i) + std::string(kMaxStringBytes - 10, 'b'));
  }
  EXPECT_EQ(last.code(), Code::resource_exhausted);
  EXPECT_TRUE(enc.append(ts, std::to_string(0) + std::string(kMaxStringBytes - 10, 'b')).is_ok())
      << "a string already in the dictionary still fits";
  EXPECT_TRUE(decode_all(*enc.seal()).is_ok());
}

TEST(ChunkEncoder, RefusesPointsBeyondTheMaximum) {
  ChunkEncoder enc(ValueType::boolean);
  for (std::uint32_t i = 0; i < kMaxPointsPerChunk; ++i) ASSERT_TRUE(enc.append(i, true).is_ok());
  EXPECT_EQ(enc.append(kMaxPointsPerChunk, true).code(), Code::resource_exhausted);
  Result<Series> s = decode_all(*enc.seal());
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->ts.size(), kMaxPointsPerChunk);
}

TEST(ChunkEncoder, ColumnAppendStopsAtTheFirstRefusal) {
  ChunkEncoder enc(ValueType::int64);
  const std::vector<std::int64_t> ts = {10, 20, 20, 30};
  const std::vector<std::int64_t> v = {1, 2, 3, 4};
  const auto r = enc.append(ts, v);
  EXPECT_EQ(r.appended, 2u);
  EXPECT_EQ(r.status.code(), Code::already_exists);
  const auto rest = enc.append(std::span(ts).subspan(3), std::span(v).subspan(3));
  EXPECT_EQ(rest.appended, 1u);
  EXPECT_TRUE(rest.status.is_ok());
  EXPECT_EQ(enc.append(std::span(ts), std::span(v).first(2)).status.code(), Code::invalid_argument);
  EXPECT_EQ(decode_all(*enc.seal())->ints, (std::vector<std::int64_t>{1, 2, 4}));
}

TEST(ChunkEncoder, SnapshotLeavesTheHeadAndSealResetsIt) {
  ChunkEncoder enc(ValueType::float64);
  EXPECT_EQ(enc.seal().status().code(), Code::failed_precondition);
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(enc.append(i, i * 0.5).is_ok());
  const Bytes snap = *enc.snapshot();
  EXPECT_EQ(enc.count(), 300u);
  ASSERT_TRUE(enc.append(300, 150.0).is_ok());
  const Bytes sealed = *enc.seal();
  EXPECT_TRUE(enc.empty());
  EXPECT_EQ(decode_all(snap)->ts.size(), 300u);
  EXPECT_EQ(decode_all(sealed)->ts.size(), 301u);
  ASSERT_TRUE(enc.append(-5, 1.0).is_ok()) << "a sealed encoder starts a fresh chunk";
  const Bytes next = *enc.seal();
  EXPECT_EQ(read_header(next)->min_ts, -5);
}

TEST(ChunkEncoder, SizeIsExactAtBlockBoundaries) {
  ChunkEncoder enc(ValueType::float64);
  for (std::size_t i = 0; i < 4 * kBlockSize; ++i) {
    ASSERT_TRUE(enc.append(static_cast<std::int64_t>(i) * kSecond, std::sin(i * 0.1)).is_ok());
    if ((i + 1) % kBlockSize == 0) {
      EXPECT_EQ(enc.size_bytes(), enc.snapshot()->size());
    }
  }
  EXPECT_GT(enc.memory_bytes(), enc.size_bytes());
}

TEST(ChunkHeader, DescribesTheChunk) {
  Series s;
  s.ts = {-50, 7, 1000};
  s.ints = {1, 0, 1};
  const Bytes chunk = encode_all(ValueType::boolean, s);
  Result<ChunkHeader> h = read_header(chunk);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->type, ValueType::boolean);
  EXPECT_EQ(h->count, 3u);
  EXPECT_EQ(h->min_ts, -50);
  EXPECT_EQ(h->max_ts, 1000);
  EXPECT_TRUE(h->overlaps(1000, 2000));
  EXPECT_FALSE(h->overlaps(1001, 2000));
  EXPECT_FALSE(h->overlaps(-100, -50));
}

}  // namespace
}  // namespace castor::history
