// HistoryHook: plugs the history store into the twin core's observation step. One history
// partition per twin shard, touched only on that shard's thread: check() refuses what history
// cannot take (out of order, another type), apply() appends to the heads and the WAL inside the
// shard's own store batch, so twin update and history point commit together. Never blocks.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "history/series_store.hpp"
#include "twin/engine.hpp"
#include "twin/observation.hpp"

namespace castor::ingest {

// The history value type of an observation, from its schema: numbers of an integer schema are
// int64, other numbers float64, booleans boolean, everything else string (objects, maps and
// arrays as compact JSON text).
history::ValueType history_type(const model::Schema& schema, const json::value& v);

class HistoryHook final : public twin::ObservationHook {
 public:
  // Recovers the partitions from the engine's store (see history::recover_partitions).
  static Result<std::unique_ptr<HistoryHook>> open(twin::Engine& engine,
                                                   history::HistoryOptions options);

  void check(twin::Shard& s, std::span<const twin::CheckedObservation> obs,
             std::vector<Status>& refusals) override;
  void apply(twin::Shard& s, std::span<const twin::CheckedObservation> obs) override;
  std::unique_ptr<KeptCheck> keep_check(twin::Shard& s) override;
  bool reuse_check(twin::Shard& s, std::span<const twin::CheckedObservation> obs,
                   KeptCheck& kept) override;

  // Only on shard `i`'s thread (or when no shard runs).
  history::SeriesPartition& partition(std::size_t i) { return *partitions_[i]; }
  std::size_t partition_count() const noexcept { return partitions_.size(); }
  const history::SeriesPartition::Families& families() const noexcept { return families_; }
  const history::HistoryOptions& options() const noexcept { return options_; }

 private:
  // The series of one (twin, component) by the content they measure, found by pointers instead
  // of hashing the series' string key for every point: a batch holds runs of one (twin,
  // component), so the map below is hashed once per run. Only hints: the partition checks that a
  // series' key matches (a twin deleted and another made at the same address misses, and is
  // looked up by key).
  struct TargetKey {
    const void* twin;
    std::string_view component;  // views Target::component
    bool operator==(const TargetKey&) const = default;
  };
  struct TargetKeyHash {
    std::size_t operator()(const TargetKey& k) const noexcept {
      std::size_t h = reinterpret_cast<std::uintptr_t>(k.twin) * 0x9E3779B97F4A7C15ull;
      for (char c : k.component) h = h * 31 + static_cast<unsigned char>(c);
      return h;
    }
  };
  struct Target {
    std::string component;
    std::vector<std::pair<const void*, history::Series*>> series;  // by ContentDef, scanned
  };
  using Targets = std::unordered_map<TargetKey, std::unique_ptr<Target>, TargetKeyHash>;
  struct Scratch {
    std::vector<history::PointIn> points;
    std::vector<history::Verdict> verdicts;
    std::vector<Status> why;
    std::deque<std::string> texts;  // string values rendered for this step
    Targets targets;
    std::vector<Target*> target_of;  // check(): each observation's target, or null
    const void* memo_twin = nullptr;  // the last target found, for runs of one (twin, component)
    Target* memo = nullptr;
    // In front of `targets`, by the key's hash: one slot to read instead of a bucket and a node
    // (found once per run, thousands of runs per step). Emptied whenever `targets` is.
    struct Cached {
      const void* twin = nullptr;
      Target* target = nullptr;
    };
    std::vector<Cached> cache;  // kCacheSlots once used
  };
  static constexpr unsigned kCacheBits = 12;
  static constexpr std::size_t kCacheSlots = std::size_t{1} << kCacheBits;
  // More contents than this per (twin, component) are looked up by key (the scan stays short).
  static constexpr std::size_t kMaxSeriesPerTarget = 64;
  Target* target(Scratch& sc, const twin::CheckedObservation& c, bool create);
  history::Series* hint(Scratch& sc, std::size_t i, std::span<const twin::CheckedObservation> obs);
  explicit HistoryHook(history::HistoryOptions options) : options_(std::move(options)) {}

  history::HistoryOptions options_;
  history::SeriesPartition::Families families_;
  std::vector<std::unique_ptr<history::SeriesPartition>> partitions_;
  std::deque<Scratch> scratch_;  // per shard (a deque: Scratch is not copyable)
};

}  // namespace castor::ingest
