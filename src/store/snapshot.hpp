// Snapshot: a consistent, read-only view of every column family as of one LSN, for readers that
// must not see commits made after they started (paged listings, exports, query scans). It pins
// old versions on disk while alive, so hold it for a request, never for the process lifetime.
#pragma once

#include "store/types.hpp"

namespace rocksdb {
class DB;
class Snapshot;
}  // namespace rocksdb

namespace castor::store {

// Obtained from Store::snapshot(); released on destruction, which must happen before the Store
// closes. Movable, not copyable; a default-constructed or moved-from Snapshot is empty and reads
// through it see the latest state.
class Snapshot {
 public:
  Snapshot() = default;
  ~Snapshot();
  Snapshot(Snapshot&& other) noexcept;
  Snapshot& operator=(Snapshot&& other) noexcept;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  bool valid() const noexcept { return snapshot_ != nullptr; }
  // The view contains exactly the commits whose LSN is <= lsn(); 0 when empty.
  Lsn lsn() const noexcept;

 private:
  friend struct impl::Access;
  Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot) : db_(db), snapshot_(snapshot) {}
  void release() noexcept;

  rocksdb::DB* db_ = nullptr;
  const rocksdb::Snapshot* snapshot_ = nullptr;
};

}  // namespace castor::store
