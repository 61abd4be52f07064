// Shard: one thread that owns a subset of the twins (by hash of $dtId) and applies every mutation
// of them in order, so the write path takes no locks. Other threads post tasks; a shard drains
// its queue in batches, writes one store batch per drain (group commit) and runs the drain's
// completions only once that batch is durable. Never blocks on another shard.
#pragma once

#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/strings.hpp"
#include "store/store.hpp"
#include "twin/events.hpp"
#include "twin/shard_observer.hpp"
#include "twin/twin.hpp"
#include "twin/twin_table.hpp"
#include "twin/wake_deferral.hpp"

namespace castor::twin {

struct ShardContext {
  store::Store* store = nullptr;
  store::ColumnFamily twins_cf;
  store::ColumnFamily relationships_cf;
  EventBus* events = nullptr;
  std::size_t queue_limit = 65536;  // tasks waiting per shard before posts are refused
  std::vector<ShardObserver*> observers;  // told of every twin change, on the shard thread
  WakeDeferral* wakes = nullptr;          // threads that wake shards once per burst (optional)
  cpu_set_t cpus{};                       // the CPUs the process may use (Shard::avoid_cpu)
};

// An incoming relationship, kept on the shard that owns its target.
struct IncomingEdge {
  std::string source;
  std::string relationship_id;
  std::string name;
  bool pending = false;  // reserved by a relationship being created, not yet committed
};

class Shard {
 public:
  using Task = std::function<void(Shard&)>;
  using Completion = std::function<void(const Status&)>;

  Shard(std::size_t index, const ShardContext& ctx);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  void start();
  // Runs every queued task, waits for their commits, then stops the thread.
  void stop();
  // Queues a task; false when the queue is full (the caller answers "overloaded"). Wakes the
  // shard, unless the calling thread defers wakes (ShardContext::wakes) and will call wake().
  bool post(Task t);
  // Like post, but the task runs before every task post() queued that has not started yet (in
  // the order post_first was called among themselves): work that already waited its turn once,
  // such as the writing half of a batch checked on several shards, is not queued behind newer
  // work again. Same limit and wake rules as post.
  bool post_first(Task t);
  // Wakes the shard if it sleeps (a deferred wake); any thread.
  void wake();
  // Any thread, before posting long work here while the calling thread keeps its CPU busy with
  // work of its own: the shard's next turn (the tasks it takes up after this call) runs on the
  // other CPUs. Linux tends to wake a thread on the CPU of the thread that woke it, so that both
  // would share one CPU while another idles. The shard takes back every CPU after that turn.
  // No-op with a single usable CPU.
  void avoid_cpu(int cpu);
  bool is_this_thread() const noexcept { return thread_.get_id() == std::this_thread::get_id(); }

  // --- for tasks, on the shard thread only ---
  std::size_t index() const noexcept { return index_; }
  Twin* find(std::string_view id) { return twins_.find(id); }
  // Starts loading what find(id) reads first: batched readers call it a few ids ahead.
  void prefetch(std::string_view id) const noexcept { twins_.prefetch(id); }
  // find() of every id of a batch into out (same length), their memory loads overlapped.
  template <class Id>
  void find_all(std::span<const Id> ids, std::span<Twin*> out) const noexcept {
    twins_.find_all(ids, out);
  }
  Twin& insert(std::unique_ptr<Twin> t);
  // For an id known to be absent (start-up, bulk import after find()): no lookup first.
  void insert_recovered(std::unique_ptr<Twin> t);
  void erase(std::string_view id);
  // Tells the observers that `t` was changed in place (insert and erase tell them themselves).
  void twin_changed(const Twin& t);
  // Changes whenever a twin is added, replaced or removed, so a Twin* (and its model's content
  // pointers) found earlier on this shard is still the twin of that id while it is unchanged.
  std::uint64_t twin_set_epoch() const noexcept { return twin_set_epoch_; }
  std::size_t twin_count() const noexcept { return twins_.size(); }
  template <class F>
  void for_each_twin(F&& f) const {
    twins_.for_each_while([&](const Twin& t) {
      f(t);
      return true;
    });
  }
  // Like for_each_twin, but stops as soon as `f` returns false (early-stopping scans).
  template <class F>
  void for_each_twin_while(F&& f) const {
    twins_.for_each_while(f);
  }
  // Up to `max` twin ids, in no particular order (delete jobs take twins away in slices).
  std::vector<std::string> some_ids(std::size_t max) const;
  std::vector<IncomingEdge>* incoming(std::string_view target);
  void add_incoming(std::string_view target, IncomingEdge e);
  void remove_incoming(std::string_view target, std::string_view source, std::string_view rel_id);
  void drop_incoming(std::string_view target);  // forgets every incoming edge of `target`

  store::WriteBatch& batch() { return batch_; }
  const ShardContext& context() const { return ctx_; }
  // Runs `fn` once this drain's writes are durable (on the committer thread), or at once with an
  // error if they fail; runs it right away when the drain wrote nothing.
  void after_commit(Completion fn);
  // Publishes `e` after this drain's writes are durable.
  void publish_after_commit(std::shared_ptr<ChangeEvent> e);
  std::uint64_t new_etag();
  Nanos now() const;
  bool failed() const noexcept { return failed_.load(); }

  // --- any thread ---
  std::size_t queue_depth() const noexcept { return depth_.load(std::memory_order_relaxed); }
  std::uint64_t tasks_run() const noexcept { return tasks_run_.load(std::memory_order_relaxed); }
  std::uint64_t commits() const noexcept { return commits_.load(std::memory_order_relaxed); }

 private:
  bool enqueue(Task t, bool first);
  void run();
  void take_back_cpus();  // after a turn narrowed by avoid_cpu, on the shard thread
  void flush();

  const std::size_t index_;
  ShardContext ctx_;
  TwinTable twins_;
  StringMap<std::vector<IncomingEdge>> incoming_;  // looked up by string_view, no allocation
  store::WriteBatch batch_;
  std::vector<Completion> completions_;
  std::vector<std::shared_ptr<ChangeEvent>> events_;
  std::mt19937_64 rng_;
  std::uint64_t twin_set_epoch_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Task> queue_;
  std::vector<Task> first_;  // post_first's tasks, run before queue_'s
  bool stopping_ = false;
  bool sleeping_ = false;  // the shard waits on cv_ for tasks
  std::thread thread_;
  std::atomic<std::size_t> depth_{0};
  std::atomic<std::uint64_t> tasks_run_{0};
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> avoiding_{false};  // avoid_cpu narrowed the thread's CPUs
  // Commits in flight: stop() waits for them so completions never outlive the shard.
  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  std::size_t inflight_ = 0;
};

}  // namespace castor::twin
