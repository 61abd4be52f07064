// One block of an int64 column (timestamps, integers, booleans, dictionary ids, decimal
// mantissas): a transform (raw, delta, delta-of-delta, or the residuals from a straight line)
// continuing from the previous block, a common power-of-ten factor divided out, zigzag, then
// packed_ints. The encoder picks the transform per block; arithmetic wraps, so every int64
// sequence round-trips exactly.
#pragma once

#include <cstdint>
#include <span>

#include "history/codec/byte_io.hpp"

namespace castor::history::codec {

// What the previous block left behind: its last value and last difference, and (version 3)
// its mode and packing header bytes, which the next block may repeat without writing them.
struct IntChain {
  std::int64_t prev = 0;
  std::int64_t delta = 0;
  bool has_header = false;      // a block was written or read on this chain
  std::uint8_t mode = 0;        // its mode byte (never kRepeatHeader)
  std::uint8_t packing = 0;     // its packing header byte; 0 if its lanes were all zero
};

// Mode byte (version 3): this block's mode and packing header bytes are the previous block's
// on the same chain, and only the packing header is left out. Steady signals repeat them
// block after block: it saves a byte per block.
inline constexpr std::uint8_t kRepeatHeader = 0x80;

// linear (chunk format version 2): x[i] = a + ((i * s) >> 8) + residual[i], with a line (a, s)
// fitted per block. A smooth signal with noise then costs the noise's range, where delta costs
// twice that (the difference of two noisy values) and delta of delta four times.
enum class IntTransform : std::uint8_t { raw = 0, delta = 1, delta_of_delta = 2, linear = 3 };

inline constexpr unsigned transform_bit(IntTransform t) {
  return 1u << static_cast<unsigned>(t);
}
inline constexpr unsigned kAnyTransform = 0b1111;
// Timestamps are increasing: raw would never win, so it is not tried.
inline constexpr unsigned kDifferenceTransforms = transform_bit(IntTransform::delta) |
                                                  transform_bit(IntTransform::delta_of_delta) |
                                                  transform_bit(IntTransform::linear);

// Layout: u8 mode (bits 0-1 transform, bits 2-3 scale 10^0/10^3/10^6/10^9, bit 4 every lane is
// zero, bit 5 lanes are not zigzagged (none is negative), bits 6-7 zero), for linear two varints,
// zigzag(a - chain.prev) and zigzag(s), then the packed values (packed_ints.hpp) unless bit 4
// is set. Bits 4-5 and linear need chunk format version 2; version 1 blocks are read as they
// were written. Version 3: a mode byte kRepeatHeader (above) instead of the mode byte and the
// packing header when both equal the previous block's on the chain.
// With `may_imply_header`, a block that would start with kRepeatHeader leaves that byte out
// as well and the function returns true: the caller marks the repeat in a byte of its own
// (float_column.hpp's kind byte) and reads the block back with `header_implied`.
// Advances `chain`.
bool write_int_column(std::span<const std::int64_t> values, unsigned allowed_transforms,
                      IntChain& chain, Bytes& out, bool may_imply_header = false);

// Reads `out.size()` values and advances `chain`; false on truncated or invalid bytes.
bool read_int_column(ByteReader& in, IntChain& chain, std::span<std::int64_t> out,
                     bool header_implied = false) noexcept;

}  // namespace castor::history::codec
