#include "api/router.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace castor::api {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::string param_name;
  std::vector<std::pair<Method, const Route*>> endpoints;

  const Route* endpoint(Method m) const {
    for (const auto& [method, route] : endpoints) {
      if (method == m) return route;
    }
    return nullptr;
  }
};

void Router::NodeDeleter::operator()(Node* n) const noexcept {
  delete n;
}

namespace {

bool valid_param_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::vector<std::string> split_template(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    throw std::logic_error("route template '" + path + "' must start with '/'");
  }
  std::vector<std::string> out;
  if (path == "/") return out;
  std::size_t pos = 1;
  while (true) {
    std::size_t slash = path.find('/', pos);
    std::string seg =
        path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    bool is_param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    if (seg.empty() || (is_param && !valid_param_name(seg.substr(1, seg.size() - 2))) ||
        (!is_param && seg.find_first_of("{}") != std::string::npos)) {
      throw std::logic_error("route template '" + path + "' has a malformed segment '" + seg + "'");
    }
    out.push_back(std::move(seg));
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return out;
}

using Captures = std::vector<std::pair<const std::string*, const std::string*>>;

template <class Node, class Pred>
const Node* find(const Node* node, const std::vector<std::string>& segments, std::size_t i,
                 Captures& captures, const Pred& accept) {
  if (i == segments.size()) return accept(*node) ? node : nullptr;
  const std::string& seg = segments[i];
  if (auto it = node->literals.find(seg); it != node->literals.end()) {
    if (const Node* hit = find(it->second.get(), segments, i + 1, captures, accept)) return hit;
  }
  if (node->param && !seg.empty()) {
    captures.emplace_back(&node->param_name, &seg);
    if (const Node* hit = find(node->param.get(), segments, i + 1, captures, accept)) return hit;
    captures.pop_back();
  }
  return nullptr;
}

}  // namespace

Handler sync_handler(std::function<HttpResponse(const HttpRequest&)> fn) {
  return [fn = std::move(fn)](HttpRequest request, Responder responder) {
    responder.respond(fn(request));
  };
}

void Router::add(RouteSpec spec, Handler handler) {
  if (!handler) throw std::logic_error("route " + spec.path + " has no handler");
  auto route = std::make_unique<Route>();
  route->spec = std::move(spec);
  route->handler = std::move(handler);
  insert(std::move(route));
}

void Router::add_stream(RouteSpec spec, StreamHandler handler, StreamPrecheck check) {
  if (!handler) throw std::logic_error("stream route " + spec.path + " has no handler");
  if (spec.method != Method::get) {
    throw std::logic_error("stream route " + spec.path + " must use GET");
  }
  auto route = std::make_unique<Route>();
  spec.token_in_query = true;
  route->spec = std::move(spec);
  route->stream = std::move(handler);
  route->stream_check = std::move(check);
  insert(std::move(route));
}

void Router::insert(std::unique_ptr<Route> route) {
  if (frozen_) {
    throw std::logic_error("route " + route->spec.path +
                           " added after the server started; register routes before start()");
  }
  route->segments = split_template(route->spec.path);
  if (!root_) root_.reset(new Node);
  Node* node = root_.get();
  for (const std::string& seg : route->segments) {
    if (seg.front() == '{') {
      std::string name = seg.substr(1, seg.size() - 2);
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        throw std::logic_error("route " + route->spec.path + " names parameter {" + name +
                               "} where another route has {" + node->param_name + "}");
      }
      node = node->param.get();
    } else {
      auto& child = node->literals[seg];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  if (!route->spec.twin_param.empty() &&
      std::find(route->segments.begin(), route->segments.end(),
                "{" + route->spec.twin_param + "}") == route->segments.end()) {
    throw std::logic_error("route " + route->spec.path + " has no parameter {" +
                           route->spec.twin_param + "} for twin_param");
  }
  if (node->endpoint(route->spec.method) != nullptr) {
    throw std::logic_error("route " + std::string(method_name(route->spec.method)) + " " +
                           route->spec.path + " is registered twice");
  }
  node->endpoints.emplace_back(route->spec.method, route.get());
  routes_.push_back(std::move(route));
}

MatchResult Router::match(Method method, const std::vector<std::string>& segments) const {
  if (!root_) return NoRoute{};
  auto lookup = [method](const Node& n) -> const Route* {
    if (const Route* r = n.endpoint(method)) return r;
    return method == Method::head ? n.endpoint(Method::get) : nullptr;
  };
  Captures captures;
  const Node* hit =
      find(root_.get(), segments, 0, captures, [&](const Node& n) { return lookup(n) != nullptr; });
  if (hit != nullptr) {
    RouteMatch m;
    m.route = lookup(*hit);
    for (const auto& [name, value] : captures) m.params.add(*name, *value);
    return m;
  }
  captures.clear();
  hit =
      find(root_.get(), segments, 0, captures, [](const Node& n) { return !n.endpoints.empty(); });
  if (hit == nullptr) return NoRoute{};
  MethodNotAllowed result;
  for (const auto& [m, route] : hit->endpoints) result.allowed.push_back(m);
  if (hit->endpoint(Method::get) != nullptr) result.allowed.push_back(Method::head);
  return result;
}

}  // namespace castor::api
