#include "api/openapi.hpp"

#include <stdexcept>

#include "api/api_version.hpp"

namespace castor::api {
namespace {

constexpr std::string_view kStatic = R"({
  "openapi": "3.0.3",
  "info": {
    "title": "Castor",
    "description": "Castor, a self-hosted digital twin engine: the Azure Digital Twins data-plane API (2023-10-31) and Castor's own operations under /castor/v1.",
    "license": {"name": "See the Castor repository"}
  },
  "components": {
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A Castor token created with 'castor token create --role ROLE'."
      }
    },
    "schemas": {
      "ErrorResponse": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"$ref": "#/components/schemas/Error"}}
      },
      "Error": {
        "type": "object",
        "properties": {
          "code": {"type": "string", "description": "Service-specific error code."},
          "message": {"type": "string", "description": "What went wrong and how to fix it."}
        }
      }
    }
  },
  "security": [{"bearer": []}],
  "paths": {}
})";

std::string lower_method(Method m) {
  std::string s(method_name(m));
  for (char& c : s) c = static_cast<char>(c - 'A' + 'a');
  return s;
}

json::array auto_parameters(const Route& route) {
  json::array params;
  for (const std::string& seg : route.segments) {
    if (seg.front() != '{') continue;
    json::object p;
    p["name"] = seg.substr(1, seg.size() - 2);
    p["in"] = "path";
    p["required"] = true;
    p["schema"] = json::object{{"type", "string"}};
    params.push_back(std::move(p));
  }
  if (route.spec.api_version == ApiVersion::required) {
    json::object p;
    p["name"] = "api-version";
    p["in"] = "query";
    p["required"] = true;
    p["schema"] = json::object{{"type", "string"}, {"default", std::string(kAdtApiVersion)}};
    params.push_back(std::move(p));
  }
  return params;
}

json::object operation_for(const Route& route) {
  const auto& doc = route.spec.openapi;
  json::object op;
  if (!doc.operation_id.empty()) op["operationId"] = doc.operation_id;
  if (!doc.summary.empty()) op["summary"] = doc.summary;
  if (!doc.tags.empty()) {
    json::array tags;
    for (const auto& t : doc.tags) tags.emplace_back(t);
    op["tags"] = std::move(tags);
  }
  op["x-castor-access"] = access_name(route.spec.access);
  if (route.spec.access == Access::anyone) op["security"] = json::array{};
  json::array params = auto_parameters(route);
  if (!params.empty()) op["parameters"] = std::move(params);
  json::object error_content{
      {"application/json",
       json::object{{"schema", json::object{{"$ref", "#/components/schemas/ErrorResponse"}}}}}};
  op["responses"] = json::object{
      {"default", json::object{{"description", "Error"}, {"content", std::move(error_content)}}}};
  if (!doc.fragment.empty()) {
    auto fragment = json::parse(doc.fragment);
    if (!fragment || !fragment->is_object()) {
      throw std::logic_error("OpenAPI fragment of " + route.spec.path + " is not a JSON object");
    }
    json::object frag = fragment->get_object();
    // Parameters add to the automatic ones (path parameters, api-version) instead of replacing.
    if (auto* extra = frag.if_contains("parameters"); extra && extra->is_array() && op.contains("parameters")) {
      for (auto& p : extra->get_array()) op["parameters"].as_array().push_back(p);
      frag.erase("parameters");
    }
    merge_json(op, frag);
  }
  auto& responses = op["responses"].as_object();
  bool has_success = false;
  for (const auto& [code, r] : responses) has_success |= !code.empty() && code[0] == '2';
  if (!has_success) {
    responses[route.stream ? "101" : "200"] = json::object{{"description", "Success"}};
  }
  return op;
}

}  // namespace

void merge_json(json::object& into, const json::object& from) {
  for (const auto& [key, value] : from) {
    auto it = into.find(key);
    if (it != into.end() && it->value().is_object() && value.is_object()) {
      merge_json(it->value().as_object(), value.get_object());
    } else {
      into[key] = value;
    }
  }
}

OpenApiDocument::OpenApiDocument(std::string_view castor_version) {
  static_ = json::parse(kStatic).value().as_object();
  static_["info"].as_object()["version"] = castor_version;
}

Status OpenApiDocument::merge_static(std::string_view json_object) {
  auto parsed = json::parse(json_object);
  if (!parsed) return parsed.status();
  if (!parsed->is_object()) return invalid_argument("the OpenAPI static part must be an object");
  merge_json(static_, parsed->get_object());
  return Status::ok();
}

json::value OpenApiDocument::build(const Router& router) const {
  json::object doc = static_;
  json::object& paths = doc["paths"].as_object();
  for (const auto& route : router.routes()) {
    json::value& item = paths[route->spec.path];
    if (!item.is_object()) item = json::object{};
    json::object op = operation_for(*route);
    if (route->spec.method == Method::other) continue;
    item.as_object()[lower_method(route->spec.method)] = std::move(op);
  }
  return doc;
}

void register_openapi_route(Router& router, std::shared_ptr<const std::string> document) {
  router.add(
      {.method = Method::get,
       .path = "/openapi.json",
       .access = Access::anyone,
       .openapi = {.operation_id = "Castor_OpenApi",
                   .summary = "This OpenAPI document.",
                   .tags = {"Operations"}}},
      sync_handler([document](const HttpRequest&) { return HttpResponse::json(200, *document); }));
}

}  // namespace castor::api
