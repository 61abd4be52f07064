// The live value stream (GET /castor/v1/stream, WebSocket or Server-Sent Events): one message per
// changed property or telemetry value, filtered per connection by twin ids, models (with
// inheritance) and names, and coalesced per series for a client that reads slower than the plant
// writes. Runs on the committing thread: it never blocks, never waits for a client, and holds at
// most one pending value per series and connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/router.hpp"
#include "common/json.hpp"
#include "common/metrics.hpp"
#include "common/status.hpp"
#include "model/registry.hpp"
#include "twin/events.hpp"

namespace castor::api {

// What one connection wants. Within a list any entry matches; across lists all must match; an
// empty list matches everything.
struct ValueFilter {
  std::vector<std::string> twins;
  std::vector<std::string> models;  // the twin's model or (unless exact) any model it extends
  std::vector<std::string> names;   // "angle" (any component) or "joint1/angle"
  bool exact = false;
  // Several values per message ({"type":"values","values":[...]}): what one commit produced,
  // gathered until the connection's thread runs next. Fewer, larger messages for browsers.
  bool batch = false;
  json::object to_json() const;
};

// From the query (?twins=a,b&models=...&names=...&exact=true) or from a WebSocket message's
// {"subscribe": {...}} object. Unknown models are an invalid_argument naming them.
Result<ValueFilter> value_filter_from_query(const HttpRequest& request,
                                            const model::ModelRegistry& models);
Result<ValueFilter> value_filter_from_json(const json::value& spec,
                                           const model::ModelRegistry& models);

struct ValueStreamOptions {
  // Messages a connection may have queued on its transport before new values are held back
  // (coalesced) until it drains. Default 64.
  std::size_t send_window = 64;
  // Distinct series held back per connection; beyond it a value is dropped and counted in the
  // next message of that connection. Default 100,000.
  std::size_t max_pending = 100000;
};

class ValueStreamHub {
 public:
  // Subscribes to the engine's bus; unsubscribes when destroyed. `bus` and `models` must outlive
  // the hub; streams still open when it is destroyed end quietly.
  ValueStreamHub(twin::EventBus& bus, const model::ModelRegistry& models,
                 ValueStreamOptions options = {});
  ~ValueStreamHub();
  ValueStreamHub(const ValueStreamHub&) = delete;
  ValueStreamHub& operator=(const ValueStreamHub&) = delete;

  // A new subscriber; sends its "subscribed" message at once. The listener handles the
  // client's {"subscribe": ...} messages and drains.
  std::shared_ptr<StreamListener> open(ValueFilter filter, std::shared_ptr<StreamSink> sink);

  std::size_t connections() const;
  std::uint64_t values_sent() const noexcept;
  std::uint64_t values_skipped() const noexcept;

  struct State;  // shared with the connections (value_stream.cpp)

 private:
  std::shared_ptr<State> state_;
  twin::EventBus& bus_;
  twin::EventBus::Id subscription_ = 0;
};

// GET /castor/v1/stream (viewer and up), with a 400 before the upgrade for a bad filter.
void register_value_stream_route(Router& router, ValueStreamHub& hub,
                                 const model::ModelRegistry& models);

std::vector<metrics::CallbackHandle> value_stream_metrics(metrics::Registry& registry,
                                                          ValueStreamHub& hub);

}  // namespace castor::api
