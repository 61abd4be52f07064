// One block of a float64 column. Doubles that are short decimals (sensor readings with a few
// digits, integers) are stored as exact decimal mantissas through int_column, which beats XOR by
// far; anything else (NaN, ±Inf, -0.0, full-precision values) falls back to Gorilla XOR. Either
// way the round trip is bit-exact: the decimal path is only taken after it was verified.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "history/codec/byte_io.hpp"
#include "history/codec/int_column.hpp"

namespace castor::history::codec {

// The largest decimal exponent tried: 10^18 is exact in a double, and mantissas stay below 2^51.
inline constexpr int kMaxDecimalExponent = 18;

// State carried from block to block.
struct FloatChain {
  std::uint64_t prev_bits = 0;  // the last value, as bits (XOR reference)
  int exponent = -1;            // decimal exponent of the last block, -1 after an XOR block
  IntChain mantissas;           // continues only while the exponent stays the same
};

// A decimal block may carry this many values that are no decimal (-0.0, NaN, ±Inf, or too many
// digits) verbatim; with more, the block is XOR-coded instead.
inline constexpr std::size_t kMaxDecimalExceptions = kBlockSize / 8;

// How a block of doubles maps onto decimals m / 10^e.
struct DecimalPlan {
  int exponent = -1;  // -1: not a decimal block
  std::size_t exception_count = 0;
  std::array<std::uint8_t, kMaxDecimalExceptions> exceptions{};  // indices, increasing
  std::array<std::int64_t, kBlockSize> mantissas{};  // exceptions hold a neighbour's mantissa
};

// The smallest e in [0, kMaxDecimalExponent] such that every value but at most
// kMaxDecimalExceptions equals m / 10^e (bit-exact, so -0.0, NaN and ±Inf never do).
void plan_decimal(std::span<const double> values, DecimalPlan& plan) noexcept;

// Layout: u8 kind. 0 = XOR: varint length, Gorilla stream. Otherwise bits 0-6 = 1 + e, a decimal
// block with exponent e, and bit 7 = exceptions present: [u8 exception count], an int_column of
// the mantissas, then per exception: u8 index (increasing), varint of the byte-swapped double.
// Version 3: kind 0x7f = a decimal block with the previous block's exponent, no exceptions, and
// an int_column whose header repeats the previous block's (int_column.hpp: not even its
// kRepeatHeader byte is written). A steady signal's block then starts with one byte, not three.
void write_float_column(std::span<const double> values, FloatChain& chain, Bytes& out);
bool read_float_column(ByteReader& in, FloatChain& chain, std::span<double> out) noexcept;

// out[i] = double(m[i]) / divisor, bit for bit what the division gives (exposed for its test);
// `divisor` is a power of ten up to 10^kMaxDecimalExponent.
void to_decimals(std::span<const std::int64_t> m, double divisor, std::span<double> out) noexcept;

}  // namespace castor::history::codec
