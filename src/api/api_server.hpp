// The API layer assembled for one `castor serve`: TLS material, tokens, audit log, router,
// dispatcher and HTTP server, plus /healthz, /readyz, /metrics and /openapi.json. The composition
// root creates it, lets modules register routes, then starts it. It owns no engine state.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/health.hpp"
#include "api/openapi.hpp"
#include "api/router.hpp"
#include "common/config.hpp"
#include "common/metrics.hpp"
#include "common/status.hpp"
#include "store/store.hpp"

namespace castor::api {

class ApiServer {
 public:
  ApiServer(const Config& config, metrics::Registry& registry, std::string_view version);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Before start(): modules register their routes, OpenAPI parts and readiness conditions.
  Router& router() noexcept;
  OpenApiDocument& openapi() noexcept;
  Readiness& readiness() noexcept;  // start() satisfies "http"; modules require their own

  // SIGINT/SIGTERM stop the server gracefully (call before start() so no signal is missed).
  void stop_on_signals();

  // Before start(): audit records of mutations that can carry them (twin PATCH) are committed in
  // `store`'s AuditLog::journal_family family with the mutation itself, which then completes
  // without its own audit.log fsync; start() copies what a crash left there to audit.log.
  void keep_audit_in(store::Store& store);

  // Before start(): hooks each IO thread runs when it starts, after each burst of handlers and
  // before it ends (ServerOptions::on_io_*); `serve` wakes the twin shards once per burst.
  void on_io_threads(std::function<void()> start, std::function<void()> burst_end,
                     std::function<void()> stop);

  // Prepares DATA (TLS files, token file, audit log), adds the operational routes, builds the
  // OpenAPI document, binds and starts serving. Errors say how to fix them.
  Status start();
  std::string url() const;  // e.g. "https://127.0.0.1:8443/"

  void stop();  // graceful, from any thread
  // Blocks until stopped and in-flight requests are done, then flushes the audit log. Stop the
  // engine (so no handler can still answer) before destroying the ApiServer.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace castor::api
