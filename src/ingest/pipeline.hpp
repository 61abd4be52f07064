// IngestPipeline: the ObservationSink every connector feeds (HTTP batches, ADT telemetry, MQTT).
// It hands batches to the twin core's ObservationWriter with history plugged in, counts what is
// in flight for backpressure, and runs history upkeep on the shards (time-based checkpoints,
// retention). It never drops an observation silently: each is accepted durably or reported.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "ingest/history_hook.hpp"
#include "ingest/observation.hpp"
#include "twin/observation_writer.hpp"

namespace castor::ingest {

struct PipelineOptions {
  history::HistoryOptions history;
  // Default 1,000,000: observations submitted and not yet answered before connectors stop
  // reading (HTTP answers 503 after waiting). Larger absorbs bursts; smaller bounds memory.
  std::size_t max_in_flight = 1'000'000;
  // Default 30 s: dirty heads are checkpointed (and the WAL trimmed) at least this often.
  std::chrono::milliseconds checkpoint_interval{30000};
  // Default 60 s: how often retention drops expired chunks.
  std::chrono::milliseconds retention_interval{60000};
};

class IngestPipeline final : public ObservationSink {
 public:
  // Recovers history from the engine's store; the engine must have been opened with
  // history::history_column_families() among its extra column families.
  static Result<std::unique_ptr<IngestPipeline>> open(twin::Engine& engine,
                                                      PipelineOptions options);
  ~IngestPipeline() override;
  // Stops upkeep, checkpoints every head and compacts the emptied WAL (a clean stop leaves no
  // replay work); call before the engine closes. Idempotent.
  void close();

  void submit(std::vector<Observation> batch, Partial mode,
              std::function<void(IngestResult)> done) override;
  // Checks a batch against the models and history on every shard and writes nothing; `done` gets
  // every rejection (ok when there is none). For listing all errors of a batch refused anyway.
  void validate(std::vector<Observation> batch, std::function<void(IngestResult)> done);
  std::size_t in_flight() const override { return in_flight_.load(std::memory_order_relaxed); }
  std::size_t max_in_flight() const noexcept { return options_.max_in_flight; }

  // Gives one series its own retention (ns; 0 keeps forever, -1 returns to its model's or the
  // default); durable before `done` runs (on a committer or shard thread). not_found
  // (SeriesNotFound) when the series has no points yet.
  void set_retention(std::string twin, std::string component, std::string name,
                     std::int64_t retention_ns, std::function<void(Status)> done);

  twin::Engine& engine() { return engine_; }
  HistoryHook& history() { return *hook_; }

  // --- metrics ---
  std::uint64_t accepted_total() const noexcept { return writer_->accepted_total(); }
  std::uint64_t rejected_total() const noexcept { return writer_->rejected_total(); }
  std::uint64_t batches_total() const noexcept { return batches_.load(std::memory_order_relaxed); }
  std::uint64_t refused_batches_total() const noexcept {
    return refused_.load(std::memory_order_relaxed);
  }
  std::uint64_t chunks_expired_total() const noexcept {
    return expired_.load(std::memory_order_relaxed);
  }

 private:
  IngestPipeline(twin::Engine& engine, PipelineOptions options)
      : engine_(engine), options_(std::move(options)) {}
  void upkeep();
  // Checkpoints every partition to the end (WAL trimmed), waiting for each commit; false when a
  // shard could not take the work (stopped or failed).
  bool checkpoint_all();

  twin::Engine& engine_;
  PipelineOptions options_;
  std::unique_ptr<HistoryHook> hook_;
  std::unique_ptr<twin::ObservationWriter> writer_;
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::uint64_t> batches_{0}, refused_{0}, expired_{0};
  std::atomic<bool> unfinished_{false};  // a shard's checkpoint stopped at its budget
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread upkeep_;
};

}  // namespace castor::ingest
