// WriteBatch: the operations a caller wants applied atomically, filled on the caller's thread and
// handed to Store::commit. It only records operations; it never touches the disk and is not safe
// for two threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "store/types.hpp"

namespace rocksdb {
class WriteBatch;
}  // namespace rocksdb

namespace castor::store {

class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&& other) noexcept;
  WriteBatch& operator=(WriteBatch&& other) noexcept;
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  // `cf` must be valid, and all families of one batch must come from one Store: anything else is
  // a bug and throws std::invalid_argument (RocksDB would silently use another family).
  void put(ColumnFamily cf, std::string_view key, std::string_view value);
  void erase(ColumnFamily cf, std::string_view key);
  // Erases every key in [begin, end).
  void erase_range(ColumnFamily cf, std::string_view begin, std::string_view end);

  void clear();                        // keeps the allocated buffer for reuse
  std::size_t count() const noexcept;  // operations recorded
  bool empty() const noexcept { return count() == 0; }
  std::size_t size_bytes() const noexcept;  // encoded size; what backpressure accounts

 private:
  friend struct impl::Access;
  rocksdb::WriteBatch& rep();  // recreates the representation of a moved-from batch
  rocksdb::ColumnFamilyHandle* target(ColumnFamily cf);

  std::unique_ptr<rocksdb::WriteBatch> rep_;
  const rocksdb::DB* owner_ = nullptr;  // the store whose families the batch names
};

}  // namespace castor::store
