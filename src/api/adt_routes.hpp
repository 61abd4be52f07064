// The Azure Digital Twins data-plane resources (models, twins, components, relationships,
// telemetry, query) on top of the twin engine, registered on the router with their access
// levels and OpenAPI operations. Handlers never block an I/O thread: engine calls complete
// through the Responder, and slow synchronous work (model uploads) runs on a worker thread.
#pragma once

#include <functional>
#include <memory>

#include "api/router.hpp"
#include "common/config.hpp"
#include "common/job_thread.hpp"
#include "ingest/observation.hpp"
#include "twin/engine.hpp"

namespace castor::query {
class IndexSet;
class RenderCache;
}

namespace castor::api {

class TwinReadCache;

struct AdtContext {
  twin::Engine& engine;
  const Config& config;
  bool tls = true;  // for nextLink URLs
  JobThread worker{"castor-adtwork"};  // blocking work (model uploads, jobs), off IO threads
  TwinReadCache* read_cache = nullptr;  // GET of twins without a shard round trip, when set
  std::shared_ptr<query::IndexSet> indexes;  // the engine's query indexes (null: queries scan)
  // Rendered twins for query rows, an observer of the engine (null: every row is rendered).
  std::shared_ptr<query::RenderCache> render_cache;
  // When set, telemetry objects go through the ingest pipeline (twin events and history).
  ingest::ObservationSink* observations = nullptr;
};

void register_model_routes(Router& router, AdtContext& ctx);
void register_twin_routes(Router& router, AdtContext& ctx);
void register_relationship_routes(Router& router, AdtContext& ctx);
void register_query_routes(Router& router, AdtContext& ctx);  // POST /query (adt_query.cpp)

// Everything above, plus the query endpoint.
void register_adt_routes(Router& router, AdtContext& ctx);

}  // namespace castor::api
