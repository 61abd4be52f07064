// Gorilla XOR compression of one block of doubles, continuing from the previous block's last
// value: identical value = 1 bit; otherwise the XOR's meaningful bits inside a leading/trailing
// zero window. The fallback for doubles that are not short decimals (NaN, -0.0, full precision).
// Bit-exact for every double, NaN payloads included; decoding never reads outside the block.
#pragma once

#include <cstdint>
#include <span>

#include "history/codec/byte_io.hpp"

namespace castor::history::codec {

// The largest stream one block can produce: 13 control bits + 64 payload bits per value.
inline constexpr std::size_t kMaxXorBlockBytes = (kBlockSize * 77 + 7) / 8;

// Encodes into `out` (kMaxXorBlockBytes + 8 bytes); returns the stream length.
// `prev_bits` is the previous value's bit pattern (0 at chunk start).
std::size_t encode_xor(std::span<const double> values, std::uint64_t prev_bits,
                       std::uint8_t* out) noexcept;

// Decodes `out.size()` values from `stream`; false if it is corrupt or too short.
bool decode_xor(std::span<const std::uint8_t> stream, std::uint64_t prev_bits,
                std::span<double> out) noexcept;

}  // namespace castor::history::codec
