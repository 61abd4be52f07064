#include "api/adt_openapi.hpp"

#include "common/json.hpp"

namespace castor::api::openapi {

std::string adt_schemas() {
  return R"({"components": {"schemas": {
  "DigitalTwin": {"type": "object", "description": "A twin: $dtId, $etag, $metadata ($model, $lastUpdateTime, per-property lastUpdateTime and sourceTime), its properties and components.",
    "required": ["$metadata"], "additionalProperties": true,
    "properties": {"$dtId": {"type": "string"}, "$etag": {"type": "string"},
      "$metadata": {"type": "object", "required": ["$model"], "properties": {"$model": {"type": "string"}, "$lastUpdateTime": {"type": "string", "format": "date-time"}}, "additionalProperties": true}}},
  "Component": {"type": "object", "description": "A component of a twin: its $metadata and properties.", "additionalProperties": true},
  "Relationship": {"type": "object", "description": "A relationship from $sourceId to $targetId, with its own properties.",
    "required": ["$relationshipName", "$targetId"], "additionalProperties": true,
    "properties": {"$relationshipId": {"type": "string"}, "$sourceId": {"type": "string"}, "$targetId": {"type": "string"},
      "$relationshipName": {"type": "string"}, "$etag": {"type": "string"}}},
  "RelationshipCollection": {"type": "object", "properties": {"value": {"type": "array", "items": {"$ref": "#/components/schemas/Relationship"}}, "nextLink": {"type": "string"}}},
  "IncomingRelationship": {"type": "object", "properties": {"$relationshipId": {"type": "string"}, "$sourceId": {"type": "string"}, "$relationshipName": {"type": "string"}, "$relationshipLink": {"type": "string"}}},
  "IncomingRelationshipCollection": {"type": "object", "properties": {"value": {"type": "array", "items": {"$ref": "#/components/schemas/IncomingRelationship"}}, "nextLink": {"type": "string"}}},
  "ModelData": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "displayName": {"type": "object", "additionalProperties": {"type": "string"}},
    "description": {"type": "object", "additionalProperties": {"type": "string"}}, "uploadTime": {"type": "string", "format": "date-time"},
    "decommissioned": {"type": "boolean"}, "model": {"type": "object", "description": "The DTDL definition (with includeModelDefinition=true)."}}},
  "ModelDataList": {"type": "array", "items": {"$ref": "#/components/schemas/ModelData"}},
  "PagedModelData": {"type": "object", "properties": {"value": {"type": "array", "items": {"$ref": "#/components/schemas/ModelData"}}, "nextLink": {"type": "string"}}},
  "DtdlModels": {"type": "array", "description": "DTDL Interfaces uploaded as one set.", "items": {"type": "object"}},
  "JsonPatch": {"type": "array", "description": "An RFC 6902 JSON Patch.", "items": {"type": "object", "required": ["op", "path"],
    "properties": {"op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]}, "path": {"type": "string"}, "from": {"type": "string"}, "value": {}}}},
  "Telemetry": {"type": "object", "description": "Telemetry values by name.", "additionalProperties": true}
}}})";
}

std::string fragment(const Fragment& f) {
  json::object op;
  auto ref = [](std::string_view name) { return json::object{{"$ref", "#/components/schemas/" + std::string(name)}}; };
  if (!f.request_schema.empty()) {
    json::object content{{std::string(f.request_type), json::object{{"schema", ref(f.request_schema)}}}};
    op["requestBody"] = json::object{{"required", true}, {"content", std::move(content)}};
  }
  json::object ok{{"description", "Success"}};
  if (!f.response_schema.empty())
    ok["content"] = json::object{{"application/json", json::object{{"schema", ref(f.response_schema)}}}};
  if (f.etag) ok["headers"] = json::object{{"ETag", json::object{{"schema", json::object{{"type", "string"}}}}}};
  op["responses"] = json::object{{std::to_string(f.success), std::move(ok)}};
  json::array params;
  auto header = [&](std::string_view name, std::string_view description) {
    params.push_back(json::object{{"name", name}, {"in", "header"}, {"required", false},
                                  {"description", description}, {"schema", json::object{{"type", "string"}}}});
  };
  if (f.if_match) header("If-Match", "Only if the resource's ETag matches (or *); otherwise 412.");
  if (f.if_none_match) header("If-None-Match", "\"*\": only create, never replace; otherwise 412.");
  if (f.paged) header("max-items-per-page", "Largest page to return; follow nextLink for more.");
  if (!params.empty()) op["parameters"] = std::move(params);
  return json::serialize(op);
}

}  // namespace castor::api::openapi
