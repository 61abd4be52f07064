// The twin core's error vocabulary: Status values whose reason() is the Azure Digital Twins error
// code the API layer returns. One place, so the same failure always reads the same way.
#pragma once

#include <string>
#include <string_view>

#include "common/status.hpp"

namespace castor::twin::errors {

inline Status twin_not_found(std::string_view id) {
  return {Code::not_found, "digital twin '" + std::string(id) + "' was not found", "DigitalTwinNotFound"};
}
inline Status target_not_found(std::string_view id) {
  return {Code::not_found, "the target twin '" + std::string(id) + "' was not found; create it first",
          "TargetTwinNotFound"};
}
inline Status relationship_not_found(std::string_view twin, std::string_view rel) {
  return {Code::not_found, "twin '" + std::string(twin) + "' has no relationship '" + std::string(rel) + "'",
          "RelationshipNotFound"};
}
inline Status component_not_found(std::string_view twin, std::string_view comp) {
  return {Code::not_found, "twin '" + std::string(twin) + "' has no component '" + std::string(comp) + "'",
          "ComponentNotFound"};
}
inline Status precondition_failed(std::string what) {
  return {Code::failed_precondition, std::move(what), "PreconditionFailed"};
}
inline Status invalid(std::string what) { return {Code::invalid_argument, std::move(what), "InvalidArgument"}; }
inline Status validation_failed(std::string what) {
  return {Code::invalid_argument, std::move(what), "ValidationFailed"};
}

}  // namespace castor::twin::errors
