#include "ingest/mqtt_setpoints.hpp"

#include "common/json.hpp"
#include "common/json_patch.hpp"

namespace castor::ingest {

std::vector<Setpoint> setpoints_of(const twin::ChangeEvent& e, const model::ModelRegistry& models) {
  std::vector<Setpoint> out;
  if (e.type != twin::EventType::twin_update || e.observed) return out;
  auto model = models.interface(e.model_id);
  if (!model) return out;
  json::value data;
  json::ParseError err;
  if (!json::parse(e.data, data, err) || !data.is_object()) return out;
  const json::value* patch = data.get_object().if_contains("patch");
  if (!patch || !patch->is_array()) return out;
  for (const auto& op_value : patch->get_array()) {
    const json::object* op = op_value.if_object();
    const json::value* path = op ? op->if_contains("path") : nullptr;
    const json::value* verb = op ? op->if_contains("op") : nullptr;
    const json::value* value = op ? op->if_contains("value") : nullptr;
    if (!path || !path->is_string() || !verb || !value) continue;
    std::string_view v = json::sv(verb->as_string());
    if (v != "add" && v != "replace") continue;
    auto parsed = json::parse_pointer(json::sv(path->get_string()));
    if (!parsed || parsed->empty() || parsed->size() > 2) continue;
    const std::vector<std::string>& segs = *parsed;
    if (!e.component.empty() && segs.size() != 1) continue;  // a component's endpoint: /prop
    std::string component = segs.size() == 2 ? segs[0] : e.component;
    const model::CompiledInterface* iface = model.get();
    if (!component.empty()) {
      auto c = model->components.find(component);
      if (c == model->components.end()) continue;  // a field of an object property
      iface = c->second.get();
    }
    const std::string& p = segs.back();
    const model::ContentDef* def = iface->property(p);
    if (!def || !def->writable) continue;
    out.push_back({e.twin_id, component, std::string(p), json::serialize(*value)});
  }
  return out;
}

}  // namespace castor::ingest
