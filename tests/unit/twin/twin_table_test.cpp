#include "twin/twin_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace castor::twin {
namespace {

std::unique_ptr<Twin> make(const std::string& id, std::uint64_t etag = 0) {
  auto t = std::make_unique<Twin>();
  t->id = id;
  t->etag = etag;
  return t;
}

TEST(TwinTable, FindsWhatWasPutAndNothingElse) {
  TwinTable table;
  EXPECT_EQ(table.find("a"), nullptr);
  table.put(make("a", 1));
  table.put(make("b", 2));
  ASSERT_NE(table.find("a"), nullptr);
  EXPECT_EQ(table.find("a")->etag, 1u);
  EXPECT_EQ(table.find("b")->etag, 2u);
  EXPECT_EQ(table.find("c"), nullptr);
  EXPECT_EQ(table.size(), 2u);
}

TEST(TwinTable, PutReplacesTheTwinWithTheSameId) {
  TwinTable table;
  table.put(make("a", 1));
  Twin& replaced = table.put(make("a", 7));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(&replaced, table.find("a"));
  EXPECT_EQ(table.find("a")->etag, 7u);
}

TEST(TwinTable, EraseByTheTwinsOwnIdKeepsTheOthersReachable) {
  TwinTable table;
  for (int i = 0; i < 100; ++i) table.put(make("t" + std::to_string(i)));
  const Twin* t = table.find("t42");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(table.erase(t->id));  // the view dies with the twin
  EXPECT_FALSE(table.erase("t42"));
  EXPECT_EQ(table.find("t42"), nullptr);
  for (int i = 0; i < 100; ++i) {
    if (i != 42) {
      EXPECT_NE(table.find("t" + std::to_string(i)), nullptr) << i;
    }
  }
  EXPECT_EQ(table.size(), 99u);
}

// Random puts, replacements and erases across several growths agree with a std::map, and
// iteration visits every twin exactly once.
TEST(TwinTable, AgreesWithAMapUnderRandomChanges) {
  TwinTable table;
  std::map<std::string, std::uint64_t> model;
  std::mt19937_64 rng(5);
  for (int step = 0; step < 200000; ++step) {
    const std::string id = "id-" + std::to_string(rng() % 5000);
    const std::uint64_t etag = rng();
    switch (rng() % 3) {
      case 0:
      case 1:
        table.put(make(id, etag));
        model[id] = etag;
        break;
      default:
        EXPECT_EQ(table.erase(id), model.erase(id) == 1);
    }
  }
  ASSERT_EQ(table.size(), model.size());
  for (const auto& [id, etag] : model) {
    const Twin* t = table.find(id);
    ASSERT_NE(t, nullptr) << id;
    EXPECT_EQ(t->etag, etag);
  }
  std::map<std::string, int> seen;
  table.for_each_while([&](const Twin& t) {
    ++seen[t.id];
    return true;
  });
  EXPECT_EQ(seen.size(), model.size());
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  int visited = 0;
  table.for_each_while([&](const Twin&) { return ++visited < 3; });
  EXPECT_EQ(visited, 3);
}

// find_all's pipeline (hashes in a ring, slots and twins loaded ahead) must answer exactly what
// find() answers, for every batch length around its look-ahead distances and for absent ids.
TEST(TwinTable, FindAllAnswersWhatFindAnswersForEveryBatchLength) {
  TwinTable table;
  std::vector<Twin*> out;
  std::vector<std::string> none{"x"};
  out.assign(1, reinterpret_cast<Twin*>(&table));
  table.find_all(std::span<const std::string>(none), std::span<Twin*>(out));
  EXPECT_EQ(out[0], nullptr);  // an empty table
  for (int i = 0; i < 3000; ++i) table.put(make("t-" + std::to_string(i), static_cast<std::uint64_t>(i)));
  std::mt19937_64 rng(9);
  for (std::size_t n = 0; n < 60; ++n) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < n; ++i) ids.push_back("t-" + std::to_string(rng() % 4000));  // ~1/4 absent
    out.assign(n, nullptr);
    table.find_all(std::span<const std::string>(ids), std::span<Twin*>(out));
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], table.find(ids[i])) << n << " " << ids[i];
  }
  std::vector<std::string_view> views{"t-1", "t-2999", "t-3000"};
  out.assign(views.size(), nullptr);
  table.find_all(std::span<const std::string_view>(views), std::span<Twin*>(out));
  ASSERT_NE(out[0], nullptr);
  EXPECT_EQ(out[0]->etag, 1u);
  ASSERT_NE(out[1], nullptr);
  EXPECT_EQ(out[1]->etag, 2999u);
  EXPECT_EQ(out[2], nullptr);
}

}  // namespace
}  // namespace castor::twin
