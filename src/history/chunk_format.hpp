// The sealed chunk's header: what a reader may learn about a chunk without decoding it (type,
// point count, time range) and the constants of the on-disk format. read_header() checks only
// the fixed header; ChunkDecoder checks the rest. Never change the layout of a released version:
// add a new version number instead.
//
// Layout (little-endian), 36 bytes, then the body:
//   0  u32 magic "CSTK"     4  u8 version (1-3)   5  u8 value type   6  u16 flags (0)
//   8  u32 point count      12 i64 min ts (first point)             20 i64 max ts (last point)
//   28 u32 body bytes       32 u32 CRC-32C of bytes 0..31 and of the body
// Body: [string chunks: dictionary] then ceil(count / kBlockSize) blocks, each a timestamp
// column followed by a value column (see codec/). Timestamps are strictly increasing.
// Version 2 adds the linear transform to integer columns (codec/int_column.hpp); version 3 lets
// a block repeat the previous block's column headers instead of writing them (int_column.hpp's
// kRepeatHeader, float_column.hpp's kind 0x7f). This build writes version 3 and reads all three.
#pragma once

#include <cstdint>
#include <span>

#include "common/status.hpp"
#include "history/types.hpp"

namespace castor::history {

inline constexpr std::uint32_t kChunkMagic = 0x4b545343;  // "CSTK" read as little-endian
inline constexpr std::uint8_t kChunkVersion = 3;
inline constexpr std::uint8_t kOldestChunkVersion = 1;
inline constexpr std::size_t kChunkHeaderSize = 36;

struct ChunkHeader {
  ValueType type = ValueType::float64;
  std::uint32_t count = 0;
  std::int64_t min_ts = 0;  // inclusive; the first point
  std::int64_t max_ts = 0;  // inclusive; the last point
  std::uint32_t body_bytes = 0;
  std::uint32_t checksum = 0;

  // Whether the chunk may hold points in [from, to); lets range reads skip whole chunks.
  bool overlaps(std::int64_t from, std::int64_t to) const noexcept {
    return min_ts < to && max_ts >= from;
  }
};

// Validates and parses the fixed header of `chunk` (which must be the whole chunk: its length is
// checked against the body size). Does not verify the checksum.
Result<ChunkHeader> read_header(std::span<const std::uint8_t> chunk);

// Appends the header for a chunk whose body is `body`, checksum included.
void write_header(const ChunkHeader& header, std::span<const std::uint8_t> body, Bytes& out);

// The checksum a chunk should carry (header bytes 0..31 and the body).
std::uint32_t compute_checksum(std::span<const std::uint8_t> chunk) noexcept;

}  // namespace castor::history
