// GET /castor/v1/history and /castor/v1/history/latest: raw points, aggregates per step and the
// latest value of one series, or of one name across every twin of a model, as JSON or CSV.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "api/ingest_routes.hpp"
#include "common/config.hpp"

namespace castor::api {
namespace {

using ingest::HistoryQuery;
using ingest::SeriesResult;

Status bad(std::string m) {
  return Status(Code::invalid_argument, std::move(m), "InvalidArgument");
}

Result<std::int64_t> parse_step(std::string_view text) {
  std::int64_t ns = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), ns);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size() && ns > 0)
    return ns;  // bare: nanoseconds
  if (r.ec == std::errc() && ns > 0 && std::string_view(r.ptr) == "d")
    return ns * 86400 * 1'000'000'000;
  auto d = parse_duration(text);
  if (!d || d->count() <= 0)
    return bad("step must be a duration such as 500ms, 60s, 5m, 1h, 1d, or integer nanoseconds");
  return static_cast<std::int64_t>(d->count()) * 1'000'000;
}

Result<HistoryQuery> parse_query(const HttpRequest& req, bool latest) {
  HistoryQuery q;
  auto twin = req.query_param("twin");
  auto model = req.query_param("model");
  if (bool(twin) == bool(model))
    return bad("give exactly one of twin=<twin id> or model=<model id>");
  if (twin) q.twin = std::string(*twin);
  if (model) q.model = std::string(*model);
  auto name = req.query_param("name");
  if (!name || name->empty()) return bad("name=<telemetry or property name> is required");
  q.name = std::string(*name);
  if (auto c = req.query_param("component")) q.component = std::string(*c);
  if (latest) return q;
  if (auto f = req.query_param("from"); f && !ingest::parse_timestamp(*f, q.from))
    return bad("from must be an RFC 3339 date-time or integer nanoseconds since 1970");
  if (auto t = req.query_param("to"); t && !ingest::parse_timestamp(*t, q.to))
    return bad("to must be an RFC 3339 date-time or integer nanoseconds since 1970");
  if (q.to <= q.from) return bad("to must be after from");
  auto step = req.query_param("step");
  auto agg = req.query_param("agg");
  if (step && !agg) return bad("step needs agg (e.g. agg=avg, or agg=min,max,p99)");
  if (step) {
    auto s = parse_step(*step);
    if (!s) return s.status();
    q.step = *s;
    if (!req.query_param("from")) return bad("step needs from (buckets start at from)");
  }
  if (agg) {
    auto a = ingest::parse_aggregates(*agg);
    if (!a) return a.status();
    q.aggregates = std::move(*a);
  }
  if (auto l = req.query_param("limit")) {
    std::size_t n = 0;
    auto r = std::from_chars(l->data(), l->data() + l->size(), n);
    if (r.ec != std::errc() || r.ptr != l->data() + l->size() || n == 0 || n > 10'000'000)
      return bad("limit must be a number of points from 1 to 10000000");
    q.limit = n;
  }
  return q;
}

void append_number(std::string& out, double d) {
  if (std::isnan(d))
    out += "null";
  else
    json::append_double(out, d);
}

// Value j of row i as JSON (csv: as a CSV field).
void append_value(std::string& out, const SeriesResult& s, std::size_t row, std::size_t col,
                  bool aggregate, bool csv) {
  if (aggregate) {
    double d = s.numbers[row * s.columns + col];
    if (csv && std::isnan(d)) return;
    return append_number(out, d);
  }
  switch (s.type) {
    case history::ValueType::float64: return append_number(out, s.numbers[row]);
    case history::ValueType::boolean: out += s.numbers[row] != 0 ? "true" : "false"; return;
    case history::ValueType::int64: out += std::to_string(s.ints[row]); return;
    case history::ValueType::string:
      if (!csv) return json::append_string(out, s.texts[row]);
      out.push_back('"');
      for (char c : s.texts[row]) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
      }
      out.push_back('"');
      return;
  }
}

// The rows of an aggregate series (every value a double) written straight into `out`, one
// append per row: JSON `[ts,v,...],[ts,v,...]` (NaN and infinities as null), or CSV lines
// `[prefix]ts,v,...` (NaN as an empty field). The same bytes append_value writes.
void append_aggregate_rows(std::string& out, const SeriesResult& s, bool csv,
                           std::string_view prefix = {}) {
  std::string row;
  row.resize(prefix.size() + 24 + s.columns * 28);
  char* const begin = row.data();
  char* const end = begin + row.size();
  std::copy(prefix.begin(), prefix.end(), begin);
  const double* v = s.numbers.data();
  for (std::size_t r = 0; r < s.ts.size(); ++r) {
    char* p = begin;
    if (csv) {
      p += prefix.size();
    } else {
      if (r) *p++ = ',';
      *p++ = '[';
    }
    p = std::to_chars(p, end, s.ts[r]).ptr;
    for (std::size_t c = 0; c < s.columns; ++c, ++v) {
      *p++ = ',';
      const double d = *v;
      if (std::isfinite(d)) {
        p = std::to_chars(p, end, d).ptr;
      } else if (!(csv && std::isnan(d))) {
        std::memcpy(p, "null", 4);
        p += 4;
      }
    }
    *p++ = csv ? '\n' : ']';
    out.append(begin, p);
  }
}

// About how many bytes `series` render to, so the answer is allocated once.
std::size_t estimated_size(const std::vector<SeriesResult>& series) {
  std::size_t n = 64;
  for (const auto& s : series)
    n += 160 + s.twin.size() + s.component.size() + s.name.size() +
         s.ts.size() * (24 + s.columns * 20) + s.texts.size() * 16;
  return n;
}

std::vector<std::string> columns(const HistoryQuery& q) {
  std::vector<std::string> c{"ts"};
  if (q.aggregates.empty()) c.push_back("value");
  for (const auto& a : q.aggregates) c.push_back(a.name);
  return c;
}

void render_series(std::string& out, const HistoryQuery& q, const SeriesResult& s) {
  bool agg = !q.aggregates.empty();
  out += "{\"twin\":";
  json::append_string(out, s.twin);
  out += ",\"component\":";
  json::append_string(out, s.component);
  out += ",\"name\":";
  json::append_string(out, s.name);
  out += ",\"type\":\"";
  out += history::value_type_name(s.type);
  out += "\",\"columns\":[";
  auto cols = columns(q);
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i) out.push_back(',');
    json::append_string(out, cols[i]);
  }
  out += "],\"points\":[";
  if (agg) {
    append_aggregate_rows(out, s, false);
  } else {
    for (std::size_t r = 0; r < s.ts.size(); ++r) {
      if (r) out.push_back(',');
      out.push_back('[');
      out += std::to_string(s.ts[r]);
      for (std::size_t c = 0; c < s.columns; ++c) {
        out.push_back(',');
        append_value(out, s, r, c, agg, false);
      }
      out.push_back(']');
    }
  }
  out += "],\"truncated\":";
  out += s.truncated ? "true" : "false";
  out.push_back('}');
}

HttpResponse render(const HistoryQuery& q, const std::vector<SeriesResult>& series, bool csv) {
  bool many = !q.model.empty();
  std::string out;
  out.reserve(estimated_size(series));
  if (csv) {
    if (many) out += "twin,";
    auto cols = columns(q);
    for (std::size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + cols[i];
    out += "\n";
    for (const auto& s : series) {
      if (!q.aggregates.empty()) {
        append_aggregate_rows(out, s, true, many ? "\"" + s.twin + "\"," : std::string());
        continue;
      }
      for (std::size_t r = 0; r < s.ts.size(); ++r) {
        if (many) out += "\"" + s.twin + "\",";
        out += std::to_string(s.ts[r]);
        for (std::size_t c = 0; c < s.columns; ++c) {
          out.push_back(',');
          append_value(out, s, r, c, !q.aggregates.empty(), true);
        }
        out.push_back('\n');
      }
    }
    return HttpResponse::text(200, std::move(out), "text/csv; charset=utf-8");
  }
  if (!many) {
    render_series(out, q, series.at(0));
    return HttpResponse::json(200, std::move(out));
  }
  out += "{\"series\":[";
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (i) out.push_back(',');
    render_series(out, q, series[i]);
  }
  out += "]}";
  return HttpResponse::json(200, std::move(out));
}

bool wants_csv(const HttpRequest& req) {
  auto a = req.header("Accept");
  return a && a->find("text/csv") != std::string_view::npos;
}

void fail(const Responder& resp, const Status& s) {
  int status = s.code() == Code::invalid_argument     ? 400
               : s.code() == Code::not_found          ? 404
               : s.code() == Code::unavailable        ? 503
               : s.code() == Code::resource_exhausted ? 400
                                                      : 500;
  resp.fail(status, s.reason().empty() ? "InvalidArgument" : s.reason(), s.message());
}

RouteSpec spec(std::string path, std::string op, std::string summary, std::string fragment) {
  RouteSpec s;
  s.method = Method::get;
  s.path = std::move(path);
  s.access = Access::viewer;
  s.openapi = {std::move(op), std::move(summary), {"History"}, std::move(fragment)};
  return s;
}

constexpr const char* kSelectors = R"(
  {"name": "twin", "in": "query", "schema": {"type": "string"}, "description": "One twin (or give model)."},
  {"name": "model", "in": "query", "schema": {"type": "string"}, "description": "Every twin of this model or a model extending it."},
  {"name": "component", "in": "query", "schema": {"type": "string"}},
  {"name": "name", "in": "query", "required": true, "schema": {"type": "string"}, "description": "Telemetry or property name."})";

// {"retention": "168h" | "7d" | 0 | null}: null returns to the model's or the default retention.
Result<std::int64_t> parse_retention(std::string_view body) {
  auto v = json::parse(body);
  if (!v || !v->is_object() || !v->get_object().contains("retention") ||
      v->get_object().size() != 1)
    return bad(
        "the body must be {\"retention\": \"<duration such as 168h or 30d>\"}, 0 (forever) or null "
        "(the model's or default retention)");
  const json::value& r = v->get_object().at("retention");
  if (r.is_null()) return std::int64_t{-1};
  long long n = 0;
  if (json::as_int64(r, n) && n == 0) return std::int64_t{0};
  if (!r.is_string()) return bad("retention must be a duration string such as \"168h\", 0 or null");
  std::string_view text = json::sv(r.get_string());
  if (text == "0") return std::int64_t{0};
  return parse_step(text);
}

}  // namespace

void register_history_routes(Router& router, IngestContext& ctx) {
  {
    RouteSpec s;
    s.method = Method::put;
    s.path = "/castor/v1/history/retention";
    s.access = Access::operator_;
    s.openapi = {"History_SetRetention",
                 "Sets one series' own retention (overrides its model's and the default)",
                 {"History"},
                 std::string(R"({"parameters": [
  {"name": "twin", "in": "query", "required": true, "schema": {"type": "string"}},
  {"name": "component", "in": "query", "schema": {"type": "string"}},
  {"name": "name", "in": "query", "required": true, "schema": {"type": "string"}}],
  "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["retention"],
    "properties": {"retention": {"description": "A duration (168h, 30d), 0 to keep forever, or null for the model's or default retention."}}}}}},
  "responses": {"204": {"description": "Stored durably; enforced from now on."}, "400": {"description": "Bad body or parameters."},
    "404": {"description": "No such series (SeriesNotFound)."}}})")};
    router.add(std::move(s), [&ctx](HttpRequest req, Responder resp) {
      auto twin = req.query_param("twin");
      auto name = req.query_param("name");
      if (!twin || twin->empty() || !name || name->empty())
        return fail(resp, bad("twin= and name= are required"));
      auto r = parse_retention(req.body);
      if (!r) return fail(resp, r.status());
      std::string component(req.query_param("component").value_or(""));
      ctx.pipeline.set_retention(std::string(*twin), component, std::string(*name), *r,
                                 [resp](Status st) {
                                   if (!st.is_ok()) return fail(resp, st);
                                   resp.respond(HttpResponse::empty(204));
                                 });
    });
  }
  std::string read_doc = std::string(R"({"parameters": [)") + kSelectors + R"(,
  {"name": "from", "in": "query", "schema": {"type": "string"}, "description": "Inclusive start: RFC 3339 or integer ns. Default: the beginning."},
  {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "Exclusive end: RFC 3339 or integer ns. Default: the end of time."},
  {"name": "step", "in": "query", "schema": {"type": "string"}, "description": "Bucket width (500ms, 60s, 5m, 1h, 1d or ns); needs agg and from."},
  {"name": "agg", "in": "query", "schema": {"type": "string"}, "description": "Comma-separated: count, sum, avg, min, max, first, last, stddev, pNN (percentile, e.g. p99). Without step: one bucket over [from, to)."},
  {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 1000000}, "description": "Most raw points per series; truncated tells when more exist."},
  {"name": "Accept", "in": "header", "schema": {"type": "string"}, "description": "text/csv for CSV (ts first; twin first for model queries)."}],
  "responses": {"200": {"description": "A series (twin=) or {series:[...]} (model=).", "content": {
    "application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/HistorySeries"}, {"$ref": "#/components/schemas/HistoryModelAnswer"}]}},
    "text/csv": {"schema": {"type": "string"}}}},
    "400": {"description": "Bad parameters."}, "404": {"description": "No such twin or model."}}})";
  router.add(spec("/castor/v1/history", "History_Read",
                  "Reads raw points or aggregates per step of one series, or of one name across a "
                  "model's twins",
                  read_doc),
             [&ctx](HttpRequest req, Responder resp) {
               auto q = parse_query(req, false);
               if (!q) return fail(resp, q.status());
               bool csv = wants_csv(req);
               auto shared = std::make_shared<HistoryQuery>(*q);
               ctx.reader.read(std::move(*q),
                               [resp, shared, csv](Result<std::vector<SeriesResult>> r) {
                                 if (!r) return fail(resp, r.status());
                                 resp.respond(render(*shared, *r, csv));
                               });
             });
  std::string latest_doc = std::string(R"({"parameters": [)") + kSelectors + R"(],
  "responses": {"200": {"description": "The latest point: a series with at most one row (twin=), or {series:[...]} (model=)."},
    "404": {"description": "No such twin or model."}}})";
  router.add(spec("/castor/v1/history/latest", "History_Latest",
                  "Reads the latest value of one series, or of one name across a model's twins",
                  latest_doc),
             [&ctx](HttpRequest req, Responder resp) {
               auto q = parse_query(req, true);
               if (!q) return fail(resp, q.status());
               bool csv = wants_csv(req);
               auto shared = std::make_shared<HistoryQuery>(*q);
               ctx.reader.latest(std::move(*q),
                                 [resp, shared, csv](Result<std::vector<SeriesResult>> r) {
                                   if (!r) return fail(resp, r.status());
                                   resp.respond(render(*shared, *r, csv));
                                 });
             });
  register_history_export_route(router, ctx);
}

}  // namespace castor::api
