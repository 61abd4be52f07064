#include "rules/retry_policy.hpp"

#include <algorithm>

namespace castor::rules {

std::chrono::milliseconds RetryPolicy::backoff(std::uint64_t attempt) const {
  auto wait = std::max<std::chrono::milliseconds::rep>(initial.count(), 1);
  for (std::uint64_t i = 1; i < attempt && wait < max.count(); ++i) wait *= 2;
  return std::chrono::milliseconds(std::min(wait, std::max(max.count(), initial.count())));
}

}  // namespace castor::rules
