// Patched frame-of-reference packing of up to one block of unsigned integers: every value gets
// the same bit width, and the few that do not fit are stored as exceptions (index + high bits).
// The width is chosen per block to minimise bytes. Decoding must never read or write outside the
// block, whatever the input bytes.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "history/codec/byte_io.hpp"

namespace castor::history::codec {

using Lanes = std::array<std::uint64_t, kBlockSize>;

// The layout chosen for one block, and the exact number of bytes it will take.
struct PackPlan {
  unsigned width = 0;       // bits per value, 0..64
  unsigned exceptions = 0;  // values wider than `width`
  std::size_t bytes = 1;
};

// Picks the width that minimises the encoded size of `values` (size <= kBlockSize).
PackPlan plan_packing(std::span<const std::uint64_t> values) noexcept;

// Layout: u8 header (width | 0x80 if exceptions); [u8 exception count]; ceil(n*width/8) bytes
// of low bits, LSB first; per exception: u8 index (increasing), varint of value >> width
// (non-zero). Without `with_header` the header byte is left out (the caller knows it: the
// previous block's, see int_column.hpp).
void write_packed(std::span<const std::uint64_t> values, const PackPlan& plan, Bytes& out,
                  bool with_header = true);

// The header byte write_packed() writes for `plan`.
inline std::uint8_t packing_header(const PackPlan& plan) noexcept {
  return static_cast<std::uint8_t>(plan.width | (plan.exceptions ? 0x80 : 0));
}

// Reads `n` values (1..kBlockSize) into the front of `out`; false if the bytes are truncated or
// not a valid packing. The rest of `out` is scratch. The second form takes the header byte
// from `header` instead of the bytes when `header_known`, else reads it into `header`.
bool read_packed(ByteReader& in, std::size_t n, Lanes& out) noexcept;
bool read_packed(ByteReader& in, std::size_t n, Lanes& out, std::uint8_t& header,
                 bool header_known) noexcept;

}  // namespace castor::history::codec
