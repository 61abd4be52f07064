// Reads one series' points in [from, to) from its sealed chunks, a block slice at a time: chunks
// whose header range misses [from, to) are skipped without decoding. Chunks must be in time order
// and must not overlap (merging out-of-order chunks is the series layer's job); this is checked,
// never assumed, so points are never silently reordered.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "history/chunk_decoder.hpp"

namespace castor::history {

class RangeScan {
 public:
  using ChunkBytes = std::span<const std::uint8_t>;

  // Reads every header: a chunk of another type, or one that starts before the previous one ends,
  // is refused (failed_precondition) as is a corrupt header (invalid_argument).
  static Result<RangeScan> open(ValueType type, std::span<const ChunkBytes> chunks,
                                std::int64_t from, std::int64_t to, DecodeOptions options = {});

  ValueType type() const noexcept { return type_; }

  // Moves to the next non-empty slice of points in range; false once there is none.
  Result<bool> next();

  // The current slice; valid until the next next().
  std::span<const std::int64_t> timestamps() const noexcept {
    return slice(decoder_->timestamps());
  }
  std::span<const double> doubles() const noexcept { return slice(decoder_->doubles()); }
  std::span<const std::int64_t> ints() const noexcept { return slice(decoder_->ints()); }
  std::string_view string(std::int64_t id) const noexcept { return decoder_->string(id); }
  // Float64, int64 and boolean values as doubles; empty for string series.
  std::span<const double> numeric() const noexcept;

 private:
  RangeScan(ValueType type, std::int64_t from, std::int64_t to, DecodeOptions options)
      : type_(type), from_(from), to_(to), options_(options) {}
  template <class T>
  std::span<const T> slice(std::span<const T> block) const noexcept {
    return block.subspan(begin_, end_ - begin_);
  }
  Result<bool> open_next_chunk();

  ValueType type_;
  std::int64_t from_;
  std::int64_t to_;
  DecodeOptions options_;
  std::vector<ChunkBytes> chunks_;  // only those overlapping [from, to)
  std::size_t next_chunk_ = 0;
  std::optional<ChunkDecoder> decoder_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::array<double, kBlockSize> numeric_;
};

}  // namespace castor::history
