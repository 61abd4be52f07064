#include "query/row_list.hpp"

#include <stdexcept>

namespace castor::query {

std::string_view RowList::at(std::size_t i) const {
  if (i >= rows_.size()) throw std::out_of_range("RowList::at");
  return (*this)[i];
}

void RowList::push_back(std::string row) {
  rows_.push_back(Row{kOwn, 0, own_.size()});
  own_.push_back(std::move(row));
}

RowList RowList::of(std::vector<std::string> rows) {
  RowList list;
  list.rows_.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) list.rows_.push_back(Row{kOwn, 0, i});
  list.own_ = std::move(rows);
  return list;
}

void RowList::push_back(std::uint32_t block, std::size_t offset, std::size_t size) {
  rows_.push_back(Row{block, static_cast<std::uint32_t>(size), offset});
}

std::uint32_t RowList::add_block(Block block) {
  blocks_.push_back(std::move(block));
  return static_cast<std::uint32_t>(blocks_.size() - 1);
}

std::uint32_t RowList::add_blocks(const std::vector<Block>& blocks) {
  const auto first = static_cast<std::uint32_t>(blocks_.size());
  blocks_.insert(blocks_.end(), blocks.begin(), blocks.end());
  return first;
}

void RowList::truncate(std::size_t n) {
  if (n < rows_.size()) rows_.resize(n);
}

void RowList::append(RowList&& other) {
  const auto base = static_cast<std::uint32_t>(blocks_.size());
  blocks_.insert(blocks_.end(), other.blocks_.begin(), other.blocks_.end());
  rows_.reserve(rows_.size() + other.rows_.size());
  for (const Row& r : other.rows_) {
    if (r.block == kOwn) {
      push_back(std::move(other.own_[r.offset]));
    } else {
      rows_.push_back(Row{r.block + base, r.size, r.offset});
    }
  }
}

std::size_t RowList::text_bytes() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < rows_.size(); ++i) n += (*this)[i].size();
  return n;
}

}  // namespace castor::query
