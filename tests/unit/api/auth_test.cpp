#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "api/auth.hpp"
#include "api/token_store.hpp"
#include "test_dir.hpp"

namespace castor::api {
namespace {

TEST(Tokens, AreRandomUrlSafeAndLongEnough) {
  std::string a = generate_token(), b = generate_token();
  EXPECT_NE(a, b);
  ASSERT_TRUE(a.starts_with("castor_"));
  std::string secret = a.substr(7);
  EXPECT_EQ(secret.size(), 43u);  // 32 bytes in unpadded base64url
  for (char c : secret) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
  }
}

TEST(Tokens, HashIsSha256Hex) {
  // SHA-256("abc")
  EXPECT_EQ(hash_token("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(token_id_for_hash(hash_token("abc")), "ba7816bf8f01");
}

TEST(Roles, AccessMatrix) {
  EXPECT_TRUE(role_allows(Role::viewer, Access::viewer));
  EXPECT_FALSE(role_allows(Role::viewer, Access::operator_));
  EXPECT_TRUE(role_allows(Role::operator_, Access::operator_));
  EXPECT_FALSE(role_allows(Role::operator_, Access::admin));
  EXPECT_TRUE(role_allows(Role::admin, Access::admin));
  EXPECT_TRUE(role_allows(Role::admin, Access::device));
  EXPECT_TRUE(role_allows(Role::device, Access::device));
  EXPECT_FALSE(role_allows(Role::device, Access::viewer));
  EXPECT_TRUE(role_allows(Role::device, Access::anyone));
  EXPECT_EQ(parse_role("operator"), Role::operator_);
  EXPECT_FALSE(parse_role("root").has_value());
}

TEST(Principal, DeviceScopeUsesExactIdsAndStarPrefixes) {
  Principal p{"id", "dev", Role::device, {"robot-1", "line2-*"}};
  EXPECT_TRUE(p.may_access_twin("robot-1"));
  EXPECT_FALSE(p.may_access_twin("robot-10"));
  EXPECT_TRUE(p.may_access_twin("line2-conveyor"));
  EXPECT_FALSE(p.may_access_twin("line3-conveyor"));
  Principal admin{"id", "a", Role::admin, {}};
  EXPECT_TRUE(admin.may_access_twin("anything"));
}

TEST(TokenStore, CreateListRevokeAndFileHoldsOnlyHashes) {
  castor::testing::TempDir dir;
  TokenStore store(TokenStore::path_in(dir.path()));
  ASSERT_TRUE(store.load().is_ok());
  auto created = store.create("ops", Role::operator_, {});
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  EXPECT_EQ(store.list().size(), 1u);
  auto principal = store.authenticate(created->token);
  ASSERT_NE(principal, nullptr);
  EXPECT_EQ(principal->name, "ops");
  EXPECT_EQ(principal->role, Role::operator_);
  EXPECT_EQ(store.authenticate("castor_wrong"), nullptr);

  std::ifstream in(TokenStore::path_in(dir.path()));
  std::string file((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(file.find(created->token.substr(7)), std::string::npos) << "secret stored in clear";
  EXPECT_NE(file.find(created->record.hash), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(TokenStore::path_in(dir.path()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  EXPECT_EQ(store.create("ops", Role::viewer, {}).status().code(), Code::already_exists);
  ASSERT_TRUE(store.revoke("ops").is_ok());
  EXPECT_EQ(store.authenticate(created->token), nullptr);
  EXPECT_EQ(store.revoke("ops").status().code(), Code::not_found);
}

TEST(TokenStore, ValidatesDeviceTwinsAndNames) {
  castor::testing::TempDir dir;
  TokenStore store(TokenStore::path_in(dir.path()));
  EXPECT_EQ(store.create("d", Role::device, {}).status().code(), Code::invalid_argument);
  EXPECT_EQ(store.create("v", Role::viewer, {"x"}).status().code(), Code::invalid_argument);
  EXPECT_EQ(store.create("d", Role::device, {"a*b"}).status().code(), Code::invalid_argument);
  EXPECT_EQ(store.create("bad name", Role::viewer, {}).status().code(), Code::invalid_argument);
  auto d = store.create("", Role::device, {"robot-*"});
  ASSERT_TRUE(d.is_ok());
  EXPECT_TRUE(d->record.name.starts_with("device-"));
  EXPECT_EQ(store.authenticate(d->token)->twins, std::vector<std::string>{"robot-*"});
}

// A server's store and a CLI's store on one token file; the server checks the file every time.
class TwoProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    server.set_reload_interval(std::chrono::milliseconds(0));
    ASSERT_TRUE(server.load().is_ok());
  }
  castor::testing::TempDir dir;
  TokenStore server{TokenStore::path_in(dir.path())};
  TokenStore cli{TokenStore::path_in(dir.path())};
};

TEST_F(TwoProcesses, ServerPicksUpTokensCreatedAndRevokedByAnotherProcess) {
  auto created = cli.create("late", Role::viewer, {});
  ASSERT_TRUE(created.is_ok());
  EXPECT_NE(server.authenticate(created->token), nullptr);
  ASSERT_TRUE(cli.revoke(created->record.id).is_ok());
  EXPECT_EQ(server.authenticate(created->token), nullptr);
}

TEST_F(TwoProcesses, AConnectionsMemoAnswersOnlyItsOwnTokenAndOnlyUntilTheStoreChanges) {
  auto a = cli.create("a", Role::viewer, {});
  auto b = cli.create("b", Role::operator_, {});
  ASSERT_TRUE(a.is_ok() && b.is_ok());

  TokenMemo memo;
  auto first = server.authenticate(a->token, &memo);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(memo.token, a->token);
  EXPECT_EQ(memo.principal, first);
  // Answered from the memo: a principal put there is what comes back for the same token...
  auto marked = std::make_shared<const Principal>(Principal{"m", "memo", Role::viewer, {}});
  memo.principal = marked;
  EXPECT_EQ(server.authenticate(a->token, &memo), marked);
  // ...but never for another token, valid or not.
  auto other = server.authenticate(b->token, &memo);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->name, "b");
  EXPECT_EQ(server.authenticate(std::string(a->token) + "x", &memo), nullptr);
  EXPECT_EQ(memo.token, b->token) << "a failed check leaves the last good token";

  // A revocation (by another process) makes the memo stale: the token is checked again.
  ASSERT_TRUE(cli.revoke("b").is_ok());
  EXPECT_EQ(server.authenticate(b->token, &memo), nullptr);
  EXPECT_NE(server.authenticate(a->token, &memo), nullptr);
}

TEST(TokenStore, BrokenFileIsAnErrorThatSaysHowToFixIt) {
  castor::testing::TempDir dir;
  std::ofstream(TokenStore::path_in(dir.path())) << "{not json";
  TokenStore store(TokenStore::path_in(dir.path()));
  Status s = store.load();
  EXPECT_EQ(s.code(), Code::invalid_argument);
  EXPECT_NE(s.message().find("castor token create"), std::string::npos);
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store = std::make_unique<TokenStore>(TokenStore::path_in(dir.path()));
    viewer = store->create("viewer", Role::viewer, {})->token;
    device = store->create("dev", Role::device, {"robot-*"})->token;
  }
  HttpRequest request(std::string token, std::string twin = "") {
    HttpRequest r;
    if (!token.empty()) r.headers.add("Authorization", "Bearer " + token);
    r.params.add("id", std::move(twin));
    return r;
  }
  castor::testing::TempDir dir;
  std::unique_ptr<TokenStore> store;
  std::string viewer, device;
};

TEST_F(AuthenticatorTest, MissingOrBadTokenIs401WithChallenge) {
  Authenticator auth(store.get());
  RouteSpec route{.access = Access::viewer};
  auto r1 = request("");
  auto denied = auth.authorize(r1, route);
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->status, 401);
  EXPECT_EQ(denied->headers.get("WWW-Authenticate"), "Bearer realm=\"castor\"");
  EXPECT_NE(denied->body.find("\"code\":\"Unauthorized\""), std::string::npos);
  auto r2 = request("castor_nope");
  denied = auth.authorize(r2, route);
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->status, 401);
  EXPECT_NE(denied->headers.get("WWW-Authenticate")->find("invalid_token"), std::string::npos);
}

TEST_F(AuthenticatorTest, StreamRoutesAlsoTakeTheTokenAsAQueryParameter) {
  Authenticator auth(store.get());
  RouteSpec stream{.access = Access::viewer, .token_in_query = true};
  HttpRequest r;
  r.query.add("access_token", viewer);
  EXPECT_FALSE(auth.authorize(r, stream).has_value());
  EXPECT_EQ(r.principal->name, "viewer");
  HttpRequest bad;
  bad.query.add("access_token", "castor_nope");
  EXPECT_EQ(auth.authorize(bad, stream)->status, 401);
  // Other routes never read tokens from URLs (they end up in logs and browser history).
  HttpRequest plain;
  plain.query.add("access_token", viewer);
  auto denied = auth.authorize(plain, RouteSpec{.access = Access::viewer});
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->status, 401);
  HttpRequest none;
  EXPECT_NE(auth.authorize(none, stream)->body.find("access_token"), std::string::npos);
}

TEST_F(AuthenticatorTest, WrongRoleIs403AndRightRolePasses) {
  Authenticator auth(store.get());
  auto r = request(viewer);
  EXPECT_FALSE(auth.authorize(r, RouteSpec{.access = Access::viewer}).has_value());
  EXPECT_EQ(r.principal->name, "viewer");
  auto denied = auth.authorize(r, RouteSpec{.access = Access::operator_});
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->status, 403);
  EXPECT_NE(denied->body.find("operator or admin"), std::string::npos);
}

TEST_F(AuthenticatorTest, DeviceTokensOnlyReachTheirOwnTwins) {
  Authenticator auth(store.get());
  RouteSpec ingest{
      .method = Method::post, .path = "/x/{id}", .access = Access::device, .twin_param = "id"};
  auto mine = request(device, "robot-7");
  EXPECT_FALSE(auth.authorize(mine, ingest).has_value());
  auto other = request(device, "conveyor-1");
  auto denied = auth.authorize(other, ingest);
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->status, 403);
  auto read = request(device);
  EXPECT_EQ(auth.authorize(read, RouteSpec{.access = Access::viewer})->status, 403);
}

TEST_F(AuthenticatorTest, InsecureLocalMakesEveryoneTheLocalAdmin) {
  Authenticator auth(nullptr);
  auto r = request("");
  EXPECT_FALSE(auth.authorize(r, RouteSpec{.access = Access::admin}).has_value());
  EXPECT_EQ(r.principal->role, Role::admin);
}

TEST(BearerToken, ParsesSchemeCaseInsensitively) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer  abc "), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token("Bearer"), "");
}

}  // namespace
}  // namespace castor::api
