#include "ingest/pipeline.hpp"

#include <pthread.h>

#include <future>

#include "common/log.hpp"

namespace castor::ingest {

Result<std::unique_ptr<IngestPipeline>> IngestPipeline::open(twin::Engine& engine,
                                                             PipelineOptions options) {
  std::unique_ptr<IngestPipeline> p(new IngestPipeline(engine, std::move(options)));
  auto hook = HistoryHook::open(engine, p->options_.history);
  if (!hook) return hook.status();
  p->hook_ = std::move(*hook);
  p->writer_ = std::make_unique<twin::ObservationWriter>(engine, p->hook_.get());
  p->upkeep_ = std::thread([raw = p.get()] { raw->upkeep(); });
  return p;
}

IngestPipeline::~IngestPipeline() {
  close();
}

void IngestPipeline::close() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (upkeep_.joinable()) upkeep_.join();
  // A clean stop leaves the heads in one checkpoint each and an empty WAL, both compacted: the
  // data folder then holds chunks rather than replay records, and the next start replays nothing.
  if (!checkpoint_all()) return;
  if (Status s = history::compact_checkpointed(engine_.store(), hook_->families()); !s.is_ok())
    log::warn("history: compacting heads and WAL at shutdown failed", {{"error", s.message()}});
}

bool IngestPipeline::checkpoint_all() {
  for (std::size_t i = 0; i < engine_.shard_count(); ++i) {
    bool complete = false;
    for (int tries = 0; !complete && tries < 10000; ++tries) {
      auto answer = std::make_shared<std::promise<bool>>();
      auto future = answer->get_future();
      bool posted = engine_.run_on_shard(i, [this, answer](twin::Shard& s) {
        bool done = hook_->partition(s.index()).checkpoint(s.batch());
        s.after_commit([answer, done](const Status& st) { answer->set_value(done && st.is_ok()); });
      });
      if (!posted) {
        const twin::Shard& shard = engine_.shard(i);
        if (shard.queue_depth() < shard.context().queue_limit) return false;  // stopped
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // full: wait for room
        continue;
      }
      complete = future.get();
      if (!complete && engine_.shard(i).failed()) return false;
    }
    if (!complete) return false;
  }
  return true;
}

namespace {

IngestResult from_twin(twin::IngestOutcome out) {
  IngestResult r;
  r.status = std::move(out.status);
  r.accepted = out.accepted;
  r.rejections.reserve(out.rejections.size());
  for (auto& x : out.rejections)
    r.rejections.push_back(Rejection{x.index, std::move(x.code), std::move(x.message)});
  return r;
}

}  // namespace

void IngestPipeline::validate(std::vector<Observation> batch,
                              std::function<void(IngestResult)> done) {
  writer_->ingest(
      std::move(batch), twin::IngestMode::validate_only,
      [done = std::move(done)](twin::IngestOutcome out) { done(from_twin(std::move(out))); });
}

void IngestPipeline::submit(std::vector<Observation> batch, Partial mode,
                            std::function<void(IngestResult)> done) {
  batches_.fetch_add(1, std::memory_order_relaxed);
  std::size_t n = batch.size();
  if (n == 0) {
    IngestResult r;
    r.status = Status(Code::invalid_argument, "the batch holds no observations", "InvalidArgument");
    refused_.fetch_add(1, std::memory_order_relaxed);
    return done(std::move(r));
  }
  in_flight_.fetch_add(n, std::memory_order_relaxed);
  auto mode_ =
      mode == Partial::keep_valid ? twin::IngestMode::keep_valid : twin::IngestMode::reject_whole;
  writer_->ingest(std::move(batch), mode_,
                  [this, n, done = std::move(done)](twin::IngestOutcome out) {
                    in_flight_.fetch_sub(n, std::memory_order_relaxed);
                    IngestResult r = from_twin(std::move(out));
                    if (!r.status.is_ok()) refused_.fetch_add(1, std::memory_order_relaxed);
                    done(std::move(r));
                  });
}

void IngestPipeline::set_retention(std::string twin, std::string component, std::string name,
                                   std::int64_t retention_ns, std::function<void(Status)> done) {
  auto task = [this, twin, component, name, retention_ns, done](twin::Shard& s) {
    if (!hook_->partition(s.index()).set_retention(twin, component, name, retention_ns, s.batch()))
      return done(Status(Code::not_found,
                         "twin '" + twin + "' has no history series '" +
                             (component.empty() ? "" : component + "/") + name +
                             "'; it is created by the first observation",
                         "SeriesNotFound"));
    s.after_commit(done);
  };
  if (!engine_.run_on_owner(twin, task))
    done(Status(Code::unavailable, "Castor is overloaded; retry shortly", "ServiceUnavailable"));
}

void IngestPipeline::upkeep() {
  pthread_setname_np(pthread_self(), "castor-history");
  using clock = std::chrono::steady_clock;
  auto last_checkpoint = clock::now();
  auto last_retention = clock::now();
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
    auto now = clock::now();
    // A checkpoint that stopped at its per-step budget goes on at the next tick.
    bool checkpoint = now - last_checkpoint >= options_.checkpoint_interval || unfinished_.load();
    bool retention = now - last_retention >= options_.retention_interval;
    if (!checkpoint && !retention) continue;
    if (checkpoint) last_checkpoint = now;
    if (retention) last_retention = now;
    unfinished_ = false;
    for (std::size_t i = 0; i < engine_.shard_count(); ++i) {
      // A full queue skips this round: upkeep is retried, never waited for.
      (void)engine_.run_on_shard(i, [this, checkpoint, retention](twin::Shard& s) {
        auto& part = hook_->partition(s.index());
        if (retention)
          expired_.fetch_add(part.enforce_retention(s.now(), s.batch()), std::memory_order_relaxed);
        if ((checkpoint || retention) && !part.checkpoint(s.batch())) unfinished_ = true;
      });
    }
  }
}

}  // namespace castor::ingest
