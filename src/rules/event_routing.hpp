// EventRouting: Azure Digital Twins event routes for one Castor instance. It keeps the routes
// (durable, ADT's EventRoutes resource), turns every change event into a CloudEvent, evaluates
// the route filters and hands matching events to their endpoint: the built-in live stream
// "default", or a configured webhook or MQTT endpoint (durable outbox, at-least-once delivery).
// Bus callbacks only queue the event (routing runs on its own thread, off the commit path) and
// never block on I/O; route writes block until durable.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/config.hpp"
#include "common/metrics.hpp"
#include "common/status.hpp"
#include "rules/clock.hpp"
#include "rules/endpoint_channel.hpp"
#include "rules/endpoint_sender.hpp"
#include "rules/event_mapping.hpp"
#include "rules/event_route.hpp"
#include "rules/live_stream.hpp"
#include "rules/outbox.hpp"
#include "rules/route_store.hpp"
#include "twin/engine.hpp"

namespace castor::rules {

struct RoutingOptions {
  std::filesystem::path data_dir;   // dead letters go to DATA/deadletter/<endpoint>.ndjson
  std::string source;               // CloudEvents "source"; "" means this machine's host name
  std::size_t routes_limit = 64;    // most routes; ADT allows 6
  std::size_t stream_queue = 1000;  // events queued per live-stream subscriber
  std::vector<EndpointConfig> endpoints;
  SenderFactory senders;                 // one sender per configured endpoint
  metrics::Registry* metrics = nullptr;  // optional
  Clock* clock = nullptr;                // optional (tests); default the steady clock
};

class EventRouting {
 public:
  // Loads routes and undelivered events, builds the endpoints and starts delivering. Fails
  // (with a sentence) when an endpoint cannot be built or the stored state cannot be read.
  static Result<std::unique_ptr<EventRouting>> open(twin::Engine& engine, RoutingOptions options);
  ~EventRouting();
  EventRouting(const EventRouting&) = delete;
  EventRouting& operator=(const EventRouting&) = delete;

  // --- the EventRoutes resource; errors carry ADT codes in Status::reason() ---
  Status put_route(std::string_view id, const RouteBody& body);  // blocks until durable
  Result<EventRoute> get_route(std::string_view id) const;       // EventRouteNotFound
  std::vector<EventRoute> routes() const;                        // in id order
  Status delete_route(std::string_view id);                      // blocks until durable

  bool has_endpoint(std::string_view name) const;
  LiveStream& live() noexcept { return *live_; }
  const EventMapper& mapper() const noexcept { return mapper_; }
  std::map<std::string, ChannelStats> endpoint_stats() const;
  // A CloudEvent of Castor's own about the stream itself (e.g. Castor.Events.Subscribed), with
  // a fresh id, this instance's source and the current time.
  std::string control_event(std::string_view type, std::string data) const;

  // Stops taking events, stores what was taken, ends delivery. Call before the engine closes.
  void stop();

 private:
  struct Table {
    std::vector<EventRoute> routes;  // sorted by id
  };
  struct Guard;  // lets bus callbacks outlive this object safely

  EventRouting(twin::Engine& engine, RoutingOptions options, store::ColumnFamily cf);
  Status load_routes();
  Status build_endpoints();
  Status restore_outbox();
  void start();
  void register_metrics();
  void enqueue(twin::EventPtr e);  // bus threads
  void dispatch();                 // the routing thread: drains the inbox until stopped
  void route(const twin::ChangeEvent& e);
  std::shared_ptr<const Table> table() const;

  twin::Engine& engine_;
  RoutingOptions options_;
  SteadyClock steady_;
  EventMapper mapper_;
  RouteStore route_store_;
  store::ColumnFamily cf_;
  mutable std::mutex table_mu_;  // guards table_ (the pointer)
  std::shared_ptr<const Table> table_;
  std::mutex write_mu_;  // serializes route changes
  std::map<std::string, std::unique_ptr<EndpointChannel>, std::less<>> channels_;  // fixed
  std::unique_ptr<OutboxWriter> writer_;
  std::unique_ptr<LiveStream> live_;
  std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::deque<twin::EventPtr> inbox_;  // committed events not yet routed
  bool inbox_closed_ = false;
  std::thread dispatcher_;
  std::shared_ptr<Guard> guard_;
  std::optional<twin::EventBus::Id> subscription_;
  std::atomic<std::uint64_t> unroutable_{0};
  mutable std::atomic<std::uint64_t> control_events_{
      0};  // matched a route whose endpoint is not configured
  std::vector<metrics::CallbackHandle> probes_;
  bool stopped_ = false;
};

}  // namespace castor::rules
