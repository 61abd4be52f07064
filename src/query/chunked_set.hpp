// An ordered set kept as a list of small sorted arrays (a one-level B-tree): ranges are read from
// contiguous memory and counted chunk by chunk, and an insert or erase moves at most one chunk.
// Holds unique values; it never allocates per element and is not safe for concurrent writes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <utility>
#include <vector>

namespace castor::query {

template <class T, class Less = std::less<T>>
class ChunkedSet {
 public:
  // Chunks split when they pass kMax values; small neighbours merge back (see erase).
  static constexpr std::size_t kMax = 256;

  // A position: chunk index and offset in it; the end is {chunks, 0}.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    Iterator() = default;
    const T& operator*() const { return (*chunks_)[chunk_][pos_]; }
    const T* operator->() const { return &**this; }
    Iterator& operator++() {
      if (++pos_ == (*chunks_)[chunk_].size()) {
        ++chunk_;
        pos_ = 0;
      }
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& o) const { return chunk_ == o.chunk_ && pos_ == o.pos_; }

   private:
    friend class ChunkedSet;
    Iterator(const std::vector<std::vector<T>>* chunks, std::size_t chunk, std::size_t pos)
        : chunks_(chunks), chunk_(chunk), pos_(pos) {}
    const std::vector<std::vector<T>>* chunks_ = nullptr;
    std::size_t chunk_ = 0;
    std::size_t pos_ = 0;
  };

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Iterator begin() const { return {&chunks_, 0, 0}; }
  Iterator end() const { return {&chunks_, chunks_.size(), 0}; }

  // The first value not less than `v`.
  Iterator lower_bound(const T& v) const {
    const std::size_t c = chunk_for(v);
    if (c == chunks_.size()) return end();
    const auto& chunk = chunks_[c];
    const auto at = std::lower_bound(chunk.begin(), chunk.end(), v, less_);
    return {&chunks_, c, static_cast<std::size_t>(at - chunk.begin())};
  }

  // Values in [a, b), b not before a: whole chunks by their sizes.
  std::size_t distance(const Iterator& a, const Iterator& b) const {
    if (a.chunk_ == b.chunk_) return b.pos_ - a.pos_;
    std::size_t n = chunks_[a.chunk_].size() - a.pos_ + b.pos_;
    for (std::size_t c = a.chunk_ + 1; c < b.chunk_; ++c) n += chunks_[c].size();
    return n;
  }

  // Calls f(value) for each value in [a, b).
  template <class F>
  void for_each(const Iterator& a, const Iterator& b, F&& f) const {
    for (std::size_t c = a.chunk_; c <= b.chunk_ && c < chunks_.size(); ++c) {
      const auto& chunk = chunks_[c];
      const std::size_t from = c == a.chunk_ ? a.pos_ : 0;
      const std::size_t to = c == b.chunk_ ? b.pos_ : chunk.size();
      for (std::size_t i = from; i < to; ++i) f(chunk[i]);
    }
  }

  // False when an equal value is already held.
  bool insert(T v) {
    if (chunks_.empty()) {
      chunks_.emplace_back().push_back(std::move(v));
      ++size_;
      return true;
    }
    // The first chunk whose last value is not less than v, else the last chunk (v is largest).
    const std::size_t c = std::min(chunk_for(v), chunks_.size() - 1);
    auto& chunk = chunks_[c];
    const auto at = std::lower_bound(chunk.begin(), chunk.end(), v, less_);
    if (at != chunk.end() && !less_(v, *at)) return false;
    chunk.insert(at, std::move(v));
    ++size_;
    if (chunk.size() > kMax) split(c);
    return true;
  }

  // False when no equal value is held.
  bool erase(const T& v) {
    const std::size_t c = chunk_for(v);
    if (c == chunks_.size()) return false;
    auto& chunk = chunks_[c];
    const auto at = std::lower_bound(chunk.begin(), chunk.end(), v, less_);
    if (at == chunk.end() || less_(v, *at)) return false;
    chunk.erase(at);
    --size_;
    if (chunk.empty()) {
      chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c));
    } else if (chunk.size() < kMax / 4) {
      merge_with_next(c > 0 ? c - 1 : c);
    }
    return true;
  }

  void clear() {
    chunks_.clear();
    size_ = 0;
  }

 private:
  // The first chunk whose last value is not less than v (chunks_.size() when none).
  std::size_t chunk_for(const T& v) const {
    const auto it = std::partition_point(chunks_.begin(), chunks_.end(),
                                         [&](const std::vector<T>& c) { return less_(c.back(), v); });
    return static_cast<std::size_t>(it - chunks_.begin());
  }

  void split(std::size_t c) {
    auto& chunk = chunks_[c];
    const auto half = chunk.begin() + static_cast<std::ptrdiff_t>(chunk.size() / 2);
    std::vector<T> upper(std::make_move_iterator(half), std::make_move_iterator(chunk.end()));
    chunk.erase(half, chunk.end());
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(c + 1), std::move(upper));
  }

  // Chunk c takes chunk c + 1's values when both fit in half a chunk (room for inserts after).
  void merge_with_next(std::size_t c) {
    if (c + 1 >= chunks_.size()) return;
    auto& a = chunks_[c];
    auto& b = chunks_[c + 1];
    if (a.size() + b.size() > kMax / 2) return;
    a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c + 1));
  }

  std::vector<std::vector<T>> chunks_;
  std::size_t size_ = 0;
  [[no_unique_address]] Less less_;
};

}  // namespace castor::query
