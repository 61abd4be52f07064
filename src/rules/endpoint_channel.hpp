// EndpointChannel: delivery to one configured endpoint. Holds the endpoint's undelivered events
// in sequence order (a bounded queue mirrored by the outbox), sends the oldest until the
// endpoint acknowledges it, retries with exponential backoff, and dead-letters it after the last
// attempt. One thread per endpoint; in order per endpoint; never drops an event silently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rules/clock.hpp"
#include "rules/dead_letter.hpp"
#include "rules/endpoint_sender.hpp"
#include "rules/outbox.hpp"
#include "rules/retry_policy.hpp"
#include "store/store.hpp"

namespace castor::rules {

struct ChannelOptions {
  std::string name;  // the endpoint's name
  RetryPolicy retry;
  std::size_t queue_limit = 10000;        // undelivered events kept; newer ones are dead-lettered
  std::filesystem::path dead_letter_dir;  // DATA/deadletter
};

// What the channel has done, for metrics and tests.
struct ChannelStats {
  std::uint64_t delivered = 0;
  std::uint64_t failed_attempts = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t lost = 0;  // could not be stored (the store failed)
  std::size_t queued = 0;  // waiting for delivery, or being written to the outbox
};

class EndpointChannel final : public OutboxSink {
 public:
  EndpointChannel(ChannelOptions options, std::unique_ptr<EndpointSender> sender,
                  store::Store& store, store::ColumnFamily cf, Clock& clock);
  ~EndpointChannel() override;
  EndpointChannel(const EndpointChannel&) = delete;
  EndpointChannel& operator=(const EndpointChannel&) = delete;

  const std::string& name() const noexcept { return options_.name; }

  // Before start(): what a previous run left in the outbox, in sequence order.
  void restore(std::vector<OutboxEntry> entries);
  void start();
  // Ends delivery (a send in progress is interrupted). Undelivered events stay in the outbox.
  void stop();

  // OutboxSink, called by the OutboxWriter.
  std::optional<std::uint64_t> reserve() override;
  void taken(std::vector<OutboxEntry> entries) override;
  void overflowed(std::vector<std::string> events) override;
  void lost(std::vector<OutboxEntry> entries, const Status& why) override;

  ChannelStats stats() const;
  const std::filesystem::path& dead_letter_path() const noexcept { return dead_letters_.path(); }

 private:
  void run();
  // One attempt on the oldest event; with mu_ held on entry and exit.
  void attempt(std::unique_lock<std::mutex>& lock);
  void finish_head(std::unique_lock<std::mutex>& lock);  // delivered or dead-lettered
  void erase(std::uint64_t sequence);

  ChannelOptions options_;
  std::unique_ptr<EndpointSender> sender_;
  store::Store& store_;
  store::ColumnFamily cf_;
  Clock& clock_;
  DeadLetterFile dead_letters_;

  std::atomic<std::uint64_t> next_sequence_{1};
  std::atomic<std::size_t> queued_{0};  // reserved and not yet delivered or dead-lettered

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<OutboxEntry> ready_;  // durable, oldest first
  std::uint64_t attempts_ = 0;     // of ready_.front()
  bool stopping_ = false;
  ChannelStats stats_;
  std::thread thread_;
};

}  // namespace castor::rules
