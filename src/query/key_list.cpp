#include "query/key_list.hpp"

#include <cassert>

namespace castor::query {

std::string_view KeyList::part(std::size_t row, std::size_t k) const {
  const std::size_t i = row * width_ + k;
  const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
  return std::string_view(arena_).substr(begin, ends_[i] - begin);
}

void KeyList::add(std::span<const std::string_view> parts) {
  assert(parts.size() == width_);
  if (width_ == 0) {
    ++rows_;
    return;
  }
  for (std::string_view p : parts) {
    arena_.append(p);
    ends_.push_back(arena_.size());
  }
}

void KeyList::append(const KeyList& other, std::size_t from, std::size_t to) {
  assert(other.width_ == width_);
  if (width_ == 0) {
    rows_ += to - from;
    return;
  }
  if (from >= to) return;
  // The rows' parts are contiguous in `other`'s arena: one copy, ends shifted to this arena.
  const std::size_t first = from * width_, last = to * width_;
  const std::size_t begin = first == 0 ? 0 : other.ends_[first - 1];
  const std::size_t end = other.ends_[last - 1];
  const std::size_t shift = arena_.size();
  arena_.append(other.arena_, begin, end - begin);
  ends_.reserve(ends_.size() + (last - first));
  for (std::size_t i = first; i < last; ++i) ends_.push_back(other.ends_[i] - begin + shift);
}

void KeyList::reserve(std::size_t rows, std::size_t bytes) {
  if (width_ == 0) return;
  ends_.reserve(ends_.size() + rows * width_);
  arena_.reserve(arena_.size() + bytes);
}

}  // namespace castor::query
