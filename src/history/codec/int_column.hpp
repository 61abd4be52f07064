// One block of an int64 column (timestamps, integers, booleans, dictionary ids, decimal
// mantissas): a transform (raw, delta or delta-of-delta) continuing from the previous block, a
// common power-of-ten factor divided out, zigzag, then packed_ints. The encoder picks the
// transform per block; arithmetic wraps, so every int64 sequence round-trips exactly.
#pragma once

#include <cstdint>
#include <span>

#include "history/codec/byte_io.hpp"

namespace castor::history::codec {

// What the previous block left behind: its last value and last difference.
struct IntChain {
  std::int64_t prev = 0;
  std::int64_t delta = 0;
};

enum class IntTransform : std::uint8_t { raw = 0, delta = 1, delta_of_delta = 2 };

inline constexpr unsigned transform_bit(IntTransform t) {
  return 1u << static_cast<unsigned>(t);
}
inline constexpr unsigned kAnyTransform = 0b111;
// Timestamps are increasing: raw would never win, so it is not tried.
inline constexpr unsigned kDifferenceTransforms =
    transform_bit(IntTransform::delta) | transform_bit(IntTransform::delta_of_delta);

// Layout: u8 mode (bits 0-1 transform, bits 2-3 scale 10^0/10^3/10^6/10^9, bits 4-7 zero),
// then the packed zigzag values. Advances `chain`.
void write_int_column(std::span<const std::int64_t> values, unsigned allowed_transforms,
                      IntChain& chain, Bytes& out);

// Reads `out.size()` values and advances `chain`; false on truncated or invalid bytes.
bool read_int_column(ByteReader& in, IntChain& chain, std::span<std::int64_t> out) noexcept;

}  // namespace castor::history::codec
