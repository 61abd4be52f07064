#include "store/snapshot.hpp"

#include <rocksdb/db.h>

#include <utility>

namespace castor::store {

Snapshot::~Snapshot() {
  release();
}

Snapshot::Snapshot(Snapshot&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), snapshot_(std::exchange(other.snapshot_, nullptr)) {}

Snapshot& Snapshot::operator=(Snapshot&& other) noexcept {
  if (this != &other) {
    release();
    db_ = std::exchange(other.db_, nullptr);
    snapshot_ = std::exchange(other.snapshot_, nullptr);
  }
  return *this;
}

Lsn Snapshot::lsn() const noexcept {
  return snapshot_ ? snapshot_->GetSequenceNumber() : 0;
}

void Snapshot::release() noexcept {
  if (snapshot_) db_->ReleaseSnapshot(snapshot_);
  db_ = nullptr;
  snapshot_ = nullptr;
}

}  // namespace castor::store
