#include "rules/event_routing.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <shared_mutex>

#include "common/log.hpp"
#include "twin/twin.hpp"

namespace castor::rules {

struct EventRouting::Guard {
  std::shared_mutex mu;
  EventRouting* target = nullptr;  // null once stopped
};

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

std::uint64_t random_instance() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

MappingOptions mapping_options(twin::Engine& engine, const RoutingOptions& o) {
  MappingOptions m;
  m.source = o.source.empty() ? host_name() : o.source;
  m.instance = random_instance();
  m.component_model = [&engine](std::string_view model_id, std::string_view component) {
    auto rec = engine.models().get(model_id);
    if (!rec || !rec->compiled) return std::string();
    auto it = rec->compiled->components.find(component);
    return it == rec->compiled->components.end() || !it->second ? std::string() : it->second->id;
  };
  return m;
}

Status route_not_found(std::string_view id) {
  return Status(
      Code::not_found,
      "There is no event route '" + std::string(id) + "'; list them with GET /eventroutes.",
      "EventRouteNotFound");
}

}  // namespace

EventRouting::EventRouting(twin::Engine& engine, RoutingOptions options, store::ColumnFamily cf)
    : engine_(engine),
      options_(std::move(options)),
      mapper_(mapping_options(engine, options_)),
      route_store_(engine.store(), cf),
      cf_(cf),
      table_(std::make_shared<Table>()),
      guard_(std::make_shared<Guard>()) {}

Result<std::unique_ptr<EventRouting>> EventRouting::open(twin::Engine& engine,
                                                         RoutingOptions options) {
  auto cf = engine.store().column_family(kEventRoutesFamily);
  if (!cf)
    return internal_error("the store has no '" + std::string(kEventRoutesFamily) +
                          "' column family");
  std::unique_ptr<EventRouting> r(new EventRouting(engine, std::move(options), *cf));
  CASTOR_RETURN_IF_ERROR(r->load_routes());
  CASTOR_RETURN_IF_ERROR(r->build_endpoints());
  CASTOR_RETURN_IF_ERROR(r->restore_outbox());
  r->start();
  return r;
}

EventRouting::~EventRouting() {
  stop();
}

Status EventRouting::load_routes() {
  auto stored = route_store_.load();
  if (!stored) return stored.status();
  auto table = std::make_shared<Table>();
  for (auto& s : *stored) {
    auto filter = RouteFilter::parse(s.filter);
    if (!filter) {
      log::error(
          "a stored event route has a filter Castor no longer accepts; it routes nothing "
          "until it is replaced",
          {{"route", s.id}, {"error", filter.status().message()}});
      filter = RouteFilter::disabled(s.filter);
    }
    table->routes.push_back({std::move(s.id), std::move(s.endpoint), std::move(*filter)});
  }
  table_ = std::move(table);
  return Status::ok();
}

Status EventRouting::build_endpoints() {
  Clock& clock = options_.clock ? *options_.clock : steady_;
  for (const auto& e : options_.endpoints) {
    if (!options_.senders) return internal_error("no sender factory for endpoint '" + e.name + "'");
    auto sender = options_.senders(e);
    if (!sender)
      return Status(sender.status().code(),
                    "endpoint '" + e.name + "': " + sender.status().message());
    ChannelOptions c;
    c.name = e.name;
    c.retry = {e.max_attempts, e.retry_initial, e.retry_max};
    c.queue_limit = e.queue_limit;
    c.dead_letter_dir = options_.data_dir / "deadletter";
    channels_.emplace(e.name, std::make_unique<EndpointChannel>(std::move(c), std::move(*sender),
                                                                engine_.store(), cf_, clock));
  }
  for (const auto& r : table_->routes)
    if (!has_endpoint(r.endpoint))
      log::warn(
          "an event route names an endpoint that is not configured; its events are dropped "
          "until [[endpoints]] has it again",
          {{"route", r.id}, {"endpoint", r.endpoint}});
  return Status::ok();
}

Status EventRouting::restore_outbox() {
  auto stored = load_outbox(engine_.store(), cf_);
  if (!stored) return stored.status();
  for (auto& [endpoint, entries] : *stored) {
    auto it = channels_.find(endpoint);
    if (it == channels_.end()) {
      log::warn("undelivered events of an endpoint that is no longer configured are kept",
                {{"endpoint", endpoint}, {"events", entries.size()}});
      continue;
    }
    log::info("resuming delivery of undelivered events",
              {{"endpoint", endpoint}, {"events", entries.size()}});
    it->second->restore(std::move(entries));
  }
  return Status::ok();
}

void EventRouting::start() {
  writer_ = std::make_unique<OutboxWriter>(engine_.store(), cf_);
  live_ = std::make_unique<LiveStream>(options_.stream_queue, [this](std::uint64_t n) {
    return control_event("Castor.Events.Dropped", "{\"dropped\":" + std::to_string(n) + "}");
  });
  for (auto& [name, channel] : channels_) channel->start();
  guard_->target = this;
  dispatcher_ = std::thread([this] { dispatch(); });
  subscription_ = engine_.events().subscribe([guard = guard_](const twin::EventPtr& e) {
    std::shared_lock lock(guard->mu);
    if (guard->target) guard->target->enqueue(e);
  });
  if (options_.metrics) register_metrics();
}

void EventRouting::stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::unique_lock lock(guard_->mu);  // waits for callbacks in progress
    guard_->target = nullptr;
  }
  if (subscription_) engine_.events().unsubscribe(*subscription_);
  probes_.clear();
  {
    std::lock_guard lock(inbox_mu_);
    inbox_closed_ = true;
  }
  inbox_cv_.notify_one();
  if (dispatcher_.joinable()) dispatcher_.join();  // routes what the bus handed over
  if (writer_) writer_->stop();                    // everything taken is now in the outbox
  for (auto& [name, channel] : channels_) channel->stop();
  if (live_) live_->stop();
}

bool EventRouting::has_endpoint(std::string_view name) const {
  return name == kDefaultEndpoint || channels_.find(name) != channels_.end();
}

std::shared_ptr<const EventRouting::Table> EventRouting::table() const {
  std::lock_guard lock(table_mu_);
  return table_;
}

// --- the EventRoutes resource ---

Status EventRouting::put_route(std::string_view id, const RouteBody& body) {
  CASTOR_RETURN_IF_ERROR(check_route_id(id));
  if (!has_endpoint(body.endpoint)) {
    std::string known = std::string(kDefaultEndpoint);
    for (const auto& [name, c] : channels_) known += ", " + name;
    return Status(Code::invalid_argument,
                  "There is no endpoint '" + body.endpoint + "'; use one of: " + known +
                      " (configure more as [[endpoints]] in Castor's config file).",
                  "EventRouteEndpointInvalid");
  }
  auto filter = RouteFilter::parse(body.filter);
  if (!filter) return filter.status();
  std::lock_guard write(write_mu_);
  auto current = table();
  auto next = std::make_shared<Table>(*current);
  auto pos = std::lower_bound(next->routes.begin(), next->routes.end(), id,
                              [](const EventRoute& r, std::string_view k) { return r.id < k; });
  bool replace = pos != next->routes.end() && pos->id == id;
  if (!replace && next->routes.size() >= options_.routes_limit)
    return Status(Code::invalid_argument,
                  "There are already " + std::to_string(next->routes.size()) +
                      " event routes, the most allowed; delete one first or raise "
                      "event_routes_limit in Castor's configuration.",
                  "LimitExceeded");
  CASTOR_RETURN_IF_ERROR(route_store_.put({std::string(id), body.endpoint, body.filter}));
  EventRoute route{std::string(id), body.endpoint, std::move(*filter)};
  if (replace)
    *pos = std::move(route);
  else
    next->routes.insert(pos, std::move(route));
  std::lock_guard lock(table_mu_);
  table_ = std::move(next);
  return Status::ok();
}

Result<EventRoute> EventRouting::get_route(std::string_view id) const {
  auto t = table();
  for (const auto& r : t->routes)
    if (r.id == id) return r;
  return route_not_found(id);
}

std::vector<EventRoute> EventRouting::routes() const {
  return table()->routes;
}

Status EventRouting::delete_route(std::string_view id) {
  std::lock_guard write(write_mu_);
  auto next = std::make_shared<Table>(*table());
  auto it = std::find_if(next->routes.begin(), next->routes.end(),
                         [&](const EventRoute& r) { return r.id == id; });
  if (it == next->routes.end()) return route_not_found(id);
  CASTOR_RETURN_IF_ERROR(route_store_.erase(id));
  next->routes.erase(it);
  std::lock_guard lock(table_mu_);
  table_ = std::move(next);
  return Status::ok();
}

// --- routing ---

void EventRouting::enqueue(twin::EventPtr e) {
  if (table()->routes.empty()) return;  // nothing to route: no queueing on the commit path
  std::lock_guard lock(inbox_mu_);
  inbox_.push_back(std::move(e));
  if (inbox_.size() == 1) inbox_cv_.notify_one();
}

void EventRouting::dispatch() {
  std::deque<twin::EventPtr> batch;
  while (true) {
    {
      std::unique_lock lock(inbox_mu_);
      inbox_cv_.wait(lock, [this] { return inbox_closed_ || !inbox_.empty(); });
      if (inbox_.empty()) return;  // closed, and everything is routed
      batch.swap(inbox_);
    }
    for (const auto& e : batch) route(*e);
    batch.clear();
  }
}

void EventRouting::route(const twin::ChangeEvent& e) {
  auto t = table();
  if (t->routes.empty()) return;
  CloudEvent event = mapper_.map(e);
  json::value data;
  bool parsed = false, data_ok = false;
  std::vector<std::string_view> endpoints;
  for (const auto& r : t->routes) {
    if (std::find(endpoints.begin(), endpoints.end(), r.endpoint) != endpoints.end()) continue;
    if (r.filter.reads_body() && !parsed) {
      json::ParseError error;
      parsed = true;
      data_ok = json::parse(event.data, data, error);
    }
    if (r.filter.matches(event, data_ok ? &data : nullptr)) endpoints.push_back(r.endpoint);
  }
  if (endpoints.empty()) return;
  std::string text = to_json(event);
  for (std::string_view endpoint : endpoints) {
    if (endpoint == kDefaultEndpoint) {
      live_->publish(std::make_shared<const std::string>(text));
      continue;
    }
    auto it = channels_.find(endpoint);
    if (it == channels_.end()) {
      ++unroutable_;
      continue;
    }
    writer_->submit(*it->second, endpoint, text);
  }
}

std::string EventRouting::control_event(std::string_view type, std::string data) const {
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  CloudEvent n;
  n.type = std::string(type);
  n.source = mapper_.source();
  n.id =
      mapper_.event_id((std::uint64_t{1} << 63) | ++control_events_);  // apart from change events
  n.time = twin::format_time(now);
  n.data = std::move(data);
  return to_json(n);
}

std::map<std::string, ChannelStats> EventRouting::endpoint_stats() const {
  std::map<std::string, ChannelStats> out;
  for (const auto& [name, channel] : channels_) out.emplace(name, channel->stats());
  return out;
}

void EventRouting::register_metrics() {
  auto& m = *options_.metrics;
  probes_.push_back(m.callback_gauge("castor_event_routes", "Event routes.", {}, [this] {
    return static_cast<double>(table()->routes.size());
  }));
  probes_.push_back(m.callback_gauge("castor_event_stream_subscribers",
                                     "Subscribers of the live event stream (endpoint default).", {},
                                     [this] { return static_cast<double>(live_->subscribers()); }));
  probes_.push_back(m.callback_counter("castor_event_stream_dropped_total",
                                       "Events a slow live-stream subscriber lost (oldest first).",
                                       {},
                                       [this] { return static_cast<double>(live_->dropped()); }));
  probes_.push_back(m.callback_gauge("castor_event_routing_backlog",
                                     "Committed events waiting to be routed.", {}, [this] {
                                       std::lock_guard lock(inbox_mu_);
                                       return static_cast<double>(inbox_.size());
                                     }));
  probes_.push_back(
      m.callback_counter("castor_event_routes_unroutable_total",
                         "Events matched by a route whose endpoint is not configured.", {},
                         [this] { return static_cast<double>(unroutable_.load()); }));
  for (const auto& [name, channel] : channels_) {
    metrics::Labels l{{"endpoint", name}};
    const EndpointChannel* c = channel.get();
    auto stat = [c](std::uint64_t ChannelStats::*f) {
      return [c, f] { return static_cast<double>(c->stats().*f); };
    };
    probes_.push_back(m.callback_counter("castor_endpoint_delivered_total",
                                         "Events an endpoint acknowledged.", l,
                                         stat(&ChannelStats::delivered)));
    probes_.push_back(
        m.callback_counter("castor_endpoint_failed_attempts_total",
                           "Delivery attempts that failed (each is retried or dead-lettered).", l,
                           stat(&ChannelStats::failed_attempts)));
    probes_.push_back(m.callback_counter("castor_endpoint_dead_lettered_total",
                                         "Events written to DATA/deadletter/<endpoint>.ndjson.", l,
                                         stat(&ChannelStats::dead_lettered)));
    probes_.push_back(m.callback_gauge("castor_endpoint_queue_depth",
                                       "Events waiting for delivery.", l,
                                       [c] { return static_cast<double>(c->stats().queued); }));
  }
}

}  // namespace castor::rules
