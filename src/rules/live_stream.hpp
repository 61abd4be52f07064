// LiveStream: the built-in endpoint "default" — fans the events routes send to it out to live
// subscribers (WebSocket/SSE clients). Each subscriber has a bounded queue: when it falls
// behind, its oldest events are dropped and it is told how many. Publishing never blocks and
// never grows memory without bound; nothing here is durable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace castor::rules {

class LiveStream {
 public:
  using Message = std::shared_ptr<const std::string>;
  // Receives messages on the stream's thread, in order; returning false ends the subscription.
  using Deliver = std::function<bool(const std::string& message)>;
  // The message that tells a subscriber `dropped` events were lost before the next one.
  using DroppedNotice = std::function<std::string(std::uint64_t dropped)>;

  class Subscription;

  LiveStream(std::size_t queue_limit, DroppedNotice notice);
  ~LiveStream();
  LiveStream(const LiveStream&) = delete;
  LiveStream& operator=(const LiveStream&) = delete;

  // `first` (optional) is delivered before any event published after this call.
  std::shared_ptr<Subscription> subscribe(Deliver deliver, std::string first = {});
  void unsubscribe(const std::shared_ptr<Subscription>& s);  // idempotent; delivery ends soon
  void publish(Message message);                             // any thread; never blocks
  void stop();                                               // ends every subscription

  std::size_t subscribers() const;
  std::uint64_t dropped() const noexcept { return dropped_.load(); }
  std::uint64_t published() const noexcept { return published_.load(); }

 private:
  void run();
  // Delivers what `s` has queued; false when the subscription ended.
  bool drain(Subscription& s);

  const std::size_t queue_limit_;
  DroppedNotice notice_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  bool pending_ = false;  // some subscription has queued messages
  bool stopping_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> published_{0};
  std::thread thread_;
};

}  // namespace castor::rules
