#include "history/chunk_cursor.hpp"

#include <algorithm>

namespace castor::history {

Result<ChunkCursor> ChunkCursor::open(std::span<const std::uint8_t> chunk, DecodeOptions options) {
  Result<ChunkDecoder> decoder = ChunkDecoder::open(chunk, options);
  if (!decoder.is_ok()) return std::move(decoder).take_status();
  return ChunkCursor(std::move(decoder).value());
}

bool ChunkCursor::load_next_block() {
  Result<std::size_t> n = decoder_.next_block();
  if (!n.is_ok()) status_ = n.status();
  index_ = 0;
  valid_ = n.is_ok() && *n > 0;
  return valid_;
}

bool ChunkCursor::next() {
  if (!started_) {
    started_ = true;
    return load_next_block();
  }
  if (!valid_) return false;
  if (++index_ < decoder_.timestamps().size()) return true;
  return load_next_block();
}

bool ChunkCursor::seek(std::int64_t target) {
  if (!status_.is_ok()) return false;
  if (started_ && (!valid_ || ts() > target)) {
    // The target may lie behind the current position: start over.
    decoder_.rewind();
    started_ = false;
  }
  if (!started_ && !next()) return false;
  if (!valid_) return false;
  while (decoder_.timestamps().back() < target) {
    if (!load_next_block()) return false;
  }
  const auto ts = decoder_.timestamps();
  const auto from = ts.begin() + static_cast<std::ptrdiff_t>(index_);
  index_ = static_cast<std::size_t>(std::lower_bound(from, ts.end(), target) - ts.begin());
  return true;
}

double ChunkCursor::numeric_value() const noexcept {
  return decoder_.type() == ValueType::float64 ? double_value() : static_cast<double>(int_value());
}

}  // namespace castor::history
