#include "api/api_server.hpp"

#include <algorithm>
#include <thread>

#include "api/audit_log.hpp"
#include "api/auth.hpp"
#include "api/certificates.hpp"
#include "api/dispatcher.hpp"
#include "api/files.hpp"
#include "api/http_probe.hpp"
#include "api/http_server.hpp"
#include "api/metrics_route.hpp"
#include "api/token_store.hpp"
#include "common/log.hpp"

namespace castor::api {

struct ApiServer::Impl {
  Impl(const Config& c, metrics::Registry& r, std::string_view v)
      : config(c), registry(r), openapi(v) {}

  Status prepare_tls(ServerOptions& options);
  Status open_tokens();
  ServerOptions server_options(const ListenAddress& listen) const;

  Config config;
  metrics::Registry& registry;
  Router router;
  OpenApiDocument openapi;
  Readiness readiness;
  bool handle_signals = false;
  std::function<void()> io_start, io_burst_end, io_stop;
  bool stopped = false;
  std::shared_ptr<std::string> openapi_json = std::make_shared<std::string>();
  std::unique_ptr<TokenStore> tokens;
  store::Store* audit_store = nullptr;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<HttpProbe> probe;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<HttpServer> http;  // last: stopped and destroyed first
};

ServerOptions ApiServer::Impl::server_options(const ListenAddress& listen) const {
  ServerOptions o;
  o.host = listen.host;
  o.port = listen.port;
  o.tls = !config.insecure_local;
  // Each IO thread owns its connections; half the CPUs leaves the other half to the shards
  // (on 2 cores: one IO thread, which also measured fastest there).
  o.io_threads = config.io_threads ? static_cast<unsigned>(config.io_threads)
                                   : std::max(1u, std::thread::hardware_concurrency() / 2);
  o.max_body_size = config.max_body_size;
  o.header_timeout = config.header_timeout;
  o.body_timeout = config.body_timeout;
  o.write_timeout = config.write_timeout;
  o.shutdown_timeout = config.shutdown_timeout;
  return o;
}

Status ApiServer::Impl::prepare_tls(ServerOptions& options) {
  if (!config.tls_cert.empty()) {
    CASTOR_RETURN_IF_ERROR(check_certificate_pair(config.tls_cert, config.tls_key));
    options.cert_file = config.tls_cert;
    options.key_file = config.tls_key;
    log::info("using the given TLS certificate", {{"cert", config.tls_cert}});
    return Status::ok();
  }
  std::filesystem::path dir = std::filesystem::path(config.data_dir) / "tls";
  auto files = ensure_certificates(dir, default_certificate_request());
  if (!files) return files.status();
  options.cert_file = files->cert.string();
  options.key_file = files->key.string();
  if (files->generated) {
    log::info("generated a self-signed CA and server certificate; clients must trust the CA",
              {{"reason", files->reason},
               {"ca", files->ca.string()},
               {"how", "curl --cacert " + files->ca.string() + ", NODE_EXTRA_CA_CERTS=" +
                           files->ca.string() + ", or add it to the system trust store"}});
  } else {
    log::info("reusing the generated TLS certificate; clients trust it through the CA",
              {{"ca", files->ca.string()}, {"how", "curl --cacert " + files->ca.string()}});
  }
  return Status::ok();
}

Status ApiServer::Impl::open_tokens() {
  tokens = std::make_unique<TokenStore>(TokenStore::path_in(config.data_dir));
  CASTOR_RETURN_IF_ERROR(tokens->load());
  if (tokens->list().empty()) {
    log::warn(
        "no API tokens exist yet, so every request except /healthz, /readyz and "
        "/openapi.json gets 401",
        {{"fix", "castor token create --data " + config.data_dir + " --role admin"}});
  }
  return Status::ok();
}

ApiServer::ApiServer(const Config& config, metrics::Registry& registry, std::string_view version)
    : impl_(std::make_unique<Impl>(config, registry, version)) {
  impl_->readiness.require("http");
}

ApiServer::~ApiServer() {
  if (impl_->http) {
    impl_->http->stop();
    wait();
  }
}

Router& ApiServer::router() noexcept {
  return impl_->router;
}
OpenApiDocument& ApiServer::openapi() noexcept {
  return impl_->openapi;
}
Readiness& ApiServer::readiness() noexcept {
  return impl_->readiness;
}
void ApiServer::stop_on_signals() {
  impl_->handle_signals = true;
}
void ApiServer::keep_audit_in(store::Store& store) {
  impl_->audit_store = &store;
}
void ApiServer::on_io_threads(std::function<void()> start, std::function<void()> burst_end,
                              std::function<void()> stop) {
  impl_->io_start = std::move(start);
  impl_->io_burst_end = std::move(burst_end);
  impl_->io_stop = std::move(stop);
}

Status ApiServer::start() {
  Impl& m = *impl_;
  auto listen = parse_listen(m.config.effective_listen());
  if (!listen) return listen.status();
  CASTOR_RETURN_IF_ERROR(ensure_directory(m.config.data_dir, 0700));
  ServerOptions options = m.server_options(*listen);
  options.on_stopping = [&readiness = m.readiness] { readiness.unsatisfy("http"); };
  options.on_io_thread_start = m.io_start;
  options.on_io_burst_end = m.io_burst_end;
  options.on_io_thread_stop = m.io_stop;
  if (m.config.insecure_local) {
    log::warn(
        "--insecure-local: plain HTTP without authentication; every caller is admin. "
        "Use it only for local development.",
        {{"listen", m.config.effective_listen()}});
  } else {
    CASTOR_RETURN_IF_ERROR(m.prepare_tls(options));
    CASTOR_RETURN_IF_ERROR(m.open_tokens());
  }
  AuditJournal journal;
  if (m.audit_store) {
    auto cf = m.audit_store->column_family(AuditLog::journal_family);
    if (!cf) return cf.status();
    journal = {m.audit_store, *cf};
  }
  auto audit = AuditLog::open(std::filesystem::path(m.config.data_dir) / "audit.log", m.registry,
                              AuditLog::Options{}, journal);
  if (!audit) return audit.status();
  m.audit = std::move(*audit);
  m.auth = std::make_unique<Authenticator>(m.tokens.get());
  m.probe = std::make_unique<HttpProbe>(m.registry);
  m.dispatcher = std::make_unique<Dispatcher>(m.router, *m.auth, *m.audit, *m.probe,
                                              DispatcherOptions{m.config.access_log});
  register_health_routes(m.router, m.readiness);
  register_metrics_route(m.router, m.registry);
  register_openapi_route(m.router, m.openapi_json);
  m.router.freeze();
  *m.openapi_json = json::serialize(m.openapi.build(m.router));
  m.http = std::make_unique<HttpServer>(options, *m.dispatcher, *m.probe);
  if (m.handle_signals) m.http->stop_on_signals();
  CASTOR_RETURN_IF_ERROR(m.http->start());
  m.readiness.satisfy("http");
  log::info("serving", {{"url", m.http->url()},
                        {"tls", options.tls},
                        {"io_threads", options.io_threads},
                        {"routes", m.router.routes().size()},
                        {"data", m.config.data_dir}});
  return Status::ok();
}

std::string ApiServer::url() const {
  return impl_->http ? impl_->http->url() : std::string();
}

void ApiServer::stop() {
  if (impl_->http) impl_->http->stop();
}

void ApiServer::wait() {
  if (!impl_->http || impl_->stopped) return;
  impl_->http->wait();
  impl_->stopped = true;
  impl_->readiness.unsatisfy("http");
  if (impl_->audit) impl_->audit->close();
  log::info("stopped");
}

}  // namespace castor::api
