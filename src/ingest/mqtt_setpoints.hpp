// Set-points: which of a twin update's changes are users' writes of writable properties, the
// values a connector forwards to the machine. Pure: reads the event and the models, publishes
// nothing, and never forwards a device's own reports (observed updates).
#pragma once

#include <string>
#include <vector>

#include "model/registry.hpp"
#include "twin/events.hpp"

namespace castor::ingest {

// A set-point to publish: a user's write of a writable property.
struct Setpoint {
  std::string twin, component, name, payload;  // payload: the JSON value
};

// The set-points a twin update carries: add/replace of writable properties of the twin or of
// its components (a patch of a component's own endpoint names it in the event). Empty for other
// events, observed updates, unknown models and fields of object properties.
std::vector<Setpoint> setpoints_of(const twin::ChangeEvent& e, const model::ModelRegistry& models);

}  // namespace castor::ingest
