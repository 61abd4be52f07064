#include "rules/endpoint_channel.hpp"

#include "common/log.hpp"

namespace castor::rules {

EndpointChannel::EndpointChannel(ChannelOptions options, std::unique_ptr<EndpointSender> sender,
                                 store::Store& store, store::ColumnFamily cf, Clock& clock)
    : options_(std::move(options)),
      sender_(std::move(sender)),
      store_(store),
      cf_(cf),
      clock_(clock),
      dead_letters_(options_.dead_letter_dir, options_.name) {}

EndpointChannel::~EndpointChannel() {
  stop();
}

void EndpointChannel::restore(std::vector<OutboxEntry> entries) {
  std::lock_guard lock(mu_);
  for (auto& e : entries) {
    if (e.sequence >= next_sequence_.load()) next_sequence_.store(e.sequence + 1);
    ready_.push_back(std::move(e));
    ++queued_;
  }
}

void EndpointChannel::start() {
  std::lock_guard lock(mu_);
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
}

void EndpointChannel::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  sender_->interrupt();
  if (thread_.joinable()) thread_.join();
}

std::optional<std::uint64_t> EndpointChannel::reserve() {
  if (queued_.load() >= options_.queue_limit) return std::nullopt;
  ++queued_;
  return next_sequence_++;
}

void EndpointChannel::taken(std::vector<OutboxEntry> entries) {
  {
    std::lock_guard lock(mu_);
    for (auto& e : entries) ready_.push_back(std::move(e));
  }
  cv_.notify_all();
}

void EndpointChannel::overflowed(std::vector<std::string> events) {
  std::string reason = "the endpoint's queue was full (" + std::to_string(options_.queue_limit) +
                       " undelivered events); raise queue_limit or fix the endpoint";
  std::vector<DeadLetter> letters;
  for (const auto& e : events) letters.push_back({e, reason, 0});
  Status s = dead_letters_.append(letters);
  std::lock_guard lock(mu_);
  if (!s.is_ok()) {
    stats_.lost += events.size();
    log::error("events lost: the endpoint queue is full and the dead-letter file failed",
               {{"endpoint", options_.name}, {"events", events.size()}, {"error", s.message()}});
    return;
  }
  stats_.dead_lettered += events.size();
  log::warn("endpoint queue full: events dead-lettered", {{"endpoint", options_.name},
                                                          {"events", events.size()},
                                                          {"file", dead_letters_.path().string()}});
}

void EndpointChannel::lost(std::vector<OutboxEntry> entries, const Status& why) {
  queued_ -= entries.size();
  std::lock_guard lock(mu_);
  stats_.lost += entries.size();
  log::error("events lost: they could not be stored for delivery",
             {{"endpoint", options_.name}, {"events", entries.size()}, {"error", why.message()}});
}

ChannelStats EndpointChannel::stats() const {
  std::lock_guard lock(mu_);
  ChannelStats s = stats_;
  s.queued = queued_.load();
  return s;
}

void EndpointChannel::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
    if (stopping_) return;
    attempt(lock);
  }
}

void EndpointChannel::attempt(std::unique_lock<std::mutex>& lock) {
  // Only this thread removes from ready_, and deque appends keep references valid.
  const std::string& event = ready_.front().json;
  lock.unlock();
  SendResult r = sender_->send(event);
  lock.lock();
  if (r.kind == SendResult::Kind::delivered) {
    ++stats_.delivered;
    return finish_head(lock);
  }
  if (stopping_) return;  // interrupted: the event stays in the outbox for the next run
  ++attempts_;
  ++stats_.failed_attempts;
  bool reject = r.kind == SendResult::Kind::reject;
  if (reject || options_.retry.exhausted(attempts_)) {
    std::string reason = reject ? "rejected: " + r.reason
                                : r.reason + " (after " + std::to_string(attempts_) + " attempts)";
    lock.unlock();
    Status s = dead_letters_.append(DeadLetter{event, reason, attempts_});
    lock.lock();
    if (s.is_ok()) {
      ++stats_.dead_lettered;
      log::warn("event dead-lettered", {{"endpoint", options_.name},
                                        {"reason", reason},
                                        {"file", dead_letters_.path().string()}});
      return finish_head(lock);
    }
    log::error("cannot dead-letter an event; it stays queued",
               {{"endpoint", options_.name}, {"error", s.message()}});
  } else if (attempts_ == 1) {
    log::warn("endpoint delivery failed; retrying with backoff",
              {{"endpoint", options_.name}, {"reason", r.reason}});
  }
  auto wait = options_.retry.backoff(attempts_);
  clock_.wait_until(lock, cv_, clock_.now() + wait, [this] { return stopping_; });
}

void EndpointChannel::finish_head(std::unique_lock<std::mutex>& lock) {
  std::uint64_t sequence = ready_.front().sequence;
  ready_.pop_front();
  attempts_ = 0;
  --queued_;
  lock.unlock();
  erase(sequence);
  lock.lock();
}

void EndpointChannel::erase(std::uint64_t sequence) {
  // Losing this erase (a crash right now) only means one more delivery after restart.
  store::WriteBatch batch;
  batch.erase(cf_, outbox_key(options_.name, sequence));
  Status s = store_.commit(std::move(batch), nullptr);
  if (s.code() == Code::resource_exhausted) {
    auto r = store_.commit_sync(std::move(batch));
    if (!r)
      s = r.status();
    else
      s = Status::ok();
  }
  if (!s.is_ok())
    log::warn("could not remove a delivered event from the outbox; it may be delivered again",
              {{"endpoint", options_.name}, {"error", s.message()}});
}

}  // namespace castor::rules
