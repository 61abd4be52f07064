// ADT relationships: /digitaltwins/{id}/relationships[/{relationshipId}] and
// /digitaltwins/{id}/incomingrelationships; and the registration of every ADT resource.
#include "api/adt_common.hpp"
#include "api/adt_openapi.hpp"
#include "api/adt_routes.hpp"
#include "api/error.hpp"

namespace castor::api {
namespace {

constexpr std::size_t kRelationshipPage = 1000;

RouteSpec spec(Method m, std::string path, Access access, std::string op, std::string summary,
               const openapi::Fragment& doc = {}) {
  RouteSpec s;
  s.method = m;
  s.path = std::move(path);
  s.access = access;
  s.api_version = ApiVersion::required;
  s.twin_param = "id";
  s.openapi = {std::move(op), std::move(summary), {"Relationships"}, openapi::fragment(doc)};
  return s;
}

void list(AdtContext& ctx, HttpRequest req, Responder resp, bool incoming) {
  auto size = adt::page_size(req, kRelationshipPage, kRelationshipPage);
  if (!size) return adt::fail(resp, size.status());
  auto page_offset = adt::page_offset(req);
  if (!page_offset) return adt::fail(resp, page_offset.status());
  std::size_t offset = *page_offset;
  auto shared = std::make_shared<HttpRequest>(std::move(req));
  auto done = [&ctx, shared, resp, offset, n = *size](Result<std::vector<std::string>> r) {
    if (!r) return adt::fail(resp, r.status());
    resp.respond(HttpResponse::json(200, adt::page_body(*r, offset, n, *shared, ctx.tls)));
  };
  std::string id(shared->param("id"));
  if (incoming) return ctx.engine.list_incoming(id, done);
  std::string name(shared->query_param("relationshipName").value_or(""));
  ctx.engine.list_relationships(id, name, done);
}

}  // namespace

void register_relationship_routes(Router& router, AdtContext& ctx) {
  router.add(spec(Method::get, "/digitaltwins/{id}/relationships/{relationshipId}", Access::viewer,
                  "DigitalTwins_GetRelationshipById", "Retrieves a relationship",
                  {.response_schema = "Relationship", .etag = true}),
             [&ctx](HttpRequest req, Responder resp) {
               ctx.engine.get_relationship(std::string(req.param("id")), std::string(req.param("relationshipId")),
                                           [resp](Result<twin::Rendered> r) {
                                             if (!r) return adt::fail(resp, r.status());
                                             resp.respond(adt::json_with_etag(200, std::move(r->json), r->etag));
                                           });
             });
  router.add(spec(Method::put, "/digitaltwins/{id}/relationships/{relationshipId}", Access::operator_,
                  "DigitalTwins_AddRelationship", "Creates or replaces a relationship",
                  {.request_schema = "Relationship", .response_schema = "Relationship", .etag = true,
                   .if_match = true, .if_none_match = true}),
             [&ctx](HttpRequest req, Responder resp) {
               auto c = adt::conditions(req);
               if (!c) return adt::fail(resp, c.status());
               auto body = adt::json_body(req);
               if (!body) return adt::fail(resp, body.status());
               ctx.engine.put_relationship(std::string(req.param("id")), std::string(req.param("relationshipId")),
                                           std::move(*body), *c, [resp](Result<twin::Rendered> r) {
                                             if (!r) return adt::fail(resp, r.status());
                                             resp.respond(adt::json_with_etag(200, std::move(r->json), r->etag));
                                           });
             });
  router.add(spec(Method::patch, "/digitaltwins/{id}/relationships/{relationshipId}", Access::operator_,
                  "DigitalTwins_UpdateRelationship", "Updates a relationship's properties with a JSON Patch",
                  {.request_schema = "JsonPatch", .request_type = "application/json-patch+json", .success = 204,
                   .etag = true, .if_match = true}),
             [&ctx](HttpRequest req, Responder resp) {
               auto c = adt::conditions(req);
               if (!c) return adt::fail(resp, c.status());
               auto body = adt::json_body(req, true);
               if (!body) return adt::fail(resp, body.status());
               ctx.engine.patch_relationship(std::string(req.param("id")), std::string(req.param("relationshipId")),
                                             std::move(*body), *c, [resp](Result<std::string> r) {
                                               if (!r) return adt::fail(resp, r.status());
                                               HttpResponse out = HttpResponse::empty(204);
                                               out.headers.set("ETag", *r);
                                               resp.respond(std::move(out));
                                             });
             });
  router.add(spec(Method::delete_, "/digitaltwins/{id}/relationships/{relationshipId}", Access::operator_,
                  "DigitalTwins_DeleteRelationship", "Deletes a relationship", {.success = 204, .if_match = true}),
             [&ctx](HttpRequest req, Responder resp) {
               auto c = adt::conditions(req);
               if (!c) return adt::fail(resp, c.status());
               ctx.engine.delete_relationship(std::string(req.param("id")), std::string(req.param("relationshipId")),
                                              *c, [resp](Status s) {
                                                if (!s.is_ok()) return adt::fail(resp, s);
                                                resp.respond(HttpResponse::empty(204));
                                              });
             });
  router.add(spec(Method::get, "/digitaltwins/{id}/relationships", Access::viewer, "DigitalTwins_ListRelationships",
                  "Lists a twin's outgoing relationships, optionally of one name",
                  {.response_schema = "RelationshipCollection", .paged = true}),
             [&ctx](HttpRequest req, Responder resp) { list(ctx, std::move(req), std::move(resp), false); });
  router.add(spec(Method::get, "/digitaltwins/{id}/incomingrelationships", Access::viewer,
                  "DigitalTwins_ListIncomingRelationships", "Lists the relationships that point at a twin",
                  {.response_schema = "IncomingRelationshipCollection", .paged = true}),
             [&ctx](HttpRequest req, Responder resp) { list(ctx, std::move(req), std::move(resp), true); });
}

void register_adt_routes(Router& router, AdtContext& ctx) {
  register_model_routes(router, ctx);
  register_twin_routes(router, ctx);
  register_relationship_routes(router, ctx);
  register_query_routes(router, ctx);
}

}  // namespace castor::api
