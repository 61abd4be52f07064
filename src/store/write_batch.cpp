#include "store/write_batch.hpp"

#include <rocksdb/write_batch.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "store/impl/access.hpp"

namespace castor::store {
namespace {

rocksdb::Slice slice(std::string_view s) {
  return {s.data(), s.size()};
}

// RocksDB refuses only keys or values beyond 4 GiB; reaching that is a caller bug.
void check(const rocksdb::Status& s) {
  if (!s.ok()) throw std::length_error("castor::store::WriteBatch: " + s.ToString());
}

}  // namespace

WriteBatch::WriteBatch() : rep_(std::make_unique<rocksdb::WriteBatch>()) {}
WriteBatch::~WriteBatch() = default;

WriteBatch::WriteBatch(WriteBatch&& other) noexcept
    : rep_(std::move(other.rep_)), owner_(std::exchange(other.owner_, nullptr)) {}

WriteBatch& WriteBatch::operator=(WriteBatch&& other) noexcept {
  rep_ = std::move(other.rep_);
  owner_ = std::exchange(other.owner_, nullptr);
  return *this;
}

rocksdb::WriteBatch& WriteBatch::rep() {
  if (!rep_) rep_ = std::make_unique<rocksdb::WriteBatch>();
  return *rep_;
}

rocksdb::ColumnFamilyHandle* WriteBatch::target(ColumnFamily cf) {
  if (!cf.valid()) throw std::invalid_argument("castor::store::WriteBatch: invalid ColumnFamily");
  const rocksdb::DB* owner = impl::Access::owner(cf);
  if (owner_ && owner_ != owner) {
    throw std::invalid_argument("castor::store::WriteBatch: column families of two stores");
  }
  owner_ = owner;
  return impl::Access::handle(cf);
}

void WriteBatch::put(ColumnFamily cf, std::string_view key, std::string_view value) {
  check(rep().Put(target(cf), slice(key), slice(value)));
}

void WriteBatch::erase(ColumnFamily cf, std::string_view key) {
  check(rep().Delete(target(cf), slice(key)));
}

void WriteBatch::erase_range(ColumnFamily cf, std::string_view begin, std::string_view end) {
  check(rep().DeleteRange(target(cf), slice(begin), slice(end)));
}

void WriteBatch::clear() {
  if (rep_) rep_->Clear();
  owner_ = nullptr;
}

std::size_t WriteBatch::count() const noexcept {
  return rep_ ? rep_->Count() : 0;
}

std::size_t WriteBatch::size_bytes() const noexcept {
  return rep_ ? rep_->GetDataSize() : 0;
}

}  // namespace castor::store
