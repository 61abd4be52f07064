// Castor's twin query language against PostgreSQL 15 on the same factory graph, in one run.
// Castor runs in-process (Engine + QueryService, as POST /query calls them, without HTTP);
// PostgreSQL is started by this program on loopback and queried over TCP with libpq, holding the
// graph as JSONB: twins(id primary key, model, doc) and relationships(source, target, name, doc)
// with B-tree, GIN (jsonb_path_ops) and expression indexes. Every query class is run on both
// with the same parameters, the row counts are checked to agree, and medians are printed with
// the ratio Castor/PostgreSQL (below 0.2 means Castor is at least 5x faster).
// Usage: query_vs_postgres [--twins N] [--runs R] [--points P] [--only CLASS] [--render-cache BYTES]
//        [--castor-only] (no PostgreSQL: Castor's times alone, for profiling; no ratios, no goals)
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "factory.hpp"
#include "common/config.hpp"
#include "postgres.hpp"
#include "query/query_service.hpp"
#include "query/twin_index.hpp"
#include "twin/engine.hpp"

namespace {

using namespace castor;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// CPU time of the whole process (every shard thread included), in ms: what a query costs
// regardless of how busy the machine is.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Options {
  std::string only;  // run only this query class
  bool castor_only = false;  // skip PostgreSQL (profiling Castor): no ratios, exit code 0
  std::size_t twins = 1'000'000;
  int runs = 50;
  int points = 5000;
  // query_render_cache; the default is castor serve's (Config's default, 128 MiB).
  std::size_t render_cache = static_cast<std::size_t>(Config{}.query_render_cache);
};

struct Castor {
  std::filesystem::path dir;
  std::shared_ptr<query::IndexSet> indexes;
  std::shared_ptr<query::RenderCache> render_cache;
  std::unique_ptr<twin::Engine> engine;
  std::shared_ptr<query::QueryService> service;
};

Castor open_castor(const Options& o) {
  Castor c;
  c.dir = std::filesystem::temp_directory_path() / ("castor-qvpg-" + std::to_string(getpid()));
  std::filesystem::remove_all(c.dir);
  query::IndexOptions io;
  io.declared.push_back(*query::parse_index_spec("temperature"));  // as --query-indexes=temperature
  c.indexes = std::make_shared<query::IndexSet>(io);
  twin::EngineOptions eo;
  eo.data_dir = c.dir;
  eo.store.durability = store::Durability::relaxed;
  eo.observers.push_back(c.indexes);
  c.render_cache = std::make_shared<query::RenderCache>(o.render_cache);  // as --query-render-cache
  eo.observers.push_back(c.render_cache);
  auto e = twin::Engine::open(std::move(eo));
  if (!e) throw std::runtime_error(e.status().message());
  c.engine = std::move(*e);
  auto models = bench::factory_models();
  auto& list = models.as_array();
  auto added = c.engine->add_models(std::span<const json::value>(list.data(), list.size()));
  if (!added.status.is_ok()) throw std::runtime_error(added.status.message());
  query::QueryOptions qo;
  qo.indexes = c.indexes;
  qo.render_cache = c.render_cache;
  c.service = std::make_shared<query::QueryService>(*c.engine, qo);
  return c;
}

void load_castor_twins(Castor& c, std::vector<bench::TwinDoc>& batch) {
  std::vector<twin::BulkItem> items;
  items.reserve(batch.size());
  for (auto& t : batch) items.push_back(twin::BulkItem{items.size() + 1, std::move(t.doc)});
  auto prepared = c.engine->prepare_twins(std::move(items));
  if (!prepared.rejected.errors.empty())
    throw std::runtime_error("castor rejected a twin: " + prepared.rejected.errors[0].status.message());
  std::promise<twin::BulkOutcome> p;
  c.engine->import_twins(std::move(prepared), [&p](twin::BulkOutcome o) { p.set_value(std::move(o)); });
  auto outcome = p.get_future().get();
  if (!outcome.errors.empty()) throw std::runtime_error("castor import: " + outcome.errors[0].status.message());
}

void load_castor_relationships(Castor& c, const std::vector<bench::RelationshipDoc>& batch) {
  std::vector<twin::BulkItem> items;
  for (const auto& r : batch) {
    json::object o{{"$dtId", r.source}, {"$relationshipId", r.id}, {"$targetId", r.target},
                   {"$relationshipName", r.name}};
    items.push_back(twin::BulkItem{items.size() + 1, std::move(o)});
  }
  auto outcome = c.engine->import_relationships(std::move(items));
  if (!outcome.errors.empty()) throw std::runtime_error("castor relationships: " + outcome.errors[0].status.message());
}

void load_pg_twins(bench::PgConnection& pg, const std::vector<bench::TwinDoc>& batch) {
  std::string rows;
  for (const auto& t : batch) {
    bench::copy_escape(t.id, rows);
    rows += '\t';
    bench::copy_escape(t.model, rows);
    rows += '\t';
    bench::copy_escape(json::serialize(t.doc), rows);
    rows += '\n';
  }
  pg.copy_in("COPY twins (id, model, doc) FROM STDIN", rows);
}

void load_pg_relationships(bench::PgConnection& pg, const std::vector<bench::RelationshipDoc>& batch) {
  std::string rows;
  for (const auto& r : batch) {
    json::object doc{{"$relationshipId", r.id}, {"$sourceId", r.source}, {"$targetId", r.target},
                     {"$relationshipName", r.name}};
    rows += r.source + '\t' + r.target + '\t' + r.name + '\t';
    bench::copy_escape(json::serialize(doc), rows);
    rows += '\n';
  }
  pg.copy_in("COPY relationships (source, target, name, doc) FROM STDIN", rows);
}

// Rows of a Castor query over every page; a COUNT answers its count.
std::size_t castor_rows(Castor& c, const std::string& text, query::QueryStats* stats) {
  auto page = query::run_sync(*c.service, text);
  if (!page) throw std::runtime_error(text + ": " + page.status().message());
  if (stats) stats->add(page->stats);
  if (page->rows.size() == 1 && page->rows[0].starts_with("{\"COUNT\":"))
    return std::stoull(std::string(page->rows[0].substr(9)));
  std::size_t n = page->rows.size();
  std::string token = page->continuation;
  while (!token.empty()) {
    auto next = query::next_sync(*c.service, token);
    if (!next) throw std::runtime_error(text + ": " + next.status().message());
    n += next->rows.size();
    token = next->continuation;
  }
  return n;
}

struct QueryClass {
  std::string name;
  bool indexed;  // goal: <= 1 ms; else a full scan, goal <= 50 ms
  std::function<std::string(std::mt19937_64&, std::string&)> make;  // Castor text; sets the PG param
  std::string sql;                                                 // $1 = the PG param ("" = none)
};

std::vector<QueryClass> classes(std::size_t lines) {
  auto line = [lines](std::mt19937_64& r) { return "line-" + std::to_string(r() % lines); };
  return {
      {"point", true,
       [line](std::mt19937_64& r, std::string& p) {
         p = "robot-" + line(r).substr(5) + "-" + std::to_string(r() % bench::kRobotsPerLine);
         return "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = '" + p + "'";
       },
       "SELECT doc FROM twins WHERE id = $1"},
      {"model_filter", true,
       [](std::mt19937_64&, std::string& p) {
         p = "dtmi:bench:Line;1";
         return std::string("SELECT T FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:bench:Line;1')");
       },
       "SELECT doc FROM twins WHERE model = $1"},
      {"property_range", true,
       [](std::mt19937_64& r, std::string& p) {
         p = std::to_string(119.9 + 0.001 * static_cast<double>(r() % 10));
         return "SELECT T.$dtId, T.temperature FROM DIGITALTWINS T WHERE T.temperature > " + p;
       },
       "SELECT id, doc->'temperature' FROM twins WHERE (doc->>'temperature')::float8 > $1::float8"},
      {"join_1hop", true,
       [line](std::mt19937_64& r, std::string& p) {
         p = line(r);
         return "SELECT R FROM DIGITALTWINS L JOIN R RELATED L.contains WHERE L.$dtId = '" + p + "'";
       },
       "SELECT t.doc FROM relationships r JOIN twins t ON t.id = r.target WHERE r.source = $1 AND r.name = 'contains'"},
      {"match_3hop", true,
       [line](std::mt19937_64& r, std::string& p) {
         p = line(r);
         return "SELECT S FROM DIGITALTWINS MATCH (L)-[:contains]->(R)-[:feeds]->(C)-[:hasSensor]->(S) WHERE "
                "L.$dtId = '" + p + "'";
       },
       "SELECT s.doc FROM relationships r1 JOIN relationships r2 ON r2.source = r1.target AND r2.name = 'feeds' "
       "JOIN relationships r3 ON r3.source = r2.target AND r3.name = 'hasSensor' JOIN twins s ON s.id = r3.target "
       "WHERE r1.source = $1 AND r1.name = 'contains'"},
      {"count_filtered", true,
       [](std::mt19937_64&, std::string& p) {
         p = "{\"state\":\"fault\"}";
         return std::string("SELECT COUNT() FROM DIGITALTWINS T WHERE T.state = 'fault'");
       },
       "SELECT count(*) FROM twins WHERE doc @> $1::jsonb"},
      {"count_all", false,
       [](std::mt19937_64&, std::string& p) {
         p.clear();
         return std::string("SELECT COUNT() FROM DIGITALTWINS");
       },
       "SELECT count(*) FROM twins"},
      {"full_scan", false,
       [](std::mt19937_64& r, std::string& p) {
         p = std::to_string(10 + r() % 90);
         return "SELECT COUNT() FROM DIGITALTWINS T WHERE ENDSWITH(T.serial, '" + p + "')";
       },
       "SELECT count(*) FROM twins WHERE doc->>'serial' LIKE '%' || $1"},
  };
}

struct Measured {
  double castor_ms = 0, pg_ms = 0, castor_cpu_ms = 0;
  std::size_t rows = 0;
  query::QueryStats stats;  // of the measured runs' first pages
};

// `pg` null: Castor alone (--castor-only).
Measured measure(Castor& c, bench::PgConnection* pg, const QueryClass& q, int runs) {
  std::mt19937_64 rng(7);
  std::vector<double> ct, pt, cc;
  Measured m;
  for (int i = -3; i < runs; ++i) {  // three warm-up rounds (and the automatic index, if any)
    std::string param;
    const std::string text = q.make(rng, param);
    std::vector<std::string> params;
    if (q.sql.find("$1") != std::string::npos) params.push_back(param);
    const double cpu0 = cpu_ms();
    auto t0 = Clock::now();
    const std::size_t cr = castor_rows(c, text, i >= 0 ? &m.stats : nullptr);
    const double cms = ms_since(t0);
    const double ccpu = cpu_ms() - cpu0;
    t0 = Clock::now();
    const std::size_t pr = pg ? static_cast<std::size_t>(pg->query(q.sql, params)) : cr;
    const double pms = ms_since(t0);
    if (cr != pr)
      throw std::runtime_error(q.name + ": Castor returned " + std::to_string(cr) + " rows, PostgreSQL " +
                               std::to_string(pr) + " for " + text);
    if (i < 0) continue;
    ct.push_back(cms);
    pt.push_back(pms);
    cc.push_back(ccpu);
    m.rows = cr;
  }
  m.castor_ms = median(ct);
  m.castor_cpu_ms = median(cc);
  m.pg_ms = median(pt);
  return m;
}

double point_rate(const std::function<void(const std::string&)>& run, std::size_t lines, int n) {
  std::mt19937_64 rng(11);
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i)
    run("sensor-" + std::to_string(rng() % lines) + "-" + std::to_string(rng() % 800));
  return n / (ms_since(t0) / 1000.0);
}

int run(const Options& o) {
  const std::size_t lines = std::max<std::size_t>(1, o.twins / bench::kTwinsPerLine);
  std::optional<bench::PostgresServer> server;
  std::optional<bench::PgConnection> pg;
  if (!o.castor_only) {
    std::fprintf(stderr, "starting PostgreSQL...\n");
    server.emplace();
    pg.emplace(server->conninfo());
    pg->exec("CREATE TABLE twins (id text PRIMARY KEY, model text NOT NULL, doc jsonb NOT NULL)");
    pg->exec("CREATE TABLE relationships (source text NOT NULL, target text NOT NULL, name text NOT NULL, doc jsonb)");
  }
  Castor c = open_castor(o);
  double castor_load = 0, pg_load = 0;
  std::size_t twins = 0, rels = 0;
  const std::size_t total = lines * bench::kTwinsPerLine;
  bench::generate_factory(
      lines, 20000,
      [&](std::vector<bench::TwinDoc>& batch) {
        auto t0 = Clock::now();
        if (pg) load_pg_twins(*pg, batch);
        pg_load += ms_since(t0);
        t0 = Clock::now();
        load_castor_twins(c, batch);
        castor_load += ms_since(t0);
        twins += batch.size();
        std::fprintf(stderr, "\rloading twins %zu/%zu (castor %.1f s, postgres %.1f s)", twins, total,
                     castor_load / 1000, pg_load / 1000);
      },
      [&](std::vector<bench::RelationshipDoc>& batch) {
        auto t0 = Clock::now();
        if (pg) load_pg_relationships(*pg, batch);
        pg_load += ms_since(t0);
        t0 = Clock::now();
        load_castor_relationships(c, batch);
        castor_load += ms_since(t0);
        rels += batch.size();
        std::fprintf(stderr, "\rloading relationships %zu (castor %.1f s, postgres %.1f s)      ", rels,
                     castor_load / 1000, pg_load / 1000);
      });
  auto t0 = Clock::now();
  if (pg) {
    std::fprintf(stderr, "\nindexing PostgreSQL...\n");
    pg->exec("CREATE INDEX twins_model ON twins (model)");
    pg->exec("CREATE INDEX twins_doc ON twins USING gin (doc jsonb_path_ops)");
    pg->exec("CREATE INDEX twins_temperature ON twins (((doc->>'temperature')::float8))");
    pg->exec("CREATE INDEX relationships_source ON relationships (source, name)");
    pg->exec("CREATE INDEX relationships_target ON relationships (target, name)");
    pg->exec("VACUUM ANALYZE");
  }
  const double pg_index = ms_since(t0);
  std::printf("twins %zu, relationships %zu; load castor %.1f s (indexes included), postgres %.1f s + %.1f s indexes\n",
              twins, rels, castor_load / 1000, pg_load / 1000, pg_index / 1000);
  std::printf("castor: in-process QueryService, %zu shards; postgres 15 over TCP 127.0.0.1 (libpq)\n",
              c.engine->shard_count());
  std::printf("%-15s %10s %12s %12s %10s %8s %7s %s\n", "class", "castor_ms", "castor_cpu_ms", "postgres_ms",
              "castor/pg", "speedup", "rows", "castor access / goal");
  bool all_met = true;
  for (const QueryClass& q : classes(lines)) {
    if (!o.only.empty() && q.name != o.only) continue;
    std::fprintf(stderr, "running %s...\n", q.name.c_str());
    const Measured m = measure(c, pg ? &*pg : nullptr, q, o.runs);
    if (!pg) {
      std::printf("%-15s %10.3f %12.3f %12s %10s %8s %7zu (castor only)\n", q.name.c_str(), m.castor_ms,
                  m.castor_cpu_ms, "-", "-", "-", m.rows);
      std::fflush(stdout);
      continue;
    }
    const double goal_ms = q.indexed ? 1.0 : 50.0;
    const bool met = m.castor_ms <= goal_ms && m.castor_ms * 5 <= m.pg_ms;
    all_met = all_met && met;
    std::printf("%-15s %10.3f %12.3f %12.3f %10.3f %7.1fx %7zu %s, goal <= %.0f ms and >= 5x: %s\n",
                q.name.c_str(), m.castor_ms, m.castor_cpu_ms, m.pg_ms, m.castor_ms / m.pg_ms,
                m.pg_ms / m.castor_ms, m.rows,
                m.stats.index_only > 0                                           ? "index only"
                : m.stats.indexed > 0                                            ? "index"
                : (q.name == "point" || q.name.find("hop") != std::string::npos) ? "point lookup"
                                                                                 : "scan",
                goal_ms, met ? "met" : "NOT met");
    std::fflush(stdout);
  }
  const double cq = point_rate(
      [&](const std::string& id) { castor_rows(c, "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = '" + id + "'", nullptr); },
      lines, o.points);
  if (!pg) {
    std::printf("point queries/s (one client, sequential): castor %.0f (castor only)\n", cq);
    c.service.reset();
    c.engine.reset();
    std::filesystem::remove_all(c.dir);
    return 0;
  }
  const double pq = point_rate([&](const std::string& id) { pg->query("SELECT doc FROM twins WHERE id = $1", {id}); },
                               lines, o.points);
  std::printf("point queries/s (one client, sequential): castor %.0f, postgres %.0f, ratio %.2f; goal castor >= 5000: %s\n",
              cq, pq, cq / pq, cq >= 5000 ? "met" : "NOT met");
  c.service.reset();
  c.engine.reset();
  std::filesystem::remove_all(c.dir);
  return all_met ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--twins" && i + 1 < argc) o.twins = std::stoul(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) o.runs = std::stoi(argv[++i]);
    else if (a == "--points" && i + 1 < argc) o.points = std::stoi(argv[++i]);
    else if (a == "--only" && i + 1 < argc) o.only = argv[++i];
    else if (a == "--render-cache" && i + 1 < argc) o.render_cache = std::stoul(argv[++i]);
    else if (a == "--castor-only") o.castor_only = true;
    else {
      std::cerr << "usage: query_vs_postgres [--twins N (default 1000000)] [--runs R (50)] [--points P (5000)] [--only CLASS] [--render-cache BYTES (134217728; 0: off)] [--castor-only]\n";
      return 2;
    }
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "\nquery_vs_postgres: " << e.what() << "\n";
    return 1;
  }
}
