#include "twin/wake_deferral.hpp"

namespace castor::twin {

WakeDeferral::WakeDeferral(std::size_t shards, std::size_t max_deferred)
    : shards_(shards), max_deferred_(max_deferred == 0 ? 1 : max_deferred) {}

bool WakeDeferral::begin() {
  const std::thread::id self = std::this_thread::get_id();
  if (mine() != nullptr) return true;
  for (std::size_t i = 0; i < kMaxThreads; ++i) {
    Slot& s = slots_[i];
    std::thread::id none{};
    // Size the slot before it is published: defer() on this thread reads it right after.
    if (s.thread.load(std::memory_order_acquire) != none) continue;
    s.owed.assign(shards_, 0);
    s.owed_list.assign(shards_, 0);
    s.owed_count = 0;
    s.tasks = 0;
    if (!s.thread.compare_exchange_strong(none, self, std::memory_order_acq_rel)) continue;
    std::size_t used = used_.load(std::memory_order_relaxed);
    while (used < i + 1 && !used_.compare_exchange_weak(used, i + 1, std::memory_order_acq_rel)) {
    }
    return true;
  }
  return false;
}

std::vector<std::size_t> WakeDeferral::end() {
  std::vector<std::size_t> owed;
  Slot* s = mine();
  if (s == nullptr) return owed;
  flush([&](std::size_t shard) { owed.push_back(shard); });
  s->thread.store(std::thread::id{}, std::memory_order_release);
  return owed;
}

WakeDeferral::Slot* WakeDeferral::mine() noexcept {
  const std::size_t used = used_.load(std::memory_order_acquire);
  if (used == 0) return nullptr;
  const std::thread::id self = std::this_thread::get_id();
  for (std::size_t i = 0; i < used; ++i)
    if (slots_[i].thread.load(std::memory_order_relaxed) == self) return &slots_[i];
  return nullptr;
}

bool WakeDeferral::defer(std::size_t shard) noexcept {
  Slot* s = mine();
  if (s == nullptr || shard >= shards_) return false;
  // A long burst wakes its shards now rather than let them idle behind it.
  if (++s->tasks > max_deferred_) return false;
  if (!s->owed[shard]) {
    s->owed[shard] = 1;
    s->owed_list[s->owed_count++] = shard;
  }
  return true;
}

}  // namespace castor::twin
