// ADT query: POST /query with {"query": "..."} or {"continuationToken": "..."}, paged by the
// max-items-per-page header, answered with {"value": [...], "continuationToken": "..."} and a
// query-charge header. Read-only: viewers may query, and queries are not audited as mutations.
#include <fmt/format.h>

#include "api/adt_common.hpp"
#include "api/adt_routes.hpp"
#include "query/query_service.hpp"

namespace castor::api {
namespace {

// The operation's request body, response and headers (schemas inline: ADT's QuerySpecification
// and QueryResult).
constexpr std::string_view kQueryFragment = R"({
  "description": "Runs an Azure Digital Twins query (SELECT ... FROM DIGITALTWINS / RELATIONSHIPS, JOIN, MATCH, WHERE), or fetches the next page of an earlier one. Errors: 400 SqlQueryError (the query is wrong; the message names the position), 400 TimeoutError (the query ran out of its time budget), 400 BadRequest (an invalid or expired continuation token).",
  "parameters": [{"name": "max-items-per-page", "in": "header", "required": false,
    "description": "Largest page to return (at most the server's query_page_size, default 1000).",
    "schema": {"type": "integer", "minimum": 1}}],
  "requestBody": {"required": true, "content": {"application/json": {"schema": {
    "type": "object", "description": "A query, or the continuationToken of the previous page (which wins when both are given).",
    "properties": {"query": {"type": "string"}, "continuationToken": {"type": "string"}}}}}},
  "responses": {"200": {"description": "One page of results",
    "headers": {"query-charge": {"description": "The query units this page cost: 1 per request, 1 per 100 twins or relationships examined, 1 per 10 rows, 1 per 100 KB. Conditions that an index serves ($dtId, IS_OF_MODEL, comparisons on properties named in query_indexes or indexed automatically once filtered on repeatedly) examine only their candidates, so they cost less; see docs/query.md#indexes.", "schema": {"type": "number"}}},
    "content": {"application/json": {"schema": {"type": "object", "required": ["value"],
      "properties": {"value": {"type": "array", "items": {"type": "object"}},
                     "continuationToken": {"type": "string", "description": "Present when more pages follow."}}}}}}}
})";

query::QueryOptions options_from(const Config& c, std::shared_ptr<query::IndexSet> indexes,
                                 std::shared_ptr<query::RenderCache> render_cache) {
  query::QueryOptions o;
  o.indexes = std::move(indexes);
  o.render_cache = std::move(render_cache);
  o.timeout = c.query_timeout;
  o.memory_limit = static_cast<std::size_t>(c.query_memory);
  o.max_page_size = static_cast<std::size_t>(c.query_page_size);
  o.cursor_ttl = c.query_cursor_ttl;
  o.cursor_memory = static_cast<std::size_t>(c.query_cursor_memory);
  return o;
}

Status bad_request(std::string message) {
  return Status(Code::invalid_argument, std::move(message), "BadRequest");
}

HttpResponse page_response(const query::QueryPage& page) {
  std::string body;
  body.reserve(page.rows.text_bytes() + page.rows.size() + page.continuation.size() + 64);
  body += "{\"value\":[";
  for (std::size_t i = 0; i < page.rows.size(); ++i) {
    if (i != 0) body.push_back(',');
    body += page.rows[i];
  }
  body.push_back(']');
  if (!page.continuation.empty()) {
    body += ",\"continuationToken\":";
    json::append_string(body, page.continuation);
  }
  body.push_back('}');
  HttpResponse out = HttpResponse::json(200, std::move(body));
  out.headers.set("query-charge", fmt::format("{:.2f}", page.charge));
  return out;
}

void query(query::QueryService& service, const HttpRequest& req, const Responder& resp) {
  auto body = adt::json_body(req);
  if (!body) return adt::fail(resp, body.status());
  if (!body->is_object()) {
    return adt::fail(resp,
                     bad_request("The body must be a JSON object such as {\"query\": \"SELECT "
                                 "* FROM DIGITALTWINS\"}."));
  }
  const std::size_t most = service.options().max_page_size;
  auto size = adt::page_size(req, most, most);
  if (!size) return adt::fail(resp, size.status());
  auto done = [resp](Result<query::QueryPage> page) {
    if (!page) return adt::fail(resp, page.status());
    resp.respond(page_response(*page));
  };
  const json::object& spec = body->get_object();
  const json::value* token = spec.if_contains("continuationToken");
  if (token != nullptr && !token->is_null()) {
    if (!token->is_string() || token->get_string().empty()) {
      return adt::fail(resp, bad_request("continuationToken must be the string a previous page "
                                         "returned."));
    }
    return service.next(json::sv(token->get_string()), *size, std::move(done));
  }
  const json::value* text = spec.if_contains("query");
  if (text == nullptr || !text->is_string()) {
    return adt::fail(resp, bad_request("The body needs \"query\" (the query text) or "
                                       "\"continuationToken\" (from the previous page)."));
  }
  service.run(json::sv(text->get_string()), *size, std::move(done));
}

}  // namespace

void register_query_routes(Router& router, AdtContext& ctx) {
  // The service (and the results it keeps for continuation tokens) lives as long as the route.
  auto service = std::make_shared<query::QueryService>(ctx.engine, options_from(ctx.config, ctx.indexes, ctx.render_cache));
  RouteSpec s;
  s.method = Method::post;
  s.path = "/query";
  s.access = Access::viewer;
  s.api_version = ApiVersion::required;
  s.read_only = true;
  s.openapi = {"Query_QueryTwins",
               "Queries twins and relationships",
               {"Query"},
               std::string(kQueryFragment)};
  router.add(std::move(s),
             [service](HttpRequest req, Responder resp) { query(*service, req, resp); });
}

}  // namespace castor::api
