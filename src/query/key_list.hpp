// KeyList: the keys of a query's result rows, compactly (one string arena): for each slot the
// rows show, a twin id, or a relationship's source twin id and relationship id. Later pages are
// rendered from these keys, so a result is materialized once and paged without repeats or gaps.
// Holds ids only, never twin data.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace castor::query {

class KeyList {
 public:
  KeyList() = default;
  explicit KeyList(std::size_t width) : width_(width) {}

  std::size_t width() const noexcept { return width_; }  // strings per row
  std::size_t size() const noexcept { return width_ == 0 ? rows_ : ends_.size() / width_; }
  bool empty() const noexcept { return size() == 0; }
  // Part `k` of row `row`.
  std::string_view part(std::size_t row, std::size_t k) const;
  // Adds one row of exactly width() parts (a row of no parts when the width is 0).
  void add(std::span<const std::string_view> parts);
  // Appends rows [from, to) of `other` (same width).
  void append(const KeyList& other, std::size_t from, std::size_t to);
  // Bytes of key text held (what append() copies of all rows).
  std::size_t text_bytes() const noexcept { return arena_.size(); }
  // Room for `rows` more rows of `bytes` more key text, allocated once.
  void reserve(std::size_t rows, std::size_t bytes);
  // Bytes held, for memory budgets.
  std::size_t bytes() const noexcept {
    return arena_.capacity() + ends_.capacity() * sizeof(std::size_t);
  }

 private:
  std::size_t width_ = 0;
  std::size_t rows_ = 0;  // only for width 0 (COUNT-like rows that show nothing)
  std::string arena_;
  std::vector<std::size_t> ends_;  // end offset of each part in arena_
};

}  // namespace castor::query
