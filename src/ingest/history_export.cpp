#include "ingest/history_export.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <ctime>
#include <map>
#include <mutex>

#include "history/range_scan.hpp"
#include "twin/errors.hpp"

namespace castor::ingest {
namespace {

// Series a page takes at most (phase 1 keeps only this many keys per shard).
constexpr std::size_t kSeriesPerPage = 512;

Status bad_token() {
  return Status(Code::invalid_argument,
                "continuationToken is not one this server issued: start again without it",
                "InvalidArgument");
}

struct Candidate {
  std::string key;
  std::size_t shard = 0;
};

// A series to read: its snapshot, key and whether its strings are JSON documents.
struct Planned {
  std::string key;
  history::SeriesSnapshot snap;
  bool json = false;
};

bool wants(const twin::Twin& t, const ExportQuery& q) {
  return (q.twin.empty() || t.id == q.twin) && (q.model.empty() || t.model->is_a(q.model));
}

bool after_cursor(const ExportQuery& q, const std::string& key, std::int64_t last_ts) {
  if (!q.cursor) return true;
  if (key != q.cursor->key) return key > q.cursor->key;
  return last_ts > q.cursor->after_ts;
}

// Whether the (component, name) of a twin holds Object/Map/Array values (kept as JSON text).
bool holds_json(const twin::Twin& t, std::string_view component, std::string_view name) {
  const model::CompiledInterface* iface = t.model.get();
  if (!component.empty()) {
    auto it = iface->components.find(component);
    if (it == iface->components.end()) return false;
    iface = it->second.get();
  }
  const model::ContentDef* c = iface->find(name);
  if (!c || !c->schema) return false;
  auto kind = c->schema->kind;
  return kind == model::SchemaKind::object || kind == model::SchemaKind::map ||
         kind == model::SchemaKind::array;
}

std::string_view type_name(const Planned& p) {
  return p.json ? std::string_view("json") : history::value_type_name(p.snap.type);
}

// Appends the points of one series from `start`; false once the page is full (cursor set).
Result<bool> read_series(IngestPipeline& pipeline, const ExportQuery& q, const Planned& p,
                         std::int64_t start, ExportPage& page) {
  const auto& snap = p.snap;
  auto chunks = history::load_chunks(pipeline.engine().store(), pipeline.history().families(), snap,
                                     start, q.to);
  if (!chunks) return chunks.status();
  std::vector<history::RangeScan::ChunkBytes> spans(chunks->begin(), chunks->end());
  auto scan = history::RangeScan::open(snap.type, spans, start, q.to);
  if (!scan) return scan.status();
  ExportRow row;
  row.twin = snap.twin;
  row.component = snap.component;
  row.name = snap.name;
  row.model = snap.model;
  row.type = type_name(p);
  bool counted = false;
  while (true) {
    auto more = scan->next();
    if (!more) return more.status();
    if (!*more) return true;
    auto ts = scan->timestamps();
    for (std::size_t k = 0; k < ts.size(); ++k) {
      row.ts = ts[k];
      switch (snap.type) {
        case history::ValueType::float64: row.f = scan->doubles()[k]; break;
        case history::ValueType::int64:
        case history::ValueType::boolean: row.i = scan->ints()[k]; break;
        case history::ValueType::string: row.s = scan->string(scan->ints()[k]); break;
      }
      append_export_row(page.ndjson, row);
      ++page.rows;
      if (!counted) ++page.series, counted = true;
      if (page.rows >= q.limit || page.ndjson.size() >= q.max_bytes) {
        page.next = ExportCursor{p.key, ts[k]};
        return false;
      }
    }
  }
}

void evaluate(IngestPipeline& pipeline, const ExportQuery& q, std::vector<Planned>& plan,
              bool more_series, const std::function<void(Result<ExportPage>)>& done) {
  std::sort(plan.begin(), plan.end(),
            [](const Planned& a, const Planned& b) { return a.key < b.key; });
  ExportPage page;
  for (const Planned& p : plan) {
    std::int64_t start = std::max(q.from, p.snap.retained_from);
    if (q.cursor && q.cursor->key == p.key && q.cursor->after_ts >= start)
      start = q.cursor->after_ts + 1;  // after_ts < INT64_MAX here (such series are not planned)
    if (p.snap.id == 0 || start >= q.to) continue;
    auto go_on = read_series(pipeline, q, p, start, page);
    if (!go_on) return done(go_on.status());
    if (!*go_on) return done(std::move(page));
  }
  if (more_series && !plan.empty())
    page.next = ExportCursor{plan.back().key, std::numeric_limits<std::int64_t>::max()};
  done(std::move(page));
}

struct Gather {
  std::mutex mu;
  std::vector<Candidate> keys;
  std::vector<Planned> plan;
  bool more = false;
  std::atomic<std::size_t> left{0};
  std::atomic<bool> refused{false};  // a shard's queue was full: the page would miss series
};

Status busy() {
  return Status(Code::unavailable, "Castor is overloaded; retry shortly", "ServiceUnavailable");
}

// Phase 2: snapshots of the chosen series on their shards, then the reads on the reader thread.
void snapshot_and_read(IngestPipeline& pipeline, HistoryReader& reader,
                       std::shared_ptr<ExportQuery> q, std::shared_ptr<Gather> g,
                       std::function<void(Result<ExportPage>)> done) {
  std::map<std::size_t, std::vector<std::string>> by_shard;
  for (auto& c : g->keys) by_shard[c.shard].push_back(std::move(c.key));
  g->keys.clear();
  auto finish = [&pipeline, &reader, q, g, done] {
    if (g->refused) return done(busy());
    reader.post([&pipeline, q, g, done] { evaluate(pipeline, *q, g->plan, g->more, done); });
  };
  if (by_shard.empty()) return finish();
  g->left = by_shard.size();
  HistoryHook& hook = pipeline.history();
  for (auto& [shard, keys] : by_shard) {
    auto task = [&hook, g, keys = std::move(keys), finish](twin::Shard& s) {
      std::vector<Planned> mine;
      auto& part = hook.partition(s.index());
      for (const std::string& key : keys) {
        std::size_t a = key.find('\0'), b = key.find('\0', a + 1);
        std::string_view k(key);
        std::string_view twin_id = k.substr(0, a), comp = k.substr(a + 1, b - a - 1),
                         name = k.substr(b + 1);
        const twin::Twin* t = s.find(twin_id);
        const history::Series* series = t ? part.find(twin_id, comp, name) : nullptr;
        if (!series) continue;  // deleted meanwhile
        mine.push_back({key, part.snapshot(*series, s.now()), holds_json(*t, comp, name)});
      }
      {
        std::lock_guard lock(g->mu);
        for (auto& m : mine) g->plan.push_back(std::move(m));
      }
      if (--g->left == 0) finish();
    };
    if (pipeline.engine().run_on_shard(shard, task)) continue;
    g->refused = true;
    if (--g->left == 0) finish();
  }
}

// Phase 1 on one shard: keys of the first kSeriesPerPage wanted series after the cursor.
std::vector<Candidate> candidates(HistoryHook& hook, twin::Shard& s, const ExportQuery& q,
                                  bool& more) {
  std::vector<Candidate> out;
  auto& part = hook.partition(s.index());
  std::string key;
  auto consider = [&](const twin::Twin& t) {
    if (!wants(t, q)) return;
    for (const history::Series* series : part.series_of(t.id)) {
      history::series_key(series->twin, series->component, series->name, key);
      if (series->last_ts == history::kNoTime || !after_cursor(q, key, series->last_ts)) continue;
      if (series->last_ts < q.from) continue;  // nothing in range
      out.push_back({key, s.index()});
    }
  };
  if (!q.twin.empty()) {
    if (const twin::Twin* t = s.find(q.twin)) consider(*t);
  } else {
    s.for_each_twin(consider);
  }
  if (out.size() > kSeriesPerPage) {
    std::nth_element(out.begin(), out.begin() + kSeriesPerPage, out.end(),
                     [](const Candidate& a, const Candidate& b) { return a.key < b.key; });
    out.resize(kSeriesPerPage);
    more = true;
  }
  return out;
}

}  // namespace

void export_page(IngestPipeline& pipeline, HistoryReader& reader, ExportQuery query,
                 std::function<void(Result<ExportPage>)> done) {
  twin::Engine& engine = pipeline.engine();
  if (!query.model.empty() && !engine.models().get(query.model))
    return done(
        Status(Code::not_found, "model " + query.model + " does not exist", "ModelNotFound"));
  auto q = std::make_shared<ExportQuery>(std::move(query));
  auto g = std::make_shared<Gather>();
  HistoryHook& hook = pipeline.history();
  auto gathered = [&pipeline, &reader, q, g, done] {
    if (g->refused) return done(busy());
    std::sort(g->keys.begin(), g->keys.end(),
              [](const Candidate& a, const Candidate& b) { return a.key < b.key; });
    if (g->keys.size() > kSeriesPerPage) {
      g->keys.resize(kSeriesPerPage);
      g->more = true;
    }
    snapshot_and_read(pipeline, reader, q, g, done);
  };
  if (!q->twin.empty()) {
    bool posted = engine.run_on_owner(q->twin, [&hook, q, g, gathered, done](twin::Shard& s) {
      if (!s.find(q->twin)) return done(twin::errors::twin_not_found(q->twin));
      bool more = false;
      g->keys = candidates(hook, s, *q, more);
      g->more = more;
      gathered();
    });
    if (!posted) done(busy());
    return;
  }
  g->left = engine.shard_count();
  for (std::size_t i = 0; i < engine.shard_count(); ++i) {
    auto task = [&hook, q, g, gathered](twin::Shard& s) {
      bool more = false;
      auto mine = candidates(hook, s, *q, more);
      {
        std::lock_guard lock(g->mu);
        g->more = g->more || more;
        for (auto& c : mine) g->keys.push_back(std::move(c));
      }
      if (--g->left == 0) gathered();
    };
    if (engine.run_on_shard(i, task)) continue;
    g->refused = true;
    if (--g->left == 0) gathered();
  }
}

std::string encode_cursor(const ExportCursor& c) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = std::to_string(c.after_ts) + ".";
  for (unsigned char ch : c.key) {
    out.push_back(hex[ch >> 4]);
    out.push_back(hex[ch & 15]);
  }
  return out;
}

Result<ExportCursor> decode_cursor(std::string_view token) {
  ExportCursor c;
  std::size_t dot = token.find('.');
  if (dot == std::string_view::npos) return bad_token();
  auto r = std::from_chars(token.data(), token.data() + dot, c.after_ts);
  if (r.ec != std::errc() || r.ptr != token.data() + dot) return bad_token();
  std::string_view hex = token.substr(dot + 1);
  if (hex.size() % 2 != 0 || hex.empty()) return bad_token();
  auto nibble = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return bad_token();
    c.key.push_back(static_cast<char>(hi * 16 + lo));
  }
  if (std::count(c.key.begin(), c.key.end(), '\0') != 2) return bad_token();
  return c;
}

std::string format_rfc3339_ns(std::int64_t ns) {
  std::int64_t secs = ns / 1'000'000'000, frac = ns % 1'000'000'000;
  if (frac < 0) frac += 1'000'000'000, --secs;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(frac));
  return buf;
}

void append_export_row_head(std::string& out, std::string_view twin, std::string_view component,
                            std::string_view name, std::string_view model, std::string_view ts,
                            std::int64_t ts_ns, std::string_view type) {
  out += "{\"twin\":";
  json::append_string(out, twin);
  out += ",\"component\":";
  json::append_string(out, component);
  out += ",\"name\":";
  json::append_string(out, name);
  out += ",\"model\":";
  json::append_string(out, model);
  out += ",\"ts\":";
  json::append_string(out, ts);
  out += ",\"ts_ns\":";
  out += std::to_string(ts_ns);
  out += ",\"type\":";
  json::append_string(out, type);
  out += ",\"value\":";
}

void append_export_row(std::string& out, const ExportRow& row) {
  append_export_row_head(out, row.twin, row.component, row.name, row.model,
                         format_rfc3339_ns(row.ts), row.ts, row.type);
  if (row.type == "float64") {
    json::append_double(out, row.f);
  } else if (row.type == "int64") {
    out += std::to_string(row.i);
  } else if (row.type == "boolean") {
    out += row.i != 0 ? "true" : "false";
  } else if (row.type == "json") {
    out += row.s;  // stored as compact JSON text by the ingest step
  } else {
    json::append_string(out, row.s);
  }
  out += "}\n";
}

}  // namespace castor::ingest
