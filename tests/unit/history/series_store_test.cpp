// The history store on a real RocksDB: append, seal, checkpoint, recovery after the process
// stops without a checkpoint (WAL replay), ordering rules and retention.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "../store/temp_dir.hpp"
#include "history/range_scan.hpp"
#include "history/series_store.hpp"

namespace castor::history {
namespace {

struct Point {
  std::int64_t ts;
  double v;
  bool operator==(const Point&) const = default;
};

class SeriesStoreTest : public ::testing::Test {
 protected:
  void open(std::size_t partitions = 2) {
    auto families = history_column_families();
    auto s = store::Store::open(dir_.path(), families);
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    store_ = std::move(*s);
    auto cf = SeriesPartition::families(*store_);
    ASSERT_TRUE(cf.is_ok());
    cf_ = *cf;
    parts_.clear();
    for (std::size_t i = 0; i < partitions; ++i)
      parts_.push_back(
          std::make_unique<SeriesPartition>(static_cast<std::uint32_t>(i), *store_, cf_, options_));
    Status r = recover_partitions(*store_, parts_,
                                  [this](std::string_view twin) { return part_of(twin); });
    ASSERT_TRUE(r.is_ok()) << r.message();
  }
  // Drops everything in memory without a checkpoint, as a crash would (commits were synced).
  void crash_and_reopen(std::size_t partitions = 2) {
    parts_.clear();
    store_->close();
    store_.reset();
    open(partitions);
  }
  std::size_t part_of(std::string_view twin) const {
    return std::hash<std::string_view>{}(twin) % parts_.size();
  }

  // Appends through check() + append() and commits, like one shard step; returns the verdicts.
  std::vector<Verdict> write(std::string_view twin, std::string_view name,
                             const std::vector<Point>& pts,
                             std::vector<Status>* why_out = nullptr) {
    std::vector<PointIn> in;
    for (const auto& p : pts) {
      PointIn x;
      x.twin = twin;
      x.name = name;
      x.model = "dtmi:test:M;1";
      x.ts = p.ts;
      x.f = p.v;
      in.push_back(x);
    }
    auto& part = *parts_[part_of(twin)];
    std::vector<Verdict> verdicts;
    std::vector<Status> why;
    part.check(in, verdicts, why);
    store::WriteBatch batch;
    part.append(in, verdicts, batch);
    if (!batch.empty()) {
      EXPECT_TRUE(store_->commit_sync(std::move(batch)).is_ok());
    }
    if (why_out) *why_out = why;
    return verdicts;
  }
  std::vector<Point> read(std::string_view twin, std::string_view name, std::int64_t from = 0,
                          std::int64_t to = std::numeric_limits<std::int64_t>::max(),
                          std::int64_t now = 0) {
    std::vector<Point> out;
    auto& part = *parts_[part_of(twin)];
    const Series* s = part.find(twin, "", name);
    if (!s) return out;
    SeriesSnapshot snap = part.snapshot(*s, now);
    from = std::max(from, snap.retained_from);
    auto chunks = load_chunks(*store_, cf_, snap, from, to);
    EXPECT_TRUE(chunks.is_ok());
    std::vector<RangeScan::ChunkBytes> spans(chunks->begin(), chunks->end());
    auto scan = RangeScan::open(snap.type, spans, from, to);
    EXPECT_TRUE(scan.is_ok()) << scan.status().message();
    while (true) {
      auto more = scan->next();
      EXPECT_TRUE(more.is_ok());
      if (!more.is_ok() || !*more) break;
      for (std::size_t i = 0; i < scan->timestamps().size(); ++i)
        out.push_back({scan->timestamps()[i], scan->doubles()[i]});
    }
    return out;
  }
  static std::vector<Point> ramp(std::int64_t first, std::size_t n) {
    std::vector<Point> v;
    for (std::size_t i = 0; i < n; ++i)
      v.push_back({first + static_cast<std::int64_t>(i) * 10,
                   0.5 * static_cast<double>(first) + static_cast<double>(i)});
    return v;
  }

  test::TempDir dir_;
  HistoryOptions options_;
  std::unique_ptr<store::Store> store_;
  SeriesPartition::Families cf_;
  std::vector<std::unique_ptr<SeriesPartition>> parts_;
};

TEST_F(SeriesStoreTest, WalReplayRecoversEveryCommittedPointExactlyOnce) {
  options_.chunk_points = 64;
  open();
  std::vector<Point> all;
  for (int step = 0; step < 20; ++step) {  // 20 steps of 13 points: heads sealed mid-way
    auto pts = ramp(1000 + step * 130, 13);
    write("robot-1", "temp", pts);
    all.insert(all.end(), pts.begin(), pts.end());
  }
  write("robot-2", "temp", ramp(5, 3));
  ASSERT_EQ(read("robot-1", "temp"), all);
  crash_and_reopen();
  EXPECT_EQ(read("robot-1", "temp"), all);
  EXPECT_EQ(read("robot-2", "temp"), ramp(5, 3));
  // Crash again right after recovery, then with a different partition count.
  crash_and_reopen(3);
  EXPECT_EQ(read("robot-1", "temp"), all);
  // Writing continues after recovery, with new series ids that do not collide.
  auto more = ramp(all.back().ts + 10, 5);
  write("robot-1", "temp", more);
  write("robot-3", "rpm", ramp(1, 4));
  all.insert(all.end(), more.begin(), more.end());
  crash_and_reopen(1);
  EXPECT_EQ(read("robot-1", "temp"), all);
  EXPECT_EQ(read("robot-3", "rpm"), ramp(1, 4));
  EXPECT_EQ(read("robot-2", "temp"), ramp(5, 3));
}

TEST_F(SeriesStoreTest, CheckpointTrimsTheWalAndRecoveryStillHasEverything) {
  options_.chunk_points = 1000;
  open(1);
  write("t", "x", ramp(100, 50));
  store::WriteBatch batch;
  parts_[0]->checkpoint(batch);
  ASSERT_TRUE(store_->commit_sync(std::move(batch)).is_ok());
  std::size_t wal_records = 0;
  for (auto it = store_->scan_prefix(cf_.wal, ""); it.valid(); it.next()) ++wal_records;
  EXPECT_EQ(wal_records, 0u);
  write("t", "x", ramp(1000, 7));  // after the checkpoint: only in the WAL
  crash_and_reopen(1);
  auto expected = ramp(100, 50);
  auto tail = ramp(1000, 7);
  expected.insert(expected.end(), tail.begin(), tail.end());
  EXPECT_EQ(read("t", "x"), expected);
}

TEST_F(SeriesStoreTest, CheckpointInStepsKeepsTheWalUntilEveryHeadIsWritten) {
  open(1);
  for (int t = 0; t < 50; ++t) write("twin-" + std::to_string(t), "x", ramp(100, 20));
  auto wal_records = [&] {
    std::size_t n = 0;
    for (auto it = store_->scan_prefix(cf_.wal, ""); it.valid(); it.next()) ++n;
    return n;
  };
  ASSERT_EQ(wal_records(), 50u);
  int steps = 0;
  while (true) {
    store::WriteBatch batch;
    bool done = parts_[0]->checkpoint(batch, 1);  // one head per step
    ASSERT_TRUE(store_->commit_sync(std::move(batch)).is_ok());
    ++steps;
    if (done) break;
    EXPECT_EQ(wal_records(), 50u) << "the WAL must stay while heads are unwritten";
  }
  EXPECT_EQ(steps, 50);
  EXPECT_EQ(wal_records(), 0u);
  crash_and_reopen(2);
  for (int t = 0; t < 50; ++t) EXPECT_EQ(read("twin-" + std::to_string(t), "x"), ramp(100, 20));
}

// Bytes of RocksDB's table files in the store's folder (the store is closed: memtables flushed).
std::uintmax_t table_bytes(const std::filesystem::path& dir) {
  std::uintmax_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".sst") n += e.file_size();
  return n;
}

TEST_F(SeriesStoreTest, RecoveryGivesTheWalsDiskSpaceBack) {
  open(1);
  std::vector<Point> all;
  for (int step = 0; step < 300; ++step) {  // 300 WAL records of 30 barely compressible points
    std::vector<Point> pts;
    for (int i = 0; i < 30; ++i) {
      std::int64_t ts = 1000 + (step * 30 + i) * 7;
      pts.push_back({ts, static_cast<double>(ts % 9973) * 1.0001 + step * 0.37});
    }
    write("t", "x", pts);
    all.insert(all.end(), pts.begin(), pts.end());
  }
  parts_.clear();
  store_->close();  // the WAL records reach table files
  const std::uintmax_t with_wal = table_bytes(dir_.path());
  open(1);  // replays, checkpoints the head, deletes and compacts the WAL
  EXPECT_EQ(read("t", "x"), all);
  parts_.clear();
  store_->close();
  const std::uintmax_t after = table_bytes(dir_.path());
  EXPECT_LT(after, with_wal / 2) << "the WAL's table files must be compacted away";
  open(1);
  EXPECT_EQ(read("t", "x"), all);
}

TEST_F(SeriesStoreTest, AHintIsUsedOnlyWhenItsKeyMatches) {
  open(1);
  write("a", "x", ramp(100, 3));
  write("b", "x", ramp(100, 3));
  auto& part = *parts_[0];
  Series* a = const_cast<Series*>(part.find("a", "", "x"));
  Series* b = const_cast<Series*>(part.find("b", "", "x"));
  ASSERT_TRUE(a && b);
  auto one = [&](std::string_view twin, std::int64_t ts, Series* hint) {
    PointIn p;
    p.twin = twin;
    p.name = "x";
    p.model = "dtmi:test:M;1";
    p.ts = ts;
    p.f = 1.5;
    p.hint = hint;
    std::vector<PointIn> in{p};
    std::vector<Verdict> verdicts;
    std::vector<Status> why;
    part.check(in, verdicts, why);
    store::WriteBatch batch;
    part.append(in, verdicts, batch);
    EXPECT_TRUE(store_->commit_sync(std::move(batch)).is_ok());
    return part.appended_to(0, verdicts);
  };
  EXPECT_EQ(one("b", 500, a), b);  // a stale hint (another series) is ignored
  EXPECT_EQ(one("b", 600, b), b);
  Series* c = one("c", 700, a);  // a new series, not the hinted one
  EXPECT_TRUE(c && c != a && c->twin == "c");
  EXPECT_EQ(read("a", "x"), ramp(100, 3));
  auto expected = ramp(100, 3);
  expected.push_back({500, 1.5});
  expected.push_back({600, 1.5});
  EXPECT_EQ(read("b", "x"), expected);
  crash_and_reopen(1);
  EXPECT_EQ(read("b", "x"), expected);
  EXPECT_EQ(read("c", "x"), (std::vector<Point>{{700, 1.5}}));
}

// A batch checked in one step and written in a later one takes its kept plan only while none
// of its series got a point in between; new series are never kept.
TEST_F(SeriesStoreTest, AKeptPlanHoldsOnlyWhileItsSeriesGetNoPoint) {
  open(1);
  auto points = [](std::string_view name, std::vector<Point> pts) {
    std::vector<PointIn> in;
    for (const auto& p : pts) {
      PointIn x;
      x.twin = "t";
      x.name = name;
      x.model = "dtmi:test:M;1";
      x.ts = p.ts;
      x.f = p.v;
      in.push_back(x);
    }
    return in;
  };
  auto& part = *parts_[0];
  std::vector<Verdict> verdicts;
  std::vector<Status> why;
  SeriesPartition::KeptPlan kept;
  auto fresh = points("x", {{100, 1.0}});
  part.check(fresh, verdicts, why);
  EXPECT_FALSE(part.keep_plan(kept)) << "a series made by check() is not kept";
  write("t", "x", {{100, 1.0}});
  write("t", "y", {{100, 1.0}});

  // Kept, then another series got points: the plan still holds and writes what it checked.
  auto a = points("x", {{200, 2.0}, {300, 3.0}});
  part.check(a, verdicts, why);
  ASSERT_TRUE(part.keep_plan(kept));
  std::vector<Verdict> kept_verdicts = verdicts;
  write("t", "y", {{200, 2.0}});
  ASSERT_TRUE(part.reuse_plan(kept));
  store::WriteBatch batch;
  part.append(a, kept_verdicts, batch);
  ASSERT_TRUE(store_->commit_sync(std::move(batch)).is_ok());
  EXPECT_EQ(read("t", "x"), (std::vector<Point>{{100, 1.0}, {200, 2.0}, {300, 3.0}}));

  // Kept, then its own series got a newer point: the plan is refused, and a new check refuses
  // the now older point.
  auto b = points("x", {{400, 4.0}});
  part.check(b, verdicts, why);
  ASSERT_TRUE(part.keep_plan(kept));
  write("t", "x", {{500, 5.0}});
  EXPECT_FALSE(part.reuse_plan(kept));
  part.check(b, verdicts, why);
  EXPECT_EQ(verdicts[0], Verdict::refuse);
  EXPECT_EQ(read("t", "x"), (std::vector<Point>{{100, 1.0}, {200, 2.0}, {300, 3.0}, {500, 5.0}}));
}

TEST_F(SeriesStoreTest, OrderDuplicatesAndTypesAreChecked) {
  open(1);
  std::vector<Status> why(3, Status(Code::internal, "left from before"));
  write("t", "x", {{100, 1.0}, {200, 2.0}}, &why);
  EXPECT_TRUE(why.empty());  // nothing refused: no reason per point is written
  auto v = write("t", "x", {{200, 2.0}, {150, 9.0}, {200, 3.0}, {300, 3.0}, {250, 1.0}}, &why);
  ASSERT_EQ(v.size(), 5u);
  ASSERT_EQ(why.size(), 5u);
  EXPECT_TRUE(why[3].is_ok());
  EXPECT_EQ(v[0], Verdict::duplicate);  // same ts, same value: a redelivery
  EXPECT_EQ(v[1], Verdict::refuse);     // older than the stored last point
  EXPECT_EQ(why[1].reason(), "OutOfOrder");
  EXPECT_EQ(v[2], Verdict::refuse);  // same ts, another value
  EXPECT_EQ(v[3], Verdict::append);
  EXPECT_EQ(v[4], Verdict::refuse);  // older than a point before it in the batch
  EXPECT_EQ(read("t", "x"), (std::vector<Point>{{100, 1.0}, {200, 2.0}, {300, 3.0}}));
  PointIn s;
  s.twin = "t";
  s.name = "x";
  s.ts = 400;
  s.type = ValueType::string;
  s.s = "text";
  std::vector<PointIn> in{s};
  std::vector<Verdict> verdicts;
  parts_[0]->check(in, verdicts, why);
  EXPECT_EQ(verdicts[0], Verdict::refuse);
  EXPECT_EQ(why[0].code(), Code::invalid_argument);
}

TEST_F(SeriesStoreTest, RetentionDropsExpiredChunksAndHidesExpiredPoints) {
  options_.chunk_points = 16;
  options_.retention_ns = 500;
  open(1);
  write("t", "x", ramp(0, 100));  // ts 0..990, sealed every 16 points
  std::size_t chunks_before = 0;
  for (auto it = store_->scan_prefix(cf_.chunks, ""); it.valid(); it.next()) ++chunks_before;
  ASSERT_EQ(chunks_before, 6u);
  store::WriteBatch batch;
  std::size_t dropped = parts_[0]->enforce_retention(1000, batch);  // cutoff 500
  ASSERT_TRUE(store_->commit_sync(std::move(batch)).is_ok());
  EXPECT_EQ(dropped, 3u);  // chunks ending at 150, 310, 470
  auto left = read("t", "x", 0, std::numeric_limits<std::int64_t>::max(), 1000);
  ASSERT_FALSE(left.empty());
  EXPECT_EQ(left.front().ts, 500);
  EXPECT_EQ(left.back().ts, 990);
  crash_and_reopen(1);
  EXPECT_EQ(read("t", "x", 0, std::numeric_limits<std::int64_t>::max(), 1000), left);
  // A model-specific retention overrides the default.
  options_.model_retention_ns["dtmi:test:M;1"] = 0;
  EXPECT_EQ(read("t", "x", 0, std::numeric_limits<std::int64_t>::max(), 1000).front().ts, 480);
}

}  // namespace
}  // namespace castor::history
