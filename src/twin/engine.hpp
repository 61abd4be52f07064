// Engine: the twin core. Owns the store, the model registry, the shards and the event bus; offers
// the operations of the Azure Digital Twins data plane (models, twins, components,
// relationships, telemetry) as asynchronous calls whose callbacks run exactly once, on a shard or
// committer thread, only after any write they made is durable. Every write is validated against
// the compiled model first; an invalid write changes nothing. Errors carry ADT error codes in
// Status::reason().
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/status.hpp"
#include "model/registry.hpp"
#include "store/store.hpp"
#include "twin/bulk.hpp"
#include "twin/commit_record.hpp"
#include "twin/events.hpp"
#include "twin/shard.hpp"

namespace castor::twin {

struct EngineOptions {
  std::filesystem::path data_dir;
  // Shards (threads owning twins). Default 0: one per hardware thread.
  std::size_t shards = 0;
  store::StoreOptions store;
  model::RegistryOptions models;
  // Tasks queued per shard before callers get "overloaded" (HTTP 503). Default 65,536.
  std::size_t shard_queue_limit = 65536;
  // ADT's limits on relationships per twin (outgoing, and incoming). Default 50,000 each.
  std::size_t max_relationships_per_twin = 50000;
  // Column families that layers above keep in the same store (history), so that their writes
  // join the shards' group commits.
  std::vector<std::string> extra_column_families;
  // Told of every twin change on its shard's thread, recovery included (e.g. query indexes).
  std::vector<std::shared_ptr<ShardObserver>> observers;
  // Progress of start-up recovery: (phase, done, total or 0 when unknown).
  std::function<void(std::string_view, std::size_t, std::size_t)> progress;
};

template <class T>
using Callback = std::function<void(Result<T>)>;
using Done = std::function<void(Status)>;

// A rendered resource and its ETag (for the ETag response header).
struct Rendered {
  std::string json;
  std::string etag;
};

struct Page {
  std::vector<std::string> items;  // rendered JSON values
  std::string continuation;        // empty on the last page
};

struct Conditions {
  std::string if_match;         // "" (none), "*" or an ETag list
  bool if_none_match_star = false;
  // patch_twin/patch_component: written into the mutation's batch when it writes (see
  // CommitRecord); optional.
  std::shared_ptr<CommitRecord> commit_record;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> open(EngineOptions options);
  ~Engine();
  void close();  // drains shards, closes the store; idempotent

  model::ModelRegistry& models() { return registry_; }
  EventBus& events() { return events_; }
  store::Store& store() { return *store_; }
  std::size_t shard_count() const { return shards_.size(); }
  const Shard& shard(std::size_t i) const { return *shards_[i]; }
  std::size_t shard_of(std::string_view twin_id) const;
  std::size_t twin_count() const { return twin_count_.load(); }
  std::size_t relationship_count() const { return relationship_count_.load(); }
  bool healthy() const;  // false after a storage failure

  // --- models (synchronous: rare, and they wait for their own commit) ---
  model::AddResult add_models(std::span<const json::value> models);
  Status decommission_model(std::string_view id);
  Status delete_model(std::string_view id);

  // --- twins ---
  void get_twin(std::string id, Callback<Rendered> done);
  void put_twin(std::string id, json::value body, Conditions c, Callback<Rendered> done);
  void patch_twin(std::string id, json::value patch, Conditions c, Callback<std::string> done);  // new ETag
  void delete_twin(std::string id, Conditions c, Done done);
  void get_component(std::string id, std::string component, Callback<Rendered> done);
  void patch_component(std::string id, std::string component, json::value patch, Conditions c,
                       Callback<std::string> done);

  // --- relationships ---
  void get_relationship(std::string id, std::string rel_id, Callback<Rendered> done);
  void put_relationship(std::string id, std::string rel_id, json::value body, Conditions c,
                        Callback<Rendered> done);
  void patch_relationship(std::string id, std::string rel_id, json::value patch, Conditions c,
                          Callback<std::string> done);
  void delete_relationship(std::string id, std::string rel_id, Conditions c, Done done);
  // Outgoing relationships, optionally only those named `name`.
  void list_relationships(std::string id, std::string name, Callback<std::vector<std::string>> done);
  void list_incoming(std::string id, Callback<std::vector<std::string>> done);

  // --- telemetry ---
  void send_telemetry(std::string id, std::string component, json::value payload, std::string message_id,
                      Nanos source_time, Done done);

  // --- bulk and scans ---
  // Runs `fn` on every shard thread (e.g. query scatter); `done` runs after all returned.
  void for_each_shard(std::function<void(Shard&)> fn, std::function<void()> done);
  // Runs `task` on the shard that owns `twin_id` (or on shard `index`); false when that shard's
  // queue is full. Tasks may read and change the shard's twins; they must not block.
  bool run_on_owner(std::string_view twin_id, Shard::Task task);
  bool run_on_shard(std::size_t index, Shard::Task task);
  // Before posting long tasks to `shards` while this thread works too: those shards run on the
  // other CPUs (Shard::avoid_cpu), so that the work overlaps.
  void spread(const std::vector<std::size_t>& shards);
  // Like run_on_shard, but ahead of the tasks already waiting there (Shard::post_first): for the
  // second half of work whose first half already waited its turn on that shard.
  bool run_on_shard_first(std::size_t index, Shard::Task task);

  // --- deferred wakes (the HTTP IO threads; see WakeDeferral) ---
  // The calling thread's posts to sleeping shards wake them only at wake_deferred() (or after
  // a burst of tasks). Such a thread calls wake_deferred() before it blocks or idles.
  bool defer_wakes_on_this_thread();
  void wake_deferred();
  void stop_deferring_wakes();

  // --- bulk import and delete (import and delete jobs; engine_bulk*.cpp) ---
  // These block or wait on the calling thread: never call them from a shard task or a commit
  // callback. They publish no change events (an import is one job, not a million twin events).
  //
  // Validates twins against their models, builds and encodes them (the expensive part), on the
  // calling thread; several threads may prepare at once.
  PreparedTwins prepare_twins(std::vector<BulkItem> items) const;
  // Creates or replaces prepared twins: each owning shard inserts its share in one task and one
  // store batch. A replace keeps the twin's relationships. `done` runs once, on a committer or
  // shard thread, after every imported twin is durable; it must not block.
  void import_twins(PreparedTwins twins, std::function<void(BulkOutcome)> done);
  // Creates or replaces relationships with the checks of put_relationship (target exists and
  // fits the model, properties, multiplicity, limits); returns once they are durable and listed
  // as incoming relationships of their targets.
  BulkOutcome import_relationships(std::vector<BulkItem> items);
  // Deletes every twin, relationship and model; returns once that is durable. Writes that race
  // with it may survive (ADT asks clients to stop writing during a delete job). `stop` is asked
  // between slices of about 50,000 twins per shard; when it says so the answer is Code::aborted.
  Status delete_all(const std::function<bool()>& stop = {});

 private:
  explicit Engine(EngineOptions options);
  Status recover();
  Status recover_models();
  Status recover_twins();
  Status recover_relationships();
  // Posts to the shard owning `twin_id`; answers "overloaded" through `fail` if its queue is full.
  // `fail` is any callable taking a Status (mostly the caller's own callback, called as it is
  // rather than wrapped in a std::function on every request).
  template <class Fail>
  void post(std::string_view twin_id, Shard::Task task, const Fail& fail) {
    if (Status s = post_task(twin_id, std::move(task)); !s.is_ok()) fail(std::move(s));
  }
  Status post_task(std::string_view twin_id, Shard::Task task);
  void create_relationship_on_source(Shard& s, std::string id, std::string rel_id, json::object body,
                                     Conditions c, model::InterfacePtr target_model, Callback<Rendered> done);
  // Posts to shard `index`, waiting while its queue is full; false if it stays full for seconds.
  bool post_waiting(std::size_t index, const Shard::Task& task);
  struct BulkRelationships;  // engine_bulk_relationships.cpp
  void reserve_targets(BulkRelationships& b);
  void attach_to_sources(BulkRelationships& b);
  void settle_targets(BulkRelationships& b);
  Status delete_all_twins(const std::function<bool()>& stop);
  Status delete_all_models();

  EngineOptions options_;
  std::unique_ptr<store::Store> store_;
  store::ColumnFamily models_cf_, twins_cf_, relationships_cf_;
  model::ModelRegistry registry_;
  EventBus events_;
  std::unique_ptr<WakeDeferral> wakes_;  // before shards_: they point to it
  std::vector<std::unique_ptr<Shard>> shards_;
  std::mutex models_mu_;  // serializes model writes with their persistence
  std::atomic<std::size_t> twin_count_{0};
  std::atomic<std::size_t> relationship_count_{0};
  bool closed_ = false;
};

// Maps a Status from the engine to the ADT error code and HTTP status (for the API layer).
int http_status_of(const Status& s);

}  // namespace castor::twin
