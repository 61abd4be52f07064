// POST /castor/v1/ingest: batches of observations, answered 202 once durable; bad entries are
// listed (the whole batch refused, or with ?partial=true only they). Backpressure: requests wait
// in IngestGate while the pipeline holds max_in_flight observations.
#include "api/ingest_routes.hpp"

#include <algorithm>
#include <atomic>
#include <optional>

#include "api/error.hpp"
#include "api/principal.hpp"

namespace castor::api {

class IngestGate : public std::enable_shared_from_this<IngestGate> {
 public:
  using Done = std::function<void(ingest::IngestResult)>;
  IngestGate(ingest::IngestPipeline& pipeline, std::size_t max_waiting)
      : pipeline_(pipeline), max_waiting_(max_waiting) {}

  void submit(std::vector<ingest::Observation> batch, ingest::Partial mode, Done done) {
    {
      std::unique_lock lock(mu_);
      if (!queue_.empty() || !has_room(batch.size())) {
        if (queue_.size() >= max_waiting_) {
          lock.unlock();
          refused_.fetch_add(1, std::memory_order_relaxed);
          ingest::IngestResult r;
          r.status = Status(Code::unavailable,
                            "Castor is overloaded: " + std::to_string(pipeline_.in_flight()) +
                                " observations are being written and " +
                                std::to_string(max_waiting_) + " requests wait; retry shortly",
                            "ServiceUnavailable");
          return done(std::move(r));
        }
        queue_.push_back(Pending{std::move(batch), mode, std::move(done)});
        waited_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    forward(Pending{std::move(batch), mode, std::move(done)});
  }

  std::size_t waiting() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }
  std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }
  std::uint64_t waited() const noexcept { return waited_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    std::vector<ingest::Observation> batch;
    ingest::Partial mode;
    Done done;
  };
  bool has_room(std::size_t n) const {
    std::size_t busy = pipeline_.in_flight();
    return busy == 0 || busy + n <= pipeline_.max_in_flight();
  }
  void forward(Pending p) {
    std::weak_ptr<IngestGate> weak = weak_from_this();
    pipeline_.submit(std::move(p.batch), p.mode,
                     [weak, done = std::move(p.done)](ingest::IngestResult r) {
                       done(std::move(r));
                       if (auto self = weak.lock()) self->drain();
                     });
  }
  void drain() {
    while (true) {
      Pending next;
      {
        std::lock_guard lock(mu_);
        if (queue_.empty() || !has_room(queue_.front().batch.size())) return;
        next = std::move(queue_.front());
        queue_.pop_front();
      }
      forward(std::move(next));
    }
  }

  ingest::IngestPipeline& pipeline_;
  const std::size_t max_waiting_;
  mutable std::mutex mu_;
  std::deque<Pending> queue_;
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> waited_{0};
};

namespace {

// One error detail: where the entry was (array index or line) and why.
json::object detail(const ingest::Rejection& r, bool lines) {
  json::object d;
  d[lines ? "line" : "index"] = r.index;
  d["code"] = r.code;
  d["message"] = r.message;
  return d;
}

HttpResponse refused(const Status& s, std::vector<ingest::Rejection> details, bool lines) {
  std::sort(details.begin(), details.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  json::array arr;
  for (const auto& d : details) arr.push_back(detail(d, lines));
  json::object err{{"code", s.reason().empty() ? "InvalidObservations" : s.reason()},
                   {"message", s.message()}};
  if (!arr.empty()) err["details"] = std::move(arr);
  int status = s.code() == Code::invalid_argument ? 400 : s.code() == Code::unavailable ? 503 : 500;
  HttpResponse out =
      HttpResponse::json(status, json::value(json::object{{"error", std::move(err)}}));
  if (status == 503) out.headers.set("Retry-After", "1");
  return out;
}

using Answer = std::function<void(HttpResponse)>;

// Parses one batch, checks the principal's twins, submits it and answers once it is durable or
// refused. Shared by POST /castor/v1/ingest and the WebSocket form (one batch per message).
void ingest_body(IngestContext& ctx, const Principal& principal, ingest::BatchFormat format,
                 bool partial, std::string_view body, Answer answer) {
  bool lines = format != ingest::BatchFormat::json;
  auto parsed = ingest::parse_batch(format, body);
  std::string_view checked_twin;  // runs of one twin (a line's fields) are checked once
  const bool every_twin = principal.may_access_every_twin();  // then no per-point compares
  for (std::size_t i = 0; !every_twin && i < parsed.observations.size(); ++i) {
    const std::string& twin = parsed.observations[i].twin;
    if (i > 0 && twin == checked_twin) continue;
    if (!principal.may_access_twin(twin))
      return answer(error_response(403, "Forbidden",
                                   "this device token may not write twin '" + twin + "'"));
    checked_twin = twin;
  }
  std::size_t total = parsed.observations.size() + parsed.errors.size();
  if (!parsed.errors.empty() && (!partial || parsed.observations.empty())) {
    auto errors = std::make_shared<std::vector<ingest::Rejection>>(std::move(parsed.errors));
    auto refuse = [answer, errors, total, partial, lines](std::vector<ingest::Rejection> more) {
      Status s(Code::invalid_argument,
               std::to_string(errors->size() + more.size()) + " of " + std::to_string(total) +
                   " entries are invalid; nothing was written" +
                   (partial ? "" : " (fix them, or send ?partial=true to keep the valid ones)"),
               "InvalidObservations");
      for (auto& m : more) errors->push_back(std::move(m));
      answer(refused(s, std::move(*errors), lines));
    };
    if (parsed.observations.empty()) return refuse({});
    // The batch is refused anyway: check the readable entries too, so every error is listed.
    auto origin = std::make_shared<std::vector<std::size_t>>(std::move(parsed.origin));
    return ctx.pipeline.validate(std::move(parsed.observations),
                                 [refuse, origin](ingest::IngestResult r) {
                                   for (auto& x : r.rejections) x.index = (*origin)[x.index];
                                   refuse(std::move(r.rejections));
                                 });
  }
  if (parsed.observations.empty())
    return answer(error_response(400, "InvalidArgument", "the body holds no observations"));
  auto origin = std::make_shared<std::vector<std::size_t>>(std::move(parsed.origin));
  auto parse_errors = std::make_shared<std::vector<ingest::Rejection>>(std::move(parsed.errors));
  ctx.gate->submit(std::move(parsed.observations),
                   partial ? ingest::Partial::keep_valid : ingest::Partial::reject_whole,
                   [answer, origin, parse_errors, lines](ingest::IngestResult r) {
                     std::vector<ingest::Rejection> all = *parse_errors;
                     for (auto& x : r.rejections) {
                       x.index = (*origin)[x.index];
                       all.push_back(std::move(x));
                     }
                     if (!r.status.is_ok()) return answer(refused(r.status, std::move(all), lines));
                     std::sort(all.begin(), all.end(),
                               [](const auto& a, const auto& b) { return a.index < b.index; });
                     json::array rejected;
                     for (const auto& d : all) rejected.push_back(detail(d, lines));
                     json::object out{{"accepted", r.accepted}, {"rejected", std::move(rejected)}};
                     answer(HttpResponse::json(202, json::value(std::move(out))));
                   });
}

Result<bool> partial_param(const HttpRequest& req) {
  auto p = req.query_param("partial");
  if (!p) return false;
  if (*p != "true" && *p != "false")
    return Status(Code::invalid_argument, "partial must be true or false", "InvalidArgument");
  return *p == "true";
}

void ingest_batch(IngestContext& ctx, HttpRequest& req, const Responder& resp) {
  auto ct = req.header("Content-Type");
  if (!ct)
    return resp.fail(415, "UnsupportedMediaType",
                     "send a Content-Type: application/json, application/x-ndjson or text/plain "
                     "(line protocol)");
  auto format = ingest::batch_format(*ct);
  if (!format) return resp.fail(415, "UnsupportedMediaType", format.status().message());
  auto partial = partial_param(req);
  if (!partial) return resp.fail(400, "InvalidArgument", partial.status().message());
  ingest_body(ctx, *req.principal, *format, *partial, req.body,
              [resp](HttpResponse r) { resp.respond(std::move(r)); });
}

// The format of a WebSocket ingest stream: ?format=json|ndjson|line, or guessed per message
// from its first character ('[' JSON array, '{' NDJSON, else line protocol).
Result<std::optional<ingest::BatchFormat>> socket_format(const HttpRequest& req) {
  auto f = req.query_param("format");
  if (!f) return std::optional<ingest::BatchFormat>{};
  if (*f == "json") return std::optional{ingest::BatchFormat::json};
  if (*f == "ndjson") return std::optional{ingest::BatchFormat::ndjson};
  if (*f == "line") return std::optional{ingest::BatchFormat::line_protocol};
  return Status(Code::invalid_argument, "format must be json, ndjson or line", "InvalidArgument");
}

ingest::BatchFormat guess_format(std::string_view text) {
  std::size_t i = text.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return ingest::BatchFormat::line_protocol;
  if (text[i] == '[') return ingest::BatchFormat::json;
  if (text[i] == '{') return ingest::BatchFormat::ndjson;
  return ingest::BatchFormat::line_protocol;
}

// One WebSocket ingest connection: every text message is a batch, answered with
// {"seq": n, "status": 202|4xx|503, ...the HTTP body's fields} once durable or refused. At most
// `kWindow` batches are in flight; beyond that the connection is not read (backpressure).
class IngestSocket final : public StreamListener, public std::enable_shared_from_this<IngestSocket> {
 public:
  static constexpr std::size_t kWindow = 16;
  IngestSocket(IngestContext& ctx, std::shared_ptr<const Principal> principal,
               std::optional<ingest::BatchFormat> format, bool partial,
               std::shared_ptr<StreamSink> sink)
      : ctx_(ctx),
        principal_(std::move(principal)),
        format_(format),
        partial_(partial),
        sink_(std::move(sink)) {}

  void on_message(std::string_view text) override {
    std::uint64_t seq = ++received_;
    if (in_flight_.fetch_add(1) + 1 >= kWindow) {
      sink_->pause_reading();
      // An answer that came in between may have resumed before this pause: look again.
      if (in_flight_.load() < kWindow) sink_->resume_reading();
    }
    std::weak_ptr<IngestSocket> weak = weak_from_this();
    ingest_body(ctx_, *principal_, format_ ? *format_ : guess_format(text), partial_, text,
                [weak, seq](HttpResponse r) {
                  if (auto self = weak.lock()) self->answered(seq, std::move(r));
                });
  }

 private:
  void answered(std::uint64_t seq, HttpResponse r) {
    std::string m = "{\"seq\":" + std::to_string(seq) + ",\"status\":" + std::to_string(r.status);
    if (r.body.size() > 2 && r.body.front() == '{') {
      m += ',';
      m.append(r.body, 1);
    } else {
      m += '}';
    }
    sink_->send(std::move(m));
    if (in_flight_.fetch_sub(1) == kWindow) sink_->resume_reading();
  }

  IngestContext& ctx_;
  std::shared_ptr<const Principal> principal_;
  std::optional<ingest::BatchFormat> format_;
  bool partial_;
  std::shared_ptr<StreamSink> sink_;
  std::uint64_t received_ = 0;  // on the connection's strand
  std::atomic<std::size_t> in_flight_{0};
};

}  // namespace

void register_ingest_routes(Router& router, IngestContext& ctx) {
  ctx.gate = std::make_shared<IngestGate>(ctx.pipeline, ctx.max_waiting_requests);
  RouteSpec s;
  s.method = Method::post;
  s.path = "/castor/v1/ingest";
  s.access = Access::device;
  s.openapi = {
      "Ingest_Batch",
      "Ingests a batch of observations (JSON array, NDJSON or InfluxDB line protocol); 202 once "
      "durable",
      {"Ingest"},
      R"({"parameters": [{"name": "partial", "in": "query", "required": false, "schema": {"type": "boolean", "default": false},
                   "description": "Keep the valid observations of a batch with invalid ones, and list each rejection."}],
  "requestBody": {"required": true, "content": {
    "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Observation"}}},
    "application/x-ndjson": {"schema": {"type": "string", "description": "One Observation object per line."}},
    "text/plain": {"schema": {"type": "string", "description": "InfluxDB line protocol: <twinId>[,component=<c>] <name>=<value>[,...] [<ns timestamp>]"}}}},
  "responses": {
    "202": {"description": "Every accepted observation is durable.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IngestResult"}}}},
    "400": {"description": "Invalid observations; nothing was written (or, with partial=true, none was valid). error.details lists each.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IngestError"}}}},
    "403": {"description": "A device token named a twin it does not own."},
    "415": {"description": "Unsupported Content-Type."},
    "503": {"description": "Overloaded or storage failed; nothing was written. Retry after Retry-After seconds."}}})"};
  router.add(std::move(s),
             [&ctx](HttpRequest req, Responder resp) { ingest_batch(ctx, req, resp); });

  RouteSpec ws;
  ws.path = "/castor/v1/ingest";
  ws.access = Access::device;
  ws.openapi = {
      "Ingest_Stream",
      "Continuous ingest over a WebSocket: each text message is one batch (JSON array, NDJSON or "
      "line protocol), answered with {seq, status, accepted, rejected} or {seq, status, error} "
      "once durable or refused",
      {"Ingest"},
      R"({"parameters": [
  {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "ndjson", "line"]}, "description": "Format of every message; by default guessed per message ('[' JSON array, '{' NDJSON, else line protocol)."},
  {"name": "partial", "in": "query", "required": false, "schema": {"type": "boolean", "default": false}, "description": "As for POST: keep the valid observations of a batch."}],
  "responses": {
    "101": {"description": "Switching to WebSocket; at most 16 batches are in flight, further messages are not read until one is answered."},
    "400": {"description": "Not a WebSocket request or a bad parameter."}}})"};
  router.add_stream(
      std::move(ws),
      [&ctx](const HttpRequest& req, std::shared_ptr<StreamSink> sink) {
        auto format = socket_format(req);
        auto partial = partial_param(req);
        return std::make_shared<IngestSocket>(ctx, req.principal,
                                              format ? *format : std::nullopt,
                                              partial ? *partial : false, std::move(sink));
      },
      [](const HttpRequest& req) -> std::optional<HttpResponse> {
        if (requested_stream(req) != StreamTransport::websocket)
          return error_response(400, "InvalidArgument",
                                "GET /castor/v1/ingest is the WebSocket form of ingest: connect "
                                "with a WebSocket upgrade, or POST batches");
        if (auto f = socket_format(req); !f) return error_response(f.status());
        if (auto p = partial_param(req); !p) return error_response(p.status());
        return std::nullopt;
      });
}

std::vector<metrics::CallbackHandle> ingest_metrics(metrics::Registry& registry,
                                                    IngestContext& ctx) {
  std::vector<metrics::CallbackHandle> h;
  auto& p = ctx.pipeline;
  auto gate = ctx.gate;
  h.push_back(registry.callback_gauge("castor_ingest_in_flight",
                                      "Observations submitted and not yet durable or refused.", {},
                                      [&p] { return static_cast<double>(p.in_flight()); }));
  h.push_back(registry.callback_gauge(
      "castor_ingest_waiting_requests", "Ingest requests waiting for pipeline room (backpressure).",
      {}, [gate] { return gate ? static_cast<double>(gate->waiting()) : 0.0; }));
  h.push_back(registry.callback_counter(
      "castor_ingest_waited_requests_total",
      "Ingest requests that waited for pipeline room (backpressure).", {},
      [gate] { return gate ? static_cast<double>(gate->waited()) : 0.0; }));
  h.push_back(registry.callback_counter(
      "castor_ingest_refused_requests_total",
      "Ingest requests refused with 503 because too many waited.", {},
      [gate] { return gate ? static_cast<double>(gate->refused()) : 0.0; }));
  h.push_back(registry.callback_counter("castor_ingest_observations_accepted_total",
                                        "Observations made durable (twin and history).", {},
                                        [&p] { return static_cast<double>(p.accepted_total()); }));
  h.push_back(
      registry.callback_counter("castor_ingest_observations_rejected_total",
                                "Observations refused (invalid, out of order, unknown twin).", {},
                                [&p] { return static_cast<double>(p.rejected_total()); }));
  h.push_back(registry.callback_counter("castor_ingest_batches_total",
                                        "Batches submitted to the pipeline.", {},
                                        [&p] { return static_cast<double>(p.batches_total()); }));
  h.push_back(registry.callback_counter(
      "castor_ingest_batches_refused_total",
      "Batches refused whole (invalid, overloaded or storage failure).", {},
      [&p] { return static_cast<double>(p.refused_batches_total()); }));
  h.push_back(registry.callback_counter(
      "castor_history_chunks_expired_total", "Sealed history chunks dropped by retention.", {},
      [&p] { return static_cast<double>(p.chunks_expired_total()); }));
  return h;
}

std::string ingest_schemas() {
  return R"({"components": {"schemas": {
  "Observation": {"type": "object", "required": ["twin", "name", "value"], "properties": {
    "twin": {"type": "string", "description": "The twin id ($dtId)."},
    "component": {"type": "string", "description": "A component of the twin; omit for the twin itself."},
    "name": {"type": "string", "description": "A Telemetry or Property of the (component's) model."},
    "ts": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}], "description": "Source time: RFC 3339 or integer nanoseconds since 1970; default the time of receipt."},
    "value": {"description": "A number, boolean, string or object, valid for the model's schema."}}},
  "IngestRejection": {"type": "object", "properties": {"index": {"type": "integer", "description": "JSON array position."},
    "line": {"type": "integer", "description": "1-based line (NDJSON, line protocol)."}, "code": {"type": "string"}, "message": {"type": "string"}}},
  "IngestResult": {"type": "object", "properties": {"accepted": {"type": "integer"},
    "rejected": {"type": "array", "items": {"$ref": "#/components/schemas/IngestRejection"}}}},
  "IngestError": {"type": "object", "properties": {"error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"},
    "details": {"type": "array", "items": {"$ref": "#/components/schemas/IngestRejection"}}}}}},
  "HistorySeries": {"type": "object", "properties": {"twin": {"type": "string"}, "component": {"type": "string"}, "name": {"type": "string"},
    "type": {"type": "string", "enum": ["float64", "int64", "boolean", "string"]},
    "columns": {"type": "array", "items": {"type": "string"}, "description": "ts, then value or one column per aggregate."},
    "points": {"type": "array", "items": {"type": "array"}, "description": "Rows [ts (ns since 1970), value...]; aggregates over empty buckets are null."},
    "truncated": {"type": "boolean"}}},
  "HistoryModelAnswer": {"type": "object", "properties": {"series": {"type": "array", "items": {"$ref": "#/components/schemas/HistorySeries"}}}},
)" + history_export_schema() + R"(
}}})";
}

}  // namespace castor::api
