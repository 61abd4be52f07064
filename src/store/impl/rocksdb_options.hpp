// Internal to src/store: translates StoreOptions into RocksDB's options. The one place that
// decides how RocksDB is tuned; it never opens anything.
#pragma once

#include <rocksdb/options.h>

#include "store/options.hpp"

namespace castor::store::impl {

struct RocksdbOptions {
  rocksdb::DBOptions db;
  rocksdb::ColumnFamilyOptions column_family;  // shared by every family, with one block cache
};

RocksdbOptions make_rocksdb_options(const StoreOptions& options);
// The options of column family `name`: `base` with the memtable StoreOptions asks for it.
rocksdb::ColumnFamilyOptions family_options(const RocksdbOptions& base, const StoreOptions& options,
                                            const std::string& name);

}  // namespace castor::store::impl
