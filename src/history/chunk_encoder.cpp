#include "history/chunk_encoder.hpp"

#include <cstring>
#include <string>

#include "history/chunk_format.hpp"

namespace castor::history {
namespace {

// Before the first block is flushed there is no average to go by: assume raw-ish 9 bytes.
constexpr std::size_t kTailGuessBytesPerPoint = 9;

}  // namespace

Status ChunkEncoder::refuse(std::int64_t ts, ValueType value_type) const {
  if (value_type != type_) {
    return invalid_argument("a " + std::string(value_type_name(value_type)) +
                            " value cannot go into a " + std::string(value_type_name(type_)) +
                            " series; convert it to the series' type first");
  }
  if (count_ == kMaxPointsPerChunk) {
    return resource_exhausted("the chunk holds the maximum of " +
                              std::to_string(kMaxPointsPerChunk) +
                              " points; seal it and append to a new chunk");
  }
  if (ts == max_ts_) {
    return already_exists("a point at ts " + std::to_string(ts) +
                          " is already in the chunk; drop the duplicate or write it to an "
                          "out-of-order chunk");
  }
  return failed_precondition("ts " + std::to_string(ts) + " is before the chunk's last point (" +
                             std::to_string(max_ts_) + "); write it to an out-of-order chunk");
}

Status ChunkEncoder::append(std::int64_t ts, std::string_view value) {
  if (!accepts(ts, ValueType::string)) return refuse(ts, ValueType::string);
  if (value.size() > kMaxStringBytes) {
    return invalid_argument("a string value of " + std::to_string(value.size()) +
                            " bytes is longer than the " + std::to_string(kMaxStringBytes) +
                            "-byte limit; shorten it or store it outside the history");
  }
  const auto id = dictionary_.intern(value);
  if (!id) {
    return resource_exhausted("the chunk's distinct strings reached " +
                              std::to_string(kMaxDictionaryBytes) +
                              " bytes; seal it and append to a new chunk");
  }
  push(ts, *id);
  return Status::ok();
}

template <class T>
ChunkEncoder::BatchResult ChunkEncoder::append_column(std::span<const std::int64_t> ts,
                                                      std::span<const T> values) {
  if (ts.size() != values.size()) {
    return {0, invalid_argument("a column append needs as many values (" +
                                std::to_string(values.size()) + ") as timestamps (" +
                                std::to_string(ts.size()) + ")")};
  }
  for (std::size_t i = 0; i < ts.size(); ++i) {
    Status s = append(ts[i], values[i]);
    if (!s.is_ok()) return {i, std::move(s)};
  }
  return {ts.size(), Status::ok()};
}

ChunkEncoder::BatchResult ChunkEncoder::append(std::span<const std::int64_t> ts,
                                               std::span<const double> values) {
  return append_column(ts, values);
}

ChunkEncoder::BatchResult ChunkEncoder::append(std::span<const std::int64_t> ts,
                                               std::span<const std::int64_t> values) {
  return append_column(ts, values);
}

void ChunkEncoder::flush_block() {
  codec::write_block(type_, {pending_ts_.data(), pending_}, {pending_values_.data(), pending_},
                     chains_, blocks_);
  pending_ = 0;
}

std::size_t ChunkEncoder::size_bytes() const noexcept {
  std::size_t bytes = kChunkHeaderSize + blocks_.size();
  if (type_ == ValueType::string) bytes += dictionary_.encoded_size();
  const std::size_t flushed = count_ - pending_;
  bytes += flushed ? blocks_.size() * pending_ / flushed : pending_ * kTailGuessBytesPerPoint;
  return bytes;
}

std::size_t ChunkEncoder::memory_bytes() const noexcept {
  return sizeof(*this) + blocks_.capacity() + dictionary_.memory_bytes();
}

Result<Bytes> ChunkEncoder::snapshot() const {
  if (count_ == 0) return failed_precondition("an empty chunk cannot be sealed; append first");
  Bytes out;
  out.reserve(size_bytes() + 64);
  out.resize(kChunkHeaderSize);  // filled in once the body is known
  if (type_ == ValueType::string) dictionary_.write(out);
  out.insert(out.end(), blocks_.begin(), blocks_.end());
  if (pending_ > 0) {
    codec::BlockChains chains = chains_;
    codec::write_block(type_, {pending_ts_.data(), pending_}, {pending_values_.data(), pending_},
                       chains, out);
  }
  ChunkHeader header{type_, count_, min_ts_, max_ts_};
  Bytes head;
  write_header(header, std::span(out).subspan(kChunkHeaderSize), head);
  std::memcpy(out.data(), head.data(), kChunkHeaderSize);
  return out;
}

Result<Bytes> ChunkEncoder::seal() {
  Result<Bytes> sealed = snapshot();
  if (sealed.is_ok()) clear();
  return sealed;
}

void ChunkEncoder::clear() noexcept {
  count_ = 0;
  pending_ = 0;
  blocks_.clear();
  dictionary_.clear();
}

}  // namespace castor::history
