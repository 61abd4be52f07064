// KeyList: rows appended from another list (whole, a middle range, none) read back part for part
// as they were added, for twin keys (one part) and relationship keys (two), and room reserved
// ahead changes nothing a reader sees.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "query/key_list.hpp"

namespace castor::query {
namespace {

KeyList list_of(std::size_t width, const std::vector<std::vector<std::string>>& rows) {
  KeyList k(width);
  for (const auto& r : rows) {
    std::vector<std::string_view> parts(r.begin(), r.end());
    k.add(parts);
  }
  return k;
}

std::vector<std::vector<std::string>> rows_of(const KeyList& k) {
  std::vector<std::vector<std::string>> out;
  for (std::size_t r = 0; r < k.size(); ++r) {
    auto& row = out.emplace_back();
    for (std::size_t p = 0; p < k.width(); ++p) row.emplace_back(k.part(r, p));
  }
  return out;
}

TEST(QueryKeyList, AppendCopiesTheRangeOfRows) {
  const std::vector<std::vector<std::string>> rows = {
      {"a"}, {""}, {"robot-12-3"}, {"b\"c"}, {"sensor-9"}};
  const KeyList source = list_of(1, rows);
  for (std::size_t from = 0; from <= rows.size(); ++from) {
    for (std::size_t to = from; to <= rows.size(); ++to) {
      KeyList k = list_of(1, {{"first"}});
      k.append(source, from, to);
      std::vector<std::vector<std::string>> want = {{"first"}};
      want.insert(want.end(), rows.begin() + static_cast<std::ptrdiff_t>(from),
                  rows.begin() + static_cast<std::ptrdiff_t>(to));
      EXPECT_EQ(rows_of(k), want) << from << ".." << to;
    }
  }
}

TEST(QueryKeyList, AppendKeepsRelationshipKeysTogether) {
  const KeyList source = list_of(2, {{"s1", "r1"}, {"s2", ""}, {"", "r3"}, {"s4", "r4"}});
  KeyList k(2);
  k.append(source, 1, 3);
  k.append(source, 3, 4);
  k.append(source, 0, 1);
  EXPECT_EQ(rows_of(k), (std::vector<std::vector<std::string>>{
                            {"s2", ""}, {"", "r3"}, {"s4", "r4"}, {"s1", "r1"}}));
}

TEST(QueryKeyList, RowsWithoutPartsAreCounted) {
  KeyList source(0);
  for (int i = 0; i < 5; ++i) source.add({});
  KeyList k(0);
  k.append(source, 1, 4);
  k.reserve(10, 100);
  EXPECT_EQ(k.size(), 3u);
}

TEST(QueryKeyList, ReservingChangesNoRow) {
  KeyList k = list_of(1, {{"x"}, {"y"}});
  const std::size_t bytes = k.text_bytes();
  k.reserve(1000, 24000);
  EXPECT_EQ(k.text_bytes(), bytes);
  EXPECT_GE(k.bytes(), 24000u) << "reserved memory is charged";
  k.add(std::array<std::string_view, 1>{"z"});
  EXPECT_EQ(rows_of(k), (std::vector<std::vector<std::string>>{{"x"}, {"y"}, {"z"}}));
}

}  // namespace
}  // namespace castor::query
