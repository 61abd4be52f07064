// Group-commit throughput of castor::store, strict and relaxed: closed-loop submitters that block
// in commit_sync (HTTP workers; 1 and 4 threads), and one pipelined submitter that keeps up to 64
// batches in flight through commit() callbacks (a shard thread). Each batch updates 10 properties
// of random twins. Reported: batches/s, writes/s (operations), mean batches per group (fsyncs in
// strict mode are group_writes), commit latency p50/p99 and group write latency p50 (upper bounds
// of power-of-two buckets).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace castor::store {
namespace {

constexpr int kOperationsPerBatch = 10;
constexpr int kWindow = 64;
constexpr std::uint64_t kTwins = 100'000;

std::uint64_t mix(std::uint64_t x) {  // splitmix64: cheap, well-spread twin ids
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class GroupCommit : public benchmark::Fixture {
 public:
  // Thread 0 opens a fresh store; the others wait at the benchmark's start barrier.
  void SetUp(const benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    std::string pattern = "/tmp/castor-store-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    dir_ = pattern;
    StoreOptions options;
    options.durability = state.range(0) ? Durability::relaxed : Durability::strict;
    auto opened = Store::open(dir_, {"twins"}, options);
    if (!opened.is_ok()) {
      std::fprintf(stderr, "%s\n", opened.status().to_string().c_str());
      std::abort();
    }
    store_ = std::move(opened).value();
    twins_ = *store_->column_family("twins");
  }
  void TearDown(const benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

 protected:
  WriteBatch make_batch(std::uint64_t seed) const {
    WriteBatch batch;
    char key[48];
    const std::string value(100, 'v');
    for (int i = 0; i < kOperationsPerBatch; ++i) {
      const std::uint64_t r = mix(seed * kOperationsPerBatch + i);
      std::snprintf(key, sizeof key, "twin/%06llu/p%02llu",
                    static_cast<unsigned long long>(r % kTwins),
                    static_cast<unsigned long long>((r >> 32) % 20));
      batch.put(twins_, key, value);
    }
    return batch;
  }

  void report(benchmark::State& state, std::int64_t batches) const {
    using benchmark::Counter;
    state.counters["batches/s"] = Counter(static_cast<double>(batches), Counter::kIsRate);
    state.counters["writes/s"] =
        Counter(static_cast<double>(batches * kOperationsPerBatch), Counter::kIsRate);
    if (state.thread_index() != 0) return;
    const StoreProbe& probe = store_->probe();
    const auto groups = static_cast<double>(probe.group_writes.load());
    state.counters["batches/group"] =
        groups > 0 ? static_cast<double>(probe.batches_committed.load()) / groups : 0;
    state.counters["p50_us"] = static_cast<double>(probe.commit_latency.percentile(0.5).count());
    state.counters["p99_us"] = static_cast<double>(probe.commit_latency.percentile(0.99).count());
    state.counters["write_p50_us"] =
        static_cast<double>(probe.write_latency.percentile(0.5).count());
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  ColumnFamily twins_;
};

// Blocking submitters: throughput comes only from merging concurrent threads into one write.
BENCHMARK_DEFINE_F(GroupCommit, CommitSync)(benchmark::State& state) {
  std::uint64_t seed = static_cast<std::uint64_t>(state.thread_index()) << 40;
  for (auto _ : state) {
    auto lsn = store_->commit_sync(make_batch(seed++));
    if (!lsn.is_ok()) state.SkipWithError(lsn.status().message().c_str());
  }
  report(state, state.iterations());
}

// One non-blocking submitter with a window of in-flight batches, as a shard thread commits.
BENCHMARK_DEFINE_F(GroupCommit, CommitPipelined)(benchmark::State& state) {
  std::atomic<int> in_flight{0};
  std::atomic<bool> failed{false};
  auto done = [&](const Status& status, Lsn) {
    if (!status.is_ok()) failed = true;
    in_flight.fetch_sub(1);
    in_flight.notify_one();
  };
  std::uint64_t seed = 0;
  for (auto _ : state) {
    for (int seen = in_flight.load(); seen >= kWindow; seen = in_flight.load()) {
      in_flight.wait(seen);
    }
    in_flight.fetch_add(1);
    if (!store_->commit(make_batch(seed++), done).is_ok()) failed = true;
  }
  for (int seen = in_flight.load(); seen > 0; seen = in_flight.load()) in_flight.wait(seen);
  if (failed) state.SkipWithError("a commit failed");
  report(state, state.iterations());
}

void configure(benchmark::internal::Benchmark* b) {
  b->ArgName("relaxed")->Arg(0)->Arg(1);
  b->UseRealTime()->MinTime(0.5)->Repetitions(5)->ReportAggregatesOnly(true);
}

BENCHMARK_REGISTER_F(GroupCommit, CommitSync)->Apply(configure)->Threads(1)->Threads(4);
BENCHMARK_REGISTER_F(GroupCommit, CommitPipelined)->Apply(configure);

}  // namespace
}  // namespace castor::store

BENCHMARK_MAIN();
