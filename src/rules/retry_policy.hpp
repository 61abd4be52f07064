// RetryPolicy: how often and how patiently delivery to one endpoint retries an event before it
// is dead-lettered — exponential backoff from `initial`, doubling up to `max`. Pure arithmetic.
#pragma once

#include <chrono>
#include <cstdint>

namespace castor::rules {

struct RetryPolicy {
  std::uint64_t max_attempts = 10;          // tries in all, the first included; at least 1
  std::chrono::milliseconds initial{1000};  // wait after the first failure
  std::chrono::milliseconds max{60000};     // longest wait between tries

  // The wait after failed attempt number `attempt` (1-based): initial * 2^(attempt-1), capped.
  std::chrono::milliseconds backoff(std::uint64_t attempt) const;
  bool exhausted(std::uint64_t attempts) const noexcept { return attempts >= max_attempts; }
};

}  // namespace castor::rules
