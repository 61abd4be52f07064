// /openapi.json: an OpenAPI 3.0 document assembled from the registered routes (operationId,
// path, method, summary, required access, each route's own fragment) merged with static parts
// (info, security scheme, shared schemas). Built once at start-up; never changes while serving.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/router.hpp"
#include "common/json.hpp"
#include "common/status.hpp"

namespace castor::api {

class OpenApiDocument {
 public:
  explicit OpenApiDocument(std::string_view castor_version);

  // Deep-merges a JSON object into the static part, e.g. ADT schemas into
  // {"components":{"schemas":{...}}}. Objects merge key by key; other values replace.
  Status merge_static(std::string_view json_object);

  // The full document for `router`'s routes. Throws std::logic_error when a route's fragment is
  // not a JSON object (a programming error, found at start-up).
  json::value build(const Router& router) const;

 private:
  json::object static_;
};

// Deep merge used above; exposed for tests.
void merge_json(json::object& into, const json::object& from);

// GET /openapi.json (no token needed). `document` must be built before the server starts.
void register_openapi_route(Router& router, std::shared_ptr<const std::string> document);

}  // namespace castor::api
