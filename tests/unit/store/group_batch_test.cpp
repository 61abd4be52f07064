// GroupBatch: merging keeps every operation, and a batch that cannot be merged leaves no trace.
#include "store/impl/group_batch.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "store/impl/access.hpp"
#include "store/store.hpp"
#include "temp_dir.hpp"

namespace castor::store::impl {
namespace {

TEST(GroupBatch, MergesInOrderAndRollsBackAFailedAppend) {
  test::TempDir dir;
  auto store = Store::open(dir.path(), {"data"}, {});
  ASSERT_TRUE(store.is_ok());
  rocksdb::ColumnFamilyHandle* fallback = Access::handle(*(*store)->column_family("default"));
  rocksdb::ColumnFamilyHandle* data = Access::handle(*(*store)->column_family("data"));
  ASSERT_EQ(fallback->GetID(), 0u);
  ASSERT_EQ(data->GetID(), 1u);

  // This group knows only family 0, so a batch touching family 1 cannot join it.
  GroupBatch group({fallback});
  rocksdb::WriteBatch first, second, bad;
  ASSERT_TRUE(first.Put(fallback, "a", "1").ok());
  ASSERT_TRUE(second.Delete(fallback, "b").ok());
  ASSERT_TRUE(second.DeleteRange(fallback, "c", "d").ok());
  ASSERT_TRUE(bad.Put(fallback, "e", "5").ok());
  ASSERT_TRUE(bad.Put(data, "f", "6").ok());

  ASSERT_TRUE(group.append(first).ok());
  ASSERT_TRUE(group.append(second).ok());
  const std::string before = group.batch().Data();
  EXPECT_FALSE(group.append(bad).ok());
  EXPECT_EQ(group.batch().Data(), before);
  EXPECT_EQ(group.batch().Count(), 3u);

  rocksdb::WriteBatch expected;
  ASSERT_TRUE(expected.Put(fallback, "a", "1").ok());
  ASSERT_TRUE(expected.Delete(fallback, "b").ok());
  ASSERT_TRUE(expected.DeleteRange(fallback, "c", "d").ok());
  EXPECT_EQ(group.batch().Data(), expected.Data());
}

}  // namespace
}  // namespace castor::store::impl
