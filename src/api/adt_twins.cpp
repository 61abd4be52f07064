// ADT twins, components and telemetry: /digitaltwins/{id}, .../components/{componentPath},
// .../telemetry.
#include "api/adt_common.hpp"
#include "api/adt_openapi.hpp"
#include "api/adt_routes.hpp"
#include "api/twin_read_cache.hpp"
#include "twin/twin.hpp"

namespace castor::api {
namespace {

RouteSpec spec(Method m, std::string path, Access access, std::string op, std::string summary,
               const openapi::Fragment& doc = {}) {
  RouteSpec s;
  s.method = m;
  s.path = std::move(path);
  s.access = access;
  s.api_version = ApiVersion::required;
  s.twin_param = "id";
  s.openapi = {std::move(op), std::move(summary), {"DigitalTwins"}, openapi::fragment(doc)};
  return s;
}

// Answers a rendered resource with its ETag.
twin::Callback<twin::Rendered> rendered(const Responder& resp) {
  return [resp](Result<twin::Rendered> r) {
    if (!r) return adt::fail(resp, r.status());
    resp.respond(adt::json_with_etag(200, std::move(r->json), r->etag));
  };
}

// Answers 204 with the new ETag.
twin::Callback<std::string> no_content_etag(const Responder& resp) {
  return [resp](Result<std::string> r) {
    if (!r) return adt::fail(resp, r.status());
    HttpResponse out = HttpResponse::empty(204);
    out.headers.set("ETag", *r);
    resp.respond(std::move(out));
  };
}

twin::Done no_content(const Responder& resp) {
  return [resp](Status s) {
    if (!s.is_ok()) return adt::fail(resp, s);
    resp.respond(HttpResponse::empty(204));
  };
}

// From the read cache when it has the twin (on this I/O thread), else from the twin's shard,
// which then fills the cache.
void get_twin(AdtContext& ctx, const HttpRequest& req, const Responder& resp) {
  std::string id(req.param("id"));
  if (!ctx.read_cache) return ctx.engine.get_twin(std::move(id), rendered(resp));
  TwinReadCache::Ticket ticket;
  if (auto hit = ctx.read_cache->find(id, ticket))
    return resp.respond(adt::json_with_etag(200, hit->json, hit->etag));
  ctx.engine.get_twin(id, [resp, cache = ctx.read_cache, id, ticket](Result<twin::Rendered> r) {
    if (!r) return adt::fail(resp, r.status());
    cache->fill(id, ticket, std::make_shared<const TwinReadCache::Entry>(TwinReadCache::Entry{r->json, r->etag}));
    resp.respond(adt::json_with_etag(200, std::move(r->json), r->etag));
  });
}

void put_twin(AdtContext& ctx, const HttpRequest& req, const Responder& resp) {
  auto c = adt::conditions(req);
  if (!c) return adt::fail(resp, c.status());
  auto body = adt::json_body(req);
  if (!body) return adt::fail(resp, body.status());
  ctx.engine.put_twin(std::string(req.param("id")), std::move(*body), *c, rendered(resp));
}

void patch_twin(AdtContext& ctx, const HttpRequest& req, const Responder& resp, bool component) {
  auto c = adt::conditions(req);
  if (!c) return adt::fail(resp, c.status());
  auto body = adt::json_body(req, true);
  if (!body) return adt::fail(resp, body.status());
  // The audit line rides in the twin's own commit: one fsync, and 204 needs no audit.log write.
  if (req.audit_record) c->commit_record = req.audit_record(204);
  if (component)
    ctx.engine.patch_component(std::string(req.param("id")), std::string(req.param("componentPath")),
                               std::move(*body), *c, no_content_etag(resp));
  else
    ctx.engine.patch_twin(std::string(req.param("id")), std::move(*body), *c, no_content_etag(resp));
}

// A telemetry object as one observation per member, through the ingest pipeline: validated against
// the model, kept in history, published as one telemetry event; 204 once durable.
void send_observations(AdtContext& ctx, std::string id, std::string component, const json::object& payload,
                       std::string message_id, twin::Nanos source, const Responder& resp) {
  std::vector<ingest::Observation> batch;
  batch.reserve(payload.size());
  for (const auto& kv : payload) {
    ingest::Observation o;
    o.twin = id;
    o.component = component;
    o.name = std::string(kv.key());
    o.ts_ns = source;
    o.value = kv.value();
    o.message_id = message_id;
    o.telemetry_only = true;
    batch.push_back(std::move(o));
  }
  ctx.observations->submit(std::move(batch), ingest::Partial::reject_whole, [resp](ingest::IngestResult r) {
    if (r.status.is_ok()) return resp.respond(HttpResponse::empty(204));
    if (r.status.code() == Code::invalid_argument && !r.rejections.empty()) {
      const auto& first = r.rejections.front();  // ADT answers with one error: the first
      Code code = first.code == "DigitalTwinNotFound" || first.code == "ComponentNotFound" ? Code::not_found
                                                                                           : Code::invalid_argument;
      return adt::fail(resp, Status(code, first.message, first.code));
    }
    adt::fail(resp, r.status);
  });
}

void send_telemetry(AdtContext& ctx, const HttpRequest& req, const Responder& resp, bool component) {
  auto body = adt::json_body(req);
  if (!body) return adt::fail(resp, body.status());
  auto message_id = req.header("Message-Id");
  if (!message_id || message_id->empty())
    return adt::fail(resp, Status(Code::invalid_argument, "telemetry needs a Message-Id header (any unique string)",
                                  "InvalidArgument"));
  twin::Nanos source = 0;
  if (auto st = req.header("Telemetry-Source-Time"); st && !twin::parse_time(*st, source))
    return adt::fail(resp, Status(Code::invalid_argument,
                                  "Telemetry-Source-Time must be an RFC 3339 date-time, e.g. 2026-11-24T10:00:00Z",
                                  "InvalidArgument"));
  std::string id(req.param("id"));
  std::string comp = component ? std::string(req.param("componentPath")) : "";
  if (ctx.observations) {
    // A JSON string holding an object is unwrapped, as ADT's SDK sends telemetry that way.
    if (body->is_string()) {
      json::value inner;
      json::ParseError e;
      if (json::parse(json::sv(body->get_string()), inner, e) && inner.is_object()) *body = std::move(inner);
    }
    if (body->is_object() && !body->get_object().empty())
      return send_observations(ctx, std::move(id), std::move(comp), body->get_object(), std::string(*message_id),
                               source, resp);
  }
  ctx.engine.send_telemetry(std::move(id), std::move(comp), std::move(*body), std::string(*message_id), source,
                            no_content(resp));
}

}  // namespace

void register_twin_routes(Router& router, AdtContext& ctx) {
  router.add(spec(Method::get, "/digitaltwins/{id}", Access::viewer, "DigitalTwins_GetById", "Retrieves a twin",
                  {.response_schema = "DigitalTwin", .etag = true}),
             [&ctx](HttpRequest req, Responder resp) { get_twin(ctx, req, resp); });
  router.add(spec(Method::put, "/digitaltwins/{id}", Access::operator_, "DigitalTwins_Add",
                  "Creates or replaces a twin (If-None-Match: * creates only)",
                  {.request_schema = "DigitalTwin", .response_schema = "DigitalTwin", .etag = true,
                   .if_match = true, .if_none_match = true}),
             [&ctx](HttpRequest req, Responder resp) { put_twin(ctx, req, resp); });
  router.add(spec(Method::patch, "/digitaltwins/{id}", Access::operator_, "DigitalTwins_Update",
                  "Updates a twin with a JSON Patch (If-Match for optimistic concurrency)",
                  {.request_schema = "JsonPatch", .request_type = "application/json-patch+json", .success = 204,
                   .etag = true, .if_match = true}),
             [&ctx](HttpRequest req, Responder resp) { patch_twin(ctx, req, resp, false); });
  router.add(spec(Method::delete_, "/digitaltwins/{id}", Access::operator_, "DigitalTwins_Delete",
                  "Deletes a twin that has no relationships", {.success = 204, .if_match = true}),
             [&ctx](HttpRequest req, Responder resp) {
               auto c = adt::conditions(req);
               if (!c) return adt::fail(resp, c.status());
               ctx.engine.delete_twin(std::string(req.param("id")), *c, no_content(resp));
             });
  router.add(spec(Method::get, "/digitaltwins/{id}/components/{componentPath}", Access::viewer,
                  "DigitalTwins_GetComponent", "Retrieves a component of a twin",
                  {.response_schema = "Component", .etag = true}),
             [&ctx](HttpRequest req, Responder resp) {
               ctx.engine.get_component(std::string(req.param("id")), std::string(req.param("componentPath")),
                                        rendered(resp));
             });
  router.add(spec(Method::patch, "/digitaltwins/{id}/components/{componentPath}", Access::operator_,
                  "DigitalTwins_UpdateComponent", "Updates a component with a JSON Patch",
                  {.request_schema = "JsonPatch", .request_type = "application/json-patch+json", .success = 204,
                   .etag = true, .if_match = true}),
             [&ctx](HttpRequest req, Responder resp) { patch_twin(ctx, req, resp, true); });
  router.add(spec(Method::post, "/digitaltwins/{id}/telemetry", Access::device, "DigitalTwins_SendTelemetry",
                  "Publishes telemetry on behalf of a twin",
                  {.request_schema = "Telemetry", .success = 204}),
             [&ctx](HttpRequest req, Responder resp) { send_telemetry(ctx, req, resp, false); });
  router.add(spec(Method::post, "/digitaltwins/{id}/components/{componentPath}/telemetry", Access::device,
                  "DigitalTwins_SendComponentTelemetry", "Publishes telemetry on behalf of a component",
                  {.request_schema = "Telemetry", .success = 204}),
             [&ctx](HttpRequest req, Responder resp) { send_telemetry(ctx, req, resp, true); });
}

}  // namespace castor::api
