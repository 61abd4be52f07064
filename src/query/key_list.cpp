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
  std::vector<std::string_view> parts(width_);
  for (std::size_t r = from; r < to; ++r) {
    for (std::size_t k = 0; k < width_; ++k) parts[k] = other.part(r, k);
    add(parts);
  }
}

}  // namespace castor::query
