#include "ingest/history_reader.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "history/bucket_aggregator.hpp"
#include "history/chunk_format.hpp"
#include "history/range_scan.hpp"
#include "twin/errors.hpp"

namespace castor::ingest {

using history::SeriesSnapshot;

Result<std::vector<AggregateSpec>> parse_aggregates(std::string_view list) {
  std::vector<AggregateSpec> out;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    AggregateSpec a;
    a.name = std::string(item);
    static const std::pair<const char*, AggregateKind> kNames[] = {
        {"count", AggregateKind::count},  {"sum", AggregateKind::sum},
        {"avg", AggregateKind::avg},      {"mean", AggregateKind::avg},
        {"min", AggregateKind::min},      {"max", AggregateKind::max},
        {"first", AggregateKind::first},  {"last", AggregateKind::last},
        {"stddev", AggregateKind::stddev}};
    bool known = false;
    for (const auto& [n, k] : kNames)
      if (item == n) {
        a.kind = k;
        known = true;
      }
    if (!known && item.size() > 1 && item[0] == 'p') {
      double pct = 0;
      auto r = std::from_chars(item.data() + 1, item.data() + item.size(), pct);
      if (r.ec == std::errc() && r.ptr == item.data() + item.size() && pct >= 0 && pct <= 100) {
        a.kind = AggregateKind::quantile;
        a.q = pct / 100.0;
        known = true;
      }
    }
    if (!known)
      return Status(Code::invalid_argument,
                    "agg '" + std::string(item) +
                        "' is unknown: use count, sum, avg, min, max, first, last, stddev or a "
                        "percentile such as p50, p99, p99.9",
                    "InvalidArgument");
    out.push_back(std::move(a));
  }
  if (out.empty())
    return Status(Code::invalid_argument, "agg is empty: name at least one aggregate",
                  "InvalidArgument");
  return out;
}

HistoryReader::HistoryReader(IngestPipeline& pipeline) : pipeline_(pipeline) {}

HistoryReader::~HistoryReader() = default;

void HistoryReader::post(std::function<void()> job) {
  reader_.post(std::move(job));
}

void HistoryReader::snapshot(const HistoryQuery& q, std::function<void(Result<Snapshots>)> done) {
  twin::Engine& engine = pipeline_.engine();
  HistoryHook& hook = pipeline_.history();
  Status busy(Code::unavailable, "Castor is overloaded; retry shortly", "ServiceUnavailable");
  if (!q.twin.empty()) {
    bool posted = engine.run_on_owner(q.twin, [&hook, q, done](twin::Shard& s) {
      if (!s.find(q.twin)) return done(twin::errors::twin_not_found(q.twin));
      Snapshots out;
      if (const history::Series* series =
              hook.partition(s.index()).find(q.twin, q.component, q.name)) {
        out.push_back(hook.partition(s.index()).snapshot(*series, s.now()));
      } else {
        SeriesSnapshot empty;
        empty.twin = q.twin;
        empty.component = q.component;
        empty.name = q.name;
        out.push_back(std::move(empty));
      }
      done(std::move(out));
    });
    if (!posted) done(busy);
    return;
  }
  if (!engine.models().get(q.model))
    return done(Status(Code::not_found, "model " + q.model + " does not exist", "ModelNotFound"));
  struct Gather {
    std::mutex mu;
    Snapshots all;
    std::atomic<std::size_t> left;
    std::function<void(Result<Snapshots>)> done;
  };
  auto g = std::make_shared<Gather>();
  g->left = engine.shard_count();
  g->done = std::move(done);
  for (std::size_t i = 0; i < engine.shard_count(); ++i) {
    auto task = [&hook, q, g](twin::Shard& s) {
      Snapshots mine;
      auto& part = hook.partition(s.index());
      s.for_each_twin([&](const twin::Twin& t) {
        if (!t.model->is_a(q.model)) return;
        if (const history::Series* series = part.find(t.id, q.component, q.name))
          mine.push_back(part.snapshot(*series, s.now()));
      });
      {
        std::lock_guard lock(g->mu);
        for (auto& m : mine) g->all.push_back(std::move(m));
      }
      if (--g->left == 0) {
        std::sort(g->all.begin(), g->all.end(),
                  [](const SeriesSnapshot& a, const SeriesSnapshot& b) { return a.twin < b.twin; });
        g->done(std::move(g->all));
      }
    };
    if (!engine.run_on_shard(i, task) && --g->left == 0) g->done(busy);
  }
}

namespace {

double bucket_value(const history::Bucket& b, const history::AggregateResult& r, std::size_t bucket,
                    const AggregateSpec& a, std::size_t& quantile_index) {
  switch (a.kind) {
    case AggregateKind::count: return static_cast<double>(b.count);
    case AggregateKind::sum: return b.sum;
    case AggregateKind::avg: return b.mean;
    case AggregateKind::min: return b.min;
    case AggregateKind::max: return b.max;
    case AggregateKind::first: return b.first;
    case AggregateKind::last: return b.last;
    case AggregateKind::stddev: return b.stddev;
    case AggregateKind::quantile: return r.quantile(bucket, quantile_index++);
  }
  return history::Bucket::kNaN;
}

// Aggregates `chunks` over [from, to) of `q` (points before `from` are expired).
Result<history::AggregateResult> aggregate_span(history::ValueType type,
                                                std::span<const history::RangeScan::ChunkBytes> chunks,
                                                history::AggregateQuery q, std::int64_t from) {
  auto agg = history::BucketAggregator::create(q);
  if (!agg) return agg.status().with_reason("InvalidArgument");
  if (from < q.to && !chunks.empty()) {
    auto scan = history::RangeScan::open(type, chunks, std::max(from, q.from), q.to);
    if (!scan) return scan.status();
    while (true) {
      auto more = scan->next();
      if (!more) return more.status();
      if (!*more) break;
      CASTOR_RETURN_IF_ERROR(agg->add_sorted(scan->timestamps(), scan->numeric()));
    }
  }
  return std::move(*agg).finish();
}

// A series with at least this many chunks in range (about 12,000 points: below that a helper
// costs more than it saves) is aggregated in up to kSplitParts parts of whole buckets.
constexpr std::size_t kChunksWorthSplitting = 4;
constexpr std::size_t kSplitParts = 8;

// Bucket boundaries inside (q.from, q.to) that cut the chunks into parts of about equal size: a
// part never splits a bucket, so every bucket sums the same points in the same order as without
// the cuts. Each cut is the first bucket boundary at or after a chunk's first point: the part
// before it reads only that chunk's first block or so, and the part after it never opens the
// chunk before (a boundary before the chunk's start would make it decode that whole chunk for
// a bucket's worth of its last points). Empty when the range should not be cut.
std::vector<std::int64_t> bucket_cuts(std::span<const history::RangeScan::ChunkBytes> chunks,
                                      const history::AggregateQuery& q) {
  std::vector<std::int64_t> cuts;
  if (q.step <= 0 || chunks.size() < kChunksWorthSplitting) return cuts;
  const auto step = static_cast<std::uint64_t>(q.step);
  const auto span = static_cast<std::uint64_t>(q.to) - static_cast<std::uint64_t>(q.from);
  for (std::size_t k = 1; k < kSplitParts; ++k) {
    auto header = history::read_header(chunks[k * chunks.size() / kSplitParts]);
    if (!header || header->min_ts <= q.from || header->min_ts >= q.to) continue;
    const auto offset = static_cast<std::uint64_t>(header->min_ts) - static_cast<std::uint64_t>(q.from);
    const std::uint64_t up = offset % step == 0 ? 0 : step - offset % step;
    if (up >= span - offset) continue;  // no boundary left before `to`
    const auto cut = static_cast<std::int64_t>(static_cast<std::uint64_t>(q.from) + offset + up);
    if (cut > q.from && cut < q.to && (cuts.empty() || cut > cuts.back())) cuts.push_back(cut);
  }
  return cuts;
}

// Parts of one read that the reader and the helper thread take in turn: a long series' buckets
// cut into ranges, or the series of a many-series read. The reader never waits for the helper:
// once no part is left to take, it does every part the helper has not finished yet itself (the
// same bits either way; the later result is dropped). So a helper that starts late, or loses its
// core halfway, costs the read nothing but a duplicated part. Shared with the helper, which may
// get to it only after the read is answered: `run_part` must own what it reads.
template <class R>
class SharedParts {
 public:
  SharedParts(std::size_t n, std::function<R(std::size_t)> run_part)
      : run_part_(std::move(run_part)), results_(n) {}

  // The helper's share: parts nobody has taken yet.
  void help() {
    for (std::size_t i; (i = next_.fetch_add(1)) < results_.size();) take(i);
  }

  // The reader's share, then every part still unfinished; the results in part order.
  std::vector<R> run() {
    help();
    for (std::size_t i = 0; i < results_.size(); ++i) {
      if (!finished(i)) take(i);
    }
    std::lock_guard lock(mu_);
    std::vector<R> out;
    out.reserve(results_.size());
    for (auto& r : results_) out.push_back(std::move(*r));  // stays engaged: a late helper drops its copy
    return out;
  }

 private:
  void take(std::size_t i) {
    R r = run_part_(i);
    std::lock_guard lock(mu_);
    if (!results_[i]) results_[i].emplace(std::move(r));
  }
  bool finished(std::size_t i) {
    std::lock_guard lock(mu_);
    return results_[i].has_value();
  }

  const std::function<R(std::size_t)> run_part_;
  std::atomic<std::size_t> next_{0};
  std::mutex mu_;
  std::vector<std::optional<R>> results_;  // guarded by mu_
};

// Runs parts 0..n-1 of a read on the calling thread, offering them to `helper` too when there
// is more than one part and a second core to run it.
template <class R>
std::vector<R> run_shared(JobThread& helper, std::size_t n, std::function<R(std::size_t)> run_part) {
  auto parts = std::make_shared<SharedParts<R>>(n, std::move(run_part));
  if (n > 1 && std::thread::hardware_concurrency() > 1) helper.post([parts] { parts->help(); });
  return parts->run();
}

}  // namespace

Result<SeriesResult> HistoryReader::evaluate(const HistoryQuery& q, const SeriesSnapshot& snap,
                                             bool may_split) {
  SeriesResult out;
  out.twin = snap.twin;
  out.component = snap.component;
  out.name = snap.name;
  out.type = snap.type;
  out.columns = q.aggregates.empty() ? 1 : q.aggregates.size();
  std::int64_t from = std::max(q.from, snap.retained_from);
  bool aggregate = !q.aggregates.empty();
  if (aggregate && snap.type == history::ValueType::string)
    return Status(
        Code::invalid_argument,
        "series " + snap.twin + "/" + snap.name + " holds strings: read its raw points (no agg)",
        "InvalidArgument");
  history::AggregateQuery aq;
  if (aggregate) {
    aq.from = q.from;
    aq.to = q.to;
    aq.step = q.step;
    aq.spread = false;
    for (const auto& a : q.aggregates) {
      if (a.kind == AggregateKind::quantile) aq.quantiles.push_back(a.q);
      if (a.kind == AggregateKind::min || a.kind == AggregateKind::max ||
          a.kind == AggregateKind::stddev)
        aq.spread = true;
    }
    std::vector<history::Bytes> chunks;
    if (snap.id != 0 && from < q.to) {
      auto loaded = history::load_chunks(pipeline_.engine().store(),
                                         pipeline_.history().families(), snap, from, q.to);
      if (!loaded) return loaded.status();
      chunks = std::move(*loaded);
    }
    // What the parts read is shared with the helper, which may outlive this call.
    struct Span {
      std::vector<history::Bytes> chunks;
      std::vector<history::RangeScan::ChunkBytes> spans;
    };
    auto span = std::make_shared<Span>();
    span->chunks = std::move(chunks);
    span->spans.assign(span->chunks.begin(), span->chunks.end());
    const std::vector<std::int64_t> cuts = may_split ? bucket_cuts(span->spans, aq)
                                                     : std::vector<std::int64_t>{};
    // One result, or one per part in bucket order: rows are written from each without merging.
    std::vector<Result<history::AggregateResult>> results;
    if (cuts.empty()) {
      results.push_back(aggregate_span(snap.type, span->spans, aq, from));
    } else {
      auto parts = std::make_shared<std::vector<history::AggregateQuery>>();
      for (std::size_t k = 0; k <= cuts.size(); ++k) {
        history::AggregateQuery part = aq;
        if (k > 0) part.from = cuts[k - 1];
        if (k < cuts.size()) part.to = cuts[k];
        parts->push_back(std::move(part));
      }
      results = run_shared<Result<history::AggregateResult>>(
          helper_, parts->size(), [span, parts, type = snap.type, from](std::size_t i) {
            return aggregate_span(type, span->spans, (*parts)[i], from);
          });
    }
    std::size_t rows = 0;
    for (const auto& part : results) {
      if (!part) return part.status();
      rows += part->buckets.size();
    }
    out.ts.reserve(rows);
    out.numbers.reserve(rows * q.aggregates.size());
    for (const auto& part : results) {
      const history::AggregateResult& r = *part;
      for (std::size_t b = 0; b < r.buckets.size(); ++b) {
        out.ts.push_back(r.buckets[b].start);
        std::size_t qi = 0;
        for (const auto& a : q.aggregates)
          out.numbers.push_back(bucket_value(r.buckets[b], r, b, a, qi));
      }
    }
    return out;
  }
  if (snap.id != 0 && from < q.to) {
    auto chunks = history::load_chunks(pipeline_.engine().store(), pipeline_.history().families(),
                                       snap, from, q.to);
    if (!chunks) return chunks.status();
    std::vector<history::RangeScan::ChunkBytes> spans(chunks->begin(), chunks->end());
    auto scan = history::RangeScan::open(snap.type, spans, from, q.to);
    if (!scan) return scan.status();
    while (true) {
      auto more = scan->next();
      if (!more) return more.status();
      if (!*more) break;
      auto ts = scan->timestamps();
      std::size_t take = std::min(ts.size(), q.limit - out.ts.size());
      out.ts.insert(out.ts.end(), ts.begin(), ts.begin() + take);
      switch (snap.type) {
        case history::ValueType::float64:
        case history::ValueType::boolean: {
          auto v = scan->numeric();
          out.numbers.insert(out.numbers.end(), v.begin(), v.begin() + take);
          break;
        }
        case history::ValueType::int64: {
          auto v = scan->ints();
          out.ints.insert(out.ints.end(), v.begin(), v.begin() + take);
          break;
        }
        case history::ValueType::string: {
          auto v = scan->ints();
          for (std::size_t i = 0; i < take; ++i) out.texts.emplace_back(scan->string(v[i]));
          break;
        }
      }
      if (out.ts.size() >= q.limit) {
        out.truncated = true;
        break;
      }
    }
  }
  return out;
}

void HistoryReader::read(HistoryQuery q,
                         std::function<void(Result<std::vector<SeriesResult>>)> done) {
  auto shared = std::make_shared<HistoryQuery>(std::move(q));
  snapshot(*shared, [this, shared, done](Result<Snapshots> snaps) {
    if (!snaps) return post([done, st = snaps.status()] { done(st); });
    post([this, shared, done, snaps = std::make_shared<Snapshots>(std::move(*snaps))] {
      // Series are independent: a read of many (model=) is shared with the helper thread; a
      // read of one may share that series' buckets with it instead (evaluate's may_split).
      const std::size_t n = snaps->size();
      auto results = run_shared<Result<SeriesResult>>(
          helper_, n, [this, shared, snaps, n](std::size_t i) {
            return evaluate(*shared, (*snaps)[i], n == 1);
          });
      std::vector<SeriesResult> out;
      out.reserve(n);
      for (auto& r : results) {
        if (!r) return done(r.status());
        out.push_back(std::move(*r));
      }
      done(std::move(out));
    });
  });
}

void HistoryReader::latest(HistoryQuery q,
                           std::function<void(Result<std::vector<SeriesResult>>)> done) {
  auto shared = std::make_shared<HistoryQuery>(std::move(q));
  snapshot(*shared, [this, done](Result<Snapshots> snaps) {
    post([done, snaps = std::move(snaps)]() mutable {
      if (!snaps) return done(snaps.status());
      std::vector<SeriesResult> out;
      for (const auto& snap : *snaps) {
        SeriesResult r;
        r.twin = snap.twin;
        r.component = snap.component;
        r.name = snap.name;
        r.type = snap.type;
        r.has_latest = snap.last_ts != history::kNoTime;
        if (r.has_latest) {
          r.ts.push_back(snap.last_ts);
          if (snap.type == history::ValueType::int64)
            r.ints.push_back(snap.last_i);
          else if (snap.type == history::ValueType::string)
            r.texts.push_back(snap.last_s);
          else if (snap.type == history::ValueType::boolean)
            r.numbers.push_back(static_cast<double>(snap.last_i));
          else
            r.numbers.push_back(snap.last_f);
        }
        out.push_back(std::move(r));
      }
      done(std::move(out));
    });
  });
}

}  // namespace castor::ingest
