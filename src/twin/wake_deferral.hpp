// Deferred shard wake-ups for threads that post many tasks in a burst (the HTTP IO threads): a
// task posted to a sleeping shard from such a thread is queued at once, but the shard is woken
// only when the thread ends its burst (flush), or once the burst holds `max_deferred` tasks.
// One wake per shard per burst instead of one per task saves the futex call, the shard's
// context switches and a store commit per task. It must never hold a wake for long: a thread
// that defers flushes before it blocks or sleeps.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

namespace castor::twin {

class WakeDeferral {
 public:
  static constexpr std::size_t kMaxThreads = 16;
  explicit WakeDeferral(std::size_t shards, std::size_t max_deferred = 32);
  WakeDeferral(const WakeDeferral&) = delete;
  WakeDeferral& operator=(const WakeDeferral&) = delete;

  // Calling thread: from now on its posts to sleeping shards are deferred. False when all
  // kMaxThreads slots are taken (the thread then wakes shards at once, as before).
  bool begin();
  // Calling thread: stops deferring; returns the shards still owed a wake (wake them).
  std::vector<std::size_t> end();
  // Any thread, from a post to sleeping shard `shard`: true when the calling thread defers,
  // in which case the wake is recorded for its next flush.
  bool defer(std::size_t shard) noexcept;
  // Calling thread: calls wake(i) for every shard owed a wake and forgets them.
  template <class F>
  void flush(F&& wake) {
    Slot* s = mine();
    if (s == nullptr || s->owed_count == 0) return;
    for (std::size_t i = 0; i < s->owed_count; ++i) {
      std::size_t shard = s->owed_list[i];
      s->owed[shard] = 0;
      wake(shard);
    }
    s->owed_count = 0;
    s->tasks = 0;
  }

 private:
  struct Slot {
    std::atomic<std::thread::id> thread{};
    // Owned by `thread` alone while registered.
    std::vector<std::uint8_t> owed;
    std::vector<std::size_t> owed_list;
    std::size_t owed_count = 0;
    std::size_t tasks = 0;
  };
  Slot* mine() noexcept;

  const std::size_t shards_;
  const std::size_t max_deferred_;
  std::atomic<std::size_t> used_{0};  // slots [0, used_) may be registered
  std::array<Slot, kMaxThreads> slots_;
};

}  // namespace castor::twin
