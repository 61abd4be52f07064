// Builds ingest and history for `castor serve` from its configuration.
#include "api/ingest_routes.hpp"

namespace castor::api {

Result<ingest::PipelineOptions> pipeline_options(const Config& config) {
  ingest::PipelineOptions o;
  o.history.retention_ns = static_cast<std::int64_t>(config.history_retention.count()) * 1'000'000;
  o.history.chunk_points = static_cast<std::uint32_t>(config.history_chunk_points);
  o.checkpoint_interval = config.history_checkpoint_interval;
  o.max_in_flight = config.ingest_max_in_flight;
  std::string_view rest = config.history_retention_models;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    std::size_t eq = item.rfind('=');
    if (eq == std::string_view::npos || eq == 0)
      return Status(Code::invalid_argument,
                    "history_retention_models: '" + std::string(item) +
                        "' is not MODEL=DURATION (e.g. dtmi:factory:Robot;1=168h)");
    auto d = parse_duration(item.substr(eq + 1));
    if (!d)
      return Status(Code::invalid_argument, "history_retention_models: " + d.status().message());
    o.history.model_retention_ns[std::string(item.substr(0, eq))] =
        static_cast<std::int64_t>(d->count()) * 1'000'000;
  }
  return o;
}

Result<std::unique_ptr<IngestService>> open_ingest(twin::Engine& engine, const Config& config,
                                                   metrics::Registry& registry) {
  auto options = pipeline_options(config);
  if (!options) return options.status();
  auto pipeline = ingest::IngestPipeline::open(engine, std::move(*options));
  if (!pipeline) return pipeline.status();
  auto s = std::make_unique<IngestService>();
  s->pipeline = std::move(*pipeline);
  s->reader = std::make_unique<ingest::HistoryReader>(*s->pipeline);
  s->context =
      std::make_unique<IngestContext>(IngestContext{*s->pipeline, *s->reader, 256, nullptr});
  s->registry = &registry;
  return s;
}

void IngestService::register_routes(Router& router) {
  register_ingest_routes(router, *context);
  register_history_routes(router, *context);
  if (registry) probes = ingest_metrics(*registry, *context);
}

void IngestService::close() {
  probes.clear();
  reader.reset();
  if (pipeline) pipeline->close();
}

}  // namespace castor::api
