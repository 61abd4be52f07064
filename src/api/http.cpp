#include "api/http.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <strings.h>

namespace castor::api {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

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
  std::erase_if(fields_, [&](const auto& f) { return iequals(f.first, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (iequals(n, name)) return std::string_view(v);
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

Status parse_target(std::string_view target, HttpRequest& request) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    return invalid_argument("The request target '" + std::string(target.substr(0, 200)) +
                            "' is not a valid path and query (" + parsed.error().message() +
                            "); percent-encode reserved characters such as '%', '?' and '#'.");
  }
  const boost::urls::url_view& url = *parsed;
  request.target = std::string(target);
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

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

HttpResponse HttpResponse::empty(int status) {
  HttpResponse r;
  r.status = status;
  r.content_type.clear();
  return r;
}

}  // namespace castor::api
