#include "store/impl/rocksdb_options.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/table.h>

#include <algorithm>

namespace castor::store::impl {
namespace {

bool supported(rocksdb::CompressionType type) {
  const auto all = rocksdb::GetSupportedCompressions();
  return std::find(all.begin(), all.end(), type) != all.end();
}

rocksdb::DBOptions db_options(const StoreOptions& options) {
  rocksdb::DBOptions db;
  db.create_if_missing = options.create_if_missing;
  db.create_missing_column_families = true;
  db.max_background_jobs = std::max(options.background_jobs, 1);
  db.max_total_wal_size = options.max_wal_bytes;
  // A torn record at the log's tail is what a crash leaves behind; recovery keeps everything
  // before it, which is exactly what was acknowledged (acknowledged records were synced whole).
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Spread SST write-back over the flush instead of one large fsync stalling the committer.
  db.bytes_per_sync = 1 << 20;
  // RocksDB's own LOG files: enough history to diagnose a problem, not a slowly filling disk.
  db.keep_log_file_num = 10;
  db.max_log_file_size = 64 << 20;
  // The group committer is RocksDB's only writer, so concurrent memtable inserts never happen;
  // vector memtables (unsorted_memtable_families) also refuse to open with them enabled.
  db.allow_concurrent_memtable_write = false;
  return db;
}

std::shared_ptr<rocksdb::TableFactory> table_factory(const StoreOptions& options) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  if (options.bloom_bits_per_key > 0) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key));
  }
  // Index and filter blocks live in the block cache so block_cache_bytes bounds read memory.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  return std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(table));
}

}  // namespace

RocksdbOptions make_rocksdb_options(const StoreOptions& options) {
  RocksdbOptions out{db_options(options), {}};
  rocksdb::ColumnFamilyOptions& cf = out.column_family;
  cf.write_buffer_size = options.write_buffer_bytes;
  cf.level_compaction_dynamic_level_bytes = true;
  cf.table_factory = table_factory(options);
  cf.compression = rocksdb::kNoCompression;
  if (options.compression && supported(rocksdb::kLZ4Compression)) {
    cf.compression = rocksdb::kLZ4Compression;
  }
  if (options.compression && supported(rocksdb::kZSTD)) {
    cf.bottommost_compression = rocksdb::kZSTD;
  }
  return out;
}

rocksdb::ColumnFamilyOptions family_options(const RocksdbOptions& base, const StoreOptions& options,
                                            const std::string& name) {
  rocksdb::ColumnFamilyOptions cf = base.column_family;
  const auto& unsorted = options.unsorted_memtable_families;
  if (std::find(unsorted.begin(), unsorted.end(), name) != unsorted.end()) {
    cf.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  }
  return cf;
}

}  // namespace castor::store::impl
