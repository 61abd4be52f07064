#include "history/chunk_decoder.hpp"

#include <string>

#include "history/codec/string_dictionary.hpp"

namespace castor::history {

Result<ChunkDecoder> ChunkDecoder::open(std::span<const std::uint8_t> chunk,
                                        DecodeOptions options) {
  Result<ChunkHeader> header = read_header(chunk);
  if (!header.is_ok()) return std::move(header).take_status();
  if (options.verify_checksum && compute_checksum(chunk) != header->checksum) {
    return invalid_argument(
        "history chunk checksum mismatch: the stored chunk is damaged; restore it from a replica "
        "or backup");
  }
  ChunkDecoder decoder(chunk, *header);
  codec::ByteReader body(chunk.subspan(kChunkHeaderSize));
  if (header->type == ValueType::string &&
      !codec::read_dictionary(body, header->count, decoder.dictionary_)) {
    return invalid_argument("history chunk is corrupt: its string dictionary is malformed");
  }
  decoder.blocks_offset_ = kChunkHeaderSize + body.offset();
  decoder.rewind();
  return decoder;
}

void ChunkDecoder::rewind() noexcept {
  reader_ = codec::ByteReader(chunk_.subspan(blocks_offset_));
  chains_ = codec::BlockChains::start(header_.min_ts);
  read_ = 0;
  size_ = 0;
  error_ = Status::ok();
}

Status ChunkDecoder::corrupt(const std::string& what) {
  error_ = invalid_argument("history chunk is corrupt at point " + std::to_string(read_) + " of " +
                            std::to_string(header_.count) + ": " + what +
                            "; the stored chunk is damaged");
  size_ = 0;
  return error_;
}

Result<std::size_t> ChunkDecoder::next_block() {
  if (!error_.is_ok()) return error_;
  if (read_ == header_.count) {
    size_ = 0;
    if (reader_.remaining() != 0) return corrupt("bytes after the last block");
    return std::size_t{0};
  }
  if (read_ != 0) last_ts_ = ts_[size_ - 1];
  size_ = std::min<std::size_t>(kBlockSize, header_.count - read_);
  if (!codec::read_block(header_.type, reader_, dictionary_.size(), chains_, {ts_.data(), size_},
                         {ints_.data(), size_}, {doubles_.data(), size_})) {
    return corrupt("a block is truncated or malformed");
  }
  CASTOR_RETURN_IF_ERROR(check_order());
  read_ += static_cast<std::uint32_t>(size_);
  return size_;
}

namespace {

// Whether ts[i - 1] < ts[i] for every i in [1, n). Without a branch per timestamp and over whole
// groups of 8, so that -O2 vectorises it; with AVX2 that is a 64-bit compare per 4 timestamps.
[[gnu::always_inline]] inline bool increasing_body(const std::int64_t* ts, std::size_t n) noexcept {
  constexpr std::size_t kGroup = 8;
  std::uint64_t unordered = 0;
  std::size_t i = 1;
  for (; i + kGroup <= n; i += kGroup) {
    for (std::size_t j = 0; j < kGroup; ++j) unordered |= ts[i + j] <= ts[i + j - 1];
  }
  for (; i < n; ++i) unordered |= ts[i] <= ts[i - 1];
  return unordered == 0;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) bool increasing_avx2(const std::int64_t* ts,
                                                     std::size_t n) noexcept {
  return increasing_body(ts, n);
}
#endif

bool increasing(const std::int64_t* ts, std::size_t n) noexcept {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return increasing_avx2(ts, n);
#endif
  return increasing_body(ts, n);
}

}  // namespace

// Timestamps must increase strictly and span exactly the header's range.
Status ChunkDecoder::check_order() {
  if (read_ == 0 ? ts_[0] != header_.min_ts : ts_[0] <= last_ts_) {
    return corrupt("timestamps are out of order");
  }
  if (!increasing(ts_.data(), size_)) return corrupt("timestamps are out of order");
  if (read_ + size_ == header_.count && ts_[size_ - 1] != header_.max_ts) {
    return corrupt("the last timestamp does not match the header");
  }
  return Status::ok();
}

}  // namespace castor::history
