#include "store/store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <utility>

#include "store/impl/access.hpp"
#include "store/impl/group_committer.hpp"
#include "store/impl/rocksdb_options.hpp"
#include "store/impl/rocksdb_status.hpp"
#include "store/impl/zero_ahead_wal.hpp"

namespace castor::store {

using impl::Access;

struct Store::Families {
  std::vector<std::string> names;                     // parallel to handles
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned; destroyed by close()
};

namespace {

rocksdb::Slice slice(std::string_view s) {
  return {s.data(), s.size()};
}

Status validate(const std::vector<std::string>& column_families, const StoreOptions& options) {
  for (const std::string& name : column_families) {
    if (name.empty()) return invalid_argument("a column family needs a non-empty name");
  }
  if (options.max_pending_batches == 0 || options.max_pending_bytes == 0 ||
      options.max_group_batches == 0 || options.max_group_bytes == 0) {
    return invalid_argument(
        "StoreOptions max_pending_batches, max_pending_bytes, max_group_batches and "
        "max_group_bytes must all be at least 1");
  }
  return Status::ok();
}

Status directory_error(const std::filesystem::path& dir, const std::error_code& ec) {
  const std::string what = "castor cannot create " + dir.string() + " (" + ec.message() + ")";
  if (ec == std::errc::permission_denied || ec == std::errc::read_only_file_system) {
    return {Code::permission_denied, what +
                                         "; give the castor user write access or choose "
                                         "another --data"};
  }
  return invalid_argument(what + "; choose another --data");
}

// Families already on disk; none for a directory that holds no store yet (which is created here
// when allowed, so that RocksDB finds its parent).
Result<std::vector<std::string>> existing_families(const std::filesystem::path& dir,
                                                   const StoreOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / "CURRENT", ec)) {
    if (!options.create_if_missing) {
      return not_found(dir.string() + " holds no castor store; check the --data path");
    }
    std::filesystem::create_directories(dir, ec);
    if (ec) return directory_error(dir, ec);
    return std::vector<std::string>{};
  }
  std::vector<std::string> names;
  const rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
  if (!s.ok()) return impl::to_status(s, "listing its column families", dir.string());
  return names;
}

// RocksDB must open every family on disk, and "default" always: the union, without repeats.
std::vector<std::string> family_names(const std::vector<std::string>& existing,
                                      const std::vector<std::string>& requested) {
  std::vector<std::string> names{rocksdb::kDefaultColumnFamilyName};
  for (const std::vector<std::string>* list : {&existing, &requested}) {
    for (const std::string& name : *list) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  return names;
}

// The smallest key greater than every key starting with `prefix`; none when all bytes are 0xff.
std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (upper.empty()) return std::nullopt;
  upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  return upper;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& dir,
                                           const std::vector<std::string>& column_families,
                                           const StoreOptions& options) {
  CASTOR_RETURN_IF_ERROR(validate(column_families, options));
  std::unique_ptr<Store> store(new Store(dir, options));
  CASTOR_RETURN_IF_ERROR(store->start(column_families));
  return store;
}

Store::Store(std::filesystem::path path, const StoreOptions& options)
    : path_(std::move(path)), options_(options) {}

Store::~Store() {
  close();
}

Status Store::start(const std::vector<std::string>& column_families) {
  auto existing = existing_families(path_, options_);
  if (!existing) return existing.status();
  auto families = std::make_unique<Families>();
  families->names = family_names(*existing, column_families);

  impl::RocksdbOptions rocksdb_options = impl::make_rocksdb_options(options_);
  if (options_.wal_zero_ahead_bytes > 0) {
    env_ = rocksdb::NewCompositeEnv(impl::zero_ahead_wal_file_system(
        rocksdb::FileSystem::Default(), options_.wal_zero_ahead_bytes));
    rocksdb_options.db.env = env_.get();
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : families->names) {
    descriptors.emplace_back(name, impl::family_options(rocksdb_options, options_, name));
  }
  rocksdb::DB* db = nullptr;
  const rocksdb::Status s =
      rocksdb::DB::Open(rocksdb_options.db, path_.string(), descriptors, &families->handles, &db);
  if (!s.ok()) return impl::to_status(s, "opening it", path_.string());
  db_.reset(db);
  families_ = std::move(families);

  std::vector<rocksdb::ColumnFamilyHandle*> by_id;
  for (rocksdb::ColumnFamilyHandle* handle : families_->handles) {
    if (handle->GetID() >= by_id.size()) by_id.resize(handle->GetID() + 1, nullptr);
    by_id[handle->GetID()] = handle;
  }
  committer_ = std::make_unique<impl::GroupCommitter>(
      *db_, std::move(by_id), options_, path_.string(), probe_, db_->GetLatestSequenceNumber());
  return Status::ok();
}

void Store::close() {
  if (committer_) {
    committer_->stop();
    closed_at_ = committer_->last_committed();
  }
  committer_.reset();
  if (families_ && db_) {
    // Flush memtables so the next open does not replay the log into memory: a clean shutdown
    // makes the next start fast and keeps its memory low. A crash still recovers from the log.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    db_->Flush(flush, families_->handles).PermitUncheckedError();
  }
  if (families_) {
    for (rocksdb::ColumnFamilyHandle* handle : families_->handles) {
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    families_.reset();
  }
  if (db_) db_->Close().PermitUncheckedError();
  db_.reset();
}

Status Store::check_open(ColumnFamily cf, const Snapshot* at) const {
  if (!db_) return {Code::unavailable, "the store in " + path_.string() + " is closed"};
  if (!cf.valid() || Access::owner(cf) != db_.get() || (at && !Access::taken_from(*at, *db_))) {
    return invalid_argument("a column family or snapshot that does not belong to the store in " +
                            path_.string() + " was used; this is a castor bug, please report it");
  }
  return Status::ok();
}

Result<ColumnFamily> Store::column_family(std::string_view name) const {
  if (families_) {
    const auto& names = families_->names;
    const auto it = std::find(names.begin(), names.end(), name);
    if (it != names.end()) {
      return Access::column_family(families_->handles[it - names.begin()], db_.get());
    }
  }
  return not_found("the store in " + path_.string() + " has no column family \"" +
                   std::string(name) + "\"; list it when opening the store");
}

std::vector<std::string> Store::column_family_names() const {
  return families_ ? families_->names : std::vector<std::string>{};
}

Status Store::compact_range(ColumnFamily cf, std::string_view begin, std::string_view end) {
  CASTOR_RETURN_IF_ERROR(check_open(cf));
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  const rocksdb::Slice b = slice(begin), e = slice(end);
  const rocksdb::Status s = db_->CompactRange(options, Access::handle(cf), &b, &e);
  if (!s.ok()) return impl::to_status(s, "compacting a key range", path_.string());
  return Status::ok();
}

Lsn Store::last_committed_lsn() const noexcept {
  return committer_ ? committer_->last_committed() : closed_at_;
}

Snapshot Store::snapshot() const {
  if (!db_) return {};
  return Access::snapshot(db_.get(), db_->GetSnapshot());
}

Result<std::optional<std::string>> Store::get(ColumnFamily cf, std::string_view key,
                                              const Snapshot* at) const {
  CASTOR_RETURN_IF_ERROR(check_open(cf, at));
  rocksdb::ReadOptions read;
  read.snapshot = Access::raw(at);
  rocksdb::PinnableSlice value;
  const rocksdb::Status s = db_->Get(read, Access::handle(cf), slice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return impl::to_status(s, "reading", path_.string());
  return std::optional<std::string>(value.ToString());
}

Result<std::vector<std::optional<std::string>>> Store::multi_get(
    ColumnFamily cf, std::span<const std::string_view> keys, const Snapshot* at) const {
  CASTOR_RETURN_IF_ERROR(check_open(cf, at));
  const std::size_t n = keys.size();
  std::vector<rocksdb::Slice> slices;
  slices.reserve(n);
  for (std::string_view key : keys) slices.push_back(slice(key));
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  rocksdb::ReadOptions read;
  read.snapshot = Access::raw(at);
  if (n > 0)
    db_->MultiGet(read, Access::handle(cf), n, slices.data(), values.data(), statuses.data());

  std::vector<std::optional<std::string>> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return impl::to_status(statuses[i], "reading", path_.string());
    out[i] = values[i].ToString();
  }
  return out;
}

Iterator Store::scan_prefix(ColumnFamily cf, std::string_view prefix, const Snapshot* at,
                            ScanMode mode) const {
  if (Status s = check_open(cf, at); !s.is_ok()) return Access::failed_iterator(std::move(s));
  return Access::iterator(*db_, Access::handle(cf), Access::raw(at),
                          {std::string(prefix), prefix_successor(prefix), mode == ScanMode::bulk},
                          path_.string());
}

Iterator Store::scan_range(ColumnFamily cf, std::string_view begin, std::string_view end,
                           const Snapshot* at, ScanMode mode) const {
  if (Status s = check_open(cf, at); !s.is_ok()) return Access::failed_iterator(std::move(s));
  std::optional<std::string> upper;
  if (!end.empty()) upper.emplace(end);
  return Access::iterator(*db_, Access::handle(cf), Access::raw(at),
                          {std::string(begin), std::move(upper), mode == ScanMode::bulk},
                          path_.string());
}

Status Store::commit(WriteBatch&& batch, CommitCallback done) {
  if (!committer_) return {Code::unavailable, "the store in " + path_.string() + " is closed"};
  return committer_->submit(std::move(batch), std::move(done),
                            impl::GroupCommitter::Admission::reject_when_full);
}

Result<Lsn> Store::commit_sync(WriteBatch&& batch) {
  if (!committer_)
    return Status{Code::unavailable, "the store in " + path_.string() + " is closed"};
  if (committer_->on_committer_thread()) {
    return failed_precondition(
        "commit_sync was called from a commit callback, where it would wait for itself; call "
        "commit there instead");
  }
  struct Outcome {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status status;
    Lsn lsn = 0;
  } outcome;
  // Notifying under the lock keeps `outcome` alive until the callback has let go of it.
  auto finish = [&outcome](const Status& status, Lsn lsn) {
    std::lock_guard lock(outcome.mu);
    outcome.status = status;
    outcome.lsn = lsn;
    outcome.done = true;
    outcome.cv.notify_one();
  };
  CASTOR_RETURN_IF_ERROR(committer_->submit(std::move(batch), finish,
                                            impl::GroupCommitter::Admission::wait_when_full));
  std::unique_lock lock(outcome.mu);
  outcome.cv.wait(lock, [&outcome] { return outcome.done; });
  if (!outcome.status.is_ok()) return outcome.status;
  return outcome.lsn;
}

Status Store::put(ColumnFamily cf, std::string_view key, std::string_view value) {
  CASTOR_RETURN_IF_ERROR(check_open(cf));
  WriteBatch batch;
  batch.put(cf, key, value);
  return commit_sync(std::move(batch)).status();
}

Status Store::erase(ColumnFamily cf, std::string_view key) {
  CASTOR_RETURN_IF_ERROR(check_open(cf));
  WriteBatch batch;
  batch.erase(cf, key);
  return commit_sync(std::move(batch)).status();
}

}  // namespace castor::store
