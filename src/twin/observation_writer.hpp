// ObservationWriter: the twin core's ingest entry point. Splits a batch by owning shard; on each
// shard, in one step, checks every observation against its twin's model, updates reported
// properties ($metadata sourceTime included) and publishes change events, lets the hook (history)
// append to the same store batch, and answers once that group commit is durable. A batch that
// must be refused whole is checked on every shard before any shard writes. It never blocks.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "twin/engine.hpp"
#include "twin/observation.hpp"

namespace castor::twin {

class ObservationWriter {
 public:
  // `hook` may be null (twin updates only); both must outlive the writer's last answer.
  ObservationWriter(Engine& engine, ObservationHook* hook) : engine_(engine), hook_(hook) {}

  // Observations with ts 0 get the time of this call. `done` runs exactly once, on a shard or
  // committer thread, after the accepted observations are durable (or with the error).
  void ingest(std::vector<Observation> batch, IngestMode mode,
              std::function<void(IngestOutcome)> done);

  std::uint64_t accepted_total() const noexcept {
    return accepted_.load(std::memory_order_relaxed);
  }
  std::uint64_t rejected_total() const noexcept {
    return rejected_.load(std::memory_order_relaxed);
  }

 private:
  struct Call;
  void run_phase(const std::shared_ptr<Call>& call, bool apply);
  void step(Shard& s, const std::shared_ptr<Call>& call, std::size_t shard, bool apply);
  void apply_twins(Shard& s, std::span<const CheckedObservation> checked,
                   const std::vector<Status>& refusals);
  void finish_part(const std::shared_ptr<Call>& call);
  void finalize(Call& call);

  Engine& engine_;
  ObservationHook* hook_;
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace castor::twin
