// Internal to src/store: merges the batches of one commit group into a single RocksDB batch, so
// the group costs one write and one fsync. It keeps every operation in submission order and never
// lets a bad batch leave part of itself in the group.
#pragma once

#include <rocksdb/write_batch.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace castor::store::impl {

class GroupBatch {
 public:
  // `by_id[i]` is the handle of the column family with RocksDB id i (nullptr for holes).
  explicit GroupBatch(std::vector<rocksdb::ColumnFamilyHandle*> by_id) : by_id_(std::move(by_id)) {}

  void clear() { merged_.Clear(); }
  // Appends a copy of `batch`. On failure (a column family this store does not have) the group is
  // left exactly as before the call.
  rocksdb::Status append(const rocksdb::WriteBatch& batch);
  rocksdb::WriteBatch& batch() noexcept { return merged_; }

 private:
  std::vector<rocksdb::ColumnFamilyHandle*> by_id_;
  rocksdb::WriteBatch merged_;
};

}  // namespace castor::store::impl
