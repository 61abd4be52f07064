// CRC-32C (Castagnoli) over chunk bytes, so that a flipped bit in storage or transit is reported
// as corruption instead of decoding to wrong values. Uses the SSE4.2 instruction when the CPU has
// it and a table otherwise; both give the same result. Holds no state between calls.
#pragma once

#include <cstdint>
#include <span>

namespace castor::history::codec {

// Extends `crc` (0 to start) over `bytes`.
std::uint32_t crc32c(std::uint32_t crc, std::span<const std::uint8_t> bytes) noexcept;

}  // namespace castor::history::codec
