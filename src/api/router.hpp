// Router: method + path templates ("/digitaltwins/{id}/relationships/{relationshipId}") mapped to
// handlers, each route declaring the access it needs and its OpenAPI description. Matching works
// on decoded segments, so ids with %2F stay one segment. Routes are fixed once the server starts.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/http.hpp"
#include "api/principal.hpp"
#include "api/responder.hpp"
#include "api/stream.hpp"

namespace castor::api {

// A handler gets the request (owned; move what you need into async work) and a Responder that
// it must call once, now or later, from any thread.
using Handler = std::function<void(HttpRequest, Responder)>;

// Adapts a synchronous function to a Handler.
Handler sync_handler(std::function<HttpResponse(const HttpRequest&)> fn);

// How the route appears in /openapi.json.
struct OpenApiOperation {
  std::string operation_id;       // e.g. "DigitalTwins_GetById"
  std::string summary;            // one line
  std::vector<std::string> tags;  // e.g. {"Twins"}
  // Optional JSON object merged into the operation (parameters, requestBody, responses, ...).
  // Path parameters and api-version are added automatically when the fragment has none.
  std::string fragment;
};

enum class ApiVersion : unsigned char {
  none,      // Castor's own routes: no api-version parameter
  required,  // ADT data-plane routes: api-version must be present and a published version
};

struct RouteSpec {
  Method method = Method::get;
  std::string path;               // literal segments and {name} parameters
  Access access = Access::admin;  // strictest by default
  ApiVersion api_version = ApiVersion::none;
  // Access::device routes: the path parameter holding the twin id the device must own; the
  // dispatcher checks it. Without one (e.g. a batch in the body) the handler must check every
  // twin id with request.principal->may_access_twin(id).
  std::string twin_param;
  // A non-GET request that changes nothing (e.g. POST /query) may opt out of the audit log.
  bool read_only = false;
  // Stream routes (set by add_stream): the token may also come as ?access_token= (RFC 6750
  // 2.3), because browsers cannot send headers on a WebSocket or an EventSource.
  bool token_in_query = false;
  OpenApiOperation openapi;
};

struct Route {
  RouteSpec spec;
  Handler handler;                    // plain HTTP routes
  StreamHandler stream;               // stream routes (WebSocket / SSE)
  StreamPrecheck stream_check;        // optional: refuses a stream request before the upgrade
  std::vector<std::string> segments;  // the template split at '/'
};

struct RouteMatch {
  const Route* route = nullptr;
  PathParams params;
};
struct NoRoute {};  // 404
struct MethodNotAllowed {
  std::vector<Method> allowed;  // for the Allow header
};
using MatchResult = std::variant<RouteMatch, NoRoute, MethodNotAllowed>;

class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers a route. Throws std::logic_error on a malformed template or a duplicate
  // method + template (programming errors, found at start-up).
  void add(RouteSpec spec, Handler handler);
  // Registers a stream route (WebSocket and SSE, GET only) for /castor/v1/stream and the like.
  void add_stream(RouteSpec spec, StreamHandler handler, StreamPrecheck check = {});

  // Finds the route for `method` and decoded `segments`. Literal segments win over parameters;
  // HEAD falls back to GET. Parameters never match an empty segment.
  MatchResult match(Method method, const std::vector<std::string>& segments) const;

  // Called when serving starts; adding a route afterwards throws std::logic_error, because
  // matching runs on IO threads without locks.
  void freeze() noexcept { frozen_ = true; }

  // Every route in registration order (for OpenAPI and diagnostics).
  const std::vector<std::unique_ptr<Route>>& routes() const noexcept { return routes_; }

 private:
  struct Node;
  void insert(std::unique_ptr<Route> route);
  struct NodeDeleter {
    void operator()(Node* n) const noexcept;
  };

  std::vector<std::unique_ptr<Route>> routes_;
  std::unique_ptr<Node, NodeDeleter> root_;
  bool frozen_ = false;
};

}  // namespace castor::api
