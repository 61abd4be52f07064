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

  // Only on shard `i`'s thread (or when no shard runs).
  history::SeriesPartition& partition(std::size_t i) { return *partitions_[i]; }
  std::size_t partition_count() const noexcept { return partitions_.size(); }
  const history::SeriesPartition::Families& families() const noexcept { return families_; }
  const history::HistoryOptions& options() const noexcept { return options_; }

 private:
  // The series of a (twin, component, content), found by pointers instead of hashing the
  // series' string key for every point. Only a hint: the partition checks that the series' key
  // matches (a twin deleted and another made at the same address misses, and is looked up).
  struct SeriesSlot {
    const void* twin;
    const void* content;
    std::string_view component;  // views the cached series' own component name
    bool operator==(const SeriesSlot&) const = default;
  };
  struct SeriesSlotHash {
    std::size_t operator()(const SeriesSlot& k) const noexcept {
      std::size_t h = reinterpret_cast<std::uintptr_t>(k.twin) * 0x9E3779B97F4A7C15ull;
      h ^= reinterpret_cast<std::uintptr_t>(k.content) + (h << 6) + (h >> 2);
      for (char c : k.component) h = h * 31 + static_cast<unsigned char>(c);
      return h;
    }
  };
  struct Scratch {
    std::vector<history::PointIn> points;
    std::vector<history::Verdict> verdicts;
    std::vector<Status> why;
    std::deque<std::string> texts;  // string values rendered for this step
    std::unordered_map<SeriesSlot, history::Series*, SeriesSlotHash> series;
  };
  explicit HistoryHook(history::HistoryOptions options) : options_(std::move(options)) {}

  history::HistoryOptions options_;
  history::SeriesPartition::Families families_;
  std::vector<std::unique_ptr<history::SeriesPartition>> partitions_;
  std::vector<Scratch> scratch_;  // per shard
};

}  // namespace castor::ingest
