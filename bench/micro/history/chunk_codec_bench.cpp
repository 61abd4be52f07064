// Encode and decode throughput (points/s) and bytes per point of the history chunk codec on the
// reference factory's signals (factory_signals.hpp), next to a plain Gorilla encoder (the peer,
// gorilla_baseline.hpp) in the same run; plus the range aggregate the issue names (one day of
// 1 Hz data per minute). Chunks hold kChunkPoints points; bytes include chunk headers.
// Run: history_micro_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>

#include "factory_signals.hpp"
#include "gorilla_baseline.hpp"
#include "history/chunk_decoder.hpp"
#include "history/chunk_encoder.hpp"
#include "history/range_aggregate.hpp"

namespace castor::history::bench {
namespace {

constexpr std::size_t kChunkPoints = 3600;  // one hour at 1 Hz
constexpr std::size_t kDay = 86'400;

struct Case {
  const char* name;
  Signal (*make)(std::size_t, Clock);
  std::size_t points;
  Clock clock;
};

constexpr Case kCases[] = {
    {"joint_angle_1Hz", joint_angle, kDay, Clock::ms_jitter},
    {"motor_temp_1Hz", motor_temperature, kDay, Clock::ms_jitter},
    {"parts_counter_1Hz", parts_counter, kDay, Clock::ms_jitter},
    {"running_bool_1Hz", running_status, kDay, Clock::ms_jitter},
    {"vibration_100Hz", vibration, 100 * 3600, Clock::exact},
    // How much the clock matters: the joint angle again with a perfect and an arrival clock.
    {"joint_angle_1Hz_exact_clock", joint_angle, kDay, Clock::exact},
    {"joint_angle_1Hz_ns_arrival_clock", joint_angle, kDay, Clock::ns_jitter},
    {"machine_power_1Hz", machine_power, kDay, Clock::exact},  // the end-to-end benchmark's
};

void append(ChunkEncoder& enc, const Signal& s, std::size_t i) {
  Status st;
  switch (s.type) {
    case ValueType::float64: st = enc.append(s.ts[i], s.doubles[i]); break;
    case ValueType::int64: st = enc.append(s.ts[i], s.ints[i]); break;
    default: st = enc.append(s.ts[i], s.ints[i] != 0); break;
  }
  if (!st.is_ok()) std::abort();
}

std::vector<Bytes> encode(const Signal& s) {
  std::vector<Bytes> chunks;
  ChunkEncoder enc(s.type);
  for (std::size_t i = 0; i < s.ts.size(); ++i) {
    append(enc, s, i);
    if (enc.count() == kChunkPoints) chunks.push_back(*enc.seal());
  }
  if (!enc.empty()) chunks.push_back(*enc.seal());
  return chunks;
}

void set_counters(benchmark::State& state, std::size_t points, std::size_t bytes) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * points));
  state.counters["bytes_per_point"] = static_cast<double>(bytes) / static_cast<double>(points);
}

void BM_Encode(benchmark::State& state, const Signal* signal) {
  const Signal& s = *signal;
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    ChunkEncoder enc(s.type);
    for (std::size_t i = 0; i < s.ts.size(); ++i) {
      append(enc, s, i);
      if (enc.count() == kChunkPoints) bytes += enc.seal()->size();
    }
    if (!enc.empty()) bytes += enc.seal()->size();
    benchmark::DoNotOptimize(bytes);
  }
  set_counters(state, s.ts.size(), bytes);
}

// The ingest hot path: whole columns per call.
void BM_EncodeColumns(benchmark::State& state, const Signal* signal) {
  const Signal& s = *signal;
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    ChunkEncoder enc(s.type);
    for (std::size_t i = 0; i < s.ts.size(); i += kChunkPoints) {
      const std::size_t n = std::min(kChunkPoints, s.ts.size() - i);
      const auto r = enc.append(std::span(s.ts).subspan(i, n), std::span(s.doubles).subspan(i, n));
      if (!r.status.is_ok()) std::abort();
      bytes += enc.seal()->size();
    }
    benchmark::DoNotOptimize(bytes);
  }
  set_counters(state, s.ts.size(), bytes);
}

void BM_Decode(benchmark::State& state, const Signal* signal) {
  const Signal& s = *signal;
  const std::vector<Bytes> chunks = encode(s);
  std::size_t bytes = 0;
  for (const Bytes& b : chunks) bytes += b.size();
  for (auto _ : state) {
    std::int64_t checksum = 0;
    for (const Bytes& b : chunks) {
      Result<ChunkDecoder> d = ChunkDecoder::open(b);
      while (*d->next_block() > 0) {
        checksum += d->timestamps().back();
        checksum += s.type == ValueType::float64 ? static_cast<std::int64_t>(d->doubles().back())
                                                 : d->ints().back();
      }
    }
    benchmark::DoNotOptimize(checksum);
  }
  set_counters(state, s.ts.size(), bytes);
}

void BM_GorillaEncode(benchmark::State& state, const Signal* signal) {
  const Signal& s = *signal;
  std::vector<double> values = s.doubles;
  if (values.empty()) values.assign(s.ints.begin(), s.ints.end());  // as Prometheus would
  Bytes out;
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (std::size_t i = 0; i < s.ts.size(); i += kChunkPoints) {
      const std::size_t n = std::min(kChunkPoints, s.ts.size() - i);
      bytes += gorilla_chunk(std::span(s.ts).subspan(i, n), std::span(values).subspan(i, n), out);
    }
    benchmark::DoNotOptimize(bytes);
  }
  set_counters(state, s.ts.size(), bytes);
}

// The query: one day of 1 Hz data, count/sum/avg/min/max/first/last/stddev per minute,
// with and without the exact median and p99; and only what avg needs (spread 0).
void BM_AggregateDayPerMinute(benchmark::State& state, const Signal* signal) {
  const Signal& s = *signal;
  const std::vector<Bytes> chunks = encode(s);
  const std::vector<RangeScan::ChunkBytes> views(chunks.begin(), chunks.end());
  AggregateQuery q{.from = s.ts.front(), .to = s.ts.back() + 1, .step = 60 * kSecond};
  if (state.range(0)) q.quantiles = {0.5, 0.99};
  q.spread = state.range(1) != 0;  // 0: what `agg=avg` reads (count, sum, mean, first, last)
  for (auto _ : state) {
    Result<AggregateResult> r = aggregate_range(ValueType::float64, views, q);
    if (!r.is_ok()) std::abort();
    benchmark::DoNotOptimize(r->buckets.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.ts.size()));
}

// `signals` must outlive the run: benchmarks keep pointers into it.
void register_all(std::vector<Signal>& signals) {
  signals.reserve(std::size(kCases));
  for (const Case& c : kCases) {
    const Signal* s = &signals.emplace_back(c.make(c.points, c.clock));
    const std::string name = c.name;
    benchmark::RegisterBenchmark(("Encode/" + name).c_str(), BM_Encode, s);
    if (s->type == ValueType::float64) {
      benchmark::RegisterBenchmark(("EncodeColumns/" + name).c_str(), BM_EncodeColumns, s);
    }
    benchmark::RegisterBenchmark(("Decode/" + name).c_str(), BM_Decode, s);
    benchmark::RegisterBenchmark(("GorillaEncode/" + name).c_str(), BM_GorillaEncode, s);
  }
  benchmark::RegisterBenchmark("AggregateDayPerMinute", BM_AggregateDayPerMinute, &signals[0])
      ->ArgNames({"quantiles", "spread"})
      ->Args({0, 1})
      ->Args({1, 1})
      ->Args({0, 0});
  // What the end-to-end benchmark's query (c) computes: avg per minute of a day of power.
  benchmark::RegisterBenchmark("AggregateDayPerMinute/machine_power", BM_AggregateDayPerMinute,
                               &signals.back())
      ->ArgNames({"quantiles", "spread"})
      ->Args({0, 0});
}

}  // namespace
}  // namespace castor::history::bench

int main(int argc, char** argv) {
  std::vector<castor::history::bench::Signal> signals;
  castor::history::bench::register_all(signals);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
