// Countdown: work handed to shards counts down, one waiting thread wakes at zero. Held through a
// shared_ptr by every task, so the last count_down never touches memory the waiter already freed
// (std::latch on the waiter's stack would). Internal to the twin core's bulk operations.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

namespace castor::twin {

class Countdown {
 public:
  static std::shared_ptr<Countdown> make(std::size_t n) { return std::make_shared<Countdown>(n); }
  explicit Countdown(std::size_t n) : left_(n) {}

  void count_down() {
    std::lock_guard lock(mu_);
    if (left_ > 0 && --left_ == 0) cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return left_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t left_;
};

}  // namespace castor::twin
