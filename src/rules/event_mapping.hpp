// EventMapper: turns the twin core's change events into the CloudEvents Azure Digital Twins
// emits for them (types, source, subject, dataschema, data). Pure and thread-safe; it never
// filters or delivers, and never invents data the change event does not carry.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "rules/cloud_event.hpp"
#include "twin/events.hpp"

namespace castor::rules {

// The CloudEvents type ADT uses for `t`, e.g. "Microsoft.DigitalTwins.Twin.Create" or
// "microsoft.iot.telemetry".
std::string_view cloud_event_type(twin::EventType t);

struct MappingOptions {
  std::string source;  // the instance host name, e.g. "castor.example.com"
  // Random per start, so that event ids (instance, sequence) stay unique across restarts.
  std::uint64_t instance = 0;
  // The model id of component `component` of a twin of model `model_id` ("" when unknown); the
  // dataschema of component telemetry.
  std::function<std::string(std::string_view model_id, std::string_view component)> component_model;
};

class EventMapper {
 public:
  explicit EventMapper(MappingOptions options) : options_(std::move(options)) {}
  CloudEvent map(const twin::ChangeEvent& e) const;
  // A UUID-shaped id and a W3C traceparent derived from (instance, sequence).
  std::string event_id(std::uint64_t sequence) const;
  std::string traceparent(std::uint64_t sequence) const;
  const std::string& source() const noexcept { return options_.source; }

 private:
  MappingOptions options_;
};

// `data` of a component patch ({"modelId","patch"}) with every path and from prefixed by
// "/<component>", as the twin-level change ADT reports; other data unchanged.
std::string prefix_patch_paths(std::string_view data, std::string_view component);

}  // namespace castor::rules
