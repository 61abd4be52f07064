#include "api/metrics_route.hpp"

namespace castor::api {

void register_metrics_route(Router& router, const metrics::Registry& registry) {
  router.add({.method = Method::get,
              .path = "/metrics",
              .access = Access::viewer,
              .openapi = {.operation_id = "Castor_Metrics",
                          .summary = "Prometheus metrics (text exposition format 0.0.4).",
                          .tags = {"Operations"}}},
             sync_handler([&registry](const HttpRequest&) {
               return HttpResponse::text(200, registry.expose(),
                                         "text/plain; version=0.0.4; charset=utf-8");
             }));
}

}  // namespace castor::api
