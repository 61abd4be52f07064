// Internal to src/store: the one door from store internals to the RocksDB objects behind the
// public value types. Nothing outside src/store may include this header.
#pragma once

#include <optional>
#include <string>

#include "store/iterator.hpp"
#include "store/snapshot.hpp"
#include "store/types.hpp"
#include "store/write_batch.hpp"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace castor::store::impl {

// Key range of a scan: [lower, upper), no upper bound when `upper` is empty.
struct ScanBounds {
  std::string lower;
  std::optional<std::string> upper;
  bool bulk = false;  // ScanMode::bulk
};

struct Access {
  static rocksdb::ColumnFamilyHandle* handle(ColumnFamily cf) noexcept { return cf.handle_; }
  static const rocksdb::DB* owner(ColumnFamily cf) noexcept { return cf.owner_; }
  static ColumnFamily column_family(rocksdb::ColumnFamilyHandle* h, const rocksdb::DB* owner) {
    return ColumnFamily(h, owner);
  }
  static rocksdb::WriteBatch& rep(WriteBatch& batch) { return batch.rep(); }
  // The store whose families the batch names; nullptr while it names none.
  static const rocksdb::DB* owner(const WriteBatch& batch) noexcept { return batch.owner_; }
  static const rocksdb::Snapshot* raw(const Snapshot* at) noexcept {
    return at ? at->snapshot_ : nullptr;
  }
  static Snapshot snapshot(rocksdb::DB* db, const rocksdb::Snapshot* s) noexcept {
    return Snapshot(db, s);
  }
  // An empty snapshot reads the latest state of any store.
  static bool taken_from(const Snapshot& at, const rocksdb::DB& db) noexcept {
    return at.db_ == nullptr || at.db_ == &db;
  }
  // Defined in iterator.cpp, next to the state it builds.
  static Iterator iterator(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                           const rocksdb::Snapshot* at, ScanBounds bounds, std::string data_dir);
  static Iterator failed_iterator(Status error);
};

}  // namespace castor::store::impl
