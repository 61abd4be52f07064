// Validation of instance data against compiled models: twin documents, single property values,
// JSON Patch results, relationships and telemetry payloads. Called on every write, so it walks
// compiled schemas only and allocates nothing on success. Never modifies its inputs.
#pragma once

#include <string>
#include <string_view>

#include "common/json.hpp"
#include "common/status.hpp"
#include "model/compiled_model.hpp"

namespace castor::model {

struct InstanceOptions {
  // Require every component to be present (as an object), as ADT does when a twin is created.
  bool require_components = true;
  // Reject values for Properties that the model does not declare writable (for set-points
  // written by operators through the API, where the model is the contract).
  bool enforce_writable = false;
};

// Checks `v` against `schema`. On failure the Status message starts with the JSON Pointer
// of the offending value relative to `path`.
Status validate_value(const Schema& schema, const json::value& v, std::string_view path = "");

// A whole twin document (ADT shape: $dtId, $etag, $metadata, properties, components).
Status validate_twin(const CompiledInterface& model, const json::object& twin,
                     const InstanceOptions& options = {});

// One property (of the twin, or of one of its components when `component` is not empty).
Status validate_property(const CompiledInterface& model, std::string_view component,
                         std::string_view name, const json::value& v,
                         const InstanceOptions& options = {});

// Applies an RFC 6902 JSON Patch to a copy of `twin` and validates the result. Returns the
// patched document; nothing is changed when any operation or the result is invalid.
Result<json::object> apply_twin_patch(const CompiledInterface& model, const json::object& twin,
                                      const json::value& patch, const InstanceOptions& options = {});

// A relationship document ($relationshipName, $targetId, properties) from a twin of
// `source`; `target` is the target twin's model when known.
Status validate_relationship(const CompiledInterface& source, const json::object& relationship,
                             const CompiledInterface* target);

// A telemetry message: every member must be a Telemetry of the model (or component).
Status validate_telemetry(const CompiledInterface& model, std::string_view component,
                          const json::object& payload);

// Formats: RFC 3339 date / date-time / time, ISO 8601 duration, UUID, base64.
bool is_rfc3339_date(std::string_view s) noexcept;
bool is_rfc3339_datetime(std::string_view s) noexcept;
bool is_rfc3339_time(std::string_view s) noexcept;
bool is_iso8601_duration(std::string_view s) noexcept;

}  // namespace castor::model
