// Scatter-gather over shards: one task per listed shard, run on that shard's thread, and one
// continuation once all of them ran, on the thread of the last one (or the caller's, when no task
// could be posted). Tasks read their shard only; results travel back by value. Never blocks:
// a full shard queue is reported as "overloaded" instead of waited out.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/status.hpp"
#include "twin/engine.hpp"

namespace castor::query {

inline Status overloaded() {
  return Status(Code::unavailable,
                "Castor is overloaded (a shard's task queue is full); retry the query shortly.",
                "ServiceUnavailable");
}

template <class R>
using ShardTask = std::function<void(twin::Shard& shard, std::size_t task, R& out)>;
template <class R>
using Gathered = std::function<void(std::vector<R> results, Status status)>;

// Runs `task` for task index i on shard shards[i]; `done` gets every result in task order.
template <class R>
void scatter(twin::Engine& engine, const std::vector<std::size_t>& shards, ShardTask<R> task,
             Gathered<R> done) {
  struct State {
    std::vector<R> results;
    std::atomic<std::size_t> left{0};
    std::mutex mu;
    Status status;
    ShardTask<R> task;
    Gathered<R> done;
    void finish() {
      if (left.fetch_sub(1) != 1) return;
      Status s;
      {
        std::lock_guard lock(mu);
        s = std::move(status);
      }
      done(std::move(results), std::move(s));
    }
  };
  auto st = std::make_shared<State>();
  st->results.resize(shards.size());
  st->left = shards.size() + 1;  // +1 held by this function until every task is posted
  st->task = std::move(task);
  st->done = std::move(done);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const bool posted = engine.run_on_shard(shards[i], [st, i](twin::Shard& s) {
      st->task(s, i, st->results[i]);
      st->finish();
    });
    if (!posted) {
      {
        std::lock_guard lock(st->mu);
        st->status = overloaded();
      }
      st->finish();
    }
  }
  st->finish();
}

// Every shard index of the engine.
inline std::vector<std::size_t> all_shards(const twin::Engine& engine) {
  std::vector<std::size_t> v(engine.shard_count());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

}  // namespace castor::query
