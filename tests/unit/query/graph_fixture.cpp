#include "graph_fixture.hpp"

#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <sstream>

namespace castor::query::testing {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  std::mt19937_64 rng(std::random_device{}());
  fs::path p = fs::temp_directory_path() / ("castor-query-test-" + std::to_string(rng()));
  fs::create_directories(p);
  return p;
}

template <class T>
Status wait_value(const std::function<void(twin::Callback<T>)>& call) {
  std::promise<Status> p;
  auto f = p.get_future();
  call([&p](Result<T> r) { p.set_value(r.status()); });
  return f.get();
}

Status wait_done(const std::function<void(twin::Done)>& call) {
  std::promise<Status> p;
  auto f = p.get_future();
  call([&p](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

}  // namespace

json::value read_json_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto v = json::parse(text.str());
  return v ? std::move(*v) : json::value();
}

Result<std::unique_ptr<GraphFixture>> GraphFixture::load(
    std::string_view name, std::size_t shards, std::shared_ptr<twin::ShardObserver> observer) {
  const fs::path path =
      fs::path(CASTOR_SOURCE_DIR) / "tests/unit/query/graphs" / (std::string(name) + ".json");
  const json::value graph = read_json_file(path);
  if (!graph.is_object()) return invalid_argument("cannot read the graph " + path.string());
  std::unique_ptr<GraphFixture> f(new GraphFixture());
  f->observer_ = std::move(observer);
  CASTOR_RETURN_IF_ERROR(f->open(shards));
  CASTOR_RETURN_IF_ERROR(f->add(graph));
  return f;
}

Result<std::unique_ptr<GraphFixture>> GraphFixture::empty(
    const json::value& models, std::size_t shards, std::shared_ptr<twin::ShardObserver> observer) {
  std::unique_ptr<GraphFixture> f(new GraphFixture());
  f->observer_ = std::move(observer);
  CASTOR_RETURN_IF_ERROR(f->open(shards));
  CASTOR_RETURN_IF_ERROR(f->add(json::object{{"models", models}}));
  return f;
}

GraphFixture::~GraphFixture() {
  engine_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

Status GraphFixture::reopen() {
  engine_.reset();
  twin::EngineOptions options;
  options.data_dir = dir_;
  options.shards = shards_;
  options.store.durability = store::Durability::relaxed;
  if (observer_) options.observers.push_back(observer_);
  auto engine = twin::Engine::open(std::move(options));
  if (!engine) return engine.status();
  engine_ = std::move(*engine);
  return Status::ok();
}

Status GraphFixture::open(std::size_t shards) {
  dir_ = temp_dir();
  shards_ = shards;
  twin::EngineOptions options;
  options.data_dir = dir_;
  options.shards = shards;
  if (observer_) options.observers.push_back(observer_);
  options.store.durability = store::Durability::relaxed;
  auto engine = twin::Engine::open(std::move(options));
  if (!engine) return engine.status();
  engine_ = std::move(*engine);
  return Status::ok();
}

Status GraphFixture::add(const json::value& graph) {
  const json::object& g = graph.get_object();
  if (const json::value* models = g.if_contains("models")) {
    const json::array& list = models->get_array();
    auto r = engine_->add_models(std::span<const json::value>(list.data(), list.size()));
    CASTOR_RETURN_IF_ERROR(r.status);
  }
  if (const json::value* twins = g.if_contains("twins")) {
    for (const json::value& t : twins->get_array()) {
      const std::string id(json::sv(t.get_object().at("$dtId").get_string()));
      Status s = put_twin(id, t);
      if (!s.is_ok()) return invalid_argument("twin " + id + ": " + s.message());
    }
  }
  if (const json::value* rels = g.if_contains("relationships")) {
    for (const json::value& r : rels->get_array()) {
      json::object body = r.get_object();
      const std::string source(json::sv(body.at("$sourceId").get_string()));
      const std::string id(json::sv(body.at("$relationshipId").get_string()));
      body.erase("$sourceId");
      body.erase("$relationshipId");
      Status s = put_relationship(source, id, body);
      if (!s.is_ok()) return invalid_argument("relationship " + id + ": " + s.message());
    }
  }
  return Status::ok();
}

Status GraphFixture::put_twin(const std::string& id, const json::value& body) {
  return wait_value<twin::Rendered>(
      [&](twin::Callback<twin::Rendered> cb) { engine_->put_twin(id, body, {}, std::move(cb)); });
}

namespace {

// Waits for `n` callbacks and keeps the first error.
class Countdown {
 public:
  explicit Countdown(std::size_t n) : left_(n) {}
  void done(const Status& s) {
    std::lock_guard lock(mu_);
    if (!s.is_ok() && first_.is_ok()) first_ = s;
    if (--left_ == 0) cv_.notify_all();
  }
  Status wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return left_ == 0; });
    return first_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t left_;
  Status first_;
};

}  // namespace

Status GraphFixture::put_twins(const std::vector<std::pair<std::string, json::value>>& twins) {
  Countdown c(twins.size());
  for (const auto& [id, body] : twins) {
    engine_->put_twin(id, body, {}, [&c](Result<twin::Rendered> r) { c.done(r.status()); });
  }
  return twins.empty() ? Status::ok() : c.wait();
}

Status GraphFixture::put_relationships(
    const std::vector<std::tuple<std::string, std::string, json::value>>& rels) {
  Countdown c(rels.size());
  for (const auto& [source, id, body] : rels) {
    engine_->put_relationship(source, id, body, {},
                              [&c](Result<twin::Rendered> r) { c.done(r.status()); });
  }
  return rels.empty() ? Status::ok() : c.wait();
}

Status GraphFixture::patch_twin(const std::string& id, const json::value& patch) {
  return wait_value<std::string>(
      [&](twin::Callback<std::string> cb) { engine_->patch_twin(id, patch, {}, std::move(cb)); });
}

Status GraphFixture::delete_twin(const std::string& id) {
  return wait_done([&](twin::Done cb) { engine_->delete_twin(id, {}, std::move(cb)); });
}

Status GraphFixture::put_relationship(const std::string& source, const std::string& id,
                                      const json::value& body) {
  return wait_value<twin::Rendered>([&](twin::Callback<twin::Rendered> cb) {
    engine_->put_relationship(source, id, body, {}, std::move(cb));
  });
}

Status GraphFixture::delete_relationship(const std::string& source, const std::string& id) {
  return wait_done(
      [&](twin::Done cb) { engine_->delete_relationship(source, id, {}, std::move(cb)); });
}

}  // namespace castor::query::testing
