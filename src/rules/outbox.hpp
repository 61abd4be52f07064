// Outbox: the durable queue between the event bus and configured endpoints. An event routed to
// an endpoint is "taken" only once its entry is in the store ("outbox/<endpoint>/<sequence>" in
// the event_routes family); it leaves after the endpoint acknowledged it or it was dead-lettered.
// The OutboxWriter thread makes entries durable in batches; bus threads never block on it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.hpp"
#include "store/store.hpp"

namespace castor::rules {

// The column family of event routes and outboxes (requested by the engine at open).
inline constexpr const char* kEventRoutesFamily = "event_routes";

struct OutboxEntry {
  std::uint64_t sequence = 0;  // per endpoint, increasing in routing order
  std::string json;            // the CloudEvent
};

std::string outbox_key(std::string_view endpoint, std::uint64_t sequence);
std::string outbox_prefix(std::string_view endpoint);

// Every stored entry, by endpoint name, in sequence order.
Result<std::map<std::string, std::vector<OutboxEntry>>> load_outbox(const store::Store& store,
                                                                    store::ColumnFamily cf);

// Where the writer hands entries after their commit. Called on the writer thread.
class OutboxSink {
 public:
  virtual ~OutboxSink() = default;
  // The next sequence number, or nullopt when the endpoint's queue is full. Called under the
  // writer's lock, so numbers follow submission order.
  virtual std::optional<std::uint64_t> reserve() = 0;
  virtual void taken(std::vector<OutboxEntry> entries) = 0;                    // durable now
  virtual void overflowed(std::vector<std::string> events) = 0;                // queue was full
  virtual void lost(std::vector<OutboxEntry> entries, const Status& why) = 0;  // store failed
};

class OutboxWriter {
 public:
  OutboxWriter(store::Store& store, store::ColumnFamily cf);
  ~OutboxWriter();
  OutboxWriter(const OutboxWriter&) = delete;
  OutboxWriter& operator=(const OutboxWriter&) = delete;

  // Queues `event` for `sink` (named `endpoint`); never blocks on I/O. After stop(): ignored.
  void submit(OutboxSink& sink, std::string_view endpoint, std::string event);
  // Writes everything submitted so far, then ends the thread. Idempotent.
  void stop();

 private:
  struct Job {
    OutboxSink* sink;
    std::string key;  // empty: the queue was full
    OutboxEntry entry;
  };
  void run();
  void write(std::vector<Job>& jobs);

  store::Store& store_;
  store::ColumnFamily cf_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace castor::rules
