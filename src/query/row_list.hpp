// RowList: the JSON texts of a page's rows, in order. A row is either a string of its own or a
// range of a block that a shard task wrote many rows into: rendering hundreds of twins into one
// block per task costs one allocation instead of one per row (a row of a whole twin is ~2 KB, and
// rows allocated on a shard and freed by the caller churned the allocator's slabs), and a twin
// shown in several rows is one range, not several copies. Immutable blocks; never copies a row.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace castor::query {

class RowList {
 public:
  using Block = std::shared_ptr<const std::string>;

  std::size_t size() const noexcept { return rows_.size(); }
  bool empty() const noexcept { return rows_.empty(); }
  std::string_view operator[](std::size_t i) const noexcept {
    const Row& r = rows_[i];
    const std::string& text = r.block == kOwn ? own_[r.offset] : *blocks_[r.block];
    return r.block == kOwn ? std::string_view(text)
                           : std::string_view(text).substr(r.offset, r.size);
  }
  // Throws std::out_of_range past the end, as std::vector::at does.
  std::string_view at(std::size_t i) const;

  // A row of its own (moved in, not copied).
  void push_back(std::string row);
  // Rows of their own, in order.
  static RowList of(std::vector<std::string> rows);
  // A row that is bytes [offset, offset + size) of `block`; `block` is the index a previous
  // add_block returned.
  void push_back(std::uint32_t block, std::size_t offset, std::size_t size);
  std::uint32_t add_block(Block block);
  // Adds every block of `blocks`; the first one's index (the others follow it).
  std::uint32_t add_blocks(const std::vector<Block>& blocks);
  // Keeps the first n rows.
  void truncate(std::size_t n);
  void reserve(std::size_t n) { rows_.reserve(n); }
  // The rows of `other` after these (its blocks are shared and its own rows moved, not copied).
  void append(RowList&& other);
  // Bytes of row text (what the rows show, not what their blocks hold).
  std::size_t text_bytes() const noexcept;

  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = std::string_view;
    const_iterator() = default;
    const_iterator(const RowList* list, std::size_t i) : list_(list), i_(i) {}
    std::string_view operator*() const noexcept { return (*list_)[i_]; }
    std::string_view operator[](difference_type n) const noexcept {
      return (*list_)[i_ + static_cast<std::size_t>(n)];
    }
    const_iterator& operator++() noexcept { return ++i_, *this; }
    const_iterator operator++(int) noexcept { return {list_, i_++}; }
    const_iterator& operator--() noexcept { return --i_, *this; }
    const_iterator operator--(int) noexcept { return {list_, i_--}; }
    const_iterator& operator+=(difference_type n) noexcept {
      i_ += static_cast<std::size_t>(n);
      return *this;
    }
    const_iterator& operator-=(difference_type n) noexcept {
      i_ -= static_cast<std::size_t>(n);
      return *this;
    }
    friend const_iterator operator+(const_iterator a, difference_type n) noexcept { return a += n; }
    friend const_iterator operator+(difference_type n, const_iterator a) noexcept { return a += n; }
    friend const_iterator operator-(const_iterator a, difference_type n) noexcept { return a -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) noexcept {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) noexcept {
      return a.i_ == b.i_;
    }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) noexcept {
      return a.i_ <=> b.i_;
    }

   private:
    const RowList* list_ = nullptr;
    std::size_t i_ = 0;
  };
  const_iterator begin() const noexcept { return {this, 0}; }
  const_iterator end() const noexcept { return {this, rows_.size()}; }
  using iterator = const_iterator;
  using value_type = std::string_view;

  // Same rows, same texts (wherever they are kept).
  friend bool operator==(const RowList& a, const RowList& b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  static constexpr std::uint32_t kOwn = UINT32_MAX;  // Row::offset indexes own_
  struct Row {
    std::uint32_t block = kOwn;
    std::uint32_t size = 0;
    std::size_t offset = 0;
  };
  std::vector<Row> rows_;
  std::vector<Block> blocks_;
  std::vector<std::string> own_;
};

}  // namespace castor::query
