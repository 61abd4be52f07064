#include "store/iterator.hpp"

#include <rocksdb/db.h>

#include <utility>

#include "store/impl/access.hpp"
#include "store/impl/rocksdb_status.hpp"

namespace castor::store {

// Lives on the heap so the bound slices RocksDB points at stay put when the Iterator moves.
struct Iterator::State {
  impl::ScanBounds bounds;
  rocksdb::Slice lower;
  rocksdb::Slice upper;
  std::unique_ptr<rocksdb::Iterator> it;
  std::string data_dir;
  Status error;  // set when the scan could not start
};

Iterator::Iterator() = default;
Iterator::~Iterator() = default;
Iterator::Iterator(Iterator&& other) noexcept = default;
Iterator& Iterator::operator=(Iterator&& other) noexcept = default;
Iterator::Iterator(std::unique_ptr<State> state) : state_(std::move(state)) {}

bool Iterator::valid() const noexcept {
  return state_ && state_->it && state_->it->Valid();
}

void Iterator::next() {
  if (valid()) state_->it->Next();
}

std::string_view Iterator::key() const {
  const rocksdb::Slice k = state_->it->key();
  return {k.data(), k.size()};
}

std::string_view Iterator::value() const {
  const rocksdb::Slice v = state_->it->value();
  return {v.data(), v.size()};
}

Status Iterator::status() const {
  if (!state_) return Status::ok();
  if (!state_->error.is_ok()) return state_->error;
  return impl::to_status(state_->it->status(), "scanning", state_->data_dir);
}

namespace impl {

Iterator Access::iterator(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                          const rocksdb::Snapshot* at, ScanBounds bounds, std::string data_dir) {
  auto state = std::make_unique<Iterator::State>();
  state->bounds = std::move(bounds);
  state->data_dir = std::move(data_dir);
  state->lower = rocksdb::Slice(state->bounds.lower);
  rocksdb::ReadOptions read;
  read.snapshot = at;
  read.iterate_lower_bound = &state->lower;
  if (state->bounds.bulk) {
    // A one-pass scan (recovery, export): do not evict the working set from the block cache,
    // and read ahead since the access is sequential.
    read.fill_cache = false;
    read.readahead_size = std::size_t{2} << 20;
  }
  if (state->bounds.upper) {
    state->upper = rocksdb::Slice(*state->bounds.upper);
    read.iterate_upper_bound = &state->upper;
  }
  state->it.reset(db.NewIterator(read, cf));
  state->it->Seek(state->lower);
  return Iterator(std::move(state));
}

Iterator Access::failed_iterator(Status error) {
  auto state = std::make_unique<Iterator::State>();
  state->error = std::move(error);
  return Iterator(std::move(state));
}

}  // namespace impl
}  // namespace castor::store
