#include <gtest/gtest.h>

#include <stdexcept>

#include "api/http.hpp"
#include "api/router.hpp"

namespace castor::api {
namespace {

Handler noop() {
  return [](HttpRequest, Responder r) { r.respond(HttpResponse::empty(204)); };
}

std::vector<std::string> segments_of(std::string_view target) {
  HttpRequest r;
  EXPECT_TRUE(parse_target(target, r).is_ok()) << target;
  return r.segments;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.add({.method = Method::get, .path = "/digitaltwins/{id}"}, noop());
    router.add({.method = Method::put, .path = "/digitaltwins/{id}"}, noop());
    router.add({.method = Method::get, .path = "/digitaltwins/{id}/relationships/{relationshipId}"},
               noop());
    router.add({.method = Method::get, .path = "/jobs/imports/{id}"}, noop());
    router.add({.method = Method::post, .path = "/jobs/imports/{id}/cancel"}, noop());
    router.add({.method = Method::get, .path = "/models"}, noop());
    router.add({.method = Method::get, .path = "/models/special"}, noop());
    router.add({.method = Method::get, .path = "/models/{id}"}, noop());
  }
  Router router;
};

TEST_F(RouterTest, MatchesTemplatesAndCapturesDecodedParameters) {
  auto m = router.match(Method::get, segments_of("/digitaltwins/robot%2F1/relationships/r%201"));
  auto* hit = std::get_if<RouteMatch>(&m);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->route->spec.path, "/digitaltwins/{id}/relationships/{relationshipId}");
  EXPECT_EQ(hit->params.get("id"), "robot/1");
  EXPECT_EQ(hit->params.get("relationshipId"), "r 1");
}

TEST_F(RouterTest, LiteralSegmentsWinOverParameters) {
  auto m = router.match(Method::get, segments_of("/models/special"));
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(m));
  EXPECT_EQ(std::get<RouteMatch>(m).route->spec.path, "/models/special");
  auto p = router.match(Method::get, segments_of("/models/dtmi:x:y;1"));
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(p));
  EXPECT_EQ(std::get<RouteMatch>(p).params.get("id"), "dtmi:x:y;1");
}

TEST_F(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  EXPECT_TRUE(std::holds_alternative<NoRoute>(router.match(Method::get, segments_of("/nope"))));
  EXPECT_TRUE(
      std::holds_alternative<NoRoute>(router.match(Method::get, segments_of("/digitaltwins/a/b"))));
  auto m = router.match(Method::delete_, segments_of("/digitaltwins/x"));
  auto* na = std::get_if<MethodNotAllowed>(&m);
  ASSERT_NE(na, nullptr);
  EXPECT_NE(std::find(na->allowed.begin(), na->allowed.end(), Method::get), na->allowed.end());
  EXPECT_NE(std::find(na->allowed.begin(), na->allowed.end(), Method::put), na->allowed.end());
}

TEST_F(RouterTest, EmptySegmentNeverMatchesAParameter) {
  EXPECT_TRUE(std::holds_alternative<NoRoute>(
      router.match(Method::get, segments_of("/digitaltwins//relationships/x"))));
  EXPECT_TRUE(std::holds_alternative<NoRoute>(router.match(Method::get, segments_of("/models/"))));
}

TEST_F(RouterTest, HeadFallsBackToGet) {
  auto m = router.match(Method::head, segments_of("/models"));
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(m));
}

TEST_F(RouterTest, MethodAwareBacktracking) {
  // POST exists only under the parameter branch's child; the literal branch must not shadow it.
  auto m = router.match(Method::post, segments_of("/jobs/imports/j1/cancel"));
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(m));
  EXPECT_EQ(std::get<RouteMatch>(m).params.get("id"), "j1");
}

TEST(Router, RejectsMalformedAndDuplicateTemplates) {
  Router r;
  EXPECT_THROW(r.add({.path = "no-slash"}, noop()), std::logic_error);
  EXPECT_THROW(r.add({.path = "/a//b"}, noop()), std::logic_error);
  EXPECT_THROW(r.add({.path = "/a/{b"}, noop()), std::logic_error);
  EXPECT_THROW(r.add({.path = "/a/{}"}, noop()), std::logic_error);
  r.add({.path = "/a/{id}"}, noop());
  EXPECT_THROW(r.add({.path = "/a/{id}"}, noop()), std::logic_error);
  EXPECT_THROW(r.add({.path = "/a/{other}/x"}, noop()), std::logic_error);
  EXPECT_THROW(r.add({.path = "/b/{id}", .twin_param = "twin"}, noop()), std::logic_error);
  r.freeze();
  EXPECT_THROW(r.add({.path = "/late"}, noop()), std::logic_error);
}

TEST(ParseTarget, DecodesQueryAndRejectsMalformedTargets) {
  HttpRequest r;
  ASSERT_TRUE(parse_target("/query?api-version=2023-10-31&x=a+b&y=%26", r).is_ok());
  EXPECT_EQ(r.path, "/query");
  EXPECT_EQ(r.query.get("api-version"), "2023-10-31");
  EXPECT_EQ(r.query.get("x"), "a b");
  EXPECT_EQ(r.query.get("y"), "&");
  HttpRequest bad;
  EXPECT_FALSE(parse_target("/a%zz", bad).is_ok());
  EXPECT_FALSE(parse_target("http://example.com/x", bad).is_ok());
}

// Targets whose characters all stand for themselves skip Boost.URL; each must parse exactly as
// the same target with its letters percent-encoded, which only Boost.URL's path takes.
TEST(ParseTarget, LiteralTargetsParseAsTheirPercentEncodedTwins) {
  auto encode_letters = [](std::string_view t) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : t) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        out += '%';
        out += kHex[static_cast<unsigned char>(c) >> 4];
        out += kHex[c & 15];
      } else {
        out += c;
      }
    }
    return out;
  };
  for (std::string_view t :
       {"/digitaltwins/robot-01-01?api-version=2023-10-31", "/a", "/a/", "/a/b/c/", "/models",
        "/models/dtmi:castor:Robot;1?includeModelDefinition=true&api-version=2023-10-31",
        "/q?x", "/q?x=", "/q?x=1&x=2&y", "/q?a=b=c", "/q?next=/a/b?c", "/a;b/c@d/e$f",
        "/a'(b)*,c!~d_e.f", "/q?x=1&", "/q?&x=1", "/q?x=1&&y=2", "/q?", "/a//b", "/./a",
        "/a/../b", "/a/.", "/", "//a", "/q?a=%"}) {
    HttpRequest literal, encoded;
    Status a = parse_target(t, literal);
    Status b = parse_target(encode_letters(t), encoded);
    ASSERT_EQ(a.is_ok(), b.is_ok()) << t;
    if (!a.is_ok()) continue;
    EXPECT_EQ(literal.path, std::string(t.substr(0, t.find('?'))));
    EXPECT_EQ(literal.segments, encoded.segments) << t;
    std::vector<std::pair<std::string, std::string>> qa(literal.query.begin(), literal.query.end()),
        qb(encoded.query.begin(), encoded.query.end());
    EXPECT_EQ(qa, qb) << t;
  }
  HttpRequest r;
  ASSERT_TRUE(parse_target("/digitaltwins/robot-1/relationships?relationshipName=feeds", r).is_ok());
  EXPECT_EQ(r.segments, (std::vector<std::string>{"digitaltwins", "robot-1", "relationships"}));
  EXPECT_EQ(r.query.get("relationshipName"), "feeds");
}

TEST(Headers, LookupIgnoresCase) {
  Headers h;
  h.add("Content-Type", "a");
  EXPECT_EQ(h.get("content-type"), "a");
  h.set("CONTENT-TYPE", "b");
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.get("Content-Type"), "b");
}

}  // namespace
}  // namespace castor::api
