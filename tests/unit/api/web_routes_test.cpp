// The dashboard's static-file routes: index.html and hashed assets with content types and cache
// validators, the "not built" page, and refusals of names that try to leave the web root.
#include <gtest/gtest.h>

#include <fstream>

#include "api/router.hpp"
#include "api/web_routes.hpp"
#include "common/json.hpp"
#include "test_dir.hpp"

namespace castor::api {
namespace {

void write(const std::filesystem::path& p, std::string_view text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

class WebRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = dir.path() / "dist";
    write(root / "index.html", "<!doctype html><title>Castor</title>");
    write(root / "assets/index.B3xYz12a.js", "console.log(1)");
    write(root / "assets/plain.css", "body{}");
    write(dir.path() / "secret.txt", "secret");
  }

  HttpResponse get(const std::string& target, Headers headers = {}) {
    HttpRequest req;
    EXPECT_TRUE(parse_target(target, req).is_ok()) << target;
    req.headers = std::move(headers);
    auto m = router.match(Method::get, req.segments);
    auto* hit = std::get_if<RouteMatch>(&m);
    if (!hit) return HttpResponse::empty(0);  // no route at all
    req.params = hit->params;
    HttpResponse out;
    hit->route->handler(std::move(req),
                        Responder([&out](HttpResponse&& r) { out = std::move(r); }));
    return out;
  }

  castor::testing::TempDir dir;
  std::filesystem::path root;
  Router router;
};

TEST_F(WebRoutesTest, ServesIndexWithAnEtagThatRevalidates) {
  register_web_routes(router, root.string());
  auto r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, "<!doctype html><title>Castor</title>");
  EXPECT_EQ(r.headers.get("Cache-Control"), "no-cache");
  auto etag = std::string(r.headers.get("ETag").value_or(""));
  ASSERT_FALSE(etag.empty());
  Headers h;
  h.add("If-None-Match", etag);
  auto again = get("/", h);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  write(root / "index.html", "<!doctype html><title>Castor 2</title>");
  EXPECT_EQ(get("/", h).status, 200) << "a rebuilt index.html has a new ETag";
}

TEST_F(WebRoutesTest, HashedAssetsAreImmutableOthersRevalidate) {
  register_web_routes(router, root.string());
  auto js = get("/assets/index.B3xYz12a.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
  auto css = get("/assets/plain.css");
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  EXPECT_EQ(css.headers.get("Cache-Control"), "no-cache");
}

TEST_F(WebRoutesTest, MissingAndEscapingNamesAreNotFoundInTheAdtShape) {
  register_web_routes(router, root.string());
  for (const char* target :
       {"/assets/nope.js", "/assets/..%2F..%2Fsecret.txt", "/assets/..%2Findex.html",
        "/assets/.hidden", "/assets/%2Fetc%2Fpasswd", "/assets/a%5C..%5Cb"}) {
    auto r = get(target);
    EXPECT_EQ(r.status, 404) << target;
    auto doc = json::parse(r.body);
    ASSERT_TRUE(doc) << r.body;
    EXPECT_EQ(json::sv(doc->as_object().at("error").as_object().at("code").as_string()),
              "FileNotFound");
    EXPECT_EQ(r.body.find("secret"), std::string::npos);
  }
  EXPECT_EQ(get("/assets").status, 0) << "only files inside assets/ are routes";
  EXPECT_EQ(get("/secret.txt").status, 0);
}

TEST_F(WebRoutesTest, UnbuiltOrUnconfiguredSaysHowToBuild) {
  register_web_routes(router, (dir.path() / "missing").string());
  auto r = get("/");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("npm run build"), std::string::npos);
  Router none;
  register_web_routes(none, "");
  HttpRequest req;
  ASSERT_TRUE(parse_target("/", req).is_ok());
  auto m = none.match(Method::get, req.segments);
  HttpResponse out;
  std::get<RouteMatch>(m).route->handler(
      std::move(req), Responder([&out](HttpResponse&& x) { out = std::move(x); }));
  EXPECT_EQ(out.status, 503);
  EXPECT_NE(out.body.find("--web-root"), std::string::npos);
}

TEST(WebContentType, ByExtension) {
  EXPECT_EQ(web_content_type("a.svg"), "image/svg+xml");
  EXPECT_EQ(web_content_type("a.woff2"), "font/woff2");
  EXPECT_EQ(web_content_type("a.unknown"), "application/octet-stream");
  EXPECT_EQ(web_content_type(".js"), "application/octet-stream");
  EXPECT_TRUE(web_file_is_hashed("three.BCNxZvu-.js"));
  EXPECT_TRUE(web_file_is_hashed("index.D0GcuLnn.css"));
  EXPECT_FALSE(web_file_is_hashed("index.js"));
  EXPECT_FALSE(web_file_is_hashed("jquery.min.js"));
}

}  // namespace
}  // namespace castor::api
