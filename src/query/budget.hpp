// What one query may spend: a deadline and a memory allowance shared by every task it runs on
// any shard, checked often enough that no query runs away; and the work it did, which becomes
// the query-charge header. A budget only counts and answers; it never stops a thread itself.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "common/status.hpp"

namespace castor::query {

class Budget {
 public:
  using Clock = std::chrono::steady_clock;

  Budget(std::chrono::milliseconds timeout, std::size_t memory_limit);

  // True once the deadline passed or the query was cancelled: tasks stop at their next check.
  bool exhausted() const noexcept;
  // Adds `bytes` to the query's memory; false (and the query is cancelled) when it goes over.
  bool charge(std::size_t bytes) noexcept;
  // Returns memory charged earlier and since freed.
  void release(std::size_t bytes) noexcept { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  void cancel() noexcept { cancelled_.store(true, std::memory_order_relaxed); }
  std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
  // The error to answer: TimeoutError past the deadline, else SqlQueryError for memory.
  Status error() const;

 private:
  Clock::time_point deadline_;
  std::chrono::milliseconds timeout_;
  std::size_t limit_;
  std::atomic<std::size_t> used_{0};
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> over_memory_{false};
};

// Accumulates memory charges locally and hands them to the Budget in blocks, so that shard
// tasks do not contend on one atomic per row.
class MemoryMeter {
 public:
  explicit MemoryMeter(Budget& budget) : budget_(budget) {}
  ~MemoryMeter() { flush(); }
  MemoryMeter(const MemoryMeter&) = delete;
  MemoryMeter& operator=(const MemoryMeter&) = delete;
  // False once the query is over its allowance or out of time.
  bool add(std::size_t bytes) noexcept;
  bool flush() noexcept;

 private:
  static constexpr std::size_t kBlock = 64 * 1024;
  Budget& budget_;
  std::size_t pending_ = 0;
};

// The work of one request, for the query-charge header.
struct QueryStats {
  std::uint64_t examined = 0;  // twins and relationships looked at
  std::uint64_t returned = 0;  // rows in the response
  std::uint64_t bytes = 0;     // bytes of JSON in the response
  std::uint64_t indexed = 0;   // shard scans whose candidates came from an index
  std::uint64_t index_only = 0;  // twins whose rows came from index entries, the twin unread

  void add(const QueryStats& o) noexcept {
    examined += o.examined;
    indexed += o.indexed;
    index_only += o.index_only;
    returned += o.returned;
    bytes += o.bytes;
  }
  // Query units: 1 per request, 1 per 100 items examined, 1 per 10 rows returned, 1 per 100 KB
  // returned; rounded to two decimals. A point read costs about 1, as in ADT.
  double charge() const noexcept;
};

}  // namespace castor::query
