// Reads a sealed chunk back a block at a time, in time order. Everything is validated: a corrupt,
// truncated or foreign chunk yields a Status error, never a crash, an out-of-bounds read or
// silently wrong points. The decoder does not copy the chunk: its bytes must outlive it.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "history/chunk_format.hpp"
#include "history/codec/block_codec.hpp"

namespace castor::history {

struct DecodeOptions {
  // Default true. Off only where bytes were verified moments ago, or to fuzz the structural
  // checks behind the checksum; structure is validated either way.
  bool verify_checksum = true;
};

class ChunkDecoder {
 public:
  // Checks the header, the checksum and (for strings) the dictionary.
  static Result<ChunkDecoder> open(std::span<const std::uint8_t> chunk, DecodeOptions options = {});
  // The decoder keeps a view of the bytes: a temporary buffer would dangle.
  static Result<ChunkDecoder> open(Bytes&& chunk, DecodeOptions options = {}) = delete;

  const ChunkHeader& header() const noexcept { return header_; }
  ValueType type() const noexcept { return header_.type; }

  // Decodes the next block and returns its number of points; 0 once every point was read.
  // After an error, every further call returns that error.
  Result<std::size_t> next_block();
  // Back to before the first block.
  void rewind() noexcept;
  // Points in the blocks decoded so far, the current one included.
  std::uint32_t points_read() const noexcept { return read_; }

  // The current block; valid until the next next_block() or rewind().
  std::span<const std::int64_t> timestamps() const noexcept { return {ts_.data(), size_}; }
  // Float64 chunks only.
  std::span<const double> doubles() const noexcept { return {doubles_.data(), size_}; }
  // Int64 values; 0/1 for boolean; dictionary ids for string.
  std::span<const std::int64_t> ints() const noexcept { return {ints_.data(), size_}; }
  // A dictionary entry of a string chunk; ids come from ints().
  std::string_view string(std::int64_t id) const noexcept {
    return dictionary_[static_cast<std::size_t>(id)];
  }

 private:
  ChunkDecoder(std::span<const std::uint8_t> chunk, const ChunkHeader& header)
      : chunk_(chunk), header_(header), reader_(chunk) {}
  Status corrupt(const std::string& what);
  Status check_order();

  std::span<const std::uint8_t> chunk_;
  ChunkHeader header_;
  std::vector<std::string_view> dictionary_;
  std::size_t blocks_offset_ = 0;  // where the first block starts in chunk_
  codec::ByteReader reader_;
  codec::BlockChains chains_;
  std::uint32_t read_ = 0;
  std::size_t size_ = 0;
  std::int64_t last_ts_ = 0;  // of the previous block
  Status error_;
  std::array<std::int64_t, kBlockSize> ts_;
  std::array<std::int64_t, kBlockSize> ints_;
  std::array<double, kBlockSize> doubles_;
};

}  // namespace castor::history
