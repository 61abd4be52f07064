// Group commit: merging across threads, ordering, LSNs, backpressure and draining at close.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"
#include "temp_dir.hpp"

namespace castor::store {
namespace {

using namespace std::chrono_literals;

// Holds the committer thread inside a commit callback until opened, so a test decides exactly
// what is queued while nothing is written.
class Gate {
 public:
  CommitCallback hold() {
    return [this](const Status&, Lsn) {
      std::unique_lock lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return open_; });
    };
  }
  void wait_entered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool open_ = false;
};

// Counts completions and remembers each one's status and LSN, in completion order.
struct Completions {
  std::mutex mu;
  std::vector<std::pair<int, Lsn>> done;  // (id, lsn) of ok completions
  std::vector<std::pair<int, Code>> failed;
  CommitCallback track(int id) {
    return [this, id](const Status& status, Lsn lsn) {
      std::lock_guard lock(mu);
      if (status.is_ok()) {
        done.emplace_back(id, lsn);
      } else {
        failed.emplace_back(id, status.code());
      }
    };
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return done.size() + failed.size();
  }
};

class GroupCommitTest : public ::testing::Test {
 protected:
  void open(StoreOptions options = {}) {
    options.block_cache_bytes = 8 << 20;
    options.write_buffer_bytes = 4 << 20;
    store_.reset();
    auto opened = Store::open(dir_.path(), {"data"}, options);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
    data_ = *store_->column_family("data");
  }
  void SetUp() override { open(); }
  // Opening the gate first lets close() drain even when an assertion ended the test early.
  void TearDown() override {
    gate_.open();
    store_.reset();
  }

  WriteBatch batch(const std::string& key, const std::string& value = "v") {
    WriteBatch b;
    b.put(data_, key, value);
    return b;
  }
  // Parks the committer in a callback: from here on, submissions queue up unwritten.
  void stall() {
    ASSERT_TRUE(store_->commit(batch("stall"), gate_.hold()).is_ok());
    gate_.wait_entered();
  }
  // Everything submitted before an empty batch is complete once it is: the queue is FIFO.
  void barrier() { ASSERT_TRUE(store_->commit_sync(WriteBatch{}).is_ok()); }
  std::optional<std::string> get(const std::string& key) {
    auto value = store_->get(data_, key);
    EXPECT_TRUE(value.is_ok());
    return value.is_ok() ? *value : std::nullopt;
  }

  test::TempDir dir_;
  std::unique_ptr<Store> store_;
  ColumnFamily data_;
  Gate gate_;
};

TEST_F(GroupCommitTest, EightThreadsShareFewerWritesThanBatches) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  constexpr std::uint64_t kBatches = std::uint64_t{kThreads} * kPerThread;
  const Lsn start = store_->last_committed_lsn();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Lsn previous = 0;
      for (int i = 0; i < kPerThread; ++i) {
        WriteBatch b;
        b.put(data_, "t" + std::to_string(t) + "/" + std::to_string(i), "x");
        b.put(data_, "t" + std::to_string(t) + "/last", std::to_string(i));
        auto lsn = store_->commit_sync(std::move(b));
        // Each thread's commits must be ordered as it made them.
        if (!lsn.is_ok() || *lsn <= previous) failures.fetch_add(1);
        previous = lsn.is_ok() ? *lsn : previous;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);

  const StoreProbe& probe = store_->probe();
  EXPECT_EQ(probe.batches_committed.load(), kBatches);
  EXPECT_EQ(probe.operations_committed.load(), 2 * kBatches);
  EXPECT_LT(probe.group_writes.load(), probe.batches_committed.load());
  EXPECT_GT(probe.largest_group.load(), 1u);
  EXPECT_EQ(probe.wal_syncs.load(), probe.group_writes.load());  // strict: one fsync per write
  EXPECT_EQ(probe.commit_latency.count(), probe.batches_committed.load());
  EXPECT_EQ(store_->last_committed_lsn(), start + 2 * kBatches);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(get("t" + std::to_string(t) + "/last"), std::to_string(kPerThread - 1));
    EXPECT_EQ(get("t" + std::to_string(t) + "/0"), "x");
  }
}

TEST_F(GroupCommitTest, CallbacksRunInSubmissionOrderWithConsecutiveLsns) {
  Completions completions;
  constexpr int kBatches = 300;
  for (int i = 0; i < kBatches; ++i) {
    ASSERT_TRUE(store_->commit(batch("k" + std::to_string(i)), completions.track(i)).is_ok());
  }
  barrier();
  ASSERT_EQ(completions.done.size(), std::size_t{kBatches});
  for (int i = 0; i < kBatches; ++i) {
    EXPECT_EQ(completions.done[i].first, i);
    if (i > 0) {
      EXPECT_EQ(completions.done[i].second, completions.done[i - 1].second + 1);
    }
  }
  EXPECT_EQ(completions.done.back().second, store_->last_committed_lsn());
}

TEST_F(GroupCommitTest, FullQueueRefusesAndLeavesTheBatchForARetry) {
  StoreOptions options;
  options.max_pending_batches = 4;
  open(options);
  stall();
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(store_->commit(batch("q" + std::to_string(i)), nullptr).is_ok());
  EXPECT_EQ(store_->probe().pending_batches.load(), 4u);

  WriteBatch refused = batch("retry", "kept");
  const Status full = store_->commit(std::move(refused), nullptr);
  EXPECT_EQ(full.code(), Code::resource_exhausted);
  EXPECT_NE(full.message().find("is full (4 batches"), std::string::npos) << full.message();
  // A refused batch is not moved from: the caller still owns it, for a retry.
  EXPECT_EQ(refused.count(), 1u);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(store_->probe().batches_rejected.load(), 1u);

  gate_.open();
  ASSERT_TRUE(store_->commit_sync(std::move(refused)).is_ok());
  EXPECT_EQ(get("retry"), "kept");
  EXPECT_EQ(get("q3"), "v");
  EXPECT_EQ(store_->probe().pending_batches.load(), 0u);
}

TEST_F(GroupCommitTest, ByteBoundRefusesTooMuchAndOversizedBatches) {
  StoreOptions options;
  options.max_pending_bytes = 1000;
  open(options);
  const std::string big(2000, 'x');
  EXPECT_EQ(store_->commit(batch("big", big), nullptr).code(), Code::invalid_argument);

  stall();
  const std::string medium(400, 'x');
  EXPECT_TRUE(store_->commit(batch("m1", medium), nullptr).is_ok());
  EXPECT_TRUE(store_->commit(batch("m2", medium), nullptr).is_ok());
  EXPECT_EQ(store_->commit(batch("m3", medium), nullptr).code(), Code::resource_exhausted);
}

TEST_F(GroupCommitTest, CommitSyncWaitsForRoomInsteadOfFailing) {
  StoreOptions options;
  options.max_pending_batches = 2;
  open(options);
  stall();
  ASSERT_TRUE(store_->commit(batch("a"), nullptr).is_ok());
  ASSERT_TRUE(store_->commit(batch("b"), nullptr).is_ok());
  std::atomic<bool> returned{false};
  Status result;
  std::thread waiter([&] {
    result = store_->commit_sync(batch("c")).status();
    returned = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(returned.load());  // the committer is parked, so room cannot have appeared
  gate_.open();
  waiter.join();
  EXPECT_TRUE(result.is_ok()) << result.to_string();
  EXPECT_EQ(get("c"), "v");
}

TEST_F(GroupCommitTest, CloseWritesEveryAcceptedBatchBeforeReturning) {
  stall();
  Completions completions;
  constexpr int kQueued = 200;
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_TRUE(store_->commit(batch("d" + std::to_string(i)), completions.track(i)).is_ok());
  }
  std::thread closer([&] { store_->close(); });
  std::this_thread::sleep_for(20ms);
  gate_.open();
  closer.join();
  EXPECT_EQ(completions.done.size(), std::size_t{kQueued});
  EXPECT_EQ(store_->commit(WriteBatch{}, nullptr).code(), Code::unavailable);

  open();
  for (int i = 0; i < kQueued; i += 37) EXPECT_EQ(get("d" + std::to_string(i)), "v");
  EXPECT_EQ(get("d" + std::to_string(kQueued - 1)), "v");
}

TEST_F(GroupCommitTest, ABatchOfAnotherStoreIsRefusedAtOnceAndKept) {
  test::TempDir other_dir;
  auto other = Store::open(other_dir.path(), {"data"}, {});
  ASSERT_TRUE(other.is_ok());
  WriteBatch foreign;
  foreign.put(*(*other)->column_family("data"), "foreign", "x");
  bool called = false;
  const Status refused =
      store_->commit(std::move(foreign), [&](const Status&, Lsn) { called = true; });
  EXPECT_EQ(refused.code(), Code::invalid_argument);
  EXPECT_EQ(foreign.count(), 1u);  // NOLINT(bugprone-use-after-move): refused, so not moved from
  barrier();
  EXPECT_FALSE(called);
  EXPECT_EQ(get("foreign"), std::nullopt);
  EXPECT_EQ(*(*other)->get(*(*other)->column_family("data"), "foreign"), std::nullopt);
}

TEST_F(GroupCommitTest, CommitSyncInsideACallbackIsRefusedNotDeadlocked) {
  Status inner;
  std::atomic<bool> called{false};
  ASSERT_TRUE(store_
                  ->commit(batch("outer"),
                           [&](const Status&, Lsn) {
                             inner = store_->commit_sync(batch("inner")).status();
                             called = true;
                           })
                  .is_ok());
  barrier();
  ASSERT_TRUE(called.load());
  EXPECT_EQ(inner.code(), Code::failed_precondition);
}

TEST_F(GroupCommitTest, RelaxedModeSkipsPerGroupSyncsButSyncsInTheBackground) {
  StoreOptions options;
  options.durability = Durability::relaxed;
  options.relaxed_sync_interval = 50ms;
  open(options);
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(store_->commit_sync(batch("r" + std::to_string(i))).is_ok());
  const StoreProbe& probe = store_->probe();
  EXPECT_LT(probe.wal_syncs.load(), probe.group_writes.load());
  // Once the store is idle, the background sync must come within the interval.
  while (probe.wal_syncs.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(probe.wal_syncs.load(), 1u);
  EXPECT_EQ(get("r49"), "v");
}

}  // namespace
}  // namespace castor::store
