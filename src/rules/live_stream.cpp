#include "rules/live_stream.hpp"

#include <algorithm>

namespace castor::rules {

class LiveStream::Subscription {
 public:
  explicit Subscription(Deliver d) : deliver(std::move(d)) {}
  Deliver deliver;  // called only by the stream's thread
  std::mutex mu;    // guards the fields below
  std::deque<Message> queue;
  std::uint64_t dropped = 0;  // since the last delivery
  bool closed = false;
};

LiveStream::LiveStream(std::size_t queue_limit, DroppedNotice notice)
    : queue_limit_(std::max<std::size_t>(queue_limit, 1)),
      notice_(std::move(notice)),
      thread_([this] { run(); }) {}

LiveStream::~LiveStream() {
  stop();
}

std::shared_ptr<LiveStream::Subscription> LiveStream::subscribe(Deliver deliver,
                                                                std::string first) {
  auto s = std::make_shared<Subscription>(std::move(deliver));
  if (!first.empty()) s->queue.push_back(std::make_shared<const std::string>(std::move(first)));
  std::lock_guard lock(mu_);
  if (stopping_) {
    s->closed = true;
    return s;
  }
  subscriptions_.push_back(s);
  if (!s->queue.empty()) {
    pending_ = true;
    cv_.notify_one();
  }
  return s;
}

void LiveStream::unsubscribe(const std::shared_ptr<Subscription>& s) {
  if (!s) return;
  {
    std::lock_guard lock(s->mu);
    s->closed = true;
    s->queue.clear();
  }
  std::lock_guard lock(mu_);
  std::erase(subscriptions_, s);
}

void LiveStream::publish(Message message) {
  ++published_;
  std::lock_guard lock(mu_);
  if (subscriptions_.empty()) return;
  for (const auto& s : subscriptions_) {
    std::lock_guard slock(s->mu);
    if (s->closed) continue;
    if (s->queue.size() >= queue_limit_) {
      s->queue.pop_front();  // the oldest goes; the subscriber hears how many
      ++s->dropped;
      ++dropped_;
    }
    s->queue.push_back(message);
  }
  pending_ = true;
  cv_.notify_one();
}

void LiveStream::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  subscriptions_.clear();
}

std::size_t LiveStream::subscribers() const {
  std::lock_guard lock(mu_);
  return subscriptions_.size();
}

void LiveStream::run() {
  while (true) {
    std::vector<std::shared_ptr<Subscription>> work;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || pending_; });
      if (stopping_) return;
      pending_ = false;
      work = subscriptions_;
    }
    for (const auto& s : work) {
      if (!drain(*s)) unsubscribe(s);
    }
  }
}

bool LiveStream::drain(Subscription& s) {
  std::deque<Message> batch;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(s.mu);
    if (s.closed) return false;
    batch.swap(s.queue);
    std::swap(dropped, s.dropped);
  }
  if (dropped > 0 && notice_ && !s.deliver(notice_(dropped))) return false;
  for (const auto& m : batch)
    if (!s.deliver(*m)) return false;
  return true;
}

}  // namespace castor::rules
