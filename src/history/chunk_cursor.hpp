// Point-at-a-time reading of one sealed chunk, with seek to a time. Built on ChunkDecoder: a seek
// decodes forward block by block (a chunk has no index inside; seeking backwards starts over).
// Like the decoder it never copies the chunk bytes and never reports a point it did not verify.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.hpp"
#include "history/chunk_decoder.hpp"

namespace castor::history {

// Usage:  while (cursor.next()) use(cursor.ts(), ...);   then check cursor.status().
//         if (cursor.seek(t)) do { use(...) } while (cursor.next());
class ChunkCursor {
 public:
  static Result<ChunkCursor> open(std::span<const std::uint8_t> chunk, DecodeOptions options = {});
  // The cursor keeps a view of the bytes: a temporary buffer would dangle.
  static Result<ChunkCursor> open(Bytes&& chunk, DecodeOptions options = {}) = delete;
  explicit ChunkCursor(ChunkDecoder decoder) noexcept : decoder_(std::move(decoder)) {}

  const ChunkHeader& header() const noexcept { return decoder_.header(); }

  // Moves to the next point (the first, on a fresh cursor). False at the end or on corrupt data;
  // status() tells which.
  bool next();
  // Moves to the first point with ts >= target. False if there is none (or on corrupt data).
  bool seek(std::int64_t target);
  bool valid() const noexcept { return valid_; }
  const Status& status() const noexcept { return status_; }

  // The current point; only while valid().
  std::int64_t ts() const noexcept { return decoder_.timestamps()[index_]; }
  double double_value() const noexcept { return decoder_.doubles()[index_]; }
  std::int64_t int_value() const noexcept { return decoder_.ints()[index_]; }
  bool bool_value() const noexcept { return decoder_.ints()[index_] != 0; }
  std::string_view string_value() const noexcept { return decoder_.string(int_value()); }
  // Float64, int64 and boolean values as a double (what aggregates work on).
  double numeric_value() const noexcept;

 private:
  bool load_next_block();

  ChunkDecoder decoder_;
  std::size_t index_ = 0;
  bool valid_ = false;
  bool started_ = false;
  Status status_;
};

}  // namespace castor::history
