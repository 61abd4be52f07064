// The request pipeline between transport and handlers: route match, api-version, authentication
// and roles, audit slot, handler call, then metrics, access log and audit record on completion.
// Transport-free (no Beast), so it is unit-testable; it never blocks an IO thread.
#pragma once

#include "api/audit_log.hpp"
#include "api/auth.hpp"
#include "api/http.hpp"
#include "api/http_probe.hpp"
#include "api/responder.hpp"
#include "api/router.hpp"
#include "api/stream.hpp"

namespace castor::api {

struct DispatcherOptions {
  bool access_log = true;  // one info line per request; 5xx are logged regardless
};

class Dispatcher {
 public:
  Dispatcher(const Router& router, const Authenticator& auth, AuditLog& audit, HttpProbe& probe,
             DispatcherOptions options);

  // Handles one complete request. `done` receives the final response exactly once, possibly
  // from another thread; audited requests complete only after their audit line is durable.
  // `upgrader` (may be null) takes over the connection when a stream route accepts it.
  // `memo` (may be null): the connection's last bearer token, used during this call only.
  void dispatch(HttpRequest request, Responder done, StreamUpgrader* upgrader,
                TokenMemo* memo = nullptr);

  // A request the transport refused before dispatch (413, 400, 431): counted, logged and, for
  // mutations, audited like any other.
  void reject(HttpRequest request, HttpResponse response, Responder done);

 private:
  struct Context;
  std::shared_ptr<Context> begin(HttpRequest& request);
  void refuse(const std::shared_ptr<Context>& ctx, const HttpRequest& request,
              HttpResponse response, const Responder& done);
  void finish(const std::shared_ptr<Context>& ctx, HttpResponse response, const Responder& done);
  void run_handler(const Route& route, HttpRequest request, std::shared_ptr<Context> ctx,
                   Responder done);
  void open_stream(const Route& route, HttpRequest request, std::shared_ptr<Context> ctx,
                   Responder done, StreamUpgrader* upgrader);

  const Router& router_;
  const Authenticator& auth_;
  AuditLog& audit_;
  HttpProbe& probe_;
  DispatcherOptions options_;
  TraceIds trace_ids_;  // ids of requests without a valid traceparent
};

}  // namespace castor::api
