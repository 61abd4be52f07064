// RouteStore: event routes kept durably in the event_routes column family under "route/<id>" as
// {"endpointName","filter"}, so they survive restarts. Writes block until durable (call from
// threads that may block). It checks nothing: validation belongs to EventRouting.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "store/store.hpp"

namespace castor::rules {

struct StoredRoute {
  std::string id;
  std::string endpoint;
  std::string filter;
};

class RouteStore {
 public:
  RouteStore(store::Store& store, store::ColumnFamily cf) : store_(store), cf_(cf) {}

  Result<std::vector<StoredRoute>> load() const;  // in id order
  Status put(const StoredRoute& route);
  Status erase(std::string_view id);

 private:
  store::Store& store_;
  store::ColumnFamily cf_;
};

}  // namespace castor::rules
