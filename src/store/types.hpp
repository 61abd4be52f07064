// The store's vocabulary: commit sequence numbers, durability modes, column family handles and the
// completion callback. Everything here is a small value; nothing here touches the disk or exposes
// a RocksDB type beyond an opaque forward declaration.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.hpp"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace castor::store {

namespace impl {
struct Access;  // the one door through which store internals reach private representations
}  // namespace impl

// Commit log sequence number. Grows with every operation written, never decreases, and survives
// restarts: a batch acknowledged with LSN n is part of every state whose LSN is >= n.
using Lsn = std::uint64_t;

// How a scan uses the block cache: `cached` for lookups that will repeat; `bulk` for one-pass
// scans (recovery, exports), which read ahead and leave the cache to the working set.
enum class ScanMode { cached, bulk };

enum class Durability : unsigned char {
  // Acknowledged means fsync'd: the write survives kill -9, an OS crash and power loss.
  strict,
  // Acknowledged means handed to the OS: the write survives kill -9 of castor, but an OS crash or
  // power loss may lose up to StoreOptions::relaxed_sync_interval of acknowledged writes.
  relaxed,
};

// A named key space of one Store (a RocksDB column family). Cheap to copy; valid while the Store
// that returned it is open, and only with that Store (a batch naming families of another store is
// refused at commit). A default-constructed one is invalid.
class ColumnFamily {
 public:
  ColumnFamily() = default;
  bool valid() const noexcept { return handle_ != nullptr; }
  const std::string& name() const;  // the name given at open; empty when invalid
  friend bool operator==(ColumnFamily, ColumnFamily) = default;

 private:
  friend struct impl::Access;
  ColumnFamily(rocksdb::ColumnFamilyHandle* handle, const rocksdb::DB* owner)
      : handle_(handle), owner_(owner) {}
  rocksdb::ColumnFamilyHandle* handle_ = nullptr;
  const rocksdb::DB* owner_ = nullptr;
};

// Completes one submitted batch, on the committer thread, in submission order. `status` is ok when
// the batch is durable per the store's Durability; `lsn` is then the batch's commit LSN. When not
// ok, the batch is not acknowledged and not visible, though a restart may still find it (an fsync
// can fail after the bytes reached the disk): retry it or report the failure, never assume either.
// A callback must be short, must not throw and must not block (it delays every later commit):
// post the result to the owner's queue instead. It may call Store::commit; never commit_sync,
// put, erase or close, which wait for the very thread the callback runs on.
using CommitCallback = std::function<void(const Status& status, Lsn lsn)>;

}  // namespace castor::store
