// GET /castor/v1/history/export: every point of every series in [from, to), optionally of one
// model or twin, as NDJSON pages of at most `limit` points; the Castor-Continuation-Token header
// names the next page (castor export history follows it).
#include <charconv>

#include "api/ingest_routes.hpp"
#include "ingest/history_export.hpp"

namespace castor::api {
namespace {

Status bad(std::string m) {
  return Status(Code::invalid_argument, std::move(m), "InvalidArgument");
}

Result<ingest::ExportQuery> parse_export(const HttpRequest& req) {
  ingest::ExportQuery q;
  if (auto f = req.query_param("from"); f && !ingest::parse_timestamp(*f, q.from))
    return bad("from must be an RFC 3339 date-time or integer nanoseconds since 1970");
  if (auto t = req.query_param("to"); t && !ingest::parse_timestamp(*t, q.to))
    return bad("to must be an RFC 3339 date-time or integer nanoseconds since 1970");
  if (q.to <= q.from) return bad("to must be after from");
  if (auto m = req.query_param("model")) q.model = std::string(*m);
  if (auto t = req.query_param("twin")) q.twin = std::string(*t);
  if (auto l = req.query_param("limit")) {
    std::size_t n = 0;
    auto r = std::from_chars(l->data(), l->data() + l->size(), n);
    if (r.ec != std::errc() || r.ptr != l->data() + l->size() || n == 0 || n > 1'000'000)
      return bad("limit must be a number of points from 1 to 1000000");
    q.limit = n;
  }
  if (auto c = req.query_param("continuationToken")) {
    auto cursor = ingest::decode_cursor(*c);
    if (!cursor) return cursor.status();
    q.cursor = std::move(*cursor);
  }
  return q;
}

void fail(const Responder& resp, const Status& s) {
  int status = s.code() == Code::invalid_argument ? 400
               : s.code() == Code::not_found      ? 404
               : s.code() == Code::unavailable    ? 503
                                                  : 500;
  resp.fail(status, s.reason().empty() ? "InternalError" : s.reason(), s.message());
}

constexpr const char* kDoc = R"({"parameters": [
  {"name": "from", "in": "query", "schema": {"type": "string"}, "description": "Inclusive start: RFC 3339 or integer ns. Default: the beginning."},
  {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "Exclusive end: RFC 3339 or integer ns. Default: the end of time."},
  {"name": "model", "in": "query", "schema": {"type": "string"}, "description": "Only twins of this model or a model extending it."},
  {"name": "twin", "in": "query", "schema": {"type": "string"}, "description": "Only this twin."},
  {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100000, "maximum": 1000000}, "description": "Most points on this page (a page also ends after about 16 MiB)."},
  {"name": "continuationToken", "in": "query", "schema": {"type": "string"}, "description": "The Castor-Continuation-Token of the previous page."}],
  "responses": {"200": {"description": "One row per point, series by series (sorted by twin, component, name), each in time order. The Castor-Continuation-Token header is present when more pages follow.",
    "headers": {"Castor-Continuation-Token": {"schema": {"type": "string"}, "description": "Pass as continuationToken for the next page; absent on the last page."},
      "Castor-Export-Rows": {"schema": {"type": "integer"}, "description": "Rows on this page."}},
    "content": {"application/x-ndjson": {"schema": {"$ref": "#/components/schemas/HistoryExportRow"}}}},
    "400": {"description": "Bad parameters or continuation token."}, "404": {"description": "No such twin (DigitalTwinNotFound) or model (ModelNotFound)."}}})";

}  // namespace

void register_history_export_route(Router& router, IngestContext& ctx) {
  RouteSpec s;
  s.method = Method::get;
  s.path = "/castor/v1/history/export";
  s.access = Access::viewer;
  s.openapi = {"History_Export",
               "Exports every point of every series in a time range (paged NDJSON), for data lakes "
               "and castor export history",
               {"History"},
               kDoc};
  router.add(std::move(s), [&ctx](HttpRequest req, Responder resp) {
    auto q = parse_export(req);
    if (!q) return fail(resp, q.status());
    ingest::export_page(
        ctx.pipeline, ctx.reader, std::move(*q), [resp](Result<ingest::ExportPage> page) {
          if (!page) return fail(resp, page.status());
          HttpResponse r = HttpResponse::text(200, std::move(page->ndjson), "application/x-ndjson");
          r.headers.set("Castor-Export-Rows", std::to_string(page->rows));
          if (page->next)
            r.headers.set("Castor-Continuation-Token", ingest::encode_cursor(*page->next));
          resp.respond(std::move(r));
        });
  });
}

std::string history_export_schema() {
  return R"("HistoryExportRow": {"type": "object", "required": ["twin", "component", "name", "model", "ts", "ts_ns", "type", "value"],
  "properties": {"twin": {"type": "string"}, "component": {"type": "string", "description": "Empty for the twin itself."},
    "name": {"type": "string"}, "model": {"type": "string", "description": "The series' model id."},
    "ts": {"type": "string", "format": "date-time", "description": "RFC 3339 UTC with 9 fractional digits."},
    "ts_ns": {"type": "integer", "description": "Nanoseconds since 1970."},
    "type": {"type": "string", "enum": ["float64", "int64", "boolean", "string", "json"], "description": "json: an Object, Map or Array value."},
    "value": {"description": "Typed: number, integer, boolean, string, or the JSON value."}}})";
}

}  // namespace castor::api
