// Engine: start-up, recovery, models, and the plumbing shared by the operations.
#include "twin/engine.hpp"

#include <sched.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "twin/codec.hpp"

namespace castor::twin {
namespace {

constexpr const char* kModelsFamily = "models";
constexpr const char* kTwinsFamily = "twins";
constexpr const char* kRelationshipsFamily = "relationships";

Nanos to_nanos(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string encode_model(const model::ModelRecord& r) {
  json::object o;
  o["definition"] = r.definition;
  o["uploadTime"] = to_nanos(r.upload_time);
  o["decommissioned"] = r.decommissioned;
  return json::serialize(o);
}

}  // namespace

int http_status_of(const Status& s) {
  if (s.reason() == "PreconditionFailed") return 412;
  switch (s.code()) {
    case Code::ok: return 200;
    case Code::invalid_argument: return 400;
    case Code::not_found: return 404;
    case Code::already_exists: return 409;
    case Code::failed_precondition: return 409;
    case Code::resource_exhausted: return 429;
    case Code::unauthenticated: return 401;
    case Code::permission_denied: return 403;
    case Code::unavailable: return 503;
    case Code::aborted: return 409;
    case Code::unimplemented: return 501;
    case Code::internal: return 500;
  }
  return 500;
}

Engine::Engine(EngineOptions options) : options_(std::move(options)), registry_(options_.models) {}

Engine::~Engine() { close(); }

Result<std::unique_ptr<Engine>> Engine::open(EngineOptions options) {
  std::unique_ptr<Engine> e(new Engine(std::move(options)));
  std::vector<std::string> families{kModelsFamily, kTwinsFamily, kRelationshipsFamily, "event_routes", "jobs"};
  families.insert(families.end(), e->options_.extra_column_families.begin(), e->options_.extra_column_families.end());
  // Twins are read from the store only by the start-up scan; every patch writes one.
  store::StoreOptions store_options = e->options_.store;
  store_options.unsorted_memtable_families.push_back(kTwinsFamily);
  auto st = store::Store::open(e->options_.data_dir / "store", families, store_options);
  if (!st) return st.status();
  e->store_ = std::move(*st);
  e->models_cf_ = *e->store_->column_family(kModelsFamily);
  e->twins_cf_ = *e->store_->column_family(kTwinsFamily);
  e->relationships_cf_ = *e->store_->column_family(kRelationshipsFamily);
  std::size_t n = e->options_.shards ? e->options_.shards : std::max(1u, std::thread::hardware_concurrency());
  ShardContext ctx{e->store_.get(), e->twins_cf_, e->relationships_cf_, &e->events_, e->options_.shard_queue_limit};
  if (sched_getaffinity(0, sizeof ctx.cpus, &ctx.cpus) != 0) CPU_ZERO(&ctx.cpus);
  e->wakes_ = std::make_unique<WakeDeferral>(n);
  ctx.wakes = e->wakes_.get();
  for (const auto& o : e->options_.observers) {
    o->on_open(n);
    ctx.observers.push_back(o.get());
  }
  for (std::size_t i = 0; i < n; ++i) e->shards_.push_back(std::make_unique<Shard>(i, ctx));
  // Shards run during recovery: they decode and index their own twins in parallel.
  for (auto& shard : e->shards_) shard->start();
  Status s = e->recover();
  if (!s.is_ok()) return s;
  return e;
}

void Engine::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& s : shards_) s->stop();
  if (store_) store_->close();
}

bool Engine::healthy() const {
  for (const auto& s : shards_)
    if (s->failed()) return false;
  return true;
}

std::size_t Engine::shard_of(std::string_view twin_id) const {
  return std::hash<std::string_view>{}(twin_id) % shards_.size();
}

Status Engine::post_task(std::string_view twin_id, Shard::Task task) {
  if (run_on_owner(twin_id, std::move(task))) return Status::ok();
  return Status(Code::unavailable,
                "Castor is overloaded (shard " + std::to_string(shard_of(twin_id)) +
                    " queue is full); retry shortly",
                "ServiceUnavailable");
}

bool Engine::run_on_owner(std::string_view twin_id, Shard::Task task) {
  return shards_[shard_of(twin_id)]->post(std::move(task));
}

void Engine::spread(const std::vector<std::size_t>& shards) {
  const int here = sched_getcpu();
  for (std::size_t i : shards)
    if (!shards_[i]->is_this_thread()) shards_[i]->avoid_cpu(here);
}

bool Engine::run_on_shard(std::size_t index, Shard::Task task) { return shards_[index]->post(std::move(task)); }
bool Engine::run_on_shard_first(std::size_t index, Shard::Task task) {
  return shards_[index]->post_first(std::move(task));
}

bool Engine::defer_wakes_on_this_thread() {
  return wakes_->begin();
}

void Engine::wake_deferred() {
  wakes_->flush([this](std::size_t i) { shards_[i]->wake(); });
}

void Engine::stop_deferring_wakes() {
  for (std::size_t i : wakes_->end()) shards_[i]->wake();
}

void Engine::for_each_shard(std::function<void(Shard&)> fn, std::function<void()> done) {
  auto remaining = std::make_shared<std::atomic<std::size_t>>(shards_.size());
  auto shared_fn = std::make_shared<std::function<void(Shard&)>>(std::move(fn));
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (auto& s : shards_) {
    auto task = [remaining, shared_fn, shared_done](Shard& sh) {
      (*shared_fn)(sh);
      if (--*remaining == 0) (*shared_done)();
    };
    while (!s->post(task)) {
      wake_deferred();
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}

// --- recovery ---

Status Engine::recover() {
  CASTOR_RETURN_IF_ERROR(recover_models());
  CASTOR_RETURN_IF_ERROR(recover_twins());
  return recover_relationships();
}

Status Engine::recover_models() {
  std::vector<model::ModelRecord> records;
  for (auto it = store_->scan_prefix(models_cf_, "", nullptr, store::ScanMode::bulk); it.valid(); it.next()) {
    auto v = json::parse(it.value());
    if (!v || !v->is_object()) return internal_error("stored model '" + std::string(it.key()) + "' is corrupt");
    const auto& o = v->get_object();
    model::ModelRecord r;
    r.id = std::string(it.key());
    if (const auto* d = o.if_contains("definition")) r.definition = *d;
    long long t = 0;
    if (const auto* u = o.if_contains("uploadTime")) json::as_int64(*u, t);
    r.upload_time = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(t)));
    if (const auto* dc = o.if_contains("decommissioned"); dc && dc->is_bool()) r.decommissioned = dc->get_bool();
    records.push_back(std::move(r));
  }
  if (options_.progress) options_.progress("models", records.size(), records.size());
  if (records.empty()) return Status::ok();
  return registry_.restore(std::move(records));
}

namespace {

// Hands work to shard threads in chunks during recovery and waits for them.
class RecoveryFeeder {
 public:
  explicit RecoveryFeeder(std::vector<std::unique_ptr<Shard>>& shards) : shards_(shards) {}

  void post(std::size_t shard, Shard::Task task) {
    while (!shards_[shard]->post(task)) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  // Waits until every task posted so far has run (shard queues are FIFO).
  void barrier() {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t left = shards_.size();
    for (std::size_t i = 0; i < shards_.size(); ++i)
      post(i, [&](Shard&) {
        std::lock_guard lock(mu);
        if (--left == 0) cv.notify_one();
      });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return left == 0; });
  }
  void fail(Status s) {
    std::lock_guard lock(mu_);
    if (error_.is_ok()) error_ = std::move(s);
  }
  Status error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  std::vector<std::unique_ptr<Shard>>& shards_;
  std::mutex mu_;
  Status error_;
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;
constexpr std::size_t kRecoveryChunk = 2048;

}  // namespace

Status Engine::recover_twins() {
  RecoveryFeeder feeder(shards_);
  std::atomic<std::size_t> loaded{0};
  std::vector<KeyValues> chunks(shards_.size());
  auto dispatch = [&](std::size_t i) {
    auto chunk = std::make_shared<KeyValues>(std::move(chunks[i]));
    chunks[i].clear();
    feeder.post(i, [this, chunk, &feeder, &loaded](Shard& s) {
      auto resolve = [this](std::string_view id) { return registry_.interface(id); };
      for (auto& [key, value] : *chunk) {
        auto t = std::make_unique<Twin>();
        Status st = decode_twin(key, value, resolve, *t);
        if (!st.is_ok()) return feeder.fail(st);
        s.insert_recovered(std::move(t));
        ++loaded;
      }
    });
  };
  std::size_t n = 0;
  auto it = store_->scan_prefix(twins_cf_, "", nullptr, store::ScanMode::bulk);
  for (; it.valid(); it.next()) {
    std::size_t i = shard_of(it.key());
    chunks[i].emplace_back(std::string(it.key()), std::string(it.value()));
    if (chunks[i].size() >= kRecoveryChunk) dispatch(i);
    if (++n % 100000 == 0 && options_.progress) options_.progress("twins", n, 0);
  }
  CASTOR_RETURN_IF_ERROR(it.status());
  for (std::size_t i = 0; i < chunks.size(); ++i) dispatch(i);
  feeder.barrier();
  CASTOR_RETURN_IF_ERROR(feeder.error());
  twin_count_ = loaded.load();
  if (options_.progress) options_.progress("twins", n, n);
  return Status::ok();
}

Status Engine::recover_relationships() {
  RecoveryFeeder feeder(shards_);
  std::atomic<std::size_t> attached{0};
  std::vector<KeyValues> by_source(shards_.size());
  std::vector<std::vector<std::pair<std::string, IncomingEdge>>> by_target(shards_.size());
  auto dispatch_source = [&](std::size_t i) {
    auto chunk = std::make_shared<KeyValues>(std::move(by_source[i]));
    by_source[i].clear();
    feeder.post(i, [chunk, &feeder, &attached](Shard& s) {
      for (auto& [key, value] : *chunk) {
        std::string_view source, rel_id;
        split_relationship_key(key, source, rel_id);
        Relationship r;
        Status st = decode_relationship(rel_id, value, r);
        if (!st.is_ok()) return feeder.fail(st);
        if (Twin* src = s.find(source)) {
          src->outgoing().push_back(std::move(r));
          ++attached;
        }
      }
    });
  };
  auto dispatch_target = [&](std::size_t i) {
    auto chunk = std::make_shared<std::vector<std::pair<std::string, IncomingEdge>>>(std::move(by_target[i]));
    by_target[i].clear();
    feeder.post(i, [chunk](Shard& s) {
      for (auto& [target, edge] : *chunk) s.add_incoming(target, std::move(edge));
    });
  };
  std::size_t n = 0;
  auto it = store_->scan_prefix(relationships_cf_, "", nullptr, store::ScanMode::bulk);
  for (; it.valid(); it.next()) {
    std::string_view source, rel_id;
    if (!split_relationship_key(it.key(), source, rel_id)) return internal_error("corrupt relationship key");
    Relationship r;
    CASTOR_RETURN_IF_ERROR(decode_relationship(rel_id, it.value(), r));
    std::size_t si = shard_of(source), ti = shard_of(r.target);
    by_target[ti].emplace_back(r.target, IncomingEdge{std::string(source), r.id, r.name, false});
    by_source[si].emplace_back(std::string(it.key()), std::string(it.value()));
    if (by_source[si].size() >= kRecoveryChunk) dispatch_source(si);
    if (by_target[ti].size() >= kRecoveryChunk) dispatch_target(ti);
    if (++n % 100000 == 0 && options_.progress) options_.progress("relationships", n, 0);
  }
  CASTOR_RETURN_IF_ERROR(it.status());
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    dispatch_source(i);
    dispatch_target(i);
  }
  feeder.barrier();
  CASTOR_RETURN_IF_ERROR(feeder.error());
  relationship_count_ = attached.load();
  if (options_.progress) options_.progress("relationships", n, n);
  return Status::ok();
}

// --- models ---

model::AddResult Engine::add_models(std::span<const json::value> models) {
  std::lock_guard lock(models_mu_);
  model::AddResult r = registry_.add(models);
  if (!r.status.is_ok()) return r;
  store::WriteBatch batch;
  for (const auto& rec : r.added) batch.put(models_cf_, rec->id, encode_model(*rec));
  auto committed = store_->commit_sync(std::move(batch));
  if (!committed) {
    for (const auto& rec : r.added) (void)registry_.remove(rec->id);
    r.added.clear();
    r.status = Status(Code::unavailable, "the models could not be stored: " + committed.status().message(),
                      "ServiceUnavailable");
  }
  return r;
}

Status Engine::decommission_model(std::string_view id) {
  std::lock_guard lock(models_mu_);
  Status s = registry_.decommission(id);
  if (!s.is_ok()) return s.code() == Code::not_found ? s.with_reason("ModelNotFound") : s;
  auto rec = registry_.get(id);
  return store_->put(models_cf_, id, encode_model(*rec));
}

Status Engine::delete_model(std::string_view id) {
  std::lock_guard lock(models_mu_);
  model::RecordPtr record = registry_.get(id);
  Status s = registry_.remove(id);
  if (s.code() == Code::not_found) return s.with_reason("ModelNotFound");
  if (s.code() == Code::failed_precondition) return s.with_reason("ModelReferencesNotDeleted");
  if (!s.is_ok()) return s;
  // The model is out of the registry, so no new twin can use it; count those that do. Twins
  // keep their model's definition, so a model in use is not deleted (restarts would lose it).
  std::atomic<std::size_t> users{0};
  std::mutex mu;
  std::condition_variable cv;
  bool counted = false;
  for_each_shard(
      [&](Shard& sh) {
        sh.for_each_twin([&](const Twin& t) {
          if (t.model == record->compiled) ++users;
        });
      },
      [&] {
        std::lock_guard l(mu);
        counted = true;
        cv.notify_one();
      });
  wake_deferred();  // this thread may defer wakes: the shards must run before it waits
  {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return counted; });
  }
  if (users > 0) {
    registry_.reinstate(record);
    return Status(Code::failed_precondition,
                  std::to_string(users.load()) + " twins use model " + std::string(id) +
                      "; delete or re-create them with another model first (or decommission the model)",
                  "ModelReferencesNotDeleted");
  }
  return store_->erase(models_cf_, id);
}

}  // namespace castor::twin
