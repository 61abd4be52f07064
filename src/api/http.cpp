#include "api/http.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>

#include "common/strings.hpp"

namespace castor::api {

std::string_view method_name(Method m) noexcept {
  switch (m) {
    case Method::get: return "GET";
    case Method::head: return "HEAD";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::patch: return "PATCH";
    case Method::delete_: return "DELETE";
    case Method::options: return "OPTIONS";
    case Method::other: return "OTHER";
  }
  return "OTHER";
}

Method parse_method(std::string_view name) noexcept {
  if (name == "GET") return Method::get;
  if (name == "HEAD") return Method::head;
  if (name == "POST") return Method::post;
  if (name == "PUT") return Method::put;
  if (name == "PATCH") return Method::patch;
  if (name == "DELETE") return Method::delete_;
  if (name == "OPTIONS") return Method::options;
  return Method::other;
}

bool is_read_method(Method m) noexcept {
  return m == Method::get || m == Method::head || m == Method::options;
}

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const auto& f) { return equals_ignoring_case(f.first, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (equals_ignoring_case(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
  for (const auto& [n, v] : items_) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> QueryParams::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [n, v] : items_) {
    if (n == name) out.emplace_back(v);
  }
  return out;
}

std::string_view PathParams::get(std::string_view name) const {
  for (const auto& [n, v] : items_) {
    if (n == name) return v;
  }
  return {};
}

namespace {

// True for the characters that decode to themselves: RFC 3986 unreserved and sub-delimiters,
// ':', '@', '/' and '?', but not '%' (an escape) nor '+' (a space in a query).
bool literal_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'':
    case '(': case ')': case '*': case ',': case ';': case '=': case ':': case '@': case '/':
    case '?':
      return true;
    default:
      return false;
  }
}

// The common case without Boost.URL: a target whose every character stands for itself, with
// no empty or dot segment and no empty query parameter. Returns false for anything else, which
// parse_target then hands to Boost.URL; the unit tests check both give the same result.
bool parse_literal_target(std::string_view target, HttpRequest& request) {
  if (target.size() < 2 || target[0] != '/' || target[1] == '/') return false;
  for (char c : target) {
    if (!literal_char(c)) return false;
  }
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (path.find("//") != path.npos || path.find("/.") != path.npos) return false;
  std::vector<std::string> segments;
  segments.reserve(static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')));
  for (std::size_t at = 1; at <= path.size();) {
    std::size_t end = std::min(path.find('/', at), path.size());
    segments.emplace_back(path.substr(at, end - at));
    at = end + 1;
  }
  QueryParams query;
  if (q != target.npos) {
    const std::string_view rest = target.substr(q + 1);
    if (rest.empty()) return false;
    for (std::size_t at = 0; at <= rest.size();) {
      std::size_t end = std::min(rest.find('&', at), rest.size());
      std::string_view param = rest.substr(at, end - at);
      if (param.empty()) return false;
      std::size_t eq = param.find('=');
      query.add(std::string(param.substr(0, eq)),
                eq == param.npos ? std::string() : std::string(param.substr(eq + 1)));
      at = end + 1;
    }
  }
  request.path = std::string(path);
  request.segments = std::move(segments);
  request.query = std::move(query);
  return true;
}

}  // namespace

Status parse_target(std::string_view target, HttpRequest& request) {
  if (parse_literal_target(target, request)) return Status::ok();
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    return invalid_argument("The request target '" + std::string(target.substr(0, 200)) +
                            "' is not a valid path and query (" + parsed.error().message() +
                            "); percent-encode reserved characters such as '%', '?' and '#'.");
  }
  const boost::urls::url_view& url = *parsed;
  request.path = std::string(url.encoded_path());
  request.segments.clear();
  for (auto segment : url.segments()) request.segments.push_back(std::string(segment));
  for (auto param : url.params()) request.query.add(param.key, param.value);
  return Status::ok();
}

HttpResponse HttpResponse::json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::json(int status, const json::value& body) {
  return json(status, castor::json::serialize(body));
}

HttpResponse HttpResponse::text(int status, std::string body, std::string_view content_type) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = content_type;
  return r;
}

HttpResponse HttpResponse::empty(int status) {
  HttpResponse r;
  r.status = status;
  r.content_type = {};
  return r;
}

}  // namespace castor::api
