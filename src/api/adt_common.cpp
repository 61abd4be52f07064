#include "api/adt_common.hpp"

#include <charconv>

#include "api/error.hpp"
#include "common/strings.hpp"

namespace castor::api::adt {
Result<json::value> json_body(const HttpRequest& req, bool patch) {
  auto ct = req.header("Content-Type");
  if (ct) {
    const std::string_view type = media_type(*ct);
    bool ok = equals_ignoring_case(type, "application/json") ||
              (patch && equals_ignoring_case(type, "application/json-patch+json"));
    if (!ok)
      return Status(Code::invalid_argument,
                    "Content-Type must be application/json" +
                        std::string(patch ? " or application/json-patch+json" : "") + ", not " + std::string(*ct),
                    "InvalidArgument");
  }
  if (req.body.empty()) return Status(Code::invalid_argument, "the request body is empty; send a JSON document", "InvalidArgument");
  json::value v;
  json::ParseError e;
  if (!json::parse(req.body, v, e))
    return Status(Code::invalid_argument, "the request body is not valid JSON: " + e.to_string(),
                  patch ? "JsonPatchInvalid" : "InvalidArgument");
  return v;
}

Result<twin::Conditions> conditions(const HttpRequest& req) {
  twin::Conditions c;
  if (auto m = req.header("If-Match")) c.if_match = std::string(*m);
  if (auto n = req.header("If-None-Match")) {
    if (*n != "*")
      return Status(Code::invalid_argument, "If-None-Match supports only \"*\" (create only if absent)",
                    "InvalidArgument");
    c.if_none_match_star = true;
  }
  return c;
}

Result<std::size_t> page_size(const HttpRequest& req, std::size_t fallback, std::size_t ceiling) {
  auto h = req.header("max-items-per-page");
  if (!h) return fallback;
  std::size_t n = 0;
  auto r = std::from_chars(h->data(), h->data() + h->size(), n);
  if (r.ec != std::errc() || r.ptr != h->data() + h->size() || n == 0)
    return Status(Code::invalid_argument, "max-items-per-page must be a positive integer", "InvalidArgument");
  return std::min(n, ceiling);
}

std::string offset_token(std::size_t offset) { return "o" + std::to_string(offset); }

Result<std::size_t> page_offset(const HttpRequest& req) {
  auto tok = req.query_param("continuationToken");
  return tok ? parse_offset_token(*tok) : Result<std::size_t>(std::size_t{0});
}

Result<std::size_t> parse_offset_token(std::string_view token) {
  std::size_t n = 0;
  if (token.size() < 2 || token[0] != 'o' ||
      std::from_chars(token.data() + 1, token.data() + token.size(), n).ptr != token.data() + token.size())
    return Status(Code::invalid_argument, "the continuation token is invalid; start again without one", "BadRequest");
  return n;
}

std::string next_link(const HttpRequest& req, std::string_view token, bool tls) {
  std::string host(req.header("Host").value_or("localhost"));
  std::string url = (tls ? "https://" : "http://") + host + req.path + "?";
  bool first = true;
  for (const auto& [k, v] : req.query) {
    if (k == "continuationToken") continue;
    url += (first ? "" : "&") + percent_encode(k) + "=" + percent_encode(v);
    first = false;
  }
  url += (first ? "" : "&") + std::string("continuationToken=") + percent_encode(token);
  return url;
}

std::string page_body(const std::vector<std::string>& items, std::size_t offset, std::size_t size,
                      const HttpRequest& req, bool tls) {
  std::string out = "{\"value\":[";
  std::size_t end = std::min(items.size(), offset + size);
  for (std::size_t i = offset; i < end; ++i) {
    if (i != offset) out.push_back(',');
    out += items[i];
  }
  out += "]";
  if (end < items.size()) {
    out += ",\"nextLink\":";
    json::append_string(out, next_link(req, offset_token(end), tls));
  }
  out += "}";
  return out;
}

void fail(const Responder& r, const Status& s) {
  // The twin core's reasons decide the status where the Code alone is ambiguous (a 412
  // precondition versus a 409 conflict are both failed_precondition).
  int status = twin::http_status_of(s);
  std::string_view code = s.reason().empty() ? error_code_for(s.code()) : std::string_view(s.reason());
  HttpResponse resp = error_response(status, code, s.message());
  if (status == 503) resp.headers.set("Retry-After", "1");
  r.respond(std::move(resp));
}

HttpResponse json_with_etag(int status, std::string body, const std::string& etag) {
  HttpResponse resp = HttpResponse::json(status, std::move(body));
  if (!etag.empty()) resp.headers.set("ETag", etag);
  return resp;
}

}  // namespace castor::api::adt
