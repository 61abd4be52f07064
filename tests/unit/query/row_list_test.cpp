// RowList: rows of their own and ranges of shared blocks read back in the order they were added,
// a block's row shown twice is the same text twice, truncating keeps the first rows, appending
// moves another list's rows after these, and lists compare by their texts only.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "query/row_list.hpp"

namespace castor::query {
namespace {

std::vector<std::string> texts(const RowList& rows) {
  return {rows.begin(), rows.end()};
}

TEST(RowList, MixesOwnRowsAndRangesOfBlocks) {
  RowList rows;
  rows.push_back(std::string("{\"a\":1}"));
  const auto block = rows.add_block(std::make_shared<const std::string>("{\"b\":2}{\"c\":3}"));
  rows.push_back(block, 7, 7);
  rows.push_back(block, 0, 7);
  rows.push_back(block, 7, 7);  // a twin in two rows: one range, read twice
  EXPECT_EQ(texts(rows),
            (std::vector<std::string>{"{\"a\":1}", "{\"c\":3}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_EQ(rows.text_bytes(), 28u);
  EXPECT_EQ(rows.at(1), "{\"c\":3}");
  EXPECT_THROW((void)rows.at(4), std::out_of_range);
}

TEST(RowList, TruncatesAndAppends) {
  RowList first = RowList::of({"1", "2", "3"});
  first.truncate(2);
  first.truncate(5);  // longer than the list: nothing changes
  RowList second;
  const auto blocks = second.add_blocks(
      {std::make_shared<const std::string>("x"), std::make_shared<const std::string>("yz")});
  second.push_back(blocks + 1, 1, 1);
  second.push_back(blocks, 0, 1);
  second.push_back(std::string("4"));
  first.append(std::move(second));
  EXPECT_EQ(texts(first), (std::vector<std::string>{"1", "2", "z", "x", "4"}));
}

TEST(RowList, ComparesTextsNotWhereTheyAreKept) {
  RowList own = RowList::of({"{}", "[1]"});
  RowList ranged;
  const auto block = ranged.add_block(std::make_shared<const std::string>("[1]{}"));
  ranged.push_back(block, 3, 2);
  ranged.push_back(block, 0, 3);
  EXPECT_EQ(own, ranged);
  ranged.truncate(1);
  EXPECT_NE(own, ranged);
}

}  // namespace
}  // namespace castor::query
