// The ADT EventRoutes resource (PUT/GET/DELETE /eventroutes/{id}, GET /eventroutes) and the live
// event stream of the built-in endpoint "default" (GET /castor/v1/events, WebSocket or SSE), on
// top of rules::EventRouting. Handlers never block an I/O thread: durable route writes run on
// the AdtContext worker. No routing logic here.
#pragma once

#include <memory>

#include "api/adt_routes.hpp"
#include "api/router.hpp"
#include "common/config.hpp"
#include "common/metrics.hpp"
#include "rules/endpoint_sender.hpp"
#include "rules/event_routing.hpp"

namespace castor::api {

// Event routing as `castor serve` configures it (endpoints, limits, source, metrics).
Result<std::unique_ptr<rules::EventRouting>> open_event_routing(twin::Engine& engine,
                                                                const Config& config,
                                                                metrics::Registry& registry);

void register_event_route_routes(Router& router, AdtContext& ctx, rules::EventRouting& routing);

// The senders Castor builds for [[endpoints]]: kind "webhook" (Beast, this layer) and kind
// "mqtt" (Paho, rules).
rules::SenderFactory endpoint_senders();

}  // namespace castor::api
