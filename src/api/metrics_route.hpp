// GET /metrics: the registry in the Prometheus text format 0.0.4 (viewer role or better; scrape
// with a bearer token). Reads the registry only; never registers metrics itself.
#pragma once

#include "api/router.hpp"
#include "common/metrics.hpp"

namespace castor::api {

void register_metrics_route(Router& router, const metrics::Registry& registry);

}  // namespace castor::api
