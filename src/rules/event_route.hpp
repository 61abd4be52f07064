// EventRoute: the ADT event route resource — an id, the endpoint it sends to and its filter —
// with the checks ADT applies to ids and bodies and its JSON forms (API and storage). No
// storage or delivery here.
#pragma once

#include <string>
#include <string_view>

#include "common/status.hpp"
#include "rules/route_filter.hpp"

namespace castor::rules {

// The built-in endpoint: the live event stream (/castor/v1/events). It always exists.
inline constexpr std::string_view kDefaultEndpoint = "default";

struct EventRoute {
  std::string id;
  std::string endpoint;  // endpointName
  RouteFilter filter;
};

// 400 EventRouteIdInvalid unless `id` is 1-256 characters without control characters or
// spaces.
Status check_route_id(std::string_view id);

// {"id":...,"endpointName":...,"filter":...}, the ADT EventRoute.
std::string to_json(const EventRoute& r);

// {"endpointName":...,"filter":...} from a PUT body: 400 with the ADT code when it is not one
// (unknown members other than a read-only "id" are rejected).
struct RouteBody {
  std::string endpoint;
  std::string filter;
};
Result<RouteBody> parse_route_body(const json::value& body);

}  // namespace castor::rules
