#include "twin/shard.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <iterator>

namespace castor::twin {

Shard::Shard(std::size_t index, const ShardContext& ctx)
    : index_(index), ctx_(ctx), rng_(std::random_device{}() ^ (index * 0x9E3779B97F4A7C15ULL)) {}

Shard::~Shard() { stop(); }

void Shard::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Shard::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::unique_lock lock(inflight_mu_);
  inflight_cv_.wait(lock, [this] { return inflight_ == 0; });
}

bool Shard::post(Task t) {
  return enqueue(std::move(t), false);
}

bool Shard::post_first(Task t) {
  return enqueue(std::move(t), true);
}

bool Shard::enqueue(Task t, bool first) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() + first_.size() >= ctx_.queue_limit) return false;
    (first ? first_ : queue_).push_back(std::move(t));
    depth_.store(queue_.size() + first_.size(), std::memory_order_relaxed);
    // A busy shard finds the task when its drain ends; a sleeping one needs a wake, now or at
    // the end of the posting thread's burst.
    wake = sleeping_ && !(ctx_.wakes && ctx_.wakes->defer(index_));
    if (wake) sleeping_ = false;
  }
  if (wake) cv_.notify_one();
  return true;
}

void Shard::wake() {
  bool wake;
  {
    std::lock_guard lock(mu_);
    wake = sleeping_;
    sleeping_ = false;
  }
  if (wake) cv_.notify_one();
}

void Shard::avoid_cpu(int cpu) {
  cpu_set_t set = ctx_.cpus;
  if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set)) return;
  CPU_CLR(cpu, &set);
  if (CPU_COUNT(&set) == 0 || !thread_.joinable()) return;
  if (pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set) == 0)
    avoiding_.store(true, std::memory_order_release);
}

void Shard::take_back_cpus() {
  // A newer avoid_cpu (posted during this turn) narrowed the set for the next turn: keep it.
  if (avoiding_.load(std::memory_order_acquire)) return;
  pthread_setaffinity_np(pthread_self(), sizeof ctx_.cpus, &ctx_.cpus);
}

void Shard::run() {
  pthread_setname_np(pthread_self(), ("castor-shard-" + std::to_string(index_)).substr(0, 15).c_str());
  std::vector<Task> work;
  while (true) {
    {
      std::unique_lock lock(mu_);
      // sleeping_ is set again after every wake-up that finds nothing to do (a deferred wake
      // can arrive after another poster's wake already ran the task).
      while (!stopping_ && queue_.empty() && first_.empty()) {
        sleeping_ = true;
        cv_.wait(lock);
      }
      sleeping_ = false;
      if (queue_.empty() && first_.empty() && stopping_) break;
      if (first_.empty()) {
        work.swap(queue_);
      } else {
        work.swap(first_);
        work.insert(work.end(), std::make_move_iterator(queue_.begin()),
                    std::make_move_iterator(queue_.end()));
        queue_.clear();
      }
      depth_.store(0, std::memory_order_relaxed);
    }
    // A turn that starts after avoid_cpu runs wholly off that CPU; the next one may use all.
    const bool narrowed = avoiding_.exchange(false, std::memory_order_acq_rel);
    for (auto& task : work) task(*this);
    tasks_run_.fetch_add(work.size(), std::memory_order_relaxed);
    work.clear();
    flush();
    if (narrowed) take_back_cpus();
  }
}

void Shard::flush() {
  if (batch_.empty()) {
    // Nothing to make durable (reads, no-op writes, telemetry): complete and publish at once.
    auto done = std::move(completions_);
    auto events = std::move(events_);
    completions_.clear();
    events_.clear();
    if (ctx_.events)
      for (auto& e : events) ctx_.events->publish(std::move(e));
    for (auto& fn : done) fn(Status::ok());
    return;
  }
  struct Pending {
    std::vector<Completion> completions;
    std::vector<std::shared_ptr<ChangeEvent>> events;
  };
  auto pending = std::make_shared<Pending>();
  pending->completions = std::move(completions_);
  pending->events = std::move(events_);
  completions_.clear();
  events_.clear();
  {
    std::lock_guard lock(inflight_mu_);
    ++inflight_;
  }
  auto done = [this, pending](const Status& s, store::Lsn) {
    if (!s.is_ok()) failed_.store(true);
    Status reply = s.is_ok() ? s
                             : Status(Code::unavailable,
                                      "the write could not be made durable (" + s.message() +
                                          "); Castor stopped accepting writes — check the disk and restart it",
                                      "ServiceUnavailable");
    // Events first: once a client has its answer, subscribers have the event too.
    if (s.is_ok() && ctx_.events)
      for (auto& e : pending->events) ctx_.events->publish(std::move(e));
    for (auto& fn : pending->completions) fn(reply);
    commits_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(inflight_mu_);
    if (--inflight_ == 0) inflight_cv_.notify_all();
  };
  store::WriteBatch batch = std::move(batch_);
  batch_ = store::WriteBatch();
  while (true) {
    Status s = ctx_.store->commit(std::move(batch), done);
    if (s.is_ok()) return;
    if (s.code() != Code::resource_exhausted) {
      done(s, 0);
      return;
    }
    // The store's queue is full: hold this drain (backpressure) until it has room.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

Twin& Shard::insert(std::unique_ptr<Twin> t) {
  ++twin_set_epoch_;
  Twin& ref = twins_.put(std::move(t));
  twin_changed(ref);
  return ref;
}

void Shard::insert_recovered(std::unique_ptr<Twin> t) {
  ++twin_set_epoch_;
  twin_changed(twins_.put_absent(std::move(t)));
}

void Shard::erase(std::string_view id) {
  ++twin_set_epoch_;
  if (ctx_.observers.empty()) {
    twins_.erase(id);
    return;
  }
  if (twins_.find(id) == nullptr) return;
  const std::string kept(id);  // `id` may view the erased twin's own id
  twins_.erase(kept);
  for (ShardObserver* o : ctx_.observers) o->on_twin_changed(index_, kept, nullptr);
}

void Shard::twin_changed(const Twin& t) {
  for (ShardObserver* o : ctx_.observers) o->on_twin_changed(index_, t.id, &t);
}

std::vector<std::string> Shard::some_ids(std::size_t max) const {
  std::vector<std::string> ids;
  ids.reserve(std::min(max, twins_.size()));
  twins_.for_each_while([&](const Twin& t) {
    if (ids.size() >= max) return false;
    ids.emplace_back(t.id);
    return true;
  });
  return ids;
}

std::vector<IncomingEdge>* Shard::incoming(std::string_view target) {
  auto it = incoming_.find(target);
  return it == incoming_.end() ? nullptr : &it->second;
}

void Shard::add_incoming(std::string_view target, IncomingEdge e) {
  auto it = incoming_.find(target);
  if (it == incoming_.end()) it = incoming_.emplace(std::string(target), std::vector<IncomingEdge>()).first;
  it->second.push_back(std::move(e));
}

void Shard::remove_incoming(std::string_view target, std::string_view source, std::string_view rel_id) {
  auto it = incoming_.find(target);
  if (it == incoming_.end()) return;
  std::erase_if(it->second, [&](const IncomingEdge& e) { return e.source == source && e.relationship_id == rel_id; });
  if (it->second.empty()) incoming_.erase(it);
}

void Shard::drop_incoming(std::string_view target) {
  if (auto it = incoming_.find(target); it != incoming_.end()) incoming_.erase(it);
}

void Shard::after_commit(Completion fn) { completions_.push_back(std::move(fn)); }

void Shard::publish_after_commit(std::shared_ptr<ChangeEvent> e) { events_.push_back(std::move(e)); }

std::uint64_t Shard::new_etag() { return rng_(); }

Nanos Shard::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace castor::twin
