#include "api/dispatcher.hpp"

#include <chrono>
#include <cmath>
#include <exception>
#include <optional>

#include "api/api_version.hpp"
#include "api/error.hpp"
#include "common/log.hpp"

namespace castor::api {

// What the completion needs to know about a request after the handler took it.
struct Dispatcher::Context {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::chrono::system_clock::time_point received = std::chrono::system_clock::now();
  Method method = Method::other;
  std::string method_text, path, remote;
  std::string_view route;  // the router's template, which outlives every request
  TraceContext trace;
  std::shared_ptr<const Principal> principal;
  std::optional<AuditLog::Slot> audit;  // set for mutations
  // The audit record the handler had committed with its mutation, and the status it states.
  std::shared_ptr<twin::CommitRecord> journal;
  int journal_status = 0;
};

namespace {

std::string allow_header(const std::vector<Method>& methods) {
  std::string out;
  for (Method m : methods) {
    if (!out.empty()) out += ", ";
    out += method_name(m);
  }
  return out;
}

// The audit record of a request that is answered with `status` (Ctx: Dispatcher::Context).
template <class Ctx>
AuditRecord audit_record(const Ctx& ctx, int status) {
  const Principal* p = ctx.principal.get();
  return AuditRecord{ctx.received,
                     p ? p->name : std::string(),
                     p ? p->id : std::string(),
                     p && p->authenticated ? std::string(role_name(p->role)) : std::string(),
                     ctx.method_text,
                     ctx.path,
                     status,
                     ctx.trace.trace_id,
                     ctx.remote};
}

}  // namespace

Dispatcher::Dispatcher(const Router& router, const Authenticator& auth, AuditLog& audit,
                       HttpProbe& probe, DispatcherOptions options)
    : router_(router), auth_(auth), audit_(audit), probe_(probe), options_(options) {}

std::shared_ptr<Dispatcher::Context> Dispatcher::begin(HttpRequest& request) {
  auto ctx = std::make_shared<Context>();
  probe_.in_flight.inc();
  request.trace = trace_from_header(request.header("traceparent"), trace_ids_);
  ctx->method = request.method;
  ctx->method_text = request.method_text;
  ctx->path = request.path;
  ctx->remote = request.remote_address;
  ctx->trace = request.trace;
  return ctx;
}

void Dispatcher::refuse(const std::shared_ptr<Context>& ctx, const HttpRequest& request,
                        HttpResponse response, const Responder& done) {
  ctx->principal = request.principal ? request.principal : auth_.identify(request);
  // A refused mutation changed nothing; it is audited when there is room, never delayed.
  if (!is_read_method(request.method)) {
    ctx->audit = audit_.reserve();
    if (!*ctx->audit) ctx->audit.reset();
  }
  finish(ctx, std::move(response), done);
}

void Dispatcher::dispatch(HttpRequest request, Responder done, StreamUpgrader* upgrader,
                          TokenMemo* memo) {
  auto ctx = begin(request);
  MatchResult match = router_.match(request.method, request.segments);
  if (std::holds_alternative<NoRoute>(match)) {
    return refuse(ctx, request,
                  error_response(404, "NotFound",
                                 "No resource at " + request.path +
                                     ". Check the path; /openapi.json lists every operation."),
                  done);
  }
  if (auto* not_allowed = std::get_if<MethodNotAllowed>(&match)) {
    std::string allow = allow_header(not_allowed->allowed);
    HttpResponse r = error_response(
        405, "MethodNotAllowed",
        request.method_text + " is not supported on " + request.path + "; use " + allow + ".");
    r.headers.set("Allow", allow);
    return refuse(ctx, request, std::move(r), done);
  }
  auto& m = std::get<RouteMatch>(match);
  const Route& route = *m.route;
  ctx->route = route.spec.path;
  request.params = std::move(m.params);
  if (route.spec.api_version == ApiVersion::required) {
    if (auto error = check_api_version(request)) {
      return refuse(ctx, request, std::move(*error), done);
    }
  }
  if (auto denied = auth_.authorize(request, route.spec, memo)) {
    return refuse(ctx, request, std::move(*denied), done);
  }
  ctx->principal = request.principal;
  if (!is_read_method(request.method) && !route.spec.read_only) {
    ctx->audit = audit_.reserve();
    if (!*ctx->audit) {
      ctx->audit.reset();
      HttpResponse busy = error_response(
          503, "ServiceUnavailable",
          "The audit log is falling behind, so this change was not applied. Retry shortly.");
      busy.headers.set("Retry-After", "1");
      return finish(ctx, std::move(busy), done);
    }
  }
  if (route.stream) return open_stream(route, std::move(request), std::move(ctx), done, upgrader);
  run_handler(route, std::move(request), std::move(ctx), std::move(done));
}

void Dispatcher::run_handler(const Route& route, HttpRequest request, std::shared_ptr<Context> ctx,
                             Responder done) {
  Responder responder = Responder::with(
      [this, ctx, done](HttpResponse&& response) { finish(ctx, std::move(response), done); });
  if (ctx->audit && audit_.journaling()) {
    request.audit_record = [this, ctx](int status) {
      if (!ctx->journal) {
        ctx->journal = audit_.journal(audit_record(*ctx, status));
        ctx->journal_status = status;
      }
      return ctx->journal;
    };
  }
  try {
    route.handler(std::move(request), responder);
  } catch (const std::exception& e) {
    log::error("handler threw",
               {{"route", ctx->route}, {"error", e.what()}, {"trace_id", ctx->trace.trace_id}});
    responder.fail(500, "InternalServerError",
                   "The server failed while handling this request. This is a bug in Castor; "
                   "please report it with the trace id " +
                       ctx->trace.trace_id + ".");
  }
}

void Dispatcher::open_stream(const Route& route, HttpRequest request, std::shared_ptr<Context> ctx,
                             Responder done, StreamUpgrader* upgrader) {
  auto transport = requested_stream(request);
  if (!transport || upgrader == nullptr) {
    return finish(ctx,
                  error_response(400, "InvalidArgument",
                                 route.spec.path + " is a live stream: connect with a WebSocket "
                                                   "upgrade or send 'Accept: text/event-stream'."),
                  done);
  }
  if (route.stream_check) {
    std::optional<HttpResponse> refusal;
    try {
      refusal = route.stream_check(request);
    } catch (const std::exception& e) {
      refusal = error_response(400, "InvalidArgument", e.what());
    }
    if (refusal) return finish(ctx, std::move(*refusal), done);
  }
  int status = *transport == StreamTransport::websocket ? 101 : 200;
  probe_.in_flight.dec();
  probe_.observe(ctx->route, ctx->method, status, 0.0);
  if (options_.access_log) {
    log::info("stream opened", {{"method", ctx->method_text},
                                {"path", ctx->path},
                                {"status", status},
                                {"principal", ctx->principal->name},
                                {"trace_id", ctx->trace.trace_id},
                                {"remote", ctx->remote}});
  }
  done.detach();
  upgrader->upgrade(std::move(request), *transport, route.stream);
}

void Dispatcher::reject(HttpRequest request, HttpResponse response, Responder done) {
  auto ctx = begin(request);
  refuse(ctx, request, std::move(response), done);
}

void Dispatcher::finish(const std::shared_ptr<Context>& ctx, HttpResponse response,
                        const Responder& done) {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx->start).count();
  probe_.in_flight.dec();
  probe_.observe(ctx->route.empty() ? "unmatched" : ctx->route, ctx->method, response.status,
                 seconds);
  const std::string& who = ctx->principal ? ctx->principal->name : std::string();
  if (options_.access_log || response.status >= 500) {
    log::write(response.status >= 500 ? log::Level::warn : log::Level::info, "http request",
               {{"method", ctx->method_text},
                {"path", ctx->path},
                {"status", response.status},
                {"ms", std::round(seconds * 1e5) / 100},
                {"bytes", response.body.size()},
                {"principal", who},
                {"trace_id", ctx->trace.trace_id},
                {"remote", ctx->remote}});
  }
  if (!ctx->audit) return done.respond(std::move(response));
  AuditLog::Slot slot = std::move(*ctx->audit);
  ctx->audit.reset();
  std::shared_ptr<twin::CommitRecord> journal = std::move(ctx->journal);
  // Committed with the mutation and saying what the client gets: durable already.
  if (journal && journal->written.load(std::memory_order_acquire) &&
      response.status == ctx->journal_status) {
    audit_.copy_committed(std::move(slot), std::move(journal));
    return done.respond(std::move(response));
  }
  audit_.append(
      std::move(slot), audit_record(*ctx, response.status),
      [done, response = std::move(response)]() mutable { done.respond(std::move(response)); },
      std::move(journal));
}

}  // namespace castor::api
