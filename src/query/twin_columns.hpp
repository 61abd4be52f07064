// Columns of hot properties: a shard's copy of one top-level property of every twin, kept per
// model slot of its ShardIndex in the order of the slot's twins, so that a full scan whose
// conditions read only such properties walks dense arrays instead of every twin's memory. A cell
// never decides a row alone when it cannot (objects and arrays): the scan then reads the twin.
// Columns follow every change of their twins (the index is the shard's observer) and are only
// used on the shard's own thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "query/datum.hpp"

namespace castor::query {

// One twin's value of a column's property as conditions read it: a scalar, a text of up to 16
// bytes inline, a longer one viewed in the twin's own cell (valid until the twin changes, when
// the index refreshes the cell), or "complex" (read the twin).
class ColumnCell {
 public:
  static constexpr std::size_t kInline = 16;

  // `d` as read from the twin by read_twin_path.
  static ColumnCell of(const Datum& d) noexcept;
  bool complex() const noexcept { return complex_; }
  Datum datum() const noexcept;

 private:
  Datum::Kind kind_ = Datum::Kind::undefined;
  bool complex_ = false;
  bool inline_text_ = false;
  std::uint32_t size_ = 0;  // text bytes
  union {
    bool b;
    std::int64_t i;
    double d;
    const char* p;
    char chars[kInline];
  } u_{};
};

static_assert(sizeof(ColumnCell) == 24, "a column costs 24 bytes per twin");

}  // namespace castor::query
