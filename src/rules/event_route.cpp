#include "rules/event_route.hpp"

#include "common/json.hpp"

namespace castor::rules {

Status check_route_id(std::string_view id) {
  auto bad = [&](std::string_view why) {
    return Status(Code::invalid_argument,
                  "The event route id is invalid: " + std::string(why) +
                      ". Use 1 to 256 characters such as letters, digits, '-', '_' and '.'.",
                  "EventRouteIdInvalid");
  };
  if (id.empty()) return bad("it is empty");
  if (id.size() > 256) return bad("it is longer than 256 characters");
  for (unsigned char c : id)
    if (c <= 0x20 || c == 0x7F) return bad("it contains a space or a control character");
  return Status::ok();
}

std::string to_json(const EventRoute& r) {
  std::string out = "{\"id\":";
  json::append_string(out, r.id);
  out += ",\"endpointName\":";
  json::append_string(out, r.endpoint);
  out += ",\"filter\":";
  json::append_string(out, r.filter.text());
  out += '}';
  return out;
}

Result<RouteBody> parse_route_body(const json::value& body) {
  auto invalid = [](std::string m) {
    return Status(Code::invalid_argument, std::move(m), "InvalidArgument");
  };
  if (!body.is_object())
    return invalid(
        "send the event route as a JSON object: {\"endpointName\": \"...\", \"filter\": \"true\"}");
  RouteBody out;
  bool has_endpoint = false, has_filter = false;
  for (const auto& kv : body.get_object()) {
    std::string_view key = json::sv(kv.key());
    if (key == "id") continue;  // read-only; the URL decides
    bool is_endpoint = key == "endpointName", is_filter = key == "filter";
    if (!is_endpoint && !is_filter)
      return invalid("unknown member \"" + std::string(key) +
                     "\" in the event route; only endpointName and filter may be set");
    if (!kv.value().is_string())
      return invalid(std::string(key) + " must be a string, not " +
                     std::string(json::kind_name(kv.value())));
    (is_endpoint ? out.endpoint : out.filter) = std::string(json::sv(kv.value().get_string()));
    (is_endpoint ? has_endpoint : has_filter) = true;
  }
  if (!has_endpoint || out.endpoint.empty())
    return Status(Code::invalid_argument,
                  "The event route needs an endpointName: \"default\" (the live event stream) or "
                  "an endpoint configured in Castor's [[endpoints]].",
                  "EventRouteEndpointInvalid");
  if (!has_filter)
    return Status(Code::invalid_argument,
                  "The event route needs a filter; use \"true\" to route every event.",
                  "EventRouteFilterInvalid");
  return out;
}

}  // namespace castor::rules
