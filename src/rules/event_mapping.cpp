#include "rules/event_mapping.hpp"

#include <cstdio>

#include "common/json.hpp"
#include "twin/twin.hpp"

namespace castor::rules {
namespace {

std::string hex(std::uint64_t v, int digits) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return std::string(buf + 16 - digits);
}

// A JSON Pointer segment escaped per RFC 6901.
std::string pointer_segment(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer: spreads sequence bits for span ids
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::string_view cloud_event_type(twin::EventType t) {
  switch (t) {
    case twin::EventType::twin_create: return "Microsoft.DigitalTwins.Twin.Create";
    case twin::EventType::twin_update: return "Microsoft.DigitalTwins.Twin.Update";
    case twin::EventType::twin_delete: return "Microsoft.DigitalTwins.Twin.Delete";
    case twin::EventType::relationship_create: return "Microsoft.DigitalTwins.Relationship.Create";
    case twin::EventType::relationship_update: return "Microsoft.DigitalTwins.Relationship.Update";
    case twin::EventType::relationship_delete: return "Microsoft.DigitalTwins.Relationship.Delete";
    case twin::EventType::telemetry: return "microsoft.iot.telemetry";
  }
  return "";
}

std::string EventMapper::event_id(std::uint64_t sequence) const {
  std::string a = hex(options_.instance, 16), b = hex(sequence, 16);
  return a.substr(0, 8) + "-" + a.substr(8, 4) + "-" + a.substr(12, 4) + "-" + b.substr(0, 4) +
         "-" + b.substr(4);
}

std::string EventMapper::traceparent(std::uint64_t sequence) const {
  std::uint64_t span = mix(sequence ^ options_.instance);
  return "00-" + hex(options_.instance | 1, 16) + hex(sequence, 16) + "-" + hex(span | 1, 16) +
         "-01";
}

CloudEvent EventMapper::map(const twin::ChangeEvent& e) const {
  CloudEvent c;
  c.type = std::string(cloud_event_type(e.type));
  c.id = event_id(e.sequence);
  c.source = options_.source;
  c.traceparent = traceparent(e.sequence);
  c.time = twin::format_time(e.time);
  c.data = e.data;
  switch (e.type) {
    case twin::EventType::twin_create:
    case twin::EventType::twin_delete: c.subject = e.twin_id; break;
    case twin::EventType::twin_update:
      c.subject = e.twin_id;
      if (!e.component.empty()) c.data = prefix_patch_paths(e.data, e.component);
      break;
    case twin::EventType::relationship_create:
    case twin::EventType::relationship_update:
    case twin::EventType::relationship_delete:
      c.subject = e.twin_id + "/relationships/" + e.relationship_id;
      break;
    case twin::EventType::telemetry:
      if (!e.message_id.empty()) c.id = e.message_id;
      c.source = options_.source + "/digitaltwins/" + e.twin_id;
      c.subject = e.component;
      c.dataschema = e.model_id;
      if (!e.component.empty() && options_.component_model) {
        std::string m = options_.component_model(e.model_id, e.component);
        if (!m.empty()) c.dataschema = std::move(m);
      }
      if (e.source_time != 0) c.time = twin::format_time(e.source_time);
      break;
  }
  return c;
}

std::string prefix_patch_paths(std::string_view data, std::string_view component) {
  auto doc = json::parse(data);
  if (!doc || !doc->is_object()) return std::string(data);
  auto* patch = doc->get_object().if_contains("patch");
  if (patch == nullptr || !patch->is_array()) return std::string(data);
  std::string prefix = "/" + pointer_segment(component);
  for (auto& op : patch->get_array()) {
    if (!op.is_object()) continue;
    for (const char* key : {"path", "from"}) {
      auto* p = op.get_object().if_contains(key);
      if (p && p->is_string()) *p = prefix + std::string(json::sv(p->get_string()));
    }
  }
  return json::serialize(*doc);
}

}  // namespace castor::rules
