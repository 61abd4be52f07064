// Clock: how delivery waits between retries, so tests can replace real time with a fake one.
// The steady clock never jumps; a wait ends early when the caller is asked to stop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace castor::rules {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  // Waits (with `lock` held on entry and exit) until `deadline` or until `cv` is notified and
  // `stop()` holds. Returns stop().
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          time_point deadline, const std::function<bool()>& stop) = 0;
};

class SteadyClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  time_point deadline, const std::function<bool()>& stop) override {
    return cv.wait_until(lock, deadline, stop);
  }
};

}  // namespace castor::rules
