// Store: Castor's durable key-value storage on RocksDB — named column families, point and batched
// reads, prefix and range scans, snapshots, and group commit with a durability contract. It knows
// nothing of twins or series; it never acknowledges a write before it is durable per Durability.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "store/iterator.hpp"
#include "store/options.hpp"
#include "store/probe.hpp"
#include "store/snapshot.hpp"
#include "store/types.hpp"
#include "store/write_batch.hpp"

namespace rocksdb {
class DB;
class Env;
}  // namespace rocksdb

namespace castor::store {

namespace impl {
class GroupCommitter;
}  // namespace impl

// Thread safety: every member may be called from any thread, except close() and the destructor,
// which must not race with other calls. Snapshots and iterators must be gone before close().
class Store {
 public:
  // Opens (creating when allowed) the store in `dir` with `column_families` available. Missing
  // families are created; existing ones are reopened with their data, including families this
  // list does not name. "default" always exists.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& dir,
                                             const std::vector<std::string>& column_families,
                                             const StoreOptions& options = {});
  ~Store();  // close()
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // not_found when the family was neither requested at open nor present on disk.
  Result<ColumnFamily> column_family(std::string_view name) const;
  std::vector<std::string> column_family_names() const;

  // --- reads: the latest committed state, or the state of `at` when given ---

  Result<std::optional<std::string>> get(ColumnFamily cf, std::string_view key,
                                         const Snapshot* at = nullptr) const;
  // One answer per key, in the order of `keys`; consistent with each other.
  Result<std::vector<std::optional<std::string>>> multi_get(ColumnFamily cf,
                                                            std::span<const std::string_view> keys,
                                                            const Snapshot* at = nullptr) const;
  // Keys starting with `prefix`, in byte order.
  Iterator scan_prefix(ColumnFamily cf, std::string_view prefix, const Snapshot* at = nullptr,
                       ScanMode mode = ScanMode::cached) const;
  // Keys in [begin, end), in byte order; an empty `end` means no upper bound.
  Iterator scan_range(ColumnFamily cf, std::string_view begin, std::string_view end,
                      const Snapshot* at = nullptr, ScanMode mode = ScanMode::cached) const;
  Snapshot snapshot() const;

  // --- writes: every write goes through the group committer ---

  // Queues `batch` and returns at once; `done` (optional) runs later on the committer thread,
  // see CommitCallback. When the queue is full the answer is resource_exhausted and `batch` is
  // left untouched for a retry — a shard keeps it and retries when one of its earlier commits
  // completes. After close() the answer is unavailable.
  Status commit(WriteBatch&& batch, CommitCallback done);
  // Queues `batch`, waiting for queue room, and blocks until it is durable; returns its LSN.
  // For threads that may block (HTTP workers, tools, tests); never from a CommitCallback.
  Result<Lsn> commit_sync(WriteBatch&& batch);
  // One-operation commit_sync conveniences.
  Status put(ColumnFamily cf, std::string_view key, std::string_view value);
  Status erase(ColumnFamily cf, std::string_view key);

  // Compacts the keys in [begin, end) of `cf` down to the last level, so that deleted keys and
  // range tombstones there give their disk space back now rather than when RocksDB gets to them.
  // Blocks (seconds for large ranges): for shutdown and maintenance, not for hot paths.
  Status compact_range(ColumnFamily cf, std::string_view begin, std::string_view end);

  // LSN of the last acknowledged commit (after open: of the recovered state). Never decreases.
  Lsn last_committed_lsn() const noexcept;
  const StoreProbe& probe() const noexcept { return probe_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  Durability durability() const noexcept { return options_.durability; }

  // Refuses new commits, writes and acknowledges every accepted one, syncs the log and closes
  // the database. Idempotent; later calls of other members fail with unavailable. Never call it
  // from a CommitCallback: it waits for the committer thread that runs the callback.
  void close();

 private:
  struct Families;  // names and handles of the open families, "default" first
  Store(std::filesystem::path path, const StoreOptions& options);
  Status start(const std::vector<std::string>& column_families);
  Status check_open(ColumnFamily cf, const Snapshot* at = nullptr) const;

  const std::filesystem::path path_;
  const StoreOptions options_;
  StoreProbe probe_;
  std::unique_ptr<rocksdb::Env> env_;  // the file system RocksDB uses; outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<Families> families_;
  std::unique_ptr<impl::GroupCommitter> committer_;
  Lsn closed_at_ = 0;  // last_committed_lsn() once closed
};

}  // namespace castor::store
