#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include "api/dispatcher.hpp"
#include "api/error.hpp"
#include "api/openapi.hpp"
#include "test_dir.hpp"

namespace castor::api {
namespace {

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens = std::make_unique<TokenStore>(TokenStore::path_in(dir.path()));
    admin = tokens->create("admin", Role::admin, {})->token;
    viewer = tokens->create("viewer", Role::viewer, {})->token;
    audit = AuditLog::open_or_throw(dir.path() / "audit.log", registry);
    auth = std::make_unique<Authenticator>(tokens.get());
    probe = std::make_unique<HttpProbe>(registry);
    router.add({.method = Method::get,
                .path = "/digitaltwins/{id}",
                .access = Access::viewer,
                .api_version = ApiVersion::required},
               sync_handler([](const HttpRequest& r) {
                 return HttpResponse::json(200, "{\"id\":\"" + std::string(r.param("id")) + "\"}");
               }));
    router.add({.method = Method::put, .path = "/digitaltwins/{id}", .access = Access::operator_},
               [](HttpRequest, Responder respond) {
                 // Completes later from another thread, as a shard would.
                 std::thread([respond] { respond(HttpResponse::empty(204)); }).detach();
               });
    router.add(
        {.method = Method::post, .path = "/query", .access = Access::viewer, .read_only = true},
        sync_handler([](const HttpRequest&) { return HttpResponse::json(200, "{}"); }));
    router.add({.method = Method::post, .path = "/drop", .access = Access::admin},
               [](HttpRequest, Responder) {});
    router.add({.method = Method::post, .path = "/throw", .access = Access::admin},
               [](HttpRequest, Responder) -> void { throw std::runtime_error("boom"); });
    dispatcher =
        std::make_unique<Dispatcher>(router, *auth, *audit, *probe, DispatcherOptions{false});
  }

  HttpResponse run(Method method, std::string target, std::string token = "") {
    HttpRequest r;
    r.method = method;
    r.method_text = std::string(method_name(method));
    r.remote_address = "127.0.0.1";
    EXPECT_TRUE(parse_target(target, r).is_ok());
    if (!token.empty()) r.headers.add("Authorization", "Bearer " + token);
    r.headers.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    std::promise<HttpResponse> promise;
    dispatcher->dispatch(
        std::move(r), Responder([&](HttpResponse&& resp) { promise.set_value(std::move(resp)); }),
        nullptr);
    return promise.get_future().get();
  }

  std::string audit_text() {
    std::ifstream in(dir.path() / "audit.log");
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }

  castor::testing::TempDir dir;
  metrics::Registry registry;
  std::unique_ptr<TokenStore> tokens;
  std::string admin, viewer;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<HttpProbe> probe;
  Router router;
  std::unique_ptr<Dispatcher> dispatcher;
};

TEST_F(DispatcherTest, NotFoundAndMethodNotAllowedUseTheAdtErrorShape) {
  auto r = run(Method::get, "/nothing", viewer);
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.starts_with("{\"error\":{\"code\":\"NotFound\",\"message\":")) << r.body;
  EXPECT_EQ(r.headers.get("x-ms-error-code"), "NotFound");
  r = run(Method::delete_, "/digitaltwins/x", admin);
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.headers.get("Allow")->find("PUT"), std::string::npos);
}

TEST_F(DispatcherTest, AdtRoutesRequireAPublishedApiVersion) {
  auto r = run(Method::get, "/digitaltwins/t1", viewer);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("MissingApiVersionParameter"), std::string::npos);
  r = run(Method::get, "/digitaltwins/t1?api-version=1999-01-01", viewer);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("2023-10-31"), std::string::npos) << "names the supported versions";
  r = run(Method::get, "/digitaltwins/t%201?api-version=2020-10-31", viewer);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"id\":\"t 1\"}");
}

TEST_F(DispatcherTest, AuthRunsBeforeHandlers) {
  EXPECT_EQ(run(Method::get, "/digitaltwins/t1?api-version=2023-10-31").status, 401);
  EXPECT_EQ(run(Method::put, "/digitaltwins/t1", viewer).status, 403);
  EXPECT_EQ(run(Method::put, "/digitaltwins/t1", admin).status, 204);
}

TEST_F(DispatcherTest, MutationsAreAuditedBeforeTheyAreAcknowledged) {
  HttpRequest r;
  r.method = Method::put;
  r.method_text = "PUT";
  ASSERT_TRUE(parse_target("/digitaltwins/robot-1?secret=x", r).is_ok());
  r.headers.add("Authorization", "Bearer " + admin);
  r.headers.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  std::promise<std::string> seen;
  dispatcher->dispatch(std::move(r),
                       Responder([&](HttpResponse&&) { seen.set_value(audit_text()); }), nullptr);
  std::string at_ack = seen.get_future().get();
  EXPECT_NE(at_ack.find("\"principal\":\"admin\""), std::string::npos) << at_ack;
  EXPECT_NE(at_ack.find("\"method\":\"PUT\",\"path\":\"/digitaltwins/robot-1\",\"status\":204"),
            std::string::npos)
      << at_ack;
  EXPECT_NE(at_ack.find("\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\""), std::string::npos);
  EXPECT_EQ(at_ack.find("secret"), std::string::npos) << "query strings stay out of the audit log";
}

TEST_F(DispatcherTest, ReadsAndReadOnlyPostsAreNotAuditedButRejectedMutationsAre) {
  run(Method::get, "/digitaltwins/t1?api-version=2023-10-31", viewer);
  run(Method::post, "/query", viewer);
  EXPECT_EQ(audit_text(), "");
  EXPECT_EQ(run(Method::put, "/digitaltwins/t1").status, 401);
  EXPECT_NE(audit_text().find("\"status\":401"), std::string::npos);
}

TEST_F(DispatcherTest, DroppedOrThrowingHandlersStillAnswer500) {
  EXPECT_EQ(run(Method::post, "/drop", admin).status, 500);
  auto r = run(Method::post, "/throw", admin);
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("0af7651916cd43dd8448eb211c80319c"), std::string::npos);
}

TEST_F(DispatcherTest, RejectionsAreCountedAndAudited) {
  HttpRequest r;
  r.method = Method::post;
  r.method_text = "POST";
  r.path = "/digitaltwins/x";
  std::promise<int> status;
  dispatcher->reject(std::move(r), HttpResponse::empty(413),
                     Responder([&](HttpResponse&& resp) { status.set_value(resp.status); }));
  EXPECT_EQ(status.get_future().get(), 413);
  EXPECT_NE(audit_text().find("\"status\":413"), std::string::npos);
}

TEST_F(DispatcherTest, MetricsUseRouteTemplatesNotRawPaths) {
  run(Method::get, "/digitaltwins/t1?api-version=2023-10-31", viewer);
  run(Method::get, "/digitaltwins/t2?api-version=2023-10-31", viewer);
  run(Method::get, "/nothing/here", viewer);
  std::string text = registry.expose();
  EXPECT_NE(text.find("castor_http_requests_total{route=\"/digitaltwins/{id}\",method=\"GET\","
                      "status=\"200\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"unmatched\""), std::string::npos);
  EXPECT_EQ(text.find("t1"), std::string::npos);
  EXPECT_NE(text.find("castor_http_request_duration_seconds_bucket{route=\"/digitaltwins/{id}\""),
            std::string::npos);
}

TEST(OpenApi, DocumentListsRoutesWithParametersAccessAndFragments) {
  Router router;
  router.add({.method = Method::get,
              .path = "/digitaltwins/{id}",
              .access = Access::viewer,
              .api_version = ApiVersion::required,
              .openapi = {.operation_id = "DigitalTwins_GetById",
                          .summary = "Retrieves a digital twin.",
                          .tags = {"Twins"},
                          .fragment = R"({"responses":{"200":{"description":"The twin"}}})"}},
             sync_handler([](const HttpRequest&) { return HttpResponse::empty(200); }));
  OpenApiDocument doc("0.1.0");
  ASSERT_TRUE(
      doc.merge_static(R"({"components":{"schemas":{"DigitalTwin":{"type":"object"}}}})").is_ok());
  std::string text = json::serialize(doc.build(router));
  EXPECT_NE(text.find("\"openapi\":\"3.0.3\""), std::string::npos);
  EXPECT_NE(text.find("\"operationId\":\"DigitalTwins_GetById\""), std::string::npos);
  EXPECT_NE(text.find("\"x-castor-access\":\"viewer\""), std::string::npos);
  EXPECT_NE(text.find("\"name\":\"api-version\""), std::string::npos);
  EXPECT_NE(text.find("\"name\":\"id\",\"in\":\"path\""), std::string::npos);
  EXPECT_NE(text.find("\"200\":{\"description\":\"The twin\"}"), std::string::npos);
  EXPECT_NE(text.find("\"ErrorResponse\""), std::string::npos);
  EXPECT_NE(text.find("\"DigitalTwin\":{\"type\":\"object\"}"), std::string::npos);
  Router bad;
  bad.add({.path = "/x", .openapi = {.fragment = "[1]"}},
          sync_handler([](const HttpRequest&) { return HttpResponse::empty(200); }));
  EXPECT_THROW(doc.build(bad), std::logic_error);
}

}  // namespace
}  // namespace castor::api

namespace castor::api {
namespace {

TEST(ErrorResponse, UsesTheStatusReasonAsTheAdtCode) {
  auto r = error_response(not_found("No twin 'x'.").with_reason("DigitalTwinNotFound"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":{"code":"DigitalTwinNotFound","message":"No twin 'x'."}})");
  EXPECT_EQ(r.headers.get("x-ms-error-code"), "DigitalTwinNotFound");
  EXPECT_EQ(error_response(invalid_argument("bad")).headers.get("x-ms-error-code"),
            "InvalidArgument");
  EXPECT_EQ(error_response(Status(Code::failed_precondition, "etag")).status, 412);
}

}  // namespace
}  // namespace castor::api
