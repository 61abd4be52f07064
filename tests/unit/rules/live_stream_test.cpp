// The live stream of endpoint "default": fan-out in order, a bounded queue per subscriber that
// drops the oldest events and says how many, and subscriptions that end.
#include <gtest/gtest.h>

#include <condition_variable>
#include <thread>

#include "rules/live_stream.hpp"

namespace castor::rules {
namespace {

using namespace std::chrono_literals;

LiveStream::Message msg(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 5s, [&] { return got.size() >= n; });
  }
  LiveStream::Deliver deliver() {
    return [this](const std::string& m) {
      std::lock_guard lock(mu);
      got.push_back(m);
      cv.notify_all();
      return true;
    };
  }
};

std::string notice(std::uint64_t n) {
  return "dropped " + std::to_string(n);
}

TEST(LiveStream, EverySubscriberGetsEveryEventInOrderAfterItsFirstMessage) {
  LiveStream live(100, notice);
  Collector a, b;
  auto sa = live.subscribe(a.deliver(), "hello");
  auto sb = live.subscribe(b.deliver());
  for (int i = 0; i < 50; ++i) live.publish(msg(std::to_string(i)));
  ASSERT_TRUE(a.wait_for(51));
  ASSERT_TRUE(b.wait_for(50));
  EXPECT_EQ(a.got.front(), "hello");
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(a.got[i + 1], std::to_string(i));
    EXPECT_EQ(b.got[i], std::to_string(i));
  }
  EXPECT_EQ(live.subscribers(), 2u);
  EXPECT_EQ(live.dropped(), 0u);
}

TEST(LiveStream, ASlowSubscriberLosesTheOldestAndIsToldHowMany) {
  LiveStream live(3, notice);
  std::mutex gate;
  std::unique_lock closed(gate);  // the subscriber blocks in its first delivery
  std::mutex got_mu;
  std::vector<std::string> got;
  std::atomic<bool> blocked{false};
  auto s = live.subscribe(
      [&](const std::string& m) {
        if (m == "first") {
          blocked = true;
          std::lock_guard wait(gate);
        }
        std::lock_guard lock(got_mu);
        got.push_back(m);
        return true;
      },
      "first");
  while (!blocked) std::this_thread::sleep_for(1ms);
  for (int i = 0; i < 10; ++i) live.publish(msg(std::to_string(i)));
  EXPECT_EQ(live.dropped(), 7u);
  closed.unlock();
  auto count = [&] {
    std::lock_guard lock(got_mu);
    return got.size();
  };
  for (int i = 0; i < 400 && count() < 5; ++i) std::this_thread::sleep_for(5ms);
  std::lock_guard lock(got_mu);
  EXPECT_EQ(got, (std::vector<std::string>{"first", "dropped 7", "7", "8", "9"}));
}

TEST(LiveStream, ASubscriberThatRefusesIsRemoved) {
  LiveStream live(10, notice);
  std::atomic<int> calls{0};
  auto s = live.subscribe([&](const std::string&) {
    ++calls;
    return false;
  });
  live.publish(msg("a"));
  for (int i = 0; i < 500 && live.subscribers() != 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(live.subscribers(), 0u);
  live.publish(msg("b"));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(calls.load(), 1);
}

TEST(LiveStream, UnsubscribeAndStopEndDelivery) {
  LiveStream live(10, notice);
  Collector c;
  auto s = live.subscribe(c.deliver());
  live.unsubscribe(s);
  live.unsubscribe(s);
  live.publish(msg("x"));
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(c.got.empty());
  live.stop();
  auto late = live.subscribe(c.deliver());
  live.publish(msg("y"));
  EXPECT_EQ(live.subscribers(), 0u);
}

}  // namespace
}  // namespace castor::rules
