// Change events: every committed mutation of a twin or relationship, and every telemetry message,
// published in commit order per twin to subscribers (event routes, live streams, rules).
// Subscribers are called on the thread that completed the commit and must not block.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "twin/twin.hpp"

namespace castor::twin {

enum class EventType : std::uint8_t {
  twin_create,
  twin_update,
  twin_delete,
  relationship_create,
  relationship_update,
  relationship_delete,
  telemetry,
};

std::string_view event_type_name(EventType t);  // ADT names: Twin.Create, Relationship.Delete, ...

// A Twin.Update event's data as ADT sends it: {"modelId":...,"patch":[...]}.
std::string update_event_data(std::string_view model_id, const json::value& patch);

struct ChangeEvent {
  EventType type;
  std::uint64_t sequence = 0;  // increases with every published event
  Nanos time = 0;              // when Castor committed it
  std::string twin_id;         // the twin (for relationships: the source twin)
  std::string model_id;
  std::string relationship_id;
  std::string component;       // telemetry of a component
  std::string message_id;      // telemetry Message-Id
  Nanos source_time = 0;       // telemetry Telemetry-Source-Time
  std::string data;            // JSON: the twin, {"modelId","patch"}, the relationship, or telemetry
  // Telemetry: values of a batch that a later value of the same name replaced in `data` before
  // publishing (name, how many), so live streams can count what they never saw.
  std::vector<std::pair<std::string, std::uint32_t>> superseded;
  // Twin updates: the patch records observations (a device's reports through ingest), not a
  // user's write. Connectors forward only users' writes of set-points to devices.
  bool observed = false;
};
using EventPtr = std::shared_ptr<const ChangeEvent>;

class EventBus {
 public:
  using Subscriber = std::function<void(const EventPtr&)>;
  using Id = std::uint64_t;

  Id subscribe(Subscriber s);
  void unsubscribe(Id id);
  void publish(std::shared_ptr<ChangeEvent> e);  // stamps the sequence number
  std::uint64_t published() const noexcept { return sequence_.load(); }

 private:
  struct Entry {
    Id id;
    Subscriber fn;
  };
  std::mutex mu_;  // guards subscribers_ (the pointer); publishing reads a snapshot
  std::shared_ptr<const std::vector<Entry>> subscribers_ = std::make_shared<std::vector<Entry>>();
  std::atomic<std::uint64_t> sequence_{0};
  Id next_id_ = 1;
};

}  // namespace castor::twin
