// The embedded history store: one series per (twin, component, name), a compressed head chunk per
// series in memory, sealed chunks, head checkpoints and a write-ahead log in RocksDB column
// families of the twin core's store (docs/history.md has the layout). A SeriesPartition is owned
// by exactly one thread (a twin shard) and writes only into the batch it is given, so history
// becomes durable in the caller's group commit; it never commits, blocks or takes a lock itself.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.hpp"
#include "common/strings.hpp"
#include "history/chunk_encoder.hpp"
#include "history/types.hpp"
#include "store/store.hpp"

namespace castor::history {

// Column families the history store needs in the store it shares with the twin core.
std::vector<std::string> history_column_families();

struct HistoryOptions {
  // Default 4096: a head chunk is sealed into RocksDB at this many points. Larger compresses a
  // little better and makes checkpoints bigger.
  std::uint32_t chunk_points = 4096;
  // Default 2 h: ... or once it spans this long, so slow series still reach disk as chunks.
  std::int64_t chunk_span_ns = std::int64_t{7200} * 1'000'000'000;
  // Default 32 MiB: a partition checkpoints its dirty heads (and trims its WAL) after writing
  // this much WAL. Smaller bounds restart replay; larger writes fewer checkpoints.
  std::size_t checkpoint_wal_bytes = std::size_t{32} << 20;
  // Default 0 (forever): how long points are kept, unless their model or series says otherwise.
  std::int64_t retention_ns = 0;
  // Retention per model id (0 = forever), overriding retention_ns.
  std::map<std::string, std::int64_t, std::less<>> model_retention_ns;
};

constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();
// Head bytes one checkpoint step writes at most (one shard batch stays far below the store's
// 64 MiB bound on pending bytes).
constexpr std::size_t kCheckpointBudget = std::size_t{8} << 20;

struct Series;

// One point to append, with the identity of its series.
struct PointIn {
  std::string_view twin, component, name, model;
  std::int64_t ts = 0;
  ValueType type = ValueType::float64;
  double f = 0;        // float64
  std::int64_t i = 0;  // int64; boolean as 0/1
  std::string_view s;  // string
  // Optional: the series the caller believes this point belongs to (from its own cache); check()
  // uses it when its twin, component and name match, and looks the series up by key otherwise.
  Series* hint = nullptr;
};

// What check() decided for each point.
enum class Verdict : std::uint8_t { append, duplicate, refuse };

struct Series {
  std::uint64_t id = 0;
  std::string twin, component, name, model;
  ValueType type = ValueType::float64;
  std::int64_t retention_ns = -1;     // per series; -1: the model's or the default
  std::int64_t sealed_max = kNoTime;  // last ts that is in a sealed chunk
  std::int64_t last_ts = kNoTime;     // last point of the series
  double last_f = 0;
  std::int64_t last_i = 0;
  std::string last_s;
  ChunkEncoder head;
  bool dirty = false;                   // head changed since the last checkpoint
  std::int64_t expired_scan = kNoTime;  // retention already enforced up to here
  // The value of the point at sealed_max (kept in the descriptor, for latest reads after restart).
  double sealed_f = 0;
  std::int64_t sealed_i = 0;
  std::string sealed_s;

  // Scratch of SeriesPartition::check/append (one batch at a time, on the owning thread).
  std::uint64_t epoch = 0;
  std::int64_t pending_ts = kNoTime;
  double pending_f = 0;
  std::int64_t pending_i = 0;
  std::string_view pending_s;
  std::vector<std::uint32_t> wal_points;
  std::uint64_t appended_at = 0;  // the partition's append() count when a point was last added

  explicit Series(ValueType t) : type(t), head(t) {}
};

// What a reader needs of one series, taken on the owning thread; the sealed chunks are then
// read from the store on the reader's own thread (only those up to sealed_max, so a seal that
// happens meanwhile neither hides nor doubles points).
struct SeriesSnapshot {
  std::uint64_t id = 0;
  std::string twin, component, name, model;
  ValueType type = ValueType::float64;
  std::int64_t sealed_max = kNoTime;
  std::int64_t retained_from = kNoTime;  // points before this are expired
  std::int64_t last_ts = kNoTime;
  double last_f = 0;
  std::int64_t last_i = 0;
  std::string last_s;
  Bytes head;  // the head's points as a chunk; empty when the head is empty
};

class SeriesPartition {
 public:
  struct Families {
    store::ColumnFamily series, chunks, heads, wal;
  };
  static Result<Families> families(const store::Store& store);

  SeriesPartition(std::uint32_t index, store::Store& store, Families cf,
                  const HistoryOptions& options);

  // Decides for each point whether it can be appended: points of a series must come in time
  // order (within `points` and after what is stored); an equal timestamp with an equal value is
  // a redelivery (duplicate, skipped), anything else older is refused with `why[i]` saying why,
  // as is a value of another type than the series'. `why` stays empty when no point is refused
  // (it is sized like `points` at the first refusal). Changes nothing.
  void check(std::span<const PointIn> points, std::vector<Verdict>& verdicts,
             std::vector<Status>& why);
  // Right after check() with the same points: appends those it gave Verdict::append, writing the
  // WAL record (and new series, sealed chunks, checkpoints) into `batch`.
  void append(std::span<const PointIn> points, std::span<const Verdict> verdicts,
              store::WriteBatch& batch);
  // What one check() found, kept for a later step over the same points (a batch checked in one
  // step and written in another, with other batches' steps in between).
  struct KeptPlan {
    std::vector<Series*> series;  // of each point
    std::uint64_t appends = 0;    // the partition's append() count when it was kept
  };
  // Right after check(): moves its plan out. False (nothing kept) when a point's series does not
  // exist yet: check() makes such series, and they live only until the next check.
  bool keep_plan(KeptPlan& out);
  // In place of check() for the same points: takes a kept plan if none of its series got a point
  // since it was kept (then check() would decide the same), and returns true; append() may
  // follow with the kept verdicts. False, and nothing changed, otherwise.
  bool reuse_plan(KeptPlan& kept);
  // Writes dirty heads, at most about `budget_bytes` of them (so that one batch stays well under
  // the store's bounds), and once none is left trims this partition's WAL; returns whether it
  // got that far. append() calls it while the WAL is over checkpoint_wal_bytes.
  bool checkpoint(store::WriteBatch& batch, std::size_t budget_bytes = kCheckpointBudget);
  // After append(): the series point `i` went to, for each point it appended (for the caller's
  // cache of hints; the series lives as long as the partition). Null for points not appended.
  Series* appended_to(std::size_t i, std::span<const Verdict> verdicts) const {
    return verdicts[i] == Verdict::append && i < plan_.size() ? plan_[i] : nullptr;
  }
  // Drops sealed chunks wholly older than each series' retention at `now`; returns chunks dropped.
  std::size_t enforce_retention(std::int64_t now, store::WriteBatch& batch);

  const Series* find(std::string_view twin, std::string_view component, std::string_view name);
  std::vector<const Series*> series_of(std::string_view twin) const;
  SeriesSnapshot snapshot(const Series& s, std::int64_t now) const;
  // Sets a series' own retention (-1 = back to the model's or the default); false if unknown.
  bool set_retention(std::string_view twin, std::string_view component, std::string_view name,
                     std::int64_t retention_ns, store::WriteBatch& batch);

  std::size_t series_count() const noexcept { return series_.size(); }
  std::size_t head_bytes() const noexcept;
  std::uint64_t points_appended() const noexcept { return points_; }
  std::uint64_t chunks_sealed() const noexcept { return sealed_; }
  std::uint64_t checkpoints() const noexcept { return checkpoints_; }
  std::uint32_t index() const noexcept { return index_; }

  // --- recovery (history_recovery.cpp) ---
  Series& adopt(std::unique_ptr<Series> s);  // a recovered series
  void note_id(std::uint64_t id);            // keeps new ids above recovered ones
  // Appends a replayed point unless the series already has it (ts at or before its last point).
  void append_recovered(Series& s, const PointIn& p, store::WriteBatch& batch);
  void mark_all_dirty();

  std::int64_t retention_of(const Series& s) const;

 private:
  Series* lookup(std::string_view twin, std::string_view component, std::string_view name);
  Series& create(Series& fresh, store::WriteBatch& batch);
  void push(Series& s, const PointIn& p, store::WriteBatch& batch);
  void seal(Series& s, store::WriteBatch& batch);
  void put_descriptor(const Series& s, store::WriteBatch& batch);

  std::uint32_t index_;
  store::Store& store_;
  Families cf_;
  const HistoryOptions& options_;
  StringMap<std::unique_ptr<Series>> series_;  // by series_key()
  std::string scratch_;                        // lookups build keys here, without allocating
  StringMap<std::unique_ptr<Series>> fresh_;   // series first seen by the current check()
  std::vector<Series*> plan_;                  // check(): the series of each point
  std::vector<Series*> dirty_;                 // heads changed since the last checkpoint
  std::vector<Series*> touched_;               // append(): series of this WAL record
  Bytes wal_buffer_;
  std::uint64_t epoch_ = 0;
  std::uint64_t appends_ = 0;  // append() calls, for KeptPlan
  std::uint64_t next_id_;
  std::uint64_t wal_seq_ = 0;
  std::uint64_t wal_first_ = 0;  // first WAL sequence not yet trimmed
  std::size_t wal_bytes_ = 0;    // since the last checkpoint
  std::uint64_t points_ = 0, sealed_ = 0, checkpoints_ = 0;
};

// The series key "twin\0component\0name".
void series_key(std::string_view twin, std::string_view component, std::string_view name,
                std::string& out);

// Reads the sealed chunks of a snapshot from the store and returns every chunk to scan (the head
// last), in time order.
Result<std::vector<Bytes>> load_chunks(const store::Store& store,
                                       const SeriesPartition::Families& cf,
                                       const SeriesSnapshot& snap, std::int64_t from,
                                       std::int64_t to);

// Compacts the history WAL's column family so that records a checkpoint deleted (with a range
// tombstone) leave the disk now instead of at RocksDB's next compaction of those files. Blocks;
// for shutdown and recovery.
Status compact_wal(store::Store& store, const SeriesPartition::Families& cf);
// compact_wal(), and the heads' column family too, whose every checkpoint leaves the previous
// version of each head on disk until compacted. For a clean shutdown after a full checkpoint.
Status compact_checkpointed(store::Store& store, const SeriesPartition::Families& cf);

// Rebuilds the partitions from the store after a restart or crash: series, sealed-chunk marks,
// checkpointed heads and the WAL replayed on top; then writes a fresh checkpoint of everything
// and empties the WAL (synchronously), so the next run starts from a clean log. `partition_of`
// maps a twin id to its partition.
Status recover_partitions(store::Store& store,
                          std::span<const std::unique_ptr<SeriesPartition>> partitions,
                          const std::function<std::size_t(std::string_view)>& partition_of);

}  // namespace castor::history
