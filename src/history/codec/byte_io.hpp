// Little-endian fixed-width fields and LEB128 varints, written to a byte vector and read back
// through a bounds-checked cursor. Readers must never touch a byte outside the span they were
// given: every read reports failure instead of reading past the end.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

#include "history/types.hpp"

namespace castor::history::codec {

static_assert(std::endian::native == std::endian::little,
              "the chunk format is little-endian; add byte swaps before porting to big-endian");

inline std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_le64(std::uint8_t* p, std::uint64_t v) noexcept {
  std::memcpy(p, &v, sizeof v);
}

template <class T>
void put_fixed(Bytes& out, T v) {
  std::uint8_t raw[sizeof(T)];
  std::memcpy(raw, &v, sizeof(T));
  out.insert(out.end(), raw, raw + sizeof(T));
}

inline void put_varint(Bytes& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

inline std::size_t varint_size(std::uint64_t v) noexcept {
  return v == 0 ? 1 : (static_cast<std::size_t>(std::bit_width(v)) + 6) / 7;
}

// A read cursor over untrusted bytes. Methods return false, and leave the output unspecified,
// when the bytes end early or a varint is malformed.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }

  bool read_u8(std::uint8_t& out) noexcept {
    if (pos_ >= bytes_.size()) return false;
    out = bytes_[pos_++];
    return true;
  }

  template <class T>
  bool read_fixed(T& out) noexcept {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(&out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  // Rejects varints longer than 10 bytes or with bits beyond 64, so each value has one encoding
  // that round-trips (important for fuzzing: no two inputs alias silently).
  bool read_varint(std::uint64_t& out) noexcept {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      std::uint8_t b;
      if (!read_u8(b)) return false;
      if (shift == 63 && b > 1) return false;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        out = v;
        return b != 0 || shift == 0;  // no trailing zero groups
      }
    }
    return false;
  }

  bool read_span(std::size_t n, std::span<const std::uint8_t>& out) noexcept {
    if (remaining() < n) return false;
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

}  // namespace castor::history::codec
