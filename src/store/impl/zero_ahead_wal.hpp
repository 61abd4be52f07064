// Internal to src/store: a RocksDB file system that writes zeros ahead of each write-ahead log,
// so that appending to the log overwrites blocks that already exist and the per-commit fdatasync
// has no file size to journal. It never changes what RocksDB writes, reads or syncs.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <cstdint>
#include <memory>

namespace castor::store::impl {

// Why: on ext4 (and XFS) an fdatasync after an append must commit the new file size through the
// journal, which waits for the journal thread; on a busy machine that thread waits for a core,
// and a commit's sync takes milliseconds instead of ~100 µs. Writing zeros a step ahead of the
// log's end (one write and one size change per `step` bytes) leaves only data blocks to sync.
// A crash leaves zeros after the last record, which RocksDB's log reader skips as padding
// (the same padding its preallocating writers leave); a clean close cuts them off.
//
// Wraps only new `*.log` files (the write-ahead logs); everything else goes to `base` as is.
// `step` must be above 0 (StoreOptions::wal_zero_ahead_bytes of 0 means no wrapper at all).
std::shared_ptr<rocksdb::FileSystem> zero_ahead_wal_file_system(
    std::shared_ptr<rocksdb::FileSystem> base, std::uint64_t step);

}  // namespace castor::store::impl
