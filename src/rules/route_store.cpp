#include "rules/route_store.hpp"

#include "common/json.hpp"

namespace castor::rules {
namespace {

constexpr std::string_view kRoutePrefix = "route/";

std::string route_key(std::string_view id) {
  return std::string(kRoutePrefix) + std::string(id);
}

}  // namespace

Result<std::vector<StoredRoute>> RouteStore::load() const {
  std::vector<StoredRoute> out;
  auto it = store_.scan_prefix(cf_, kRoutePrefix);
  for (; it.valid(); it.next()) {
    auto v = json::parse(it.value());
    const json::object* o = v ? v->if_object() : nullptr;
    const json::value* endpoint = o ? o->if_contains("endpointName") : nullptr;
    const json::value* filter = o ? o->if_contains("filter") : nullptr;
    if (!endpoint || !endpoint->is_string() || !filter || !filter->is_string())
      return internal_error("the stored event route '" + std::string(it.key()) + "' is corrupt");
    out.push_back({std::string(it.key().substr(kRoutePrefix.size())),
                   std::string(json::sv(endpoint->get_string())),
                   std::string(json::sv(filter->get_string()))});
  }
  if (Status s = it.status(); !s.is_ok()) return s;
  return out;
}

Status RouteStore::put(const StoredRoute& route) {
  json::object o{{"endpointName", route.endpoint}, {"filter", route.filter}};
  return store_.put(cf_, route_key(route.id), json::serialize(o));
}

Status RouteStore::erase(std::string_view id) {
  return store_.erase(cf_, route_key(id));
}

}  // namespace castor::rules
