// ChunkedSet, the property indexes' ordered store: after any mix of inserts and erases (enough to
// split chunks and merge them back) it holds exactly what a std::set holds, in the same order,
// and its ranges (lower_bound, distance, for_each) agree with the std::set's.
#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "query/chunked_set.hpp"

namespace castor::query {
namespace {

template <class T>
void expect_same_range(const ChunkedSet<T>& c, const std::set<T>& s, const T& lo, const T& hi) {
  const auto a = c.lower_bound(lo), b = c.lower_bound(hi);
  std::vector<T> got;
  c.for_each(a, b, [&](const T& v) { got.push_back(v); });
  const std::vector<T> want(s.lower_bound(lo), s.lower_bound(hi));
  EXPECT_EQ(got, want);
  EXPECT_EQ(c.distance(a, b), want.size());
  if (s.lower_bound(lo) == s.end()) {
    EXPECT_TRUE(a == c.end());
  } else {
    ASSERT_FALSE(a == c.end());
    EXPECT_EQ(*a, *s.lower_bound(lo));
  }
}

TEST(ChunkedSet, RandomInsertsAndErasesMatchAStdSet) {
  std::mt19937 rng(7);
  ChunkedSet<int> c;
  std::set<int> s;
  std::uniform_int_distribution<int> value(0, 5000);
  // Grow past many chunks, shrink to a few (merges), grow again.
  for (const auto& [rounds, insert_share] : {std::pair{20000, 80}, {30000, 20}, {20000, 60}}) {
    for (int i = 0; i < rounds; ++i) {
      const int v = value(rng);
      if (static_cast<int>(rng() % 100) < insert_share) {
        EXPECT_EQ(c.insert(v), s.insert(v).second);
      } else {
        EXPECT_EQ(c.erase(v), s.erase(v) == 1);
      }
      if (i % 997 == 0) {
        int lo = value(rng), hi = value(rng);
        if (hi < lo) std::swap(lo, hi);
        expect_same_range(c, s, lo, hi);
      }
    }
    ASSERT_EQ(c.size(), s.size());
    const std::vector<int> all(c.begin(), c.end());
    EXPECT_EQ(all, std::vector<int>(s.begin(), s.end()));
    expect_same_range(c, s, -1, 6000);  // everything
    expect_same_range(c, s, 6000, 7000);  // past the end
  }
}

TEST(ChunkedSet, EmptiesAndRefills) {
  ChunkedSet<std::pair<std::string, int>> c;
  EXPECT_TRUE(c.lower_bound({"a", 0}) == c.end());
  EXPECT_FALSE(c.erase({"a", 0}));
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(c.insert({"k" + std::to_string(i % 10), i}));
  EXPECT_FALSE(c.insert({"k3", 3}));  // already held
  const auto a = c.lower_bound({"k3", 0}), b = c.lower_bound({"k4", 0});
  EXPECT_EQ(c.distance(a, b), 100u);
  for (int i = 999; i >= 0; --i) EXPECT_TRUE(c.erase({"k" + std::to_string(i % 10), i}));
  EXPECT_TRUE(c.empty());
  EXPECT_TRUE(c.begin() == c.end());
  EXPECT_TRUE(c.insert({"z", 1}));
  EXPECT_EQ(c.begin()->second, 1);
}

}  // namespace
}  // namespace castor::query
