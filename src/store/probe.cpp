#include "store/probe.hpp"

#include <algorithm>
#include <bit>

namespace castor::store {

void LatencyHistogram::record(std::chrono::nanoseconds latency) noexcept {
  const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0));
  const std::size_t i = std::min<std::size_t>(std::bit_width(ns / 1000), kBuckets - 1);
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

std::uint64_t LatencyHistogram::count() const noexcept {
  std::uint64_t n = 0;
  for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t LatencyHistogram::bucket(std::size_t i) const noexcept {
  return i < kBuckets ? buckets_[i].load(std::memory_order_relaxed) : 0;
}

std::chrono::nanoseconds LatencyHistogram::sum() const noexcept {
  return std::chrono::nanoseconds(sum_ns_.load(std::memory_order_relaxed));
}

std::chrono::microseconds LatencyHistogram::percentile(double q) const noexcept {
  const std::uint64_t total = count();
  if (total == 0) return std::chrono::microseconds(0);
  const double clamped = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::uint64_t>(clamped * static_cast<double>(total - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += bucket(i);
    if (seen >= rank) return std::chrono::microseconds(bucket_limit_us(i));
  }
  return std::chrono::microseconds(bucket_limit_us(kBuckets - 1));
}

}  // namespace castor::store
