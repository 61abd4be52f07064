// ADT models: POST/GET /models, GET/PATCH/DELETE /models/{id}.
#include <ctime>

#include "api/adt_common.hpp"
#include "api/adt_openapi.hpp"
#include "api/adt_routes.hpp"
#include "api/error.hpp"
#include "twin/twin.hpp"

namespace castor::api {
namespace {

constexpr std::size_t kModelPage = 100;  // ADT's page size for models

std::string model_data(const model::ModelRecord& r, bool with_definition) {
  json::object o;
  o["id"] = r.id;
  if (!r.display_name.empty()) o["displayName"] = r.display_name;
  if (!r.description.empty()) o["description"] = r.description;
  o["uploadTime"] = twin::format_time(
      std::chrono::duration_cast<std::chrono::nanoseconds>(r.upload_time.time_since_epoch()).count());
  o["decommissioned"] = r.decommissioned;
  if (with_definition) o["model"] = r.definition;
  return json::serialize(o);
}

bool include_definition(const HttpRequest& req) {
  auto v = req.query_param("includeModelDefinition");
  return v && (*v == "true" || *v == "True" || *v == "1");
}

// 400 DTDLParserError with one detail per DTDL error, as ADT reports it.
HttpResponse parser_error(const model::AddResult& r) {
  json::object err;
  err["code"] = "DTDLParserError";
  err["message"] = r.status.message();
  json::array details;
  for (const auto& d : r.details) details.push_back(json::object{{"code", "DTDLParserError"}, {"message", d}});
  if (!details.empty()) err["details"] = std::move(details);
  HttpResponse resp = HttpResponse::json(400, json::object{{"error", std::move(err)}});
  resp.headers.set("x-ms-error-code", "DTDLParserError");
  return resp;
}

void add_models(AdtContext& ctx, HttpRequest req, Responder resp) {
  auto body = adt::json_body(req);
  if (!body) return adt::fail(resp, body.status());
  if (!body->is_array())
    return adt::fail(resp, Status(Code::invalid_argument, "send the models as a JSON array of DTDL Interfaces",
                                  "InvalidArgument"));
  ctx.worker.post([&ctx, models = std::move(*body), resp] {
    const auto& arr = models.get_array();
    model::AddResult r = ctx.engine.add_models(std::span<const json::value>(arr.data(), arr.size()));
    switch (r.error) {
      case model::ModelError::none: break;
      case model::ModelError::already_exists:
        return adt::fail(resp, r.status.with_reason("ModelAlreadyExists"));
      case model::ModelError::too_many:
        return adt::fail(resp, Status(Code::invalid_argument, r.status.message(), "LimitExceeded"));
      case model::ModelError::invalid:
      case model::ModelError::unresolved:
        return resp.respond(parser_error(r));
    }
    if (!r.status.is_ok()) return adt::fail(resp, r.status);
    std::string out = "[";
    for (std::size_t i = 0; i < r.added.size(); ++i) out += (i ? "," : "") + model_data(*r.added[i], false);
    resp.respond(HttpResponse::json(201, out + "]"));
  });
}

void list_models(AdtContext& ctx, const HttpRequest& req, const Responder& resp) {
  auto size = adt::page_size(req, kModelPage, kModelPage);
  if (!size) return adt::fail(resp, size.status());
  auto page_offset = adt::page_offset(req);
  if (!page_offset) return adt::fail(resp, page_offset.status());
  std::size_t offset = *page_offset;
  std::vector<std::string> deps;
  // Repeated parameters (collectionFormat multi) and comma-separated lists, as the SDKs send
  // both; a DTMI never contains a comma.
  for (auto d : req.query.get_all("dependenciesFor")) {
    std::size_t start = 0;
    while (start <= d.size()) {
      std::size_t comma = d.find(',', start);
      std::string_view one = d.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (!one.empty()) deps.emplace_back(one);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  auto list = ctx.engine.models().list(deps);
  if (!list) return adt::fail(resp, list.status().with_reason("ModelNotFound"));
  bool with_def = include_definition(req);
  std::vector<std::string> items;
  items.reserve(list->size());
  for (const auto& r : *list) items.push_back(model_data(*r, with_def));
  resp.respond(HttpResponse::json(200, adt::page_body(items, offset, *size, req, ctx.tls)));
}

void get_model(AdtContext& ctx, const HttpRequest& req, const Responder& resp) {
  auto rec = ctx.engine.models().get(req.param("id"));
  if (!rec)
    return adt::fail(resp, Status(Code::not_found, "model " + std::string(req.param("id")) + " was not found",
                                  "ModelNotFound"));
  resp.respond(HttpResponse::json(200, model_data(*rec, include_definition(req))));
}

void update_model(AdtContext& ctx, const HttpRequest& req, const Responder& resp) {
  auto body = adt::json_body(req, true);
  if (!body) return adt::fail(resp, body.status());
  // The only update ADT allows: [{"op": "replace", "path": "/decommissioned", "value": true}].
  const auto* ops = body->if_array();
  bool ok = ops && ops->size() == 1 && (*ops)[0].is_object();
  if (ok) {
    const auto& op = (*ops)[0].get_object();
    const auto* name = op.if_contains("op");
    const auto* path = op.if_contains("path");
    const auto* value = op.if_contains("value");
    ok = name && name->is_string() && name->get_string() == "replace" && path && path->is_string() &&
         path->get_string() == "/decommissioned" && value && value->is_bool() && value->get_bool();
  }
  if (!ok)
    return adt::fail(resp, Status(Code::invalid_argument,
                                  "the only supported update is [{\"op\": \"replace\", \"path\": "
                                  "\"/decommissioned\", \"value\": true}]",
                                  "JsonPatchInvalid"));
  ctx.worker.post([&ctx, id = std::string(req.param("id")), resp] {
    Status s = ctx.engine.decommission_model(id);
    if (!s.is_ok()) return adt::fail(resp, s);
    resp.respond(HttpResponse::empty(204));
  });
}

void delete_model(AdtContext& ctx, const HttpRequest& req, const Responder& resp) {
  ctx.worker.post([&ctx, id = std::string(req.param("id")), resp] {
    Status s = ctx.engine.delete_model(id);
    if (!s.is_ok()) return adt::fail(resp, s);
    resp.respond(HttpResponse::empty(204));
  });
}

RouteSpec spec(Method m, std::string path, Access access, std::string op, std::string summary,
               const openapi::Fragment& doc = {}) {
  RouteSpec s;
  s.method = m;
  s.path = std::move(path);
  s.access = access;
  s.api_version = ApiVersion::required;
  s.openapi = {std::move(op), std::move(summary), {"Models"}, openapi::fragment(doc)};
  return s;
}

}  // namespace

void register_model_routes(Router& router, AdtContext& ctx) {
  router.add(spec(Method::post, "/models", Access::admin, "DigitalTwinModels_Add",
                  "Uploads one or more models; all or none are added",
                  {.request_schema = "DtdlModels", .success = 201, .response_schema = "ModelDataList"}),
             [&ctx](HttpRequest req, Responder resp) { add_models(ctx, std::move(req), std::move(resp)); });
  router.add(spec(Method::get, "/models", Access::viewer, "DigitalTwinModels_List",
                  "Lists models, optionally the dependencies of some",
                  {.response_schema = "PagedModelData", .paged = true}),
             [&ctx](HttpRequest req, Responder resp) { list_models(ctx, req, resp); });
  router.add(spec(Method::get, "/models/{id}", Access::viewer, "DigitalTwinModels_GetById",
                  "Retrieves a model's metadata and, optionally, its definition",
                  {.response_schema = "ModelData"}),
             [&ctx](HttpRequest req, Responder resp) { get_model(ctx, req, resp); });
  router.add(spec(Method::patch, "/models/{id}", Access::admin, "DigitalTwinModels_Update",
                  "Decommissions a model",
                  {.request_schema = "JsonPatch", .request_type = "application/json-patch+json", .success = 204}),
             [&ctx](HttpRequest req, Responder resp) { update_model(ctx, req, resp); });
  router.add(spec(Method::delete_, "/models/{id}", Access::admin, "DigitalTwinModels_Delete",
                  "Deletes a model no other model depends on", {.success = 204}),
             [&ctx](HttpRequest req, Responder resp) { delete_model(ctx, req, resp); });
}

}  // namespace castor::api
