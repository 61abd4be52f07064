// Castor's telemetry routes: batch ingest (POST /castor/v1/ingest: JSON array, NDJSON, InfluxDB
// line protocol) and history reads (GET /castor/v1/history, /castor/v1/history/latest). Handlers
// never block an I/O thread: ingest answers from the pipeline's durable-commit callback, and when
// the pipeline is full, requests wait in a bounded queue (their connections are not read).
#pragma once

#include <deque>
#include <memory>
#include <mutex>

#include "api/router.hpp"
#include "common/config.hpp"
#include "common/metrics.hpp"
#include "ingest/batch_parsers.hpp"
#include "ingest/history_reader.hpp"
#include "ingest/pipeline.hpp"

namespace castor::api {

class IngestGate;  // ingest_routes.cpp: backpressure between HTTP and the pipeline

struct IngestContext {
  ingest::IngestPipeline& pipeline;
  ingest::HistoryReader& reader;
  // Default 256: ingest requests waiting for pipeline room before new ones get 503.
  std::size_t max_waiting_requests = 256;
  std::shared_ptr<IngestGate> gate;  // created by register_ingest_routes
};

void register_ingest_routes(Router& router, IngestContext& ctx);
void register_history_routes(Router& router, IngestContext& ctx);
// GET /castor/v1/history/export (history_export_routes.cpp); register_history_routes adds it.
void register_history_export_route(Router& router, IngestContext& ctx);
std::string history_export_schema();  // its row schema, part of ingest_schemas()

// Queue depths, accepted and rejected observations, waiting requests, for /metrics.
std::vector<metrics::CallbackHandle> ingest_metrics(metrics::Registry& registry,
                                                    IngestContext& ctx);

// The OpenAPI schemas of these routes, to merge into the served document.
std::string ingest_schemas();

// The pipeline options `castor serve` derives from its config (history_* and ingest_* keys).
Result<ingest::PipelineOptions> pipeline_options(const Config& config);

// Ingest and history as `castor serve` runs them: pipeline (history recovered), reader, routes'
// context and metrics. close() before the engine closes; destroy after it.
struct IngestService {
  std::unique_ptr<ingest::IngestPipeline> pipeline;
  std::unique_ptr<ingest::HistoryReader> reader;
  std::unique_ptr<IngestContext> context;
  std::vector<metrics::CallbackHandle> probes;
  void register_routes(Router& router);  // ingest and history routes, then their metrics
  void close();                          // stops reads and upkeep; the engine may close after
  metrics::Registry* registry = nullptr;
};
// The engine must have been opened with history::history_column_families().
Result<std::unique_ptr<IngestService>> open_ingest(twin::Engine& engine, const Config& config,
                                                   metrics::Registry& registry);

}  // namespace castor::api
