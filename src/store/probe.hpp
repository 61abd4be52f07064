// StoreProbe: the store's own metrics (commits, group sizes, bytes, latencies, queue depth), kept
// as plain atomics that the committer updates and anyone may read. It never allocates or locks, so
// reading it (a /metrics scrape) cannot slow a commit.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace castor::store {

// Latency distribution in power-of-two microsecond buckets: bucket 0 counts < 1 us, bucket i
// counts [2^(i-1), 2^i) us, the last bucket everything longer. Maps onto a Prometheus histogram.
class LatencyHistogram {
 public:
  static constexpr std::size_t kBuckets = 32;

  void record(std::chrono::nanoseconds latency) noexcept;
  std::uint64_t count() const noexcept;
  std::uint64_t bucket(std::size_t i) const noexcept;
  std::chrono::nanoseconds sum() const noexcept;
  // Upper bound of the bucket holding quantile q (0..1), e.g. percentile(0.99); zero when empty.
  std::chrono::microseconds percentile(double q) const noexcept;
  // Exclusive upper bound of bucket i in microseconds.
  static std::uint64_t bucket_limit_us(std::size_t i) noexcept { return std::uint64_t{1} << i; }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

struct StoreProbe {
  // Batches acknowledged as durable.
  std::atomic<std::uint64_t> batches_committed{0};
  // Batches completed with an error (the write failed; they were not acknowledged).
  std::atomic<std::uint64_t> batches_failed{0};
  // Batches refused at submission because the queue was full or the store closing: the
  // backpressure signal. A rising count means producers outrun the disk.
  std::atomic<std::uint64_t> batches_rejected{0};
  // RocksDB writes, one per group; in strict mode each is one fsync.
  // batches_committed / group_writes is the mean group size.
  std::atomic<std::uint64_t> group_writes{0};
  std::atomic<std::uint64_t> largest_group{0};         // most batches merged into one write so far
  std::atomic<std::uint64_t> operations_committed{0};  // puts and erases in committed batches
  std::atomic<std::uint64_t> bytes_committed{0};       // encoded bytes of committed batches
  std::atomic<std::uint64_t> wal_syncs{0};             // fsyncs of the write-ahead log, any mode
  std::atomic<std::uint64_t> wal_sync_errors{0};       // failed background syncs (relaxed mode)
  // Gauges: batches and bytes accepted and not yet written.
  std::atomic<std::uint64_t> pending_batches{0};
  std::atomic<std::uint64_t> pending_bytes{0};
  // Submission to acknowledgement, per batch: what a submitter waits.
  LatencyHistogram commit_latency;
  // One group write including its fsync: what the disk costs.
  LatencyHistogram write_latency;
};

}  // namespace castor::store
