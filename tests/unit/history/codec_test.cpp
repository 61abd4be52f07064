// The codec building blocks in isolation: packing, integer transforms, decimal detection, XOR,
// checksum. Chunk-level behaviour is covered by the other files.
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string_view>

#include <gtest/gtest.h>

#include "history/codec/bit_stream.hpp"
#include "history/codec/crc32c.hpp"
#include "history/codec/float_column.hpp"
#include "history/codec/int_column.hpp"
#include "history/codec/packed_ints.hpp"
#include "history/codec/xor_floats.hpp"

namespace castor::history::codec {
namespace {

std::vector<std::uint64_t> pack_round_trip(const std::vector<std::uint64_t>& values,
                                           std::size_t* bytes = nullptr) {
  Bytes out;
  const PackPlan plan = plan_packing(values);
  write_packed(values, plan, out);
  EXPECT_EQ(out.size(), plan.bytes) << "the plan must predict the exact size";
  if (bytes) *bytes = out.size();
  ByteReader in(out);
  Lanes back;
  EXPECT_TRUE(read_packed(in, values.size(), back));
  EXPECT_EQ(in.remaining(), 0u);
  return {back.begin(), back.begin() + static_cast<std::ptrdiff_t>(values.size())};
}

TEST(PackedInts, RoundTripsEveryWidth) {
  std::mt19937_64 rng(1);
  for (unsigned w = 0; w <= 64; ++w) {
    for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{63}, std::size_t{64},
                          std::size_t{65}, std::size_t{127}, kBlockSize}) {
      std::vector<std::uint64_t> v(n);
      for (auto& x : v) x = rng() & low_bits(w);
      EXPECT_EQ(pack_round_trip(v), v) << "width " << w << " n " << n;
    }
  }
}

TEST(PackedInts, OutliersBecomeExceptionsInsteadOfWideningTheBlock) {
  std::vector<std::uint64_t> v(kBlockSize, 3);
  v[17] = std::uint64_t{1} << 40;
  v[99] = ~std::uint64_t{0};
  std::size_t bytes = 0;
  EXPECT_EQ(pack_round_trip(v, &bytes), v);
  EXPECT_LT(bytes, 60u);  // 2 bits * 128 + two exceptions, not 64 bits * 128
  EXPECT_EQ(plan_packing(v).exceptions, 2u);
}

TEST(PackedInts, AllZeroIsOneByte) {
  std::vector<std::uint64_t> v(kBlockSize, 0);
  std::size_t bytes = 0;
  EXPECT_EQ(pack_round_trip(v, &bytes), v);
  EXPECT_EQ(bytes, 1u);
}

TEST(PackedInts, RejectsMalformedExceptions) {
  // width 0 with 2 exceptions at the same index: indices must increase.
  const Bytes bad = {0x80, 2, 5, 1, 5, 1};
  ByteReader in(bad);
  Lanes out;
  EXPECT_FALSE(read_packed(in, 8, out));
  const Bytes out_of_block = {0x80, 1, 8, 1};  // index 8 in a block of 8
  ByteReader in2(out_of_block);
  EXPECT_FALSE(read_packed(in2, 8, out));
  Bytes wide = {0xC0, 1};  // width 64 cannot have exceptions
  wide.resize(2 + 8 * 8, 0);
  wide.push_back(0);
  wide.push_back(1);
  ByteReader in3(wide);
  EXPECT_FALSE(read_packed(in3, 8, out));
}

// A chain as a block without a line leaves it.
IntChain after(std::int64_t prev, std::int64_t delta) {
  IntChain c;
  c.prev = prev;
  c.delta = delta;
  return c;
}

std::vector<std::int64_t> int_round_trip(const std::vector<std::int64_t>& v, unsigned allowed,
                                         std::size_t* bytes = nullptr, IntChain chain = after(11, -3)) {
  IntChain enc_chain = chain, dec_chain = chain;
  Bytes out;
  write_int_column(v, allowed, enc_chain, out);
  if (bytes) *bytes = out.size();
  ByteReader in(out);
  std::vector<std::int64_t> back(v.size());
  EXPECT_TRUE(read_int_column(in, dec_chain, back));
  EXPECT_EQ(in.remaining(), 0u);
  EXPECT_EQ(enc_chain.prev, dec_chain.prev);
  EXPECT_EQ(enc_chain.delta, dec_chain.delta);
  return back;
}

TEST(IntColumn, ExtremesWrapAndRoundTrip) {
  constexpr auto lo = std::numeric_limits<std::int64_t>::min();
  constexpr auto hi = std::numeric_limits<std::int64_t>::max();
  const std::vector<std::int64_t> v = {lo, hi, lo, 0, -1, hi, hi, lo + 1, 1, lo};
  for (unsigned allowed : {kAnyTransform, kDifferenceTransforms, 1u, 2u, 4u}) {
    EXPECT_EQ(int_round_trip(v, allowed), v) << allowed;
  }
}

TEST(IntColumn, MillisecondJitterCostsMillisecondBits) {
  std::mt19937_64 rng(2);
  std::vector<std::int64_t> ts(kBlockSize);
  std::int64_t t = 1'700'000'000'000'000'000;
  const IntChain chunk_start = after(t, 0);  // as a chunk starts: from its first timestamp
  for (auto& x : ts) {
    t += 1'000'000'000 + static_cast<std::int64_t>(rng() % 5) * 1'000'000;  // 1 s + 0..4 ms
    x = t;
  }
  std::size_t bytes = 0;
  EXPECT_EQ(int_round_trip(ts, kDifferenceTransforms, &bytes, chunk_start), ts);
  // dod in ms fits 4 bits; in ns it would take 24 (plus one exception for the first interval).
  EXPECT_LT(bytes, 80u);
}

TEST(IntColumn, RandomRoundTrips) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::int64_t> v(1 + rng() % kBlockSize);
    const unsigned shift = static_cast<unsigned>(rng() % 64);
    // Random widths, sometimes multiples of 1000 (to exercise the scale), wrapping on purpose.
    for (auto& x : v) x = static_cast<std::int64_t>((rng() >> shift) * (rng() % 2 ? 1 : 1000));
    EXPECT_EQ(int_round_trip(v, kAnyTransform), v);
  }
}

// A smooth signal with noise (a sensor): a line through the block leaves only the noise, where
// delta would pay for the difference of two noisy values.
TEST(IntColumn, LinearCostsTheNoiseNotItsDifference) {
  std::mt19937_64 rng(5);
  std::vector<std::int64_t> v(kBlockSize);
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = 48'000 + static_cast<std::int64_t>(i) * 17 + static_cast<std::int64_t>(rng() % 101) - 50;
  }
  Bytes out;
  IntChain chain = after(48'000, 17);
  write_int_column(v, kAnyTransform, chain, out);
  EXPECT_EQ(out[0] & 3, static_cast<int>(IntTransform::linear));
  // mode, two varints, packing byte, 7 bits per value: the noise spans 101 values.
  EXPECT_LE(out.size(), 1 + 3 + 3 + 1 + kBlockSize * 7 / 8);
  EXPECT_EQ(int_round_trip(v, kAnyTransform), v);
}

TEST(IntColumn, LinearRoundTripsWhateverTheLine) {
  constexpr auto lo = std::numeric_limits<std::int64_t>::min();
  constexpr auto hi = std::numeric_limits<std::int64_t>::max();
  std::mt19937_64 rng(6);
  const unsigned only_linear = transform_bit(IntTransform::linear);
  for (int round = 0; round < 400; ++round) {
    std::vector<std::int64_t> v(1 + rng() % kBlockSize);
    // Bases anywhere (wrapping past the extremes), slopes from flat to beyond what a line may
    // take (2^52 per value), noise from none to 2^60.
    const auto base = static_cast<std::int64_t>(rng());
    const auto slope = static_cast<std::int64_t>(rng() >> (rng() % 64)) * (rng() % 2 ? 1 : -1);
    const std::uint64_t noise = rng() >> (4 + rng() % 60);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::uint64_t x = static_cast<std::uint64_t>(base) +
                              static_cast<std::uint64_t>(slope) * i + (noise ? rng() % noise : 0);
      v[i] = static_cast<std::int64_t>(x);
    }
    if (round % 10 == 0) v[rng() % v.size()] = round % 20 == 0 ? lo : hi;  // one wild outlier
    EXPECT_EQ(int_round_trip(v, kAnyTransform), v) << round;
    EXPECT_EQ(int_round_trip(v, only_linear), v) << round;  // raw where no line fits
    EXPECT_EQ(int_round_trip(v, kDifferenceTransforms), v) << round;
  }
}

TEST(IntColumn, ConstantsAndRegularClocksTakeOneModeByteAndExactLinesAFew) {
  std::vector<std::int64_t> clock(kBlockSize), line(kBlockSize);
  for (std::size_t i = 0; i < kBlockSize; ++i) {
    clock[i] = 1'700'000'001'000'000'000 + static_cast<std::int64_t>(i) * 1'000'000'000;
    line[i] = -7 * static_cast<std::int64_t>(i) + 1'000'003;
  }
  std::size_t bytes = 0;
  EXPECT_EQ(int_round_trip(clock, kDifferenceTransforms, &bytes, 
                           after(1'700'000'000'000'000'000, 1'000'000'000)),
            clock);
  EXPECT_EQ(bytes, 1u);
  const std::vector<std::int64_t> constant(kBlockSize, -12);
  EXPECT_EQ(int_round_trip(constant, kAnyTransform, &bytes, after(-12, 0)), constant);
  EXPECT_EQ(bytes, 1u);
  // A line the chain does not predict: a few bytes, whichever transform writes it (delta of
  // delta: two exceptions for the jump from the chain; a line: two varints).
  EXPECT_EQ(int_round_trip(line, kAnyTransform, &bytes, after(0, 0)), line);
  EXPECT_LE(bytes, 12u);
  EXPECT_EQ(int_round_trip(line, transform_bit(IntTransform::linear), &bytes, after(0, 0)), line);
  EXPECT_LE(bytes, 7u);
}

TEST(IntColumn, DecoderTakesAnyLineAndRefusesReservedModes) {
  const std::uint64_t max = ~std::uint64_t{0};
  Bytes any_line = {0x13};  // linear, every lane zero
  put_varint(any_line, max);  // zigzag: the most negative start
  put_varint(any_line, max - 1);  // zigzag: the steepest slope
  ByteReader in(any_line);
  IntChain chain = after(std::numeric_limits<std::int64_t>::max(), 0);
  std::vector<std::int64_t> out(kBlockSize);
  EXPECT_TRUE(read_int_column(in, chain, out));  // wraps, never traps
  EXPECT_EQ(in.remaining(), 0u);
  // Reserved bit 6, a repeat with no block before it; every lane zero cannot be scaled or unsigned; a line needs both varints.
  for (const Bytes& bad : {Bytes{0x40, 0}, Bytes{0x80, 0}, Bytes{0x14}, Bytes{0x30}, Bytes{0x13, 1}}) {
    ByteReader r(bad);
    IntChain c;
    EXPECT_FALSE(read_int_column(r, c, out)) << int(bad[0]);
  }
}

TEST(IntColumn, RepeatedHeadersAreLeftOut) {
  std::mt19937_64 rng(5);
  std::vector<std::vector<std::int64_t>> blocks(4, std::vector<std::int64_t>(kBlockSize));
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    for (std::size_t i = 0; i < kBlockSize; ++i) {
      blocks[b][i] = static_cast<std::int64_t>(1000 * b + i) + static_cast<std::int64_t>(rng() % 100);
    }
  }
  IntChain enc, dec;
  Bytes out;
  std::vector<std::size_t> starts;
  for (const auto& block : blocks) {
    starts.push_back(out.size());
    EXPECT_FALSE(write_int_column(block, kAnyTransform, enc, out));
  }
  EXPECT_NE(out[starts[0]], kRepeatHeader);  // nothing to repeat yet
  EXPECT_EQ(out[starts[1]], kRepeatHeader);  // the same noise: the same mode and width
  ByteReader in(out);
  for (const auto& block : blocks) {
    std::vector<std::int64_t> back(kBlockSize);
    ASSERT_TRUE(read_int_column(in, dec, back));
    EXPECT_EQ(back, block);
  }
  EXPECT_EQ(in.remaining(), 0u);
  // With may_imply_header the repeat byte itself is left out; the reader is told instead.
  IntChain enc2, dec2;
  Bytes implied;
  EXPECT_FALSE(write_int_column(blocks[0], kAnyTransform, enc2, implied, true));
  const std::size_t first = implied.size();
  EXPECT_TRUE(write_int_column(blocks[1], kAnyTransform, enc2, implied, true));
  EXPECT_EQ(implied.size() - first, starts[2] - starts[1] - 1);
  ByteReader in2(implied);
  std::vector<std::int64_t> back(kBlockSize);
  ASSERT_TRUE(read_int_column(in2, dec2, back));
  ASSERT_TRUE(read_int_column(in2, dec2, back, true));
  EXPECT_EQ(back, blocks[1]);
  // A repeat needs a block before it on the chain.
  IntChain fresh;
  const Bytes lone_bytes = {kRepeatHeader, 0};
  ByteReader lone(lone_bytes);
  EXPECT_FALSE(read_int_column(lone, fresh, back));
  const Bytes no_bytes;
  ByteReader nothing(no_bytes);
  EXPECT_FALSE(read_int_column(nothing, fresh, back, true));
}

TEST(FloatColumn, SteadyDecimalBlocksStartWithOneKindByte) {
  std::mt19937_64 rng(6);
  std::vector<std::vector<double>> blocks(3, std::vector<double>(kBlockSize));
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    for (std::size_t i = 0; i < kBlockSize; ++i) {
      blocks[b][i] = static_cast<double>(21000 + 3 * (b * kBlockSize + i) + rng() % 101) / 1000;
    }
  }
  FloatChain enc, dec;
  Bytes out;
  std::vector<std::size_t> starts;
  for (const auto& block : blocks) {
    starts.push_back(out.size());
    write_float_column(block, enc, out);
  }
  EXPECT_EQ(out[starts[0]], 1 + 3);  // decimal, exponent 3
  EXPECT_EQ(out[starts[1]], 0x7f);   // the same, and the mantissas' header repeats
  ByteReader in(out);
  for (const auto& block : blocks) {
    std::vector<double> back(kBlockSize);
    ASSERT_TRUE(read_float_column(in, dec, back));
    for (std::size_t i = 0; i < kBlockSize; ++i) EXPECT_EQ(back[i], block[i]);
  }
  EXPECT_EQ(in.remaining(), 0u);
  // A repeat needs a decimal block before it.
  FloatChain fresh;
  const Bytes lone_bytes = {0x7f, 0};
  ByteReader lone(lone_bytes);
  std::vector<double> back(kBlockSize);
  EXPECT_FALSE(read_float_column(lone, fresh, back));
}

TEST(DecimalPlan, FindsTheShortestExactDecimal) {
  DecimalPlan plan;
  auto exponent = [&](std::vector<double> v) {
    plan_decimal(v, plan);
    return plan.exponent;
  };
  EXPECT_EQ(exponent({3.0, -7.0, 0.0}), 0);
  EXPECT_EQ(exponent({0.1}), 1);
  EXPECT_EQ(exponent({12.345, 1.5}), 3);
  EXPECT_EQ(plan.mantissas[0], 12345);
  EXPECT_EQ(plan.mantissas[1], 1500);
  EXPECT_EQ(exponent({1e-9, 2e-9}), 9);
  EXPECT_EQ(plan.exception_count, 0u);
}

TEST(DecimalPlan, KeepsNonDecimalsAsExceptions) {
  DecimalPlan plan;
  const double nan = std::nan("");
  const std::vector<double> v = {-0.0, 1.5, nan, 2.25, 1.0 / 3.0, 0.1 + 0.2, 0x1p60, 7.0};
  plan_decimal(v, plan);
  EXPECT_EQ(plan.exponent, 2);
  ASSERT_EQ(plan.exception_count, 5u);
  EXPECT_EQ(std::vector<int>(plan.exceptions.begin(), plan.exceptions.begin() + 5),
            (std::vector<int>{0, 2, 4, 5, 6}));
  EXPECT_EQ(plan.mantissas[0], 150) << "an exception borrows its neighbour's mantissa";
  EXPECT_EQ(plan.mantissas[2], 150);
  EXPECT_EQ(plan.mantissas[7], 700);

  const std::vector<double> mostly_nan(kMaxDecimalExceptions + 1, nan);
  plan_decimal(mostly_nan, plan);
  EXPECT_EQ(plan.exponent, -1) << "too many exceptions: XOR does better";
}

TEST(FloatColumn, ExceptionsRoundTripInsideDecimalBlocks) {
  std::vector<double> v;
  for (std::size_t i = 0; i < kBlockSize; ++i) v.push_back((static_cast<double>(i) - 50) / 100);
  v[3] = -0.0;
  v[50] = std::nan("");
  v[127] = -std::numeric_limits<double>::infinity();
  FloatChain enc, dec;
  Bytes out;
  write_float_column(v, enc, out);
  EXPECT_NE(out[0], 0) << "stays a decimal block";
  EXPECT_LT(out.size(), 64u);
  ByteReader in(out);
  std::vector<double> back(v.size());
  ASSERT_TRUE(read_float_column(in, dec, back));
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(v[i]), std::bit_cast<std::uint64_t>(back[i])) << i;
  }
}

// Decimal blocks decode m / 10^e with multiply-adds where the CPU has FMA: every quotient must be
// the division's, bit for bit, whatever the mantissa and exponent.
TEST(FloatColumn, DecimalsAreTheDivisionsBits) {
  std::mt19937_64 rng(14);
  constexpr std::int64_t kLimit = std::int64_t{1} << 51;
  std::array<std::int64_t, kBlockSize> m;
  std::array<double, kBlockSize> got;
  double divisor = 1;
  for (int e = 0; e <= kMaxDecimalExponent; ++e, divisor *= 10) {
    for (int round = 0; round < 2000; ++round) {
      for (std::size_t i = 0; i < m.size(); ++i) {
        switch ((round + i) % 4) {
          case 0: m[i] = static_cast<std::int64_t>(rng() % (2 * kLimit - 1)) - (kLimit - 1); break;
          case 1: m[i] = static_cast<std::int64_t>(rng() % 2'000'001) - 1'000'000; break;
          case 2: m[i] = static_cast<std::int64_t>(rng() >> (14 + rng() % 50)) * (rng() % 2 ? 1 : -1); break;
          default: {  // the largest magnitudes the encoder writes
            const auto off = static_cast<std::int64_t>(rng() % 1000);
            m[i] = rng() % 2 ? kLimit - 1 - off : off + 1 - kLimit;
          }
        }
      }
      const std::size_t n = 1 + rng() % kBlockSize;
      to_decimals({m.data(), n}, divisor, {got.data(), n});
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(std::bit_cast<std::uint64_t>(got[i]),
                  std::bit_cast<std::uint64_t>(static_cast<double>(m[i]) / divisor))
            << "m " << m[i] << " e " << e;
      }
    }
  }
}

TEST(XorFloats, RoundTripsBitExactly) {
  std::mt19937_64 rng(4);
  std::vector<double> v;
  for (std::size_t i = 0; i < kBlockSize; ++i) {
    switch (rng() % 4) {
      case 0: v.push_back(std::bit_cast<double>(rng())); break;  // any pattern, NaNs included
      case 1: v.push_back(v.empty() ? 1.0 : v.back()); break;
      case 2: v.push_back(static_cast<double>(rng() % 1000) / 7.0); break;
      default: v.push_back(-0.0); break;
    }
  }
  std::array<std::uint8_t, kMaxXorBlockBytes + 8> buf;
  const std::size_t len = encode_xor(v, 42, buf.data());
  ASSERT_LE(len, kMaxXorBlockBytes);
  std::vector<double> back(v.size());
  ASSERT_TRUE(decode_xor({buf.data(), len}, 42, back));
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(v[i]), std::bit_cast<std::uint64_t>(back[i]));
  }
  EXPECT_FALSE(decode_xor({buf.data(), len / 2}, 42, back)) << "a truncated stream must fail";
}

TEST(XorFloats, WorstCaseFitsTheBound) {
  std::vector<double> v(kBlockSize);
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = std::bit_cast<double>(i % 2 ? ~std::uint64_t{0} : std::uint64_t{1} << 63 | 1);
  }
  std::array<std::uint8_t, kMaxXorBlockBytes + 8> buf;
  EXPECT_LE(encode_xor(v, 0, buf.data()), kMaxXorBlockBytes);
}

TEST(Crc32c, MatchesTheStandardCheckValue) {
  const std::string_view s = "123456789";
  const std::span bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  EXPECT_EQ(crc32c(0, bytes), 0xE3069283u);
  EXPECT_EQ(crc32c(crc32c(0, bytes.first(4)), bytes.subspan(4)), 0xE3069283u);
}

}  // namespace
}  // namespace castor::history::codec
