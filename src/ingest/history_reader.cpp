#include "ingest/history_reader.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <optional>
#include <system_error>

#include "history/bucket_aggregator.hpp"
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

HistoryReader::HistoryReader(IngestPipeline& pipeline) : pipeline_(pipeline) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "castor-hread");
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  });
}

HistoryReader::~HistoryReader() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HistoryReader::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
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

}  // namespace

Result<SeriesResult> HistoryReader::evaluate(const HistoryQuery& q,
                                             const SeriesSnapshot& snap) const {
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
  std::optional<history::BucketAggregator> agg;
  if (aggregate) {
    history::AggregateQuery aq;
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
    auto created = history::BucketAggregator::create(std::move(aq));
    if (!created) return created.status().with_reason("InvalidArgument");
    agg.emplace(std::move(*created));
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
      if (agg) {
        CASTOR_RETURN_IF_ERROR(agg->add_sorted(ts, scan->numeric()));
        continue;
      }
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
  if (agg) {
    history::AggregateResult r = std::move(*agg).finish();
    out.ts.reserve(r.buckets.size());
    out.numbers.reserve(r.buckets.size() * q.aggregates.size());
    for (std::size_t b = 0; b < r.buckets.size(); ++b) {
      out.ts.push_back(r.buckets[b].start);
      std::size_t qi = 0;
      for (const auto& a : q.aggregates)
        out.numbers.push_back(bucket_value(r.buckets[b], r, b, a, qi));
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
      // Series are independent: a read of many (model=) decodes them on every core. Helpers
      // live for this read only, and reads run one at a time, so at most cores - 1 exist.
      const std::size_t n = snaps->size();
      std::vector<std::optional<Result<SeriesResult>>> results(n);
      std::atomic<std::size_t> next{0};
      auto work = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < n;) results[i].emplace(evaluate(*shared, (*snaps)[i]));
      };
      const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
      std::vector<std::thread> helpers;
      try {
        for (std::size_t h = 1; h < std::min(cores, n); ++h)
          helpers.emplace_back([&work] {
            pthread_setname_np(pthread_self(), "castor-hread");
            work();
          });
      } catch (const std::system_error&) {
        // No thread to spare: the reader's own thread does the rest.
      }
      work();
      for (auto& t : helpers) t.join();
      std::vector<SeriesResult> out;
      out.reserve(n);
      for (auto& r : results) {
        if (!*r) return done(r->status());
        out.push_back(std::move(**r));
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
