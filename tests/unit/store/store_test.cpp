// Store: reads, scans, column families, LSNs, snapshots and the errors a user can meet.
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace castor::store {
namespace {

using Strings = std::vector<std::string>;

StoreOptions small() {
  StoreOptions options;
  options.block_cache_bytes = 8 << 20;
  options.write_buffer_bytes = 4 << 20;
  return options;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen({"twins", "series"}); }

  void reopen(const Strings& families, StoreOptions options = small()) {
    store_.reset();
    auto opened = Store::open(dir_.path(), families, options);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
  }

  ColumnFamily cf(std::string_view name) {
    auto found = store_->column_family(name);
    EXPECT_TRUE(found.is_ok()) << found.status().to_string();
    return found.is_ok() ? *found : ColumnFamily{};
  }

  std::optional<std::string> get(std::string_view family, std::string_view key,
                                 const Snapshot* at = nullptr) {
    auto value = store_->get(cf(family), key, at);
    EXPECT_TRUE(value.is_ok()) << value.status().to_string();
    return value.is_ok() ? *value : std::nullopt;
  }

  void put(std::string_view family, std::string_view key, std::string_view value) {
    ASSERT_TRUE(store_->put(cf(family), key, value).is_ok());
  }

  static Strings keys(Iterator it) {
    Strings out;
    for (; it.valid(); it.next()) out.emplace_back(it.key());
    EXPECT_TRUE(it.status().is_ok()) << it.status().to_string();
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, PutGetEraseRoundTrip) {
  const std::string binary("v\0\xff\x01", 4);
  put("twins", "a", "1");
  put("twins", "b", binary);
  EXPECT_EQ(get("twins", "a"), "1");
  EXPECT_EQ(get("twins", "b"), binary);
  EXPECT_EQ(get("twins", "missing"), std::nullopt);
  ASSERT_TRUE(store_->erase(cf("twins"), "a").is_ok());
  EXPECT_EQ(get("twins", "a"), std::nullopt);
  EXPECT_EQ(get("twins", "b"), binary);
}

TEST_F(StoreTest, MultiGetAnswersInTheOrderOfTheKeys) {
  put("twins", "a", "1");
  put("twins", "b", "2");
  const std::vector<std::string_view> wanted{"b", "missing", "a"};
  auto values = store_->multi_get(cf("twins"), wanted);
  ASSERT_TRUE(values.is_ok()) << values.status().to_string();
  ASSERT_EQ(values->size(), 3u);
  EXPECT_EQ((*values)[0], "2");
  EXPECT_EQ((*values)[1], std::nullopt);
  EXPECT_EQ((*values)[2], "1");
}

TEST_F(StoreTest, ScanPrefixYieldsOnlyMatchingKeysInByteOrder) {
  for (const char* key : {"twin/b", "twim", "twin0", "twin/a", "twin/\xff", "twio", "twin"}) {
    put("twins", key, "x");
  }
  EXPECT_EQ(keys(store_->scan_prefix(cf("twins"), "twin/")),
            (Strings{"twin/a", "twin/b", "twin/\xff"}));
  // A prefix ending in 0xff has no simple successor; the bound must still stop before "q".
  for (const char* key : {"p\xff", "p\xff\x01", "q", "p"}) put("series", key, "x");
  EXPECT_EQ(keys(store_->scan_prefix(cf("series"), "p\xff")), (Strings{"p\xff", "p\xff\x01"}));
  EXPECT_EQ(keys(store_->scan_prefix(cf("series"), "")), (Strings{"p", "p\xff", "p\xff\x01", "q"}));
}

TEST_F(StoreTest, ScanRangeIsHalfOpenAndUnboundedWithEmptyEnd) {
  for (const char* key : {"e", "a", "c", "b", "d"}) put("twins", key, key);
  EXPECT_EQ(keys(store_->scan_range(cf("twins"), "b", "d")), (Strings{"b", "c"}));
  EXPECT_EQ(keys(store_->scan_range(cf("twins"), "c", "")), (Strings{"c", "d", "e"}));
  auto it = store_->scan_range(cf("twins"), "a", "b");
  ASSERT_TRUE(it.valid());
  EXPECT_EQ(it.value(), "a");
}

TEST_F(StoreTest, EraseRangeRemovesExactlyTheHalfOpenRange) {
  for (const char* key : {"a", "b", "c", "d", "e"}) put("twins", key, key);
  WriteBatch batch;
  batch.erase_range(cf("twins"), "b", "d");
  ASSERT_TRUE(store_->commit_sync(std::move(batch)).is_ok());
  EXPECT_EQ(keys(store_->scan_prefix(cf("twins"), "")), (Strings{"a", "d", "e"}));
}

TEST_F(StoreTest, ColumnFamiliesAreSeparateAndSurviveReopen) {
  put("twins", "k", "twin");
  put("series", "k", "series");
  // Reopen naming only one family: the other is reopened anyway, a new one is created.
  reopen({"twins", "alarms"});
  EXPECT_EQ(get("twins", "k"), "twin");
  EXPECT_EQ(get("series", "k"), "series");
  EXPECT_EQ(get("alarms", "k"), std::nullopt);
  EXPECT_EQ(store_->column_family_names(), (Strings{"default", "twins", "series", "alarms"}));
  EXPECT_EQ(cf("series").name(), "series");
}

TEST_F(StoreTest, AnUnsortedMemtableFamilyReadsLikeAnyOtherAndSurvivesReopen) {
  StoreOptions options = small();
  options.unsorted_memtable_families = {"twins"};
  reopen({"twins", "series"}, options);
  // Several versions per key, written out of order, as patches write twins.
  for (int round = 0; round < 3; ++round) {
    for (const char* k : {"c", "a", "b"}) put("twins", k, std::string(k) + std::to_string(round));
  }
  ASSERT_TRUE(store_->erase(cf("twins"), "b").is_ok());
  EXPECT_EQ(keys(store_->scan_prefix(cf("twins"), "")), (Strings{"a", "c"}));
  EXPECT_EQ(get("twins", "a"), "a2");
  EXPECT_EQ(get("twins", "b"), std::nullopt);
  reopen({"twins", "series"}, options);  // replayed from the log into a vector memtable again
  EXPECT_EQ(keys(store_->scan_prefix(cf("twins"), "")), (Strings{"a", "c"}));
  EXPECT_EQ(get("twins", "c"), "c2");
  reopen({"twins", "series"});  // the memtable kind is not persisted
  EXPECT_EQ(get("twins", "a"), "a2");
}

TEST_F(StoreTest, UnknownColumnFamilyIsNotFound) {
  auto missing = store_->column_family("nope");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Code::not_found);
  EXPECT_NE(missing.status().message().find("\"nope\""), std::string::npos);
}

TEST_F(StoreTest, LsnCountsOperationsAndSurvivesReopen) {
  WriteBatch one;
  one.put(cf("twins"), "a", "1");
  auto first = store_->commit_sync(std::move(one));
  WriteBatch three;
  three.put(cf("twins"), "b", "2");
  three.put(cf("series"), "c", "3");
  three.erase(cf("twins"), "a");
  auto second = store_->commit_sync(std::move(three));
  ASSERT_TRUE(first.is_ok() && second.is_ok());
  EXPECT_EQ(*second - *first, 3u);
  EXPECT_EQ(store_->last_committed_lsn(), *second);

  reopen({"twins", "series"});
  EXPECT_EQ(store_->last_committed_lsn(), *second);
  WriteBatch next;
  next.put(cf("twins"), "d", "4");
  auto third = store_->commit_sync(std::move(next));
  ASSERT_TRUE(third.is_ok());
  EXPECT_EQ(*third, *second + 1);
}

TEST_F(StoreTest, SnapshotSeesOnlyCommitsBeforeIt) {
  put("twins", "k", "v1");
  put("twins", "a", "1");
  const Lsn before = store_->last_committed_lsn();
  const Snapshot snap = store_->snapshot();
  put("twins", "k", "v2");
  ASSERT_TRUE(store_->erase(cf("twins"), "a").is_ok());
  put("twins", "b", "2");

  EXPECT_EQ(snap.lsn(), before);
  EXPECT_LT(snap.lsn(), store_->last_committed_lsn());
  EXPECT_EQ(get("twins", "k", &snap), "v1");
  EXPECT_EQ(get("twins", "k"), "v2");
  EXPECT_EQ(get("twins", "a", &snap), "1");
  EXPECT_EQ(get("twins", "a"), std::nullopt);
  EXPECT_EQ(keys(store_->scan_prefix(cf("twins"), "", &snap)), (Strings{"a", "k"}));
  EXPECT_EQ(keys(store_->scan_prefix(cf("twins"), "")), (Strings{"b", "k"}));
  const std::vector<std::string_view> wanted{"b", "k"};
  auto values = store_->multi_get(cf("twins"), wanted, &snap);
  ASSERT_TRUE(values.is_ok());
  EXPECT_EQ((*values)[0], std::nullopt);
  EXPECT_EQ((*values)[1], "v1");
}

TEST_F(StoreTest, IteratorKeepsTheViewOfItsCreation) {
  put("twins", "a", "1");
  put("twins", "c", "3");
  Iterator it = store_->scan_prefix(cf("twins"), "");
  put("twins", "b", "2");
  EXPECT_EQ(keys(std::move(it)), (Strings{"a", "c"}));
  EXPECT_EQ(keys(store_->scan_prefix(cf("twins"), "")), (Strings{"a", "b", "c"}));
}

TEST_F(StoreTest, SecondOpenInTheSameProcessIsRefusedWithAReason) {
  auto again = Store::open(dir_.path(), {"twins"}, small());
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.status().code(), Code::failed_precondition);
  EXPECT_EQ(again.status().message(), "this castor process already has " + dir_.path().string() +
                                          " open; close the other Store before opening it again");
}

TEST_F(StoreTest, ClosedStoreAnswersUnavailable) {
  const ColumnFamily twins = cf("twins");
  put("twins", "a", "1");
  const Lsn last = store_->last_committed_lsn();
  store_->close();
  store_->close();  // idempotent
  EXPECT_EQ(store_->last_committed_lsn(), last);
  EXPECT_EQ(store_->get(twins, "a").status().code(), Code::unavailable);
  EXPECT_EQ(store_->scan_prefix(twins, "").status().code(), Code::unavailable);
  WriteBatch batch;
  EXPECT_EQ(store_->commit(std::move(batch), nullptr).code(), Code::unavailable);
  EXPECT_EQ(store_->commit_sync(WriteBatch{}).status().code(), Code::unavailable);
}

TEST_F(StoreTest, ColumnFamilyOfAnotherStoreIsRefused) {
  test::TempDir other_dir;
  auto other = Store::open(other_dir.path(), {"twins"}, small());
  ASSERT_TRUE(other.is_ok());
  const ColumnFamily foreign = *(*other)->column_family("twins");
  EXPECT_EQ(store_->get(foreign, "a").status().code(), Code::invalid_argument);

  WriteBatch batch;
  batch.put(foreign, "a", "1");
  auto committed = store_->commit_sync(std::move(batch));
  EXPECT_EQ(committed.status().code(), Code::invalid_argument);
  EXPECT_EQ(get("twins", "a"), std::nullopt);

  const Snapshot foreign_snapshot = (*other)->snapshot();
  EXPECT_EQ(store_->get(cf("twins"), "a", &foreign_snapshot).status().code(),
            Code::invalid_argument);
  EXPECT_EQ(store_->scan_prefix(cf("twins"), "", &foreign_snapshot).status().code(),
            Code::invalid_argument);

  WriteBatch mixed;
  mixed.put(cf("twins"), "a", "1");
  EXPECT_THROW(mixed.put(foreign, "a", "1"), std::invalid_argument);
  EXPECT_THROW(mixed.put(ColumnFamily{}, "a", "1"), std::invalid_argument);
}

TEST(StoreOpen, RefusesBadOptionsAndMissingStores) {
  test::TempDir dir;
  StoreOptions no_groups = small();
  no_groups.max_group_batches = 0;
  EXPECT_EQ(Store::open(dir.path(), {}, no_groups).status().code(), Code::invalid_argument);
  EXPECT_EQ(Store::open(dir.path(), {""}, small()).status().code(), Code::invalid_argument);

  StoreOptions existing_only = small();
  existing_only.create_if_missing = false;
  auto absent = Store::open(dir.path() / "absent", {}, existing_only);
  EXPECT_EQ(absent.status().code(), Code::not_found);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "absent"));

  std::ofstream(dir.path() / "file") << "not a directory";
  auto blocked = Store::open(dir.path() / "file" / "data", {}, small());
  ASSERT_FALSE(blocked.is_ok());
  EXPECT_NE(blocked.status().message().find("choose another --data"), std::string::npos)
      << blocked.status().message();
}

TEST(StoreOpen, CreatesNestedDirectoriesAndTheDefaultFamily) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "a" / "b", {}, small());
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  EXPECT_EQ((*store)->column_family_names(), (Strings{"default"}));
  EXPECT_EQ((*store)->last_committed_lsn(), 0u);
}

}  // namespace
}  // namespace castor::store
