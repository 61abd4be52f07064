// Test doubles for delivery: a clock whose waits return at once (advancing fake time), and a
// sender that follows a script and records what it was sent and when.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "rules/clock.hpp"
#include "rules/endpoint_sender.hpp"

namespace castor::rules::testing {

class FakeClock final : public Clock {
 public:
  time_point now() const override { return time_point(std::chrono::milliseconds(ms_.load())); }
  bool wait_until(std::unique_lock<std::mutex>&, std::condition_variable&, time_point deadline,
                  const std::function<bool()>& stop) override {
    if (stop()) return true;
    auto target =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline.time_since_epoch()).count();
    if (target > ms_.load()) ms_.store(target);
    return stop();
  }
  long long ms() const { return ms_.load(); }

 private:
  std::atomic<long long> ms_{0};
};

// Answers from `script` in order, then `otherwise`; records each call.
class ScriptedSender final : public EndpointSender {
 public:
  struct Call {
    long long at_ms;
    std::string event;
  };
  ScriptedSender(const FakeClock* clock, std::deque<SendResult> script, SendResult otherwise)
      : clock_(clock), script_(std::move(script)), otherwise_(std::move(otherwise)) {}

  SendResult send(std::string_view event) override {
    std::lock_guard lock(mu_);
    calls_.push_back({clock_ ? clock_->ms() : 0, std::string(event)});
    if (script_.empty()) return otherwise_;
    SendResult r = script_.front();
    script_.pop_front();
    return r;
  }
  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void set_otherwise(SendResult r) {
    std::lock_guard lock(mu_);
    otherwise_ = std::move(r);
  }

 private:
  const FakeClock* clock_;
  mutable std::mutex mu_;
  std::deque<SendResult> script_;
  SendResult otherwise_;
  std::vector<Call> calls_;
};

// Forwards to a ScriptedSender the test keeps (the channel owns its sender).
class SharedSender final : public EndpointSender {
 public:
  explicit SharedSender(ScriptedSender& target) : target_(target) {}
  SendResult send(std::string_view event) override { return target_.send(event); }

 private:
  ScriptedSender& target_;
};

}  // namespace castor::rules::testing
