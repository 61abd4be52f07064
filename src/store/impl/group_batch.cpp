#include "store/impl/group_batch.hpp"

#include <string>

namespace castor::store::impl {
namespace {

// Re-encodes each operation into the group batch. WriteBatch offers no public append, and its
// byte layout is RocksDB's business, so copying through the Handler interface is the stable way.
class Copier final : public rocksdb::WriteBatch::Handler {
 public:
  Copier(const std::vector<rocksdb::ColumnFamilyHandle*>& by_id, rocksdb::WriteBatch& out)
      : by_id_(by_id), out_(out) {}

  rocksdb::Status PutCF(std::uint32_t id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    auto* cf = find(id);
    return cf ? out_.Put(cf, key, value) : unknown(id);
  }
  rocksdb::Status DeleteCF(std::uint32_t id, const rocksdb::Slice& key) override {
    auto* cf = find(id);
    return cf ? out_.Delete(cf, key) : unknown(id);
  }
  rocksdb::Status DeleteRangeCF(std::uint32_t id, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    auto* cf = find(id);
    return cf ? out_.DeleteRange(cf, begin, end) : unknown(id);
  }

 private:
  rocksdb::ColumnFamilyHandle* find(std::uint32_t id) const {
    return id < by_id_.size() ? by_id_[id] : nullptr;
  }
  static rocksdb::Status unknown(std::uint32_t id) {
    return rocksdb::Status::InvalidArgument("batch names column family id " + std::to_string(id) +
                                            ", which this store does not have");
  }

  const std::vector<rocksdb::ColumnFamilyHandle*>& by_id_;
  rocksdb::WriteBatch& out_;
};

}  // namespace

rocksdb::Status GroupBatch::append(const rocksdb::WriteBatch& batch) {
  merged_.SetSavePoint();
  Copier copier(by_id_, merged_);
  rocksdb::Status s = batch.Iterate(&copier);
  if (!s.ok()) {
    merged_.RollbackToSavePoint().PermitUncheckedError();
    return s;
  }
  merged_.PopSavePoint().PermitUncheckedError();
  return s;
}

}  // namespace castor::store::impl
