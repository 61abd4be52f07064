// TwinReadCache with a real twin engine: what a GET would answer from the cache is never older
// than what the engine holds after a put, patch or delete, and the budget holds.
#include "api/twin_read_cache.hpp"

#include <gtest/gtest.h>

#include <future>

#include "test_dir.hpp"
#include "twin/engine.hpp"

namespace castor::api {
namespace {

constexpr std::string_view kModel = R"([{"@context": "dtmi:dtdl:context;3",
  "@id": "dtmi:test:Pump;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "speed", "schema": "double", "writable": true}]}])";

json::value J(std::string_view text) {
  auto v = json::parse(text);
  EXPECT_TRUE(v.is_ok()) << text;
  return v.is_ok() ? *v : json::value();
}

template <class T>
Result<T> wait(std::function<void(twin::Callback<T>)> call) {
  std::promise<Result<T>> p;
  auto f = p.get_future();
  call([&p](Result<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

class TwinReadCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { open(64u << 20); }

  void open(std::size_t budget) {
    engine_.reset();
    cache_ = std::make_shared<TwinReadCache>(budget, registry_);
    twin::EngineOptions o;
    o.data_dir = dir_.path() / "data";
    o.shards = 2;
    o.observers.push_back(cache_);
    auto e = twin::Engine::open(o);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    engine_ = std::move(*e);
    auto models = J(kModel);
    (void)engine_->add_models(
        std::span<const json::value>(models.as_array().data(), models.as_array().size()));
  }

  void put(const std::string& id, double speed) {
    auto r = wait<twin::Rendered>([&](twin::Callback<twin::Rendered> cb) {
      engine_->put_twin(id,
                        J(R"({"$metadata": {"$model": "dtmi:test:Pump;1"}, "speed": )" +
                          std::to_string(speed) + "}"),
                        {}, cb);
    });
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  }

  // What the GET handler does: the cache, else the engine and a fill.
  std::string get(const std::string& id) {
    TwinReadCache::Ticket ticket;
    if (auto hit = cache_->find(id, ticket)) return hit->json;
    auto r = wait<twin::Rendered>([&](twin::Callback<twin::Rendered> cb) { engine_->get_twin(id, cb); });
    if (!r) return "not found";
    cache_->fill(id, ticket, std::make_shared<const TwinReadCache::Entry>(TwinReadCache::Entry{r->json, r->etag}));
    return r->json;
  }

  bool cached(const std::string& id) {
    TwinReadCache::Ticket ticket;
    return cache_->find(id, ticket) != nullptr;
  }

  testing::TempDir dir_;
  metrics::Registry registry_;
  std::shared_ptr<TwinReadCache> cache_;
  std::unique_ptr<twin::Engine> engine_;
};

TEST_F(TwinReadCacheTest, ReadsFillAndEveryChangeForgetsTheTwin) {
  put("pump-1", 1.5);
  EXPECT_FALSE(cached("pump-1"));
  EXPECT_NE(get("pump-1").find("\"speed\":1.5"), std::string::npos);
  EXPECT_TRUE(cached("pump-1"));

  auto etag = wait<std::string>([&](twin::Callback<std::string> cb) {
    engine_->patch_twin("pump-1", J(R"([{"op": "replace", "path": "/speed", "value": 7.25}])"), {}, cb);
  });
  ASSERT_TRUE(etag.is_ok());
  EXPECT_FALSE(cached("pump-1"));
  std::string after = get("pump-1");
  EXPECT_NE(after.find("\"speed\":7.25"), std::string::npos) << after;
  TwinReadCache::Ticket ticket;
  auto entry = cache_->find("pump-1", ticket);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->etag, *etag);

  put("pump-1", 3.0);  // replace
  EXPECT_NE(get("pump-1").find("\"speed\":3"), std::string::npos);

  auto deleted = wait<twin::Rendered>([&](twin::Callback<twin::Rendered> cb) {
    engine_->delete_twin("pump-1", {}, [cb](Status s) {
      cb(s.is_ok() ? Result<twin::Rendered>(twin::Rendered{}) : Result<twin::Rendered>(s));
    });
  });
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_FALSE(cached("pump-1"));
  EXPECT_EQ(get("pump-1"), "not found");
}

TEST_F(TwinReadCacheTest, AFillThatRacedWithAChangeIsRefused) {
  put("pump-2", 1.0);
  TwinReadCache::Ticket ticket;
  ASSERT_EQ(cache_->find("pump-2", ticket), nullptr);
  auto stale = std::make_shared<const TwinReadCache::Entry>(TwinReadCache::Entry{"old", "W/\"old\""});
  put("pump-2", 2.0);  // the change lands between the miss and the fill
  cache_->fill("pump-2", ticket, stale);
  EXPECT_FALSE(cached("pump-2"));
  EXPECT_NE(get("pump-2").find("\"speed\":2"), std::string::npos);
}

TEST_F(TwinReadCacheTest, StaysWithinItsBudget) {
  open(64 * 1024);  // 1 KiB per stripe: a few twins each
  for (int i = 0; i < 400; ++i) put("pump-" + std::to_string(i), i);
  for (int i = 0; i < 400; ++i) get("pump-" + std::to_string(i));
  int kept = 0;
  for (int i = 0; i < 400; ++i) kept += cached("pump-" + std::to_string(i));
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 400);
  EXPECT_NE(get("pump-7").find("\"$dtId\":\"pump-7\""), std::string::npos);
}

TEST_F(TwinReadCacheTest, ZeroBudgetCachesNothing) {
  open(0);
  put("pump-3", 1.0);
  get("pump-3");
  EXPECT_FALSE(cached("pump-3"));
}

}  // namespace
}  // namespace castor::api
