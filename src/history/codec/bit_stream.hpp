// LSB-first bit writer and reader for the chunk codecs (Gorilla XOR, packed integers).
// Both work on caller-sized buffers: the writer never grows memory per bit, and the reader only
// reads inside a zero-padded copy, so a corrupt stream can never read outside its buffer.
#pragma once

#include <cstdint>

#include "history/codec/byte_io.hpp"

namespace castor::history::codec {

inline constexpr std::uint64_t low_bits(unsigned n) noexcept {
  return n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
}

// Writes into `out`, which must hold the largest stream the caller can produce plus 8 bytes.
class BitWriter {
 public:
  explicit BitWriter(std::uint8_t* out) noexcept : out_(out) {}

  // Appends the low `n` bits of `v` (n in 0..64; bits above n must be zero).
  void put(std::uint64_t v, unsigned n) noexcept {
    acc_ |= v << fill_;
    if (fill_ + n < 64) {
      fill_ += n;
      return;
    }
    store_le64(out_ + bytes_, acc_);
    bytes_ += 8;
    const unsigned used = 64 - fill_;  // bits of v that fitted in the word just stored
    acc_ = used == 64 ? 0 : v >> used;
    fill_ = fill_ + n - 64;
  }

  // Flushes the last partial byte; returns the stream length in bytes.
  std::size_t finish() noexcept {
    store_le64(out_ + bytes_, acc_);
    return bytes_ + (fill_ + 7) / 8;
  }

 private:
  std::uint8_t* out_;
  std::size_t bytes_ = 0;
  std::uint64_t acc_ = 0;
  unsigned fill_ = 0;
};

// Reads from a zero-padded buffer. The caller sizes the padding so that the largest number of
// bits its loop can request stays inside it; overran() then tells whether the stream was shorter
// than what was read (a truncated or corrupt stream).
class BitReader {
 public:
  BitReader(const std::uint8_t* padded, std::size_t stream_bytes) noexcept
      : buf_(padded), limit_bits_(stream_bytes * 8) {}

  std::uint64_t get(unsigned n) noexcept {
    if (n > 56) {  // one unaligned load yields at least 57 valid bits
      const std::uint64_t lo = get(32);
      return lo | get(n - 32) << 32;
    }
    const std::uint64_t word = load_le64(buf_ + (pos_ >> 3)) >> (pos_ & 7);
    pos_ += n;
    return word & low_bits(n);
  }

  bool overran() const noexcept { return pos_ > limit_bits_; }
  std::size_t position_bits() const noexcept { return pos_; }

 private:
  const std::uint8_t* buf_;
  std::size_t limit_bits_;
  std::size_t pos_ = 0;
};

}  // namespace castor::history::codec
