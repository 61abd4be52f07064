#include "query/budget.hpp"

#include <fmt/format.h>

#include <cmath>

namespace castor::query {
namespace {

std::string describe_duration(std::chrono::milliseconds d) {
  if (d.count() >= 1000 && d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
  return fmt::format("{} ms", d.count());
}

std::string describe_size(std::size_t bytes) {
  if (bytes % (1u << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes % (1u << 10) == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} bytes", bytes);
}

}  // namespace

Budget::Budget(std::chrono::milliseconds timeout, std::size_t memory_limit)
    : deadline_(Clock::now() + timeout), timeout_(timeout), limit_(memory_limit) {}

bool Budget::exhausted() const noexcept {
  return cancelled_.load(std::memory_order_relaxed) || Clock::now() >= deadline_;
}

bool Budget::charge(std::size_t bytes) noexcept {
  const std::size_t now = used_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (now <= limit_) return !exhausted();
  over_memory_.store(true, std::memory_order_relaxed);
  cancel();
  return false;
}

Status Budget::error() const {
  if (over_memory_.load(std::memory_order_relaxed)) {
    return Status(Code::invalid_argument,
                  fmt::format("The query needs more than its memory budget of {} for its "
                              "intermediate rows; narrow it with conditions on $dtId or "
                              "IS_OF_MODEL, use TOP or COUNT(), or raise --query-memory.",
                              describe_size(limit_)),
                  "SqlQueryError");
  }
  return Status(Code::invalid_argument,
                fmt::format("The query did not finish within its time budget of {}; narrow it "
                            "with conditions on $dtId or IS_OF_MODEL, or raise --query-timeout.",
                            describe_duration(timeout_)),
                "TimeoutError");
}

bool MemoryMeter::add(std::size_t bytes) noexcept {
  pending_ += bytes;
  if (pending_ < kBlock) return true;
  return flush();
}

bool MemoryMeter::flush() noexcept {
  const std::size_t n = pending_;
  pending_ = 0;
  return n == 0 ? !budget_.exhausted() : budget_.charge(n);
}

double QueryStats::charge() const noexcept {
  const double units = 1.0 + static_cast<double>(examined) / 100.0 +
                       static_cast<double>(returned) / 10.0 + static_cast<double>(bytes) / 102400.0;
  return std::round(units * 100.0) / 100.0;
}

}  // namespace castor::query
