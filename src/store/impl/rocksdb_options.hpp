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

}  // namespace castor::store::impl
