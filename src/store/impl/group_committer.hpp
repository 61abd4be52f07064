// Internal to src/store: the group committer. Submitters on any thread queue batches; one
// committer thread merges what is pending into one RocksDB write (one fsync in strict mode) and
// then completes every batch of the group in submission order. It never reorders batches, never
// grows its queue past the configured bounds, and never drops an accepted batch, even at shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/impl/group_batch.hpp"
#include "store/options.hpp"
#include "store/probe.hpp"
#include "store/write_batch.hpp"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace castor::store::impl {

class GroupCommitter {
 public:
  enum class Admission { reject_when_full, wait_when_full };

  // Starts the committer thread. `by_id` maps RocksDB column family ids to handles; `lsn` is the
  // LSN recovered at open. db and probe must outlive the committer.
  GroupCommitter(rocksdb::DB& db, std::vector<rocksdb::ColumnFamilyHandle*> by_id,
                 const StoreOptions& options, std::string data_dir, StoreProbe& probe, Lsn lsn);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // On success the batch is moved from and `done` (when set) will be called exactly once. On
  // failure (queue full, closing, oversized batch) the batch is left untouched, `done` is never
  // called and nothing is written.
  Status submit(WriteBatch&& batch, CommitCallback done, Admission admission);
  // Refuses new batches, writes every accepted one, syncs the log, joins the thread. Idempotent.
  void stop();

  Lsn last_committed() const noexcept { return last_committed_.load(std::memory_order_acquire); }
  bool on_committer_thread() const noexcept {
    return std::this_thread::get_id() == thread_.get_id();
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    WriteBatch batch;
    CommitCallback done;
    Clock::time_point submitted;
    std::size_t bytes = 0;
    Status status;  // filled by write_group
    Lsn lsn = 0;
  };

  bool has_room(std::size_t bytes) const;
  Status refusal(std::size_t bytes) const;
  void run();
  bool take_group(std::vector<Pending>& group);
  void write_group(std::vector<Pending>& group);
  rocksdb::WriteBatch* prepare(std::vector<Pending>& group);
  void assign_lsns(std::vector<Pending>& group);
  void release(const std::vector<Pending>& group);
  void complete(std::vector<Pending>& group);
  void sync_wal();

  rocksdb::DB& db_;
  const StoreOptions options_;
  const std::string data_dir_;
  StoreProbe& probe_;
  GroupBatch merged_;  // committer thread only

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // committer waits for batches
  std::condition_variable space_cv_;  // blocking submitters wait for room
  std::deque<Pending> queue_;
  std::size_t pending_batches_ = 0;  // queued plus being written
  std::size_t pending_bytes_ = 0;
  bool stopping_ = false;
  std::once_flag joined_;

  std::atomic<Lsn> last_committed_;
  bool unsynced_ = false;          // committer thread only: relaxed writes not yet fsync'd
  Clock::time_point last_sync_{};  // committer thread only
  std::thread thread_;             // last: starts after every member above exists
};

}  // namespace castor::store::impl
