#include "history/range_scan.hpp"

#include <algorithm>
#include <string>

namespace castor::history {

Result<RangeScan> RangeScan::open(ValueType type, std::span<const ChunkBytes> chunks,
                                  std::int64_t from, std::int64_t to, DecodeOptions options) {
  RangeScan scan(type, from, to, options);
  std::optional<std::int64_t> previous_max;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    Result<ChunkHeader> h = read_header(chunks[i]);
    if (!h.is_ok()) return std::move(h).take_status();
    if (h->type != type) {
      return failed_precondition("chunk " + std::to_string(i) + " holds " +
                                 std::string(value_type_name(h->type)) + " values, not " +
                                 std::string(value_type_name(type)) + "; pass one series' chunks");
    }
    if (previous_max && h->min_ts <= *previous_max) {
      return failed_precondition("chunk " + std::to_string(i) + " starts at " +
                                 std::to_string(h->min_ts) + ", not after the previous chunk's " +
                                 "end (" + std::to_string(*previous_max) +
                                 "); pass chunks in time order and merge overlapping ones first");
    }
    previous_max = h->max_ts;
    if (h->overlaps(from, to)) scan.chunks_.push_back(chunks[i]);
  }
  return scan;
}

Result<bool> RangeScan::open_next_chunk() {
  if (next_chunk_ == chunks_.size()) return false;
  Result<ChunkDecoder> d = ChunkDecoder::open(chunks_[next_chunk_++], options_);
  if (!d.is_ok()) return std::move(d).take_status();
  decoder_.emplace(std::move(d).value());
  return true;
}

Result<bool> RangeScan::next() {
  for (;;) {
    if (!decoder_) {
      Result<bool> opened = open_next_chunk();
      if (!opened.is_ok() || !*opened) return opened;
    }
    Result<std::size_t> n = decoder_->next_block();
    if (!n.is_ok()) return n.status();
    if (*n == 0) {
      decoder_.reset();
      continue;
    }
    const auto ts = decoder_->timestamps();
    if (ts.back() < from_) continue;  // the whole block is before the range
    if (ts.front() >= to_) {          // and so is everything after it
      next_chunk_ = chunks_.size();
      decoder_.reset();
      return false;
    }
    // Most blocks lie wholly inside the range: no search then.
    begin_ = ts.front() >= from_ ? 0
                                 : static_cast<std::size_t>(
                                       std::lower_bound(ts.begin(), ts.end(), from_) - ts.begin());
    end_ = ts.back() < to_ ? ts.size()
                           : static_cast<std::size_t>(
                                 std::lower_bound(ts.begin(), ts.end(), to_) - ts.begin());
    if (type_ == ValueType::int64 || type_ == ValueType::boolean) {
      const auto ints = this->ints();
      std::transform(ints.begin(), ints.end(), numeric_.begin(),
                     [](std::int64_t v) { return static_cast<double>(v); });
    }
    return true;
  }
}

std::span<const double> RangeScan::numeric() const noexcept {
  switch (type_) {
    case ValueType::float64: return doubles();
    case ValueType::int64:
    case ValueType::boolean: return {numeric_.data(), end_ - begin_};
    case ValueType::string: break;
  }
  return {};
}

}  // namespace castor::history
