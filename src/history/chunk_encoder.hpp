// The head chunk of one series: takes points in strictly increasing time order, compresses them a
// block at a time, and seals into the immutable chunk format (chunk_format.hpp). It must never
// drop, reorder or merge a point: whatever it cannot take is refused with a Status saying why.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.hpp"
#include "history/codec/block_codec.hpp"
#include "history/codec/string_dictionary.hpp"
#include "history/types.hpp"

namespace castor::history {

// Why append() refuses a point (the chunk is unchanged and the caller still owns the point):
//   invalid_argument     the value's type is not the chunk's type, or a string is too long
//   failed_precondition  ts is older than the last point: out of order. Route it to a separate
//                        (out-of-order) chunk; readers merge the two.
//   already_exists       ts equals the last point's: a duplicate. Drop it if the value is the same
//                        (a redelivery), else route it like an out-of-order point.
//   resource_exhausted   the chunk is full (kMaxPointsPerChunk, kMaxDictionaryBytes): seal it,
//                        then append the point to a new chunk.
class ChunkEncoder {
 public:
  explicit ChunkEncoder(ValueType type) noexcept : type_(type) {}

  Status append(std::int64_t ts, double value);
  Status append(std::int64_t ts, std::int64_t value);
  Status append(std::int64_t ts, bool value);
  Status append(std::int64_t ts, std::string_view value);
  // Without this, a string literal would convert to bool.
  Status append(std::int64_t ts, const char* value) { return append(ts, std::string_view(value)); }

  // Column appends (the ingest hot path): takes points in order until one is refused.
  struct BatchResult {
    std::size_t appended = 0;  // points taken, from the front
    Status status;             // why point `appended` was refused; ok if all were taken
  };
  BatchResult append(std::span<const std::int64_t> ts, std::span<const double> values);
  BatchResult append(std::span<const std::int64_t> ts, std::span<const std::int64_t> values);

  ValueType type() const noexcept { return type_; }
  std::uint32_t count() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  std::int64_t min_ts() const noexcept { return min_ts_; }  // meaningful when !empty()
  std::int64_t max_ts() const noexcept { return max_ts_; }
  // The size seal() would return: exact at block boundaries (every kBlockSize points); the
  // unflushed tail is estimated at the chunk's average so far.
  std::size_t size_bytes() const noexcept;
  // Heap and object bytes held by this head chunk.
  std::size_t memory_bytes() const noexcept;

  // The sealed bytes of the points so far; the head is unchanged (lets reads see the head).
  // failed_precondition if the chunk is empty.
  Result<Bytes> snapshot() const;
  // snapshot(), then the encoder is empty and ready for the next chunk of the same series.
  Result<Bytes> seal();
  void clear() noexcept;

 private:
  bool accepts(std::int64_t ts, ValueType value_type) const noexcept {
    return value_type == type_ && (count_ == 0 || ts > max_ts_) && count_ < kMaxPointsPerChunk;
  }
  Status refuse(std::int64_t ts, ValueType value_type) const;
  template <class T>
  BatchResult append_column(std::span<const std::int64_t> ts, std::span<const T> values);

  void push(std::int64_t ts, std::uint64_t lane) {
    if (count_ == 0) {
      min_ts_ = ts;
      chains_ = codec::BlockChains::start(ts);
    }
    max_ts_ = ts;
    pending_ts_[pending_] = ts;
    pending_values_[pending_] = lane;
    ++count_;
    if (++pending_ == kBlockSize) flush_block();
  }
  void flush_block();

  ValueType type_;
  std::uint32_t count_ = 0;
  std::uint32_t pending_ = 0;  // points buffered raw, not yet in blocks_
  std::int64_t min_ts_ = 0;
  std::int64_t max_ts_ = 0;
  codec::BlockChains chains_;
  Bytes blocks_;  // the compressed blocks so far
  codec::StringDictionary dictionary_;
  std::array<std::int64_t, kBlockSize> pending_ts_;
  std::array<std::uint64_t, kBlockSize> pending_values_;  // see codec::write_block
};

inline Status ChunkEncoder::append(std::int64_t ts, double value) {
  if (!accepts(ts, ValueType::float64)) [[unlikely]] {
    return refuse(ts, ValueType::float64);
  }
  push(ts, std::bit_cast<std::uint64_t>(value));
  return Status::ok();
}

inline Status ChunkEncoder::append(std::int64_t ts, std::int64_t value) {
  if (!accepts(ts, ValueType::int64)) [[unlikely]] {
    return refuse(ts, ValueType::int64);
  }
  push(ts, static_cast<std::uint64_t>(value));
  return Status::ok();
}

inline Status ChunkEncoder::append(std::int64_t ts, bool value) {
  if (!accepts(ts, ValueType::boolean)) [[unlikely]] {
    return refuse(ts, ValueType::boolean);
  }
  push(ts, value ? 1 : 0);
  return Status::ok();
}

}  // namespace castor::history
