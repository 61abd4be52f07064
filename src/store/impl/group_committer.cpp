#include "store/impl/group_committer.hpp"

#include <rocksdb/db.h>

#include <algorithm>
#include <utility>

#include "store/impl/access.hpp"
#include "store/impl/rocksdb_status.hpp"

namespace castor::store::impl {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

void raise_to(std::atomic<std::uint64_t>& maximum, std::uint64_t value) {
  std::uint64_t seen = maximum.load(kRelaxed);
  while (seen < value && !maximum.compare_exchange_weak(seen, value, kRelaxed)) {
  }
}

}  // namespace

GroupCommitter::GroupCommitter(rocksdb::DB& db, std::vector<rocksdb::ColumnFamilyHandle*> by_id,
                               const StoreOptions& options, std::string data_dir, StoreProbe& probe,
                               Lsn lsn)
    : db_(db),
      options_(options),
      data_dir_(std::move(data_dir)),
      probe_(probe),
      merged_(std::move(by_id)),
      last_committed_(lsn),
      last_sync_(Clock::now()),
      thread_([this] { run(); }) {}

GroupCommitter::~GroupCommitter() {
  stop();
}

void GroupCommitter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  std::call_once(joined_, [this] { thread_.join(); });
}

bool GroupCommitter::has_room(std::size_t bytes) const {
  return pending_batches_ < options_.max_pending_batches &&
         pending_bytes_ + bytes <= options_.max_pending_bytes;
}

Status GroupCommitter::refusal(std::size_t bytes) const {
  if (stopping_) {
    return {Code::unavailable, "the store in " + data_dir_ +
                                   " is closing and accepts no more commits; retry after "
                                   "castor restarted"};
  }
  return resource_exhausted(
      "the commit queue of the store in " + data_dir_ + " is full (" +
      std::to_string(pending_batches_) + " batches, " + std::to_string(pending_bytes_) +
      " bytes pending, this batch needs " + std::to_string(bytes) +
      "); retry when an earlier commit completes, or raise max_pending_batches/max_pending_bytes");
}

Status GroupCommitter::submit(WriteBatch&& batch, CommitCallback done, Admission admission) {
  const rocksdb::DB* owner = Access::owner(batch);
  if (owner != nullptr && owner != &db_) {
    return invalid_argument("a batch names column families of another store than the one in " +
                            data_dir_ + "; this is a castor bug, please report it");
  }
  const std::size_t bytes = batch.size_bytes();
  if (bytes > options_.max_pending_bytes) {
    return invalid_argument("a batch of " + std::to_string(bytes) + " bytes exceeds the " +
                            std::to_string(options_.max_pending_bytes) +
                            "-byte max_pending_bytes of the store in " + data_dir_ +
                            "; split it into smaller batches");
  }
  std::unique_lock lock(mu_);
  if (admission == Admission::wait_when_full) {
    space_cv_.wait(lock, [&] { return stopping_ || has_room(bytes); });
  }
  if (stopping_ || !has_room(bytes)) {
    probe_.batches_rejected.fetch_add(1, kRelaxed);
    return refusal(bytes);
  }
  queue_.push_back(Pending{std::move(batch), std::move(done), Clock::now(), bytes, {}, 0});
  ++pending_batches_;
  pending_bytes_ += bytes;
  probe_.pending_batches.store(pending_batches_, kRelaxed);
  probe_.pending_bytes.store(pending_bytes_, kRelaxed);
  lock.unlock();
  work_cv_.notify_one();
  return Status::ok();
}

void GroupCommitter::run() {
  std::vector<Pending> group;
  while (take_group(group)) {
    write_group(group);
    group.clear();
  }
  // A clean shutdown leaves nothing to chance, whatever the durability mode.
  if (unsynced_) sync_wal();
}

// Waits for work, syncing the log of idle relaxed stores when due; false once stopped and drained.
bool GroupCommitter::take_group(std::vector<Pending>& group) {
  std::unique_lock lock(mu_);
  while (queue_.empty() && !stopping_) {
    if (!unsynced_ || options_.relaxed_sync_interval.count() <= 0) {
      work_cv_.wait(lock);
      continue;
    }
    const auto due = last_sync_ + options_.relaxed_sync_interval;
    if (work_cv_.wait_until(lock, due) == std::cv_status::timeout && queue_.empty()) {
      lock.unlock();
      sync_wal();
      lock.lock();
    }
  }
  if (queue_.empty()) return false;
  std::size_t bytes = 0;
  while (!queue_.empty() && group.size() < options_.max_group_batches) {
    const std::size_t next = queue_.front().bytes;
    if (!group.empty() && bytes + next > options_.max_group_bytes) break;
    bytes += next;
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return true;
}

void GroupCommitter::write_group(std::vector<Pending>& group) {
  rocksdb::WriteOptions write_options;
  const bool sync_due = options_.relaxed_sync_interval.count() > 0 &&
                        Clock::now() - last_sync_ >= options_.relaxed_sync_interval;
  write_options.sync = options_.durability == Durability::strict || sync_due;
  const auto start = Clock::now();
  const rocksdb::Status s = db_.Write(write_options, prepare(group));
  const auto end = Clock::now();
  probe_.write_latency.record(end - start);
  probe_.group_writes.fetch_add(1, kRelaxed);
  if (s.ok()) {
    if (write_options.sync) {
      probe_.wal_syncs.fetch_add(1, kRelaxed);
      last_sync_ = end;
    }
    unsynced_ = !write_options.sync;
    assign_lsns(group);
  } else {
    const Status error = to_status(s, "writing a commit group", data_dir_);
    for (Pending& p : group) {
      if (p.status.is_ok()) p.status = error;
    }
  }
  release(group);
  complete(group);
}

// The group's RocksDB batch: a lone batch is written as it is, several are merged. A batch that
// cannot be merged fails alone (submit() already refused the ways a caller could cause that).
rocksdb::WriteBatch* GroupCommitter::prepare(std::vector<Pending>& group) {
  if (group.size() == 1) return &Access::rep(group.front().batch);
  merged_.clear();
  for (Pending& p : group) {
    const rocksdb::Status s = merged_.append(Access::rep(p.batch));
    if (!s.ok()) p.status = to_status(s, "merging a commit group", data_dir_);
  }
  return &merged_.batch();
}

// The committer is RocksDB's only writer and every operation takes one sequence number, so the
// group's batches hold the numbers just below the latest one, in submission order.
void GroupCommitter::assign_lsns(std::vector<Pending>& group) {
  const Lsn last = db_.GetLatestSequenceNumber();
  Lsn operations = 0;
  for (const Pending& p : group) {
    if (p.status.is_ok()) operations += p.batch.count();
  }
  Lsn lsn = last - operations;
  for (Pending& p : group) {
    if (!p.status.is_ok()) continue;
    lsn += p.batch.count();
    p.lsn = lsn;
  }
  last_committed_.store(last, std::memory_order_release);
}

// Frees queue room before callbacks run, so a callback may submit its successor at once.
void GroupCommitter::release(const std::vector<Pending>& group) {
  std::size_t bytes = 0;
  for (const Pending& p : group) bytes += p.bytes;
  {
    std::lock_guard lock(mu_);
    pending_batches_ -= group.size();
    pending_bytes_ -= bytes;
    probe_.pending_batches.store(pending_batches_, kRelaxed);
    probe_.pending_bytes.store(pending_bytes_, kRelaxed);
  }
  space_cv_.notify_all();
}

// Counts first, then calls back: a submitter woken by its callback sees its batch in the probe.
void GroupCommitter::complete(std::vector<Pending>& group) {
  const auto now = Clock::now();
  std::uint64_t committed = 0;
  for (const Pending& p : group) {
    probe_.commit_latency.record(now - p.submitted);
    if (!p.status.is_ok()) {
      probe_.batches_failed.fetch_add(1, kRelaxed);
      continue;
    }
    ++committed;
    probe_.operations_committed.fetch_add(p.batch.count(), kRelaxed);
    probe_.bytes_committed.fetch_add(p.bytes, kRelaxed);
  }
  probe_.batches_committed.fetch_add(committed, kRelaxed);
  raise_to(probe_.largest_group, group.size());
  for (Pending& p : group) {
    if (p.done) p.done(p.status, p.lsn);
  }
}

void GroupCommitter::sync_wal() {
  const rocksdb::Status s = db_.SyncWAL();
  last_sync_ = Clock::now();
  if (s.ok()) {
    probe_.wal_syncs.fetch_add(1, kRelaxed);
    unsynced_ = false;
  } else {
    probe_.wal_sync_errors.fetch_add(1, kRelaxed);
  }
}

}  // namespace castor::store::impl
