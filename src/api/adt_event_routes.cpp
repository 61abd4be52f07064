// ADT event routes: /eventroutes[/{id}]; and the live stream of endpoint "default".
#include "api/adt_event_routes.hpp"

#include "api/adt_common.hpp"
#include "api/webhook_sender.hpp"
#include "rules/mqtt_sender.hpp"

namespace castor::api {
namespace {

constexpr std::size_t kRoutePage = 100;
constexpr const char* kEventRouteSchema =
    R"({"type":"object","required":["endpointName","filter"],"properties":{)"
    R"("id":{"type":"string","readOnly":true},"endpointName":{"type":"string"},)"
    R"("filter":{"type":"string","description":"The ADT route filter language; true routes every event."}}})";

std::string schema_content(const std::string& schema) {
  return R"({"application/json":{"schema":)" + schema + "}}";
}

std::string fragment(int success, bool request_body, const std::string& response_schema,
                     bool paged) {
  std::string out = "{";
  if (request_body)
    out +=
        R"("requestBody":{"required":true,"content":)" + schema_content(kEventRouteSchema) + "},";
  out += R"("responses":{")" + std::to_string(success) + R"(":{"description":"Success")";
  if (!response_schema.empty()) out += R"(,"content":)" + schema_content(response_schema);
  out += "}}";
  if (paged)
    out +=
        R"(,"parameters":[{"name":"max-items-per-page","in":"header","required":false,)"
        R"("description":"Largest page to return; follow nextLink for more.","schema":{"type":"integer"}}])";
  return out + "}";
}

RouteSpec spec(Method m, std::string path, Access access, std::string op, std::string summary,
               std::string fragment_json) {
  RouteSpec s;
  s.method = m;
  s.path = std::move(path);
  s.access = access;
  s.api_version = ApiVersion::required;
  s.openapi = {std::move(op), std::move(summary), {"EventRoutes"}, std::move(fragment_json)};
  return s;
}

void put_route(AdtContext& ctx, rules::EventRouting& routing, const HttpRequest& req,
               const Responder& resp) {
  auto body = adt::json_body(req);
  if (!body) return adt::fail(resp, body.status());
  auto route = rules::parse_route_body(*body);
  if (!route) return adt::fail(resp, route.status());
  ctx.worker.post([&routing, id = std::string(req.param("id")), route = std::move(*route), resp] {
    Status s = routing.put_route(id, route);
    if (!s.is_ok()) return adt::fail(resp, s);
    resp.respond(HttpResponse::empty(204));
  });
}

void list_routes(AdtContext& ctx, rules::EventRouting& routing, const HttpRequest& req,
                 const Responder& resp) {
  auto size = adt::page_size(req, kRoutePage, kRoutePage);
  if (!size) return adt::fail(resp, size.status());
  auto page_offset = adt::page_offset(req);
  if (!page_offset) return adt::fail(resp, page_offset.status());
  std::size_t offset = *page_offset;
  std::vector<std::string> items;
  for (const auto& r : routing.routes()) items.push_back(rules::to_json(r));
  resp.respond(HttpResponse::json(200, adt::page_body(items, offset, *size, req, ctx.tls)));
}

// Ends the subscription when the client goes away.
class EventStreamListener final : public StreamListener {
 public:
  EventStreamListener(rules::LiveStream& live, std::shared_ptr<rules::LiveStream::Subscription> s)
      : live_(live), subscription_(std::move(s)) {}
  void on_close() override { live_.unsubscribe(subscription_); }

 private:
  rules::LiveStream& live_;
  std::shared_ptr<rules::LiveStream::Subscription> subscription_;
};

std::shared_ptr<StreamListener> open_event_stream(rules::EventRouting& routing,
                                                  std::shared_ptr<StreamSink> sink) {
  // The first message says from when on events arrive (clients wait for it before acting).
  auto subscription = routing.live().subscribe(
      [sink](const std::string& m) { return sink->send(m); },
      routing.control_event("Castor.Events.Subscribed", R"({"endpoint":"default"})"));
  return std::make_shared<EventStreamListener>(routing.live(), std::move(subscription));
}

}  // namespace

void register_event_route_routes(Router& router, AdtContext& ctx, rules::EventRouting& routing) {
  const std::string route_schema = kEventRouteSchema;
  const std::string collection =
      R"({"type":"object","required":["value"],"properties":{"value":{"type":"array","items":)" +
      route_schema + R"(},"nextLink":{"type":"string"}}})";
  router.add(
      spec(Method::put, "/eventroutes/{id}", Access::admin, "EventRoutes_Add",
           "Adds or replaces an event route", fragment(204, true, "", false)),
      [&ctx, &routing](HttpRequest req, Responder resp) { put_route(ctx, routing, req, resp); });
  router.add(spec(Method::get, "/eventroutes/{id}", Access::viewer, "EventRoutes_GetById",
                  "Retrieves an event route", fragment(200, false, route_schema, false)),
             [&routing](HttpRequest req, Responder resp) {
               auto r = routing.get_route(req.param("id"));
               if (!r) return adt::fail(resp, r.status());
               resp.respond(HttpResponse::json(200, rules::to_json(*r)));
             });
  router.add(
      spec(Method::get, "/eventroutes", Access::viewer, "EventRoutes_List",
           "Lists the event routes", fragment(200, false, collection, true)),
      [&ctx, &routing](HttpRequest req, Responder resp) { list_routes(ctx, routing, req, resp); });
  router.add(spec(Method::delete_, "/eventroutes/{id}", Access::admin, "EventRoutes_Delete",
                  "Deletes an event route", fragment(204, false, "", false)),
             [&ctx, &routing](HttpRequest req, Responder resp) {
               ctx.worker.post([&routing, id = std::string(req.param("id")), resp] {
                 Status s = routing.delete_route(id);
                 if (!s.is_ok()) return adt::fail(resp, s);
                 resp.respond(HttpResponse::empty(204));
               });
             });
  RouteSpec stream;
  stream.path = "/castor/v1/events";
  stream.access = Access::viewer;
  stream.openapi = {"Events_Stream",
                    "The live event stream (endpoint \"default\"): CloudEvents over WebSocket or "
                    "Server-Sent Events",
                    {"Events"},
                    ""};
  router.add_stream(std::move(stream),
                    [&routing](const HttpRequest&, std::shared_ptr<StreamSink> sink) {
                      return open_event_stream(routing, std::move(sink));
                    });
}

Result<std::unique_ptr<rules::EventRouting>> open_event_routing(twin::Engine& engine,
                                                                const Config& config,
                                                                metrics::Registry& registry) {
  rules::RoutingOptions o;
  o.data_dir = config.data_dir;
  o.source = config.event_source;
  o.routes_limit = config.event_routes_limit;
  o.stream_queue = config.event_stream_queue;
  o.endpoints = config.endpoints;
  o.senders = endpoint_senders();
  o.metrics = &registry;
  return rules::EventRouting::open(engine, std::move(o));
}

rules::SenderFactory endpoint_senders() {
  return [](const EndpointConfig& e) -> Result<std::unique_ptr<rules::EndpointSender>> {
    if (e.kind == "webhook") return make_webhook_sender(e);
    if (e.kind == "mqtt") return rules::make_mqtt_sender(e);
    return invalid_argument("endpoint '" + e.name + "' has kind '" + e.kind +
                            "'; use webhook or mqtt");
  };
}

}  // namespace castor::api
