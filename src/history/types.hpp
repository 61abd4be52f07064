// The history module's vocabulary: value types of a series, chunk limits and the byte type.
// Everything here is a plain constant or enum shared by encoder, decoder and readers; it must
// never grow behaviour or state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace castor::history {

// The value type of a series; fixed when its chunk is created. The numbers are on disk.
enum class ValueType : std::uint8_t {
  float64 = 1,
  int64 = 2,
  boolean = 3,
  string = 4,
};

std::string_view value_type_name(ValueType type) noexcept;
bool is_valid_value_type(std::uint8_t raw) noexcept;

// Points are compressed in blocks of this many: the encoder buffers at most one block raw, and
// every column picks its best scheme per block. 128 keeps per-block headers under 0.05 B/point
// while letting the choice follow the signal.
inline constexpr std::size_t kBlockSize = 128;

// Hard ceilings a chunk enforces; callers cut chunks much earlier (by count, time span or size).
inline constexpr std::uint32_t kMaxPointsPerChunk = 1u << 20;
// One string value; a longer one is rejected as invalid input rather than truncated.
inline constexpr std::size_t kMaxStringBytes = 64 * 1024;
// All distinct strings of one chunk; reaching it asks the caller to seal and start a new chunk.
inline constexpr std::size_t kMaxDictionaryBytes = 1024 * 1024;

using Bytes = std::vector<std::uint8_t>;

}  // namespace castor::history
