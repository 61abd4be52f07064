#include "api/value_stream.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "common/json_patch.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "twin/twin.hpp"

namespace castor::api {

namespace {

// One changed value, as it leaves the event: the series it belongs to and its JSON text.
struct Value {
  std::string_view twin;
  std::string component;
  std::string name;
  std::string path;  // a patch below the property (e.g. /tcpPosition/x); empty otherwise
  std::string value;  // serialized JSON
  bool telemetry = false;
  bool removed = false;
  twin::Nanos time = 0;
  std::uint32_t superseded = 0;  // older values of this series the event itself left out
};

// The values a change event carries: telemetry fields, or the properties a patch set. Parsed
// once per event, whatever the number of connections.
std::vector<Value> values_of(const twin::ChangeEvent& e, const model::ModelRegistry& models) {
  std::vector<Value> out;
  json::value data;
  json::ParseError err;
  if (!json::parse(e.data, data, err)) return out;
  if (e.type == twin::EventType::telemetry) {
    if (!data.is_object()) return out;
    for (const auto& [k, v] : data.get_object()) {
      Value x;
      x.twin = e.twin_id;
      x.component = e.component;
      x.name = std::string(json::sv(k));
      x.value = json::serialize(v);
      x.telemetry = true;
      x.time = e.source_time ? e.source_time : e.time;
      for (const auto& [name, n] : e.superseded)
        if (name == x.name) x.superseded = n;
      out.push_back(std::move(x));
    }
    return out;
  }
  const json::object* obj = data.if_object();
  const json::value* patch = obj ? obj->if_contains("patch") : nullptr;
  if (!patch || !patch->is_array()) return out;
  model::InterfacePtr model = models.interface(e.model_id);
  // Source times the patch itself records ($metadata/<name>/sourceTime), by "component/name".
  std::unordered_map<std::string, twin::Nanos> source_times;
  for (const auto& op_value : patch->get_array()) {
    const json::object* op = op_value.if_object();
    if (!op) continue;
    const json::value* path = op->if_contains("path");
    const json::value* verb = op->if_contains("op");
    if (!path || !path->is_string() || !verb || !verb->is_string()) continue;
    auto parsed = json::parse_pointer(json::sv(path->get_string()));
    if (!parsed || parsed->empty()) continue;
    std::vector<std::string>& segs = *parsed;
    std::string component = e.component;
    std::size_t first = 0;
    if (component.empty() && segs.size() > 1 && model && model->components.count(segs[0])) {
      component = segs[0];
      first = 1;
    }
    if (segs[first] == "$metadata") {
      const json::value* v = op->if_contains("value");
      twin::Nanos t = 0;
      if (segs.size() == first + 3 && segs[first + 2] == "sourceTime" && v && v->is_string() &&
          twin::parse_time(json::sv(v->get_string()), t)) {
        source_times[component + "/" + segs[first + 1]] = t;
      }
      continue;
    }
    Value x;
    x.twin = e.twin_id;
    x.component = std::move(component);
    x.name = segs[first];
    for (std::size_t i = first + 1; i < segs.size(); ++i) x.path += "/" + segs[i];
    x.removed = json::sv(verb->get_string()) == "remove";
    const json::value* v = op->if_contains("value");
    x.value = x.removed || !v ? "null" : json::serialize(*v);
    x.time = e.time;
    out.push_back(std::move(x));
  }
  for (auto& x : out) {
    auto it = source_times.find(x.component + "/" + x.name);
    if (it != source_times.end()) x.time = it->second;
  }
  return out;
}

std::string message_of(const Value& v, std::string_view twin_id, std::uint64_t skipped) {
  std::string m;
  m.reserve(96 + v.value.size() + twin_id.size() + v.name.size());
  m += R"({"type":"value","twin":)";
  json::append_string(m, twin_id);
  if (!v.component.empty()) {
    m += R"(,"component":)";
    json::append_string(m, v.component);
  }
  m += R"(,"name":)";
  json::append_string(m, v.name);
  if (!v.path.empty()) {
    m += R"(,"path":)";
    json::append_string(m, v.path);
  }
  m += R"(,"value":)";
  m += v.value;
  m += v.telemetry ? R"(,"kind":"telemetry")" : R"(,"kind":"property")";
  if (v.removed) m += R"(,"removed":true)";
  m += R"(,"sourceTime":")";
  m += twin::format_time(v.time);
  m += '"';
  if (skipped) {
    m += R"(,"skipped":)";
    m += std::to_string(skipped);
  }
  m += '}';
  return m;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t comma = s.find(',', pos);
    std::string_view part = s.substr(pos, comma == std::string_view::npos ? std::string_view::npos
                                                                          : comma - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

Status check_models(const ValueFilter& f, const model::ModelRegistry& models) {
  for (const auto& m : f.models)
    if (!models.interface(m))
      return Status(Code::invalid_argument,
                    "model '" + m + "' does not exist; list models with GET /models",
                    "InvalidArgument");
  return Status::ok();
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

json::object ValueFilter::to_json() const {
  return json::object{{"twins", to_array(twins)},
                      {"models", to_array(models)},
                      {"names", to_array(names)},
                      {"exact", exact},
                      {"batch", batch}};
}

Result<ValueFilter> value_filter_from_query(const HttpRequest& request,
                                            const model::ModelRegistry& models) {
  ValueFilter f;
  for (const auto& [key, value] : request.query) {
    if (key == "twins") {
      for (auto& s : split_list(value)) f.twins.push_back(std::move(s));
    } else if (key == "models") {
      for (auto& s : split_list(value)) f.models.push_back(std::move(s));
    } else if (key == "names") {
      for (auto& s : split_list(value)) f.names.push_back(std::move(s));
    } else if (key == "exact" || key == "batch") {
      if (value != "true" && value != "false")
        return Status(Code::invalid_argument, key + " must be true or false", "InvalidArgument");
      (key == "exact" ? f.exact : f.batch) = value == "true";
    } else if (key != "api-version" && key != "access_token") {
      return Status(Code::invalid_argument,
                    "unknown parameter '" + key +
                        "'; the stream takes twins, models, names, exact and batch",
                    "InvalidArgument");
    }
  }
  CASTOR_RETURN_IF_ERROR(check_models(f, models));
  return f;
}

Result<ValueFilter> value_filter_from_json(const json::value& spec,
                                           const model::ModelRegistry& models) {
  const json::object* o = spec.if_object();
  if (!o)
    return Status(Code::invalid_argument,
                  "subscribe takes an object: {\"twins\":[...],\"models\":[...],\"names\":[...]}",
                  "InvalidArgument");
  ValueFilter f;
  for (const auto& [k, v] : *o) {
    std::string_view key = json::sv(k);
    std::vector<std::string>* list = key == "twins"    ? &f.twins
                                     : key == "models" ? &f.models
                                     : key == "names"  ? &f.names
                                                       : nullptr;
    if (key == "exact" || key == "batch") {
      if (!v.is_bool())
        return Status(Code::invalid_argument, std::string(key) + " must be true or false",
                      "InvalidArgument");
      (key == "exact" ? f.exact : f.batch) = v.get_bool();
      continue;
    }
    if (!list)
      return Status(Code::invalid_argument,
                    "unknown field '" + std::string(key) +
                        "'; subscribe takes twins, models, names and exact",
                    "InvalidArgument");
    if (!v.is_array())
      return Status(Code::invalid_argument, std::string(key) + " must be an array of strings",
                    "InvalidArgument");
    for (const auto& item : v.get_array()) {
      if (!item.is_string())
        return Status(Code::invalid_argument, std::string(key) + " must be an array of strings",
                      "InvalidArgument");
      list->emplace_back(json::sv(item.get_string()));
    }
  }
  CASTOR_RETURN_IF_ERROR(check_models(f, models));
  return f;
}

// ---------------------------------------------------------------------------------------------

namespace {
class Connection;
}

struct ValueStreamHub::State {
  const model::ModelRegistry& models;
  ValueStreamOptions options;
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> skipped{0};
  mutable std::mutex mu;  // guards the pointer; publishing reads a snapshot
  std::shared_ptr<const std::vector<std::shared_ptr<Connection>>> connections =
      std::make_shared<std::vector<std::shared_ptr<Connection>>>();

  State(const model::ModelRegistry& m, ValueStreamOptions o) : models(m), options(o) {}
  void add(std::shared_ptr<Connection> c);
  void remove(const Connection* c);
  void publish(const twin::EventPtr& e);
};

namespace {

class Connection final : public StreamListener,
                         public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::weak_ptr<ValueStreamHub::State> hub, ValueStreamHub::State& state,
             ValueFilter filter, std::shared_ptr<StreamSink> sink)
      : hub_(std::move(hub)),
        models_(state.models),
        options_(state.options),
        sent_(state.sent),
        skipped_total_(state.skipped),
        filter_(std::move(filter)),
        sink_(std::move(sink)) {}

  void greet() {
    std::lock_guard lock(mu_);
    send_subscribed();
  }

  // Whether the twin is of interest at all (cheap: before the event is parsed).
  bool wants_twin(const twin::ChangeEvent& e) {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    if (!filter_.twins.empty() &&
        std::find(filter_.twins.begin(), filter_.twins.end(), e.twin_id) == filter_.twins.end())
      return false;
    if (filter_.models.empty()) return true;
    auto [it, fresh] = model_match_.try_emplace(e.model_id, false);
    if (fresh) it->second = model_matches(e.model_id);
    return it->second;
  }

  void offer(const std::vector<Value>& values, std::string_view twin_id) {
    std::lock_guard lock(mu_);
    if (closed_) return;
    for (const Value& v : values) {
      if (!name_matches(v)) continue;
      if (v.superseded) skipped_total_.fetch_add(v.superseded, std::memory_order_relaxed);
      if (pending_.empty() && sink_->queued() < options_.send_window) {
        if (filter_.batch) {
          add_to_batch(message_of(v, twin_id, v.superseded));
          continue;
        }
        send(message_of(v, twin_id, v.superseded));
        continue;
      }
      std::string key;
      key.reserve(twin_id.size() + v.component.size() + v.name.size() + v.path.size() + 3);
      key.append(twin_id).append(1, '\0').append(v.component).append(1, '\0').append(v.name);
      key.append(1, '\0').append(v.path);
      auto it = pending_.find(key);
      if (it != pending_.end()) {
        it->second.skipped += 1 + v.superseded;
        it->second.value = v;
        it->second.value.twin = {};
        skipped_total_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (pending_.size() >= options_.max_pending) {
        dropped_ += 1 + v.superseded;  // reported with the next message
        skipped_total_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      Held h{v, std::string(twin_id), v.superseded};
      h.value.twin = {};
      pending_.emplace(key, std::move(h));
      order_.push_back(std::move(key));
    }
  }

  void on_drain() override {
    std::lock_guard lock(mu_);
    while (!closed_ && !order_.empty() && sink_->queued() < options_.send_window) {
      // In batch mode up to 256 held values leave in one message.
      std::size_t n = 0;
      do {
        auto it = pending_.find(order_.front());
        order_.pop_front();
        if (it == pending_.end()) continue;
        std::uint64_t skipped = it->second.skipped + dropped_;
        dropped_ = 0;
        std::string m = message_of(it->second.value, it->second.twin, skipped);
        pending_.erase(it);
        if (filter_.batch) {
          append_value(std::move(m));
          ++n;
        } else {
          send(std::move(m));
        }
      } while (filter_.batch && n < 256 && !order_.empty());
      flush_batch_locked();
    }
  }

  void on_message(std::string_view text) override {
    std::lock_guard lock(mu_);
    auto parsed = json::parse(text);
    const json::object* o = parsed.is_ok() ? parsed->if_object() : nullptr;
    const json::value* spec = o ? o->if_contains("subscribe") : nullptr;
    if (!spec) {
      return send_error("send {\"subscribe\": {\"twins\": [...], \"models\": [...], "
                        "\"names\": [...]}} to change what this stream carries");
    }
    auto f = value_filter_from_json(*spec, models_);
    if (!f.is_ok()) return send_error(f.status().message());
    filter_ = std::move(*f);
    model_match_.clear();
    pending_.clear();  // held values may no longer match
    order_.clear();
    send_subscribed();
  }

  void on_close() override {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      pending_.clear();
      order_.clear();
    }
    if (auto hub = hub_.lock()) hub->remove(this);
  }

 private:
  struct Held {
    Value value;       // value.twin is not kept (it points into the event)
    std::string twin;
    std::uint64_t skipped = 0;
  };

  bool model_matches(const std::string& model_id) const {
    auto m = models_.interface(model_id);
    if (!m) return false;
    for (const auto& want : filter_.models) {
      if (filter_.exact ? m->id == want : m->is_a(want)) return true;
    }
    return false;
  }

  bool name_matches(const Value& v) const {
    if (filter_.names.empty()) return true;
    for (const auto& n : filter_.names) {
      if (n == v.name) return true;
      if (!v.component.empty() && n.size() == v.component.size() + 1 + v.name.size() &&
          n.compare(0, v.component.size(), v.component) == 0 && n[v.component.size()] == '/' &&
          n.compare(v.component.size() + 1, std::string::npos, v.name) == 0)
        return true;
    }
    return false;
  }

  void send(std::string message) {
    if (!sink_->send(std::move(message))) {
      closed_ = true;  // closed or too slow; the transport ends the stream
      return;
    }
    sent_.fetch_add(1, std::memory_order_relaxed);
  }

  // Batch mode: values wait in batch_ until the connection's thread runs next.
  void add_to_batch(std::string value_message) {
    append_value(std::move(value_message));
    if (flush_armed_) return;
    flush_armed_ = true;
    sink_->defer([weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        std::lock_guard lock(self->mu_);
        self->flush_batch_locked();
      }
    });
  }

  void append_value(std::string value_message) {
    batch_ += batch_.empty() ? R"({"type":"values","values":[)" : ",";
    batch_ += value_message;
  }

  void flush_batch_locked() {
    flush_armed_ = false;
    if (batch_.empty() || closed_) return;
    batch_ += "]}";
    std::string m = std::move(batch_);
    batch_.clear();
    send(std::move(m));
  }

  void send_subscribed() {
    json::object m{{"type", "subscribed"}, {"filter", filter_.to_json()}};
    send(json::serialize(m));
  }

  void send_error(const std::string& message) {
    json::object m{{"type", "error"},
                   {"error", json::object{{"code", "InvalidArgument"}, {"message", message}}}};
    send(json::serialize(m));
  }

  std::weak_ptr<ValueStreamHub::State> hub_;
  const model::ModelRegistry& models_;
  const ValueStreamOptions options_;
  std::atomic<std::uint64_t>& sent_;
  std::atomic<std::uint64_t>& skipped_total_;

  std::mutex mu_;
  ValueFilter filter_;
  std::shared_ptr<StreamSink> sink_;
  std::unordered_map<std::string, bool> model_match_;
  std::unordered_map<std::string, Held> pending_;  // by series key
  std::deque<std::string> order_;                  // series keys, oldest first
  std::uint64_t dropped_ = 0;
  std::string batch_;  // batch mode: an open {"type":"values","values":[ ... message
  bool flush_armed_ = false;
  bool closed_ = false;
};

}  // namespace

void ValueStreamHub::State::add(std::shared_ptr<Connection> c) {
  std::lock_guard lock(mu);
  auto next = std::make_shared<std::vector<std::shared_ptr<Connection>>>(*connections);
  next->push_back(std::move(c));
  connections = std::move(next);
}

void ValueStreamHub::State::remove(const Connection* c) {
  std::lock_guard lock(mu);
  auto next = std::make_shared<std::vector<std::shared_ptr<Connection>>>(*connections);
  std::erase_if(*next, [c](const auto& x) { return x.get() == c; });
  connections = std::move(next);
}

void ValueStreamHub::State::publish(const twin::EventPtr& e) {
  if (e->type != twin::EventType::telemetry && e->type != twin::EventType::twin_update) return;
  std::shared_ptr<const std::vector<std::shared_ptr<Connection>>> snapshot;
  {
    std::lock_guard lock(mu);
    snapshot = connections;
  }
  if (snapshot->empty()) return;
  std::vector<Connection*> interested;
  for (const auto& c : *snapshot)
    if (c->wants_twin(*e)) interested.push_back(c.get());
  if (interested.empty()) return;
  std::vector<Value> values = values_of(*e, models);
  if (values.empty()) return;
  for (Connection* c : interested) c->offer(values, e->twin_id);
}

ValueStreamHub::ValueStreamHub(twin::EventBus& bus, const model::ModelRegistry& models,
                               ValueStreamOptions options)
    : state_(std::make_shared<State>(models, options)), bus_(bus) {
  std::weak_ptr<State> weak = state_;
  subscription_ = bus_.subscribe([weak](const twin::EventPtr& e) {
    if (auto s = weak.lock()) s->publish(e);
  });
}

ValueStreamHub::~ValueStreamHub() {
  bus_.unsubscribe(subscription_);
}

std::shared_ptr<StreamListener> ValueStreamHub::open(ValueFilter filter,
                                                     std::shared_ptr<StreamSink> sink) {
  auto c = std::make_shared<Connection>(state_, *state_, std::move(filter), std::move(sink));
  c->greet();
  state_->add(c);
  return c;
}

std::size_t ValueStreamHub::connections() const {
  std::lock_guard lock(state_->mu);
  return state_->connections->size();
}

std::uint64_t ValueStreamHub::values_sent() const noexcept {
  return state_->sent.load(std::memory_order_relaxed);
}

std::uint64_t ValueStreamHub::values_skipped() const noexcept {
  return state_->skipped.load(std::memory_order_relaxed);
}

void register_value_stream_route(Router& router, ValueStreamHub& hub,
                                 const model::ModelRegistry& models) {
  RouteSpec s;
  s.path = "/castor/v1/stream";
  s.access = Access::viewer;
  s.openapi = {
      "Stream_Values",
      "Live property and telemetry values over WebSocket or Server-Sent Events, filtered by "
      "twins, models and names; slow clients get coalesced latest values",
      {"Stream"},
      R"({"parameters": [
  {"name": "twins", "in": "query", "required": false, "schema": {"type": "string"}, "description": "Comma-separated twin ids."},
  {"name": "models", "in": "query", "required": false, "schema": {"type": "string"}, "description": "Comma-separated model ids; a twin matches its model or any model it extends."},
  {"name": "names", "in": "query", "required": false, "schema": {"type": "string"}, "description": "Comma-separated property or telemetry names, e.g. temperature or joint1/angle."},
  {"name": "exact", "in": "query", "required": false, "schema": {"type": "boolean", "default": false}, "description": "models match only twins of exactly that model."},
  {"name": "batch", "in": "query", "required": false, "schema": {"type": "boolean", "default": false}, "description": "Several values per message: {\"type\":\"values\",\"values\":[...]}."}],
  "responses": {
    "101": {"description": "WebSocket: one JSON text message per value (see docs/stream.md); send {\"subscribe\": {...}} to change the filter."},
    "200": {"description": "Server-Sent Events (Accept: text/event-stream): one data line per message.", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    "400": {"description": "Not a WebSocket or SSE request, an unknown parameter or an unknown model."}}})"};
  router.add_stream(
      std::move(s),
      [&hub, &models](const HttpRequest& req, std::shared_ptr<StreamSink> sink) {
        auto f = value_filter_from_query(req, models);  // checked before the upgrade; models may
        if (!f.is_ok()) f = ValueFilter{};                  // have been deleted since: stream all
        return hub.open(std::move(*f), std::move(sink));
      },
      [&models](const HttpRequest& req) -> std::optional<HttpResponse> {
        auto f = value_filter_from_query(req, models);
        if (f.is_ok()) return std::nullopt;
        return HttpResponse::json(
            400, json::value(json::object{
                     {"error", json::object{{"code", f.status().reason().empty()
                                                         ? std::string("InvalidArgument")
                                                         : f.status().reason()},
                                            {"message", f.status().message()}}}}));
      });
}

std::vector<metrics::CallbackHandle> value_stream_metrics(metrics::Registry& registry,
                                                          ValueStreamHub& hub) {
  std::vector<metrics::CallbackHandle> h;
  h.push_back(registry.callback_gauge("castor_stream_connections",
                                      "Open /castor/v1/stream connections.", {},
                                      [&hub] { return static_cast<double>(hub.connections()); }));
  h.push_back(registry.callback_counter("castor_stream_values_sent_total",
                                        "Values sent on /castor/v1/stream.", {},
                                        [&hub] { return static_cast<double>(hub.values_sent()); }));
  h.push_back(registry.callback_counter(
      "castor_stream_values_skipped_total",
      "Older values replaced by newer ones before a slow /castor/v1/stream client read them.", {},
      [&hub] { return static_cast<double>(hub.values_skipped()); }));
  return h;
}

}  // namespace castor::api
