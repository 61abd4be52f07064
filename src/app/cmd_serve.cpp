// `castor serve`: loads the configuration, starts the API server and, later, the engine behind
// it; prints "Castor listening on URL" once ready and exits 0 after a graceful SIGTERM/SIGINT.
// Errors in options exit 2, failures to start exit 1.
#include <chrono>
#include <iostream>
#include <map>
#include <memory>

#include "api/adt_event_routes.hpp"
#include "api/adt_jobs.hpp"
#include "api/adt_openapi.hpp"
#include "api/adt_routes.hpp"
#include "api/api_server.hpp"
#include "api/audit_log.hpp"
#include "api/ingest_routes.hpp"
#include "api/value_stream.hpp"
#include "api/web_routes.hpp"
#include "ingest/mqtt_connector.hpp"
#include "history/series_store.hpp"
#include "api/twin_read_cache.hpp"
#include "query/render_cache.hpp"
#include "query/twin_index.hpp"
#include "store/probe.hpp"
#include "twin/engine.hpp"
#include "app/cli.hpp"
#include "app/version.hpp"
#include "common/config.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace castor::app {
namespace {

struct ServeFlags {
  std::map<std::string, std::string, std::less<>> values;  // TOML key -> raw text
  std::map<std::string, CLI::Option*> options;
  std::string config_file;
  CLI::Option* config_option = nullptr;
};

// Metrics of the twin core, read when /metrics is scraped.
std::vector<metrics::CallbackHandle> engine_metrics(metrics::Registry& registry, twin::Engine& engine) {
  std::vector<metrics::CallbackHandle> h;
  h.push_back(registry.callback_gauge("castor_twins", "Digital twins in the twin core.", {},
                                      [&engine] { return static_cast<double>(engine.twin_count()); }));
  h.push_back(registry.callback_gauge("castor_relationships", "Relationships between twins.", {},
                                      [&engine] { return static_cast<double>(engine.relationship_count()); }));
  h.push_back(registry.callback_gauge("castor_models", "Models in the model registry.", {},
                                      [&engine] { return static_cast<double>(engine.models().size()); }));
  h.push_back(registry.callback_counter("castor_change_events_total", "Change events published.", {},
                                        [&engine] { return static_cast<double>(engine.events().published()); }));
  const store::StoreProbe& p = engine.store().probe();
  const auto counter = [&](std::string_view name, std::string_view help, const std::atomic<std::uint64_t>& v) {
    h.push_back(registry.callback_counter(name, help, {}, [&v] { return static_cast<double>(v.load()); }));
  };
  counter("castor_store_batches_committed_total", "Write batches the store made durable.", p.batches_committed);
  counter("castor_store_group_writes_total", "RocksDB writes, one per commit group (strict: one fsync each).",
          p.group_writes);
  counter("castor_store_wal_syncs_total", "fsyncs of the store's write-ahead log.", p.wal_syncs);
  counter("castor_store_operations_committed_total", "Puts and erases in durable batches.", p.operations_committed);
  counter("castor_store_bytes_committed_total", "Encoded bytes of durable batches (what the log writes).",
          p.bytes_committed);
  h.push_back(registry.callback_gauge("castor_store_pending_batches", "Batches accepted and not yet written.", {},
                                      [&p] { return static_cast<double>(p.pending_batches.load()); }));
  h.push_back(registry.callback_counter(
      "castor_store_group_write_seconds_total", "Time spent in group writes, their fsync included.", {},
      [&p] { return std::chrono::duration<double>(p.write_latency.sum()).count(); }));
  h.push_back(registry.callback_counter(
      "castor_store_commit_seconds_total", "Submission to acknowledgement, summed over batches.", {},
      [&p] { return std::chrono::duration<double>(p.commit_latency.sum()).count(); }));
  for (std::size_t i = 0; i < engine.shard_count(); ++i) {
    metrics::Labels l{{"shard", std::to_string(i)}};
    const twin::Shard& s = engine.shard(i);
    h.push_back(registry.callback_gauge("castor_shard_queue_depth", "Tasks waiting in a shard's queue.", l,
                                        [&s] { return static_cast<double>(s.queue_depth()); }));
    h.push_back(registry.callback_counter("castor_shard_tasks_total", "Tasks a shard has run.", l,
                                          [&s] { return static_cast<double>(s.tasks_run()); }));
    h.push_back(registry.callback_counter("castor_shard_commits_total", "Group commits a shard has made durable.", l,
                                          [&s] { return static_cast<double>(s.commits()); }));
  }
  return h;
}

// Metrics of the query layer's cache of rendered twins (--query-render-cache).
std::vector<metrics::CallbackHandle> render_cache_metrics(metrics::Registry& registry,
                                                          const query::RenderCache& cache) {
  std::vector<metrics::CallbackHandle> h;
  h.push_back(registry.callback_counter(
      "castor_query_render_cache_hits_total", "Query rows whose twin JSON was copied from the render cache.", {},
      [&cache] { return static_cast<double>(cache.hits()); }));
  h.push_back(registry.callback_counter(
      "castor_query_render_cache_misses_total", "Query rows whose twin had to be rendered.", {},
      [&cache] { return static_cast<double>(cache.misses()); }));
  h.push_back(registry.callback_gauge("castor_query_render_cache_bytes",
                                      "Bytes the query render cache holds (query_render_cache is its limit).", {},
                                      [&cache] { return static_cast<double>(cache.bytes()); }));
  return h;
}

// Rendered twins kept for GET /digitaltwins/{id} (api::TwinReadCache): 64 MiB, about 90,000
// twins of 20 properties; a miss costs a round trip through the twin's shard.
constexpr std::size_t kTwinReadCacheBytes = std::size_t{64} << 20;

// The query indexes of --query-indexes and --query-auto-index-after.
Result<std::shared_ptr<query::IndexSet>> query_indexes(const Config& config) {
  query::IndexOptions o;
  o.auto_after = static_cast<std::size_t>(config.query_auto_index_after);
  std::string_view rest = config.query_indexes;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view entry = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    auto spec = query::parse_index_spec(entry);
    if (!spec) return Status(Code::invalid_argument, "query_indexes: " + spec.status().message());
    o.declared.push_back(std::move(*spec));
  }
  return std::make_shared<query::IndexSet>(std::move(o));
}

Result<std::unique_ptr<twin::Engine>> open_engine(const Config& config,
                                                  std::shared_ptr<twin::ShardObserver> read_cache,
                                                  std::shared_ptr<query::IndexSet> indexes,
                                                  std::shared_ptr<query::RenderCache> render_cache) {
  twin::EngineOptions options;
  options.observers.push_back(std::move(read_cache));
  options.observers.push_back(std::move(indexes));
  options.observers.push_back(std::move(render_cache));
  options.data_dir = config.data_dir;
  options.extra_column_families = history::history_column_families();
  options.extra_column_families.push_back(api::AuditLog::journal_family);  // audit in twin commits
  // One journal record per audited mutation, read back only by the start-up scan: appended to
  // an unsorted memtable instead of a skiplist insert on the committer thread.
  options.store.unsorted_memtable_families.push_back(api::AuditLog::journal_family);
  options.shards = config.shards;
  options.store.durability =
      config.durability == "relaxed" ? store::Durability::relaxed : store::Durability::strict;
  if (config.durability == "relaxed")
    log::warn("durability is relaxed: acknowledged writes survive a crash of castor, not of the machine", {});
  options.progress = [](std::string_view phase, std::size_t done, std::size_t total) {
    log::info("recovering", {{"phase", std::string(phase)}, {"done", std::to_string(done)},
                             {"total", total ? std::to_string(total) : std::string("?")}});
  };
  return twin::Engine::open(std::move(options));
}

int run_serve(const ServeFlags& flags) {
  ConfigSources sources;
  sources.flags = flags.values;
  if (flags.config_option->count() > 0) sources.flags["config"] = flags.config_file;
  auto config = load_config(sources);
  if (!config) {
    std::cerr << "castor serve: " << config.status().message() << "\n";
    return 2;
  }
  log::init({*log::parse_level(config->log_level), *log::parse_format(config->log_format)});
  log::info("starting castor",
            {{"version", std::string(kVersion)},
             {"config", config->config_file.empty() ? "(none)" : config->config_file}});
  metrics::Registry registry;
  auto read_cache = std::make_shared<api::TwinReadCache>(kTwinReadCacheBytes, registry);
  auto indexes = query_indexes(*config);
  if (!indexes) {
    std::cerr << "castor serve: " << indexes.status().message() << "\n";
    return 2;
  }
  auto render_cache =
      std::make_shared<query::RenderCache>(static_cast<std::size_t>(config->query_render_cache));
  auto engine = open_engine(*config, read_cache, *indexes, render_cache);
  if (!engine) {
    log::error("cannot open the twin core", {{"error", engine.status().message()}});
    std::cerr << "castor serve: " << engine.status().message() << "\n";
    return 1;
  }
  log::info("twin core ready", {{"twins", std::to_string((*engine)->twin_count())},
                                {"relationships", std::to_string((*engine)->relationship_count())},
                                {"models", std::to_string((*engine)->models().size())},
                                {"shards", std::to_string((*engine)->shard_count())}});
  metrics::ProcessProbe process(registry, kVersion);
  auto engine_probes = engine_metrics(registry, **engine);
  auto render_probes = render_cache_metrics(registry, *render_cache);
  auto routing = api::open_event_routing(**engine, *config, registry);
  if (!routing) {
    std::cerr << "castor serve: event routing: " << routing.status().message() << "\n";
    return 1;
  }
  auto jobs = api::open_job_manager(**engine, *config);
  if (!jobs) {
    std::cerr << "castor serve: import jobs: " << jobs.status().message() << "\n";
    return 1;
  }
  auto ingest = api::open_ingest(**engine, *config, registry);  // recovers history
  if (!ingest) {
    std::cerr << "castor serve: history: " << ingest.status().message() << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<ingest::MqttConnector>> mqtt;  // [[mqtt]] tables (docs/mqtt.md)
  for (const auto& m : config->mqtt) {
    auto connector = ingest::MqttConnector::create(m, *(*ingest)->pipeline, &registry,
                                                   &(*engine)->events(), &(*engine)->models());
    if (!connector) {
      std::cerr << "castor serve: " << connector.status().message() << "\n";
      return 2;
    }
    mqtt.push_back(std::move(*connector));
  }
  // Live values for dashboards (/castor/v1/stream); unsubscribes before the engine closes.
  api::ValueStreamHub values((*engine)->events(), (*engine)->models());
  auto value_probes = api::value_stream_metrics(registry, values);
  {
    api::ApiServer server(*config, registry, kVersion);
    api::AdtContext adt{.engine = **engine, .config = *config, .tls = !config->insecure_local,
                        .read_cache = read_cache.get()};
    adt.indexes = *indexes;
    adt.render_cache = render_cache;
    adt.observations = (*ingest)->pipeline.get();  // ADT telemetry feeds ingest and history
    api::register_adt_routes(server.router(), adt);
    api::register_event_route_routes(server.router(), adt, **routing);
    api::register_job_routes(server.router(), adt, **jobs);
    (*ingest)->register_routes(server.router());
    api::register_value_stream_route(server.router(), values, (*engine)->models());
    api::register_web_routes(server.router(), config->web_root);  // the dashboard at /
    (void)server.openapi().merge_static(api::ingest_schemas());
    (void)server.openapi().merge_static(api::openapi::adt_schemas());
    (void)server.openapi().merge_static(api::job_schemas());
    server.stop_on_signals();
    server.keep_audit_in((*engine)->store());
    // A burst of requests on an IO thread wakes each shard once (docs/operations.md).
    twin::Engine& core = **engine;
    server.on_io_threads([&core] { core.defer_wakes_on_this_thread(); },
                         [&core] { core.wake_deferred(); },
                         [&core] { core.stop_deferring_wakes(); });
    if (Status s = server.start(); !s) {
      log::error("cannot start", {{"error", s.message()}});
      std::cerr << "castor serve: " << s.message() << "\n";
      return 1;
    }
    for (auto& c : mqtt) c->start();
    std::cout << "Castor listening on " << server.url() << std::endl;
    server.wait();
    for (auto& c : mqtt) c->stop();  // no new observations; what is not durable is not acked
    (*jobs)->close();  // a running job ends failed (JobInterrupted) before the store closes
    (*ingest)->close();  // history reads and upkeep stop before the twin core closes
    (*routing)->stop();  // stores the events it took before the twin core closes the store
    // Stop the twin core before the server goes: no handler may answer after that.
    (*engine)->close();
  }
  engine_probes.clear();
  return 0;
}

void add_option(CLI::App& cmd, ServeFlags& flags, const OptionInfo& info) {
  std::string key(info.key);
  std::string help(info.help);
  help += " [env " + env_name(key) + ", config key " + key;
  if (!info.default_text.empty()) help += ", default " + std::string(info.default_text);
  help += "]";
  std::string& target = flags.values[key];
  CLI::Option* opt = info.kind == OptionKind::boolean
                         ? cmd.add_flag(flag_name(key), target, help)
                         : cmd.add_option(flag_name(key), target, help);
  flags.options[key] = opt;
}

}  // namespace

void add_serve_command(CLI::App& root, CliContext& ctx) {
  CLI::App* cmd = root.add_subcommand(
      "serve",
      "Serve the Azure-Digital-Twins-compatible API over HTTPS (tokens required) or, with "
      "--insecure-local, plain HTTP on loopback. Every option is also an environment variable "
      "and a key in the --config TOML file; precedence: flag > env > file > default.");
  auto flags = std::make_shared<ServeFlags>();
  for (const OptionInfo& info : config_options()) add_option(*cmd, *flags, info);
  flags->config_option = cmd->add_option(
      "--config", flags->config_file, "TOML file with any of the keys above [env CASTOR_CONFIG]");
  cmd->callback([flags, &ctx] {
    // Only options actually given on the command line take part in the precedence.
    ServeFlags given;
    given.config_file = flags->config_file;
    given.config_option = flags->config_option;
    for (const auto& [key, opt] : flags->options) {
      if (opt->count() > 0) given.values[key] = flags->values.at(key);
    }
    ctx.exit_code = run_serve(given);
  });
}

}  // namespace castor::app
