// Castor's own HTTP vocabulary for handler authors: HttpRequest, HttpResponse, headers, methods.
// Handler files include this (never Boost.Beast or Asio) so that they compile fast; nothing here
// knows about sockets, TLS or the transport.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/principal.hpp"
#include "api/trace.hpp"
#include "common/json.hpp"
#include "common/status.hpp"

namespace castor::twin {
struct CommitRecord;
}  // namespace castor::twin

namespace castor::api {

enum class Method : unsigned char { get, head, post, put, patch, delete_, options, other };
std::string_view method_name(Method m) noexcept;  // "GET", ...; "OTHER" for Method::other
Method parse_method(std::string_view name) noexcept;
// GET, HEAD and OPTIONS change nothing; everything else is audited as a mutation.
bool is_read_method(Method m) noexcept;

// An ordered list of header fields; lookups ignore the case of names.
class Headers {
 public:
  void add(std::string name, std::string value);
  void set(std::string name, std::string value);  // replaces every field of that name
  void remove(std::string_view name);
  void reserve(std::size_t fields) { fields_.reserve(fields); }
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  std::size_t size() const noexcept { return fields_.size(); }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Decoded query parameters in order (`+` decodes to a space, as in HTML forms).
class QueryParams {
 public:
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  std::optional<std::string_view> get(std::string_view name) const;  // first occurrence
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  auto begin() const noexcept { return items_.begin(); }
  auto end() const noexcept { return items_.end(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Values of the route template's {parameters}, percent-decoded.
class PathParams {
 public:
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  std::string_view get(std::string_view name) const;  // "" when the template has no such name
  auto begin() const noexcept { return items_.begin(); }
  auto end() const noexcept { return items_.end(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct HttpRequest {
  Method method = Method::get;
  std::string method_text;            // as received, e.g. "PATCH"
  std::string path;                   // raw (still encoded) path of the target
  std::vector<std::string> segments;  // decoded path segments: {"digitaltwins", "a/b"}
  QueryParams query;
  Headers headers;
  std::string body;
  std::string remote_address;  // peer IP

  // Filled by the dispatcher before the handler runs:
  PathParams params;
  std::shared_ptr<const Principal> principal;  // never null in a handler
  TraceContext trace;
  // Audited mutations, when the audit log keeps records in the store: this request's audit
  // record as it reads when the answer is `status`, for the engine to commit with the mutation
  // (Conditions::commit_record). The request then completes without waiting for audit.log.
  std::function<std::shared_ptr<twin::CommitRecord>(int status)> audit_record;

  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
  std::string_view param(std::string_view name) const { return params.get(name); }
  std::optional<std::string_view> query_param(std::string_view name) const {
    return query.get(name);
  }
};

// Splits `target` (origin form) into path, decoded segments and query parameters. Fails with
// invalid_argument on malformed targets or percent-encodings.
Status parse_target(std::string_view target, HttpRequest& request);

struct HttpResponse {
  int status = 200;
  // Names a string that outlives the response (a literal): set on every answer, so not copied.
  std::string_view content_type = "application/json; charset=utf-8";  // "" sends none
  Headers headers;
  std::string body;

  static HttpResponse json(int status, std::string body);  // an already serialized JSON text
  static HttpResponse json(int status, const char* body) { return json(status, std::string(body)); }
  static HttpResponse json(int status, const json::value& body);  // serialized with json.hpp
  static HttpResponse text(int status, std::string body,
                           std::string_view content_type = "text/plain; charset=utf-8");
  static HttpResponse empty(int status);  // e.g. 204 No Content
};

}  // namespace castor::api
