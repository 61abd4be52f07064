// Deferred shard wakes: a thread that defers queues tasks for sleeping shards without waking
// them, wakes each once at wake_deferred(), and never holds more than a burst of tasks back.
#include "twin/wake_deferral.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "twin/engine.hpp"

namespace castor::twin {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(WakeDeferral, OnlyRegisteredThreadsDeferAndEachShardIsOwedOnce) {
  WakeDeferral d(4, 8);
  EXPECT_FALSE(d.defer(1));  // not registered: the poster wakes at once
  ASSERT_TRUE(d.begin());
  EXPECT_TRUE(d.defer(1));
  EXPECT_TRUE(d.defer(3));
  EXPECT_TRUE(d.defer(1));
  EXPECT_FALSE(d.defer(7));  // no such shard
  std::vector<std::size_t> woken;
  d.flush([&](std::size_t i) { woken.push_back(i); });
  EXPECT_EQ(woken, (std::vector<std::size_t>{1, 3}));
  woken.clear();
  d.flush([&](std::size_t i) { woken.push_back(i); });
  EXPECT_TRUE(woken.empty());
  bool other = true;
  std::thread([&] { other = d.defer(2); }).join();
  EXPECT_FALSE(other);  // another thread is not deferring
  EXPECT_TRUE(d.defer(2));
  EXPECT_EQ(d.end(), (std::vector<std::size_t>{2}));
  EXPECT_FALSE(d.defer(2));
}

TEST(WakeDeferral, ABurstLongerThanTheLimitWakesAtOnce) {
  WakeDeferral d(2, 3);
  ASSERT_TRUE(d.begin());
  EXPECT_TRUE(d.defer(0));
  EXPECT_TRUE(d.defer(0));
  EXPECT_TRUE(d.defer(1));
  EXPECT_FALSE(d.defer(0));  // the 4th deferred task: wake now
  std::size_t n = 0;
  d.flush([&](std::size_t) { ++n; });
  EXPECT_EQ(n, 2u);
  EXPECT_TRUE(d.defer(0));  // a new burst
  (void)d.end();
}

TEST(WakeDeferral, SlotsAreReusedAfterEnd) {
  WakeDeferral d(1);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (std::size_t i = 0; i < WakeDeferral::kMaxThreads; ++i)
      threads.emplace_back([&] {
        if (d.begin() && d.defer(0)) ++ok;
        (void)d.end();
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), static_cast<int>(WakeDeferral::kMaxThreads));
  }
}

// How many tasks have run once `want` have or a second has passed.
int runs_within_a_second(const std::atomic<int>& ran, int want) {
  for (int i = 0; i < 500 && ran.load() < want; ++i) std::this_thread::sleep_for(2ms);
  return ran.load();
}

class EngineWakes : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("castor-wake-test-" + std::to_string(std::random_device{}()));
    EngineOptions o;
    o.data_dir = dir_;
    o.shards = 2;
    auto e = Engine::open(std::move(o));
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    engine_ = std::move(*e);
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }
  // Waits until shard `i` sleeps (nothing queued, thread idle for a moment).
  void settle() { std::this_thread::sleep_for(50ms); }

  fs::path dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineWakes, TasksFromADeferringThreadRunAtWakeDeferred) {
  settle();
  ASSERT_TRUE(engine_->defer_wakes_on_this_thread());
  std::atomic<int> ran{0};
  for (std::size_t s = 0; s < engine_->shard_count(); ++s)
    ASSERT_TRUE(engine_->run_on_shard(s, [&](Shard&) { ++ran; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(ran.load(), 0);  // queued, the shards still asleep
  engine_->wake_deferred();
  EXPECT_EQ(runs_within_a_second(ran, 2), 2);
  engine_->stop_deferring_wakes();
}

TEST_F(EngineWakes, OtherThreadsStillWakeAShardThatOwesADeferredWake) {
  settle();
  ASSERT_TRUE(engine_->defer_wakes_on_this_thread());
  std::atomic<int> ran{0};
  ASSERT_TRUE(engine_->run_on_shard(0, [&](Shard&) { ++ran; }));
  std::thread([&] { ASSERT_TRUE(engine_->run_on_shard(0, [&](Shard&) { ++ran; })); }).join();
  EXPECT_EQ(runs_within_a_second(ran, 2), 2);
  // The owed wake now finds the shard asleep with nothing queued; the shard must still count
  // as asleep afterwards, or the next post would not wake it.
  settle();
  engine_->wake_deferred();
  settle();
  std::thread([&] { ASSERT_TRUE(engine_->run_on_shard(0, [&](Shard&) { ++ran; })); }).join();
  EXPECT_EQ(runs_within_a_second(ran, 3), 3);
  engine_->stop_deferring_wakes();
}

TEST_F(EngineWakes, StoppingToDeferWakesWhatIsOwed) {
  settle();
  ASSERT_TRUE(engine_->defer_wakes_on_this_thread());
  std::atomic<int> ran{0};
  ASSERT_TRUE(engine_->run_on_shard(1, [&](Shard&) { ++ran; }));
  engine_->stop_deferring_wakes();
  EXPECT_EQ(runs_within_a_second(ran, 1), 1);
  // No longer deferring: a post wakes at once.
  settle();
  ASSERT_TRUE(engine_->run_on_shard(1, [&](Shard&) { ++ran; }));
  EXPECT_EQ(runs_within_a_second(ran, 2), 2);
}

}  // namespace
}  // namespace castor::twin
