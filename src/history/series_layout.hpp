// The on-disk layout of the history store (see docs/history.md): column family names, key
// encodings (big-endian, so RocksDB's byte order is time order), the series descriptor and the
// WAL record format. Encoding and decoding only; decoders validate every length and never trust
// the bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "history/series_store.hpp"

namespace castor::history {

inline constexpr const char* kSeriesFamily = "history_series";
inline constexpr const char* kChunksFamily = "history_chunks";
inline constexpr const char* kHeadsFamily = "history_heads";
inline constexpr const char* kWalFamily = "history_wal";

// Series ids: the creating partition in the top bits, a counter below.
inline constexpr unsigned kIdPartitionShift = 40;
inline constexpr std::uint8_t kDescriptorVersion = 1;
inline constexpr std::uint8_t kWalVersion = 1;

std::string id_key(std::uint64_t id);                          // 8 bytes
std::string chunk_key(std::uint64_t id, std::int64_t min_ts);  // id, then ts with the sign flipped
std::string wal_key(std::uint32_t partition, std::uint64_t seq);
bool parse_id_key(std::string_view key, std::uint64_t& id);

// Descriptor: u8 version, u8 type, i64 sealed_max, i64 retention, then twin, component, name and
// model as varint-length strings, then the value at sealed_max (f64, i64, varint-length string).
void encode_descriptor(const Series& s, std::string& out);
Result<std::unique_ptr<Series>> decode_descriptor(std::uint64_t id, std::string_view bytes);

// WAL record: u8 version, then groups until the end: varint series id, u8 type, varint count,
// i64 first ts, count - 1 varint ts deltas (> 0), then the values (float64: 8 bytes; int64:
// zigzag varint; boolean: 1 byte; string: varint length + bytes).
void encode_wal_group(const Series& s, std::span<const PointIn> points, Bytes& out);
// Calls `fn(series id, point)` for every point of a record; stops at the first error.
Status decode_wal_record(std::string_view bytes,
                         const std::function<Status(std::uint64_t, const PointIn&)>& fn);

}  // namespace castor::history
