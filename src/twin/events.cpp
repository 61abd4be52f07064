#include "twin/events.hpp"

namespace castor::twin {

std::string_view event_type_name(EventType t) {
  switch (t) {
    case EventType::twin_create: return "Twin.Create";
    case EventType::twin_update: return "Twin.Update";
    case EventType::twin_delete: return "Twin.Delete";
    case EventType::relationship_create: return "Relationship.Create";
    case EventType::relationship_update: return "Relationship.Update";
    case EventType::relationship_delete: return "Relationship.Delete";
    case EventType::telemetry: return "Telemetry";
  }
  return "";
}

// Appended directly: no copy of the patch into a JSON object on a shard's write path.
std::string update_event_data(std::string_view model_id, const json::value& patch) {
  std::string data;
  data.reserve(64 + model_id.size());  // most patches are short: one allocation
  data = "{\"modelId\":";
  json::append_string(data, model_id);
  data += ",\"patch\":";
  json::serialize_to(data, patch);
  data.push_back('}');
  return data;
}

EventBus::Id EventBus::subscribe(Subscriber s) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<Entry>>(*subscribers_);
  Id id = next_id_++;
  next->push_back({id, std::move(s)});
  subscribers_ = std::move(next);
  return id;
}

void EventBus::unsubscribe(Id id) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<Entry>>(*subscribers_);
  std::erase_if(*next, [id](const Entry& e) { return e.id == id; });
  subscribers_ = std::move(next);
}

void EventBus::publish(std::shared_ptr<ChangeEvent> e) {
  e->sequence = ++sequence_;
  std::shared_ptr<const std::vector<Entry>> subs;
  {
    std::lock_guard lock(mu_);
    subs = subscribers_;
  }
  EventPtr ev = std::move(e);
  for (const auto& s : *subs) s.fn(ev);
}

}  // namespace castor::twin
