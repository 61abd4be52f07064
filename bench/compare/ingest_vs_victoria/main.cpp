// Castor against VictoriaMetrics on the factory's telemetry, in one run: both servers started
// here on loopback with their own temporary data folders, fed the same line-protocol points
// (bench/load/factory_workload), then compared on
//   (a) ingest throughput (points acknowledged per second; Castor's 202 follows its fsync'd group
//       commit, VictoriaMetrics' 204 follows buffering in memory),
//   (b) bytes on disk per point after both flushed (what is counted is printed),
//   (c) one series, one day of 1 Hz data, averaged per minute,
//   (d) every robot's series of one signal, one day, averaged per minute and robot.
// Every query's answer is checked to agree between the two (points and their sum).
// Usage: ingest_vs_victoria [--smoke] [--lines 10] [--robots-per-line 10] [--runs 3]
//        [--run-seconds 600] [--day-hours 24] [--query-runs 10] [--connections 4]
//        [--batch-points 20000] [--castor PATH] [--models DIR] [--durability strict|relaxed]
//        [--keep]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "factory_workload.hpp"
#include "http_client.hpp"
#include "servers.hpp"

namespace {

using namespace castor::bench;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr std::int64_t kSecond = 1'000'000'000;

struct Options {
  std::string castor = CASTOR_BIN, models = CASTOR_FACTORY_MODELS, durability = "strict";
  int lines = 10, robots = 10, runs = 3, query_runs = 10, connections = 4;
  double run_seconds = 600, day_hours = 24;
  std::size_t batch = 20000;
  bool keep = false, smoke = false;
};

// User + system CPU seconds of a process, from /proc (steadier than wall time on a busy machine).
double cpu_seconds(int pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return 0;
  char buf[4096];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
  unsigned long long utime = 0, stime = 0;
  if (!p || std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// What a query answered: series, non-empty buckets and the sum of their values.
struct Answer {
  std::size_t series = 0, points = 0;
  double sum = 0;
};

// Castor: {"series":[{...,"points":[[ts,v],...]},...]} or one series object; null = empty bucket.
Answer scan_castor(const std::string& body) {
  Answer a;
  for (std::size_t p = body.find("\"points\":["); p != std::string::npos; p = body.find("\"points\":[", p)) {
    ++a.series;
    p += 10;
    while (p < body.size() && body[p] == '[') {
      const std::size_t comma = body.find(',', p);
      const std::size_t close = body.find(']', comma);
      const std::string v = body.substr(comma + 1, close - comma - 1);
      if (v != "null") {
        ++a.points;
        a.sum += std::stod(v);
      }
      p = close + 1;
      if (p < body.size() && body[p] == ',') ++p;
    }
  }
  return a;
}

// VictoriaMetrics: {"data":{"result":[{"metric":{..},"values":[[t,"v"],...]},...]}}.
Answer scan_victoria(const std::string& body) {
  Answer a;
  for (std::size_t p = body.find("\"values\":["); p != std::string::npos; p = body.find("\"values\":[", p)) {
    ++a.series;
    p += 10;
    while (p < body.size() && body[p] == '[') {
      const std::size_t q1 = body.find('"', p);
      const std::size_t q2 = body.find('"', q1 + 1);
      ++a.points;
      a.sum += std::stod(body.substr(q1 + 1, q2 - q1 - 1));
      p = body.find(']', q2) + 1;
      if (p < body.size() && body[p] == ',') ++p;
    }
  }
  return a;
}

struct Timed {
  std::vector<double> castor_ms, victoria_ms;
  Answer castor, victoria;
};

// Runs both queries `runs` times (after one warm-up each), alternating which goes first.
Timed time_queries(int castor_port, const std::string& castor_target, int vm_port, const std::string& vm_target,
                   int runs) {
  HttpConnection c(castor_port), v(vm_port);
  Timed t;
  auto one = [](HttpConnection& conn, const std::string& target, std::vector<double>* out) {
    const auto t0 = Clock::now();
    const int s = conn.request("GET", target, "", "");
    if (out) out->push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (s != 200) throw std::runtime_error("GET " + target + ": HTTP " + std::to_string(s) + " " + conn.body().substr(0, 300));
  };
  one(c, castor_target, nullptr);
  t.castor = scan_castor(c.body());
  one(v, vm_target, nullptr);
  t.victoria = scan_victoria(v.body());
  for (int r = 0; r < runs; ++r) {
    if (r % 2) {
      one(v, vm_target, &t.victoria_ms);
      one(c, castor_target, &t.castor_ms);
    } else {
      one(c, castor_target, &t.castor_ms);
      one(v, vm_target, &t.victoria_ms);
    }
  }
  return t;
}

bool agree(const Answer& a, const Answer& b) {
  return a.series == b.series && a.points == b.points && std::abs(a.sum - b.sum) <= 1e-9 * std::max(1.0, std::abs(a.sum));
}

struct Fed {
  SendResult send;
  double cpu_ns_per_point = 0;  // the server's CPU time per acknowledged point
};

// Feeds both the same window, Castor first on even runs; returns {castor, victoria}.
std::pair<Fed, Fed> feed(const FactoryWorkload& w, int cport, int cpid, int vport, int vpid, std::int64_t t0,
                         double seconds, const Options& o, int run) {
  Fed rc, rv;
  for (int k = 0; k < 2; ++k) {
    const bool castor_turn = (k == 0) == (run % 2 == 0);
    const Target t = castor_turn ? Target::castor : Target::victoria;
    const auto bodies = w.render(t, t0, seconds, 1.0, o.connections, o.batch);
    const int pid = castor_turn ? cpid : vpid;
    const double cpu0 = cpu_seconds(pid);
    SendResult r = send_bodies(castor_turn ? cport : vport, t, bodies);
    if (r.failures) throw std::runtime_error(std::string(castor_turn ? "castor" : "victoria-metrics") + " refused " +
                                             std::to_string(r.failures) + " batches: " + r.first_error);
    Fed& f = castor_turn ? rc : rv;
    f.cpu_ns_per_point = (cpu_seconds(pid) - cpu0) * 1e9 / static_cast<double>(std::max<std::size_t>(1, r.points));
    f.send = r;
  }
  return {rc, rv};
}

std::string fmt_rate(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.0f", v);
  return b;
}

int run(const Options& o) {
  char tmpl[] = "/tmp/castor-ivvm-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  // Declared before the servers, so it removes the folders after they stopped, on errors too.
  struct TempRoot {
    fs::path path;
    bool keep;
    ~TempRoot() {
      std::error_code ec;
      if (!keep) fs::remove_all(path, ec);
    }
  } temp{tmpl, o.keep};
  const fs::path& root = temp.path;
  const std::string castor_data = root / "castor", vm_data = root / "victoria";
  std::printf("data folders under %s; machine: %d CPUs\n", root.c_str(), static_cast<int>(std::thread::hardware_concurrency()));
  std::fflush(stdout);
  auto victoria = std::make_unique<VictoriaServer>(vm_data);
  const std::vector<std::string> castor_args{"--durability", o.durability};
  auto castor = std::make_unique<CastorServer>(o.castor, castor_data, castor_args);
  std::printf("castor serve pid %d port %d (--durability %s); victoria-metrics pid %d port %d\n", castor->pid(),
              castor->port(), o.durability.c_str(), victoria->pid(), victoria->port());
  const FactoryShape shape{o.lines, o.robots};
  const FactoryWorkload all(shape), power(shape, {"power"});
  setup_castor(castor->port(), o.models, all);

  // The window: a day of `power` for every robot, then the throughput runs, all ending an hour ago.
  const std::int64_t day = static_cast<std::int64_t>(o.day_hours * 3600) * kSecond;
  const std::int64_t runs_span = static_cast<std::int64_t>(o.run_seconds * o.runs) * kSecond;
  const std::int64_t end = (now_ns() / (60 * kSecond) - 60) * 60 * kSecond;
  const std::int64_t day0 = end - runs_span - day;
  std::printf("load: %zu series (%d robots x 30 + %d lines x 20)\n", all.series(), o.lines * o.robots, o.lines);

  std::fprintf(stderr, "day of robot power: %zu series x %.0f s...\n", power.series(), o.day_hours * 3600);
  auto [day_c, day_v] =
      feed(power, castor->port(), castor->pid(), victoria->port(), victoria->pid(), day0, o.day_hours * 3600, o, 0);
  std::printf("day load (%zu series, 1 field per line, %zu points): castor %s points/s (%.0f ns CPU/point), "
              "victoria-metrics %s points/s (%.0f ns CPU/point)\n",
              power.series(), day_c.send.points, fmt_rate(day_c.send.points_per_second()).c_str(), day_c.cpu_ns_per_point,
              fmt_rate(day_v.send.points_per_second()).c_str(), day_v.cpu_ns_per_point);

  std::vector<double> rc, rv, cc, cv;
  std::size_t total_points = day_c.send.points;
  std::printf("%-4s %14s %14s %8s %18s %18s %10s %10s\n", "run", "castor pts/s", "victoria pts/s", "ratio",
              "castor p50/p99 ms", "victoria p50/p99", "castor ns", "victoria ns");
  for (int r = 0; r < o.runs; ++r) {
    const std::int64_t t0 = day0 + day + static_cast<std::int64_t>(o.run_seconds * r) * kSecond;
    auto [c, v] = feed(all, castor->port(), castor->pid(), victoria->port(), victoria->pid(), t0, o.run_seconds, o, r);
    rc.push_back(c.send.points_per_second());
    rv.push_back(v.send.points_per_second());
    cc.push_back(c.cpu_ns_per_point);
    cv.push_back(v.cpu_ns_per_point);
    total_points += c.send.points;
    std::printf("%-4d %14.0f %14.0f %8.2f %8.1f/%-9.1f %8.1f/%-9.1f %10.0f %10.0f\n", r, rc.back(), rv.back(),
                rc.back() / rv.back(), c.send.latency_p50_ms, c.send.latency_p99_ms, v.send.latency_p50_ms,
                v.send.latency_p99_ms, cc.back(), cv.back());
    std::fflush(stdout);
  }

  // (b) disk: Castor after a clean shutdown (memtables flushed), VictoriaMetrics after force_flush.
  victoria->force_flush();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::uint64_t vm_bytes = tree_bytes(vm_data);
  const auto t_stop = Clock::now();
  if (const int rcode = castor->stop(); rcode != 0) throw std::runtime_error("castor serve exited " + std::to_string(rcode));
  const double stop_s = std::chrono::duration<double>(Clock::now() - t_stop).count();
  const auto families = rocksdb_family_bytes(castor_data + "/store");
  std::uint64_t history_bytes = 0, wal_bytes = 0;
  std::string breakdown;
  for (const auto& [name, bytes] : families)
    if (name.rfind("history_", 0) == 0) {
      (name == "history_wal" ? wal_bytes : history_bytes) += bytes;
      breakdown += " " + name + "=" + std::to_string(bytes);
    }
  const std::uint64_t store_bytes = tree_bytes(castor_data + "/store");
  castor = std::make_unique<CastorServer>(o.castor, castor_data, castor_args);

  // (c) and (d): per-minute averages over the day; VictoriaMetrics evaluates at the end of each
  // minute over (t-60s, t], which holds the same 60 points as Castor's bucket [t-59s, t+1s).
  const std::int64_t from = day0, to = day0 + day;
  const std::string range = "&from=" + std::to_string(from) + "&to=" + std::to_string(to) + "&agg=avg&step=60s";
  const std::string vm_range = "&start=" + std::to_string(from / kSecond + 59) + "&end=" +
                               std::to_string(to / kSecond - 1) + "&step=60s&nocache=1";
  const Timed one = time_queries(castor->port(), "/castor/v1/history?twin=robot-01-01&name=power" + range,
                                 victoria->port(),
                                 "/api/v1/query_range?query=" + url_encode("avg_over_time(robot_power{twin=\"robot-01-01\"}[60s])") + vm_range,
                                 o.query_runs);
  const Timed fleet = time_queries(
      castor->port(), "/castor/v1/history?model=" + url_encode("dtmi:castor:factory:Robot;1") + "&name=power" + range,
      victoria->port(), "/api/v1/query_range?query=" + url_encode("avg by (twin) (avg_over_time(robot_power[60s]))") + vm_range,
      o.query_runs);
  victoria->force_flush();
  const std::uint64_t vm_bytes_late = tree_bytes(vm_data);

  // The report.
  const double mc = median(rc), mv = median(rv);
  const double bc = static_cast<double>(history_bytes) / static_cast<double>(total_points);
  const double bcw = static_cast<double>(history_bytes + wal_bytes) / static_cast<double>(total_points);
  const double bv = static_cast<double>(vm_bytes) / static_cast<double>(total_points);
  const double qc1 = median(one.castor_ms), qv1 = median(one.victoria_ms);
  const double qc2 = median(fleet.castor_ms), qv2 = median(fleet.victoria_ms);
  const bool agree1 = agree(one.castor, one.victoria), agree2 = agree(fleet.castor, fleet.victoria);
  std::printf("\n%-46s %14s %14s %8s  %s\n", "measure (medians)", "castor", "victoria", "ratio", "goal");
  std::printf("%-46s %14.0f %14.0f %8.2f  castor >= 1.0x and >= 2,000,000: %s\n", "(a) ingest points/s (full factory)", mc, mv,
              mc / mv, mc >= mv && mc >= 2e6 ? "met" : "NOT met");
  std::printf("%-46s %14.0f %14.0f %8.2f  (server CPU per point; smaller is better)\n", "(a') ingest CPU ns per point",
              median(cc), median(cv), median(cc) / median(cv));
  std::printf("%-46s %14.2f %14.2f %8.2f  (chunks, heads, series; smaller is better)\n", "(b) bytes on disk per point",
              bc, bv, bc / bv);
  std::printf("%-46s %14.2f %14.2f %8.2f  (the same plus Castor's history WAL not yet compacted away)\n",
              "(b') bytes on disk per point, WAL included", bcw, bv, bcw / bv);
  std::printf("%-46s %14.2f %14.2f %8.2f  castor <= 0.5x: %s\n", "(c) one series, 1 day, avg per minute (ms)", qc1, qv1,
              qc1 / qv1, qc1 <= 0.5 * qv1 ? "met" : "NOT met");
  std::printf("%-46s %14.2f %14.2f %8.2f  castor <= 0.5x: %s\n", "(d) all robots, 1 day, avg per minute (ms)", qc2, qv2,
              qc2 / qv2, qc2 <= 0.5 * qv2 ? "met" : "NOT met");
  std::printf("points ingested by each: %zu; castor history column families%s (%.1f MB without the WAL; the whole store incl. twins "
              "and RocksDB logs %.1f MB; clean shutdown took %.1f s); victoria-metrics data folder %.1f MB after "
              "force_flush, %.1f MB after the queries\n",
              total_points, breakdown.c_str(), history_bytes / 1e6, store_bytes / 1e6, stop_s, vm_bytes / 1e6,
              vm_bytes_late / 1e6);
  std::printf("answers: (c) castor %zu series/%zu buckets, victoria %zu/%zu: %s; (d) castor %zu/%zu, victoria %zu/%zu: %s\n",
              one.castor.series, one.castor.points, one.victoria.series, one.victoria.points, agree1 ? "agree" : "DIFFER",
              fleet.castor.series, fleet.castor.points, fleet.victoria.series, fleet.victoria.points,
              agree2 ? "agree" : "DIFFER");
  castor->stop();
  victoria->stop();
  if (!agree1 || !agree2) return 1;
  if (o.smoke) return 0;
  return mc >= mv && mc >= 2e6 && qc1 <= 0.5 * qv1 && qc2 <= 0.5 * qv2 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string k = argv[i];
      if (k == "--keep") {
        o.keep = true;
        continue;
      }
      if (k == "--smoke") {  // seconds, not minutes: checks the whole path, not the speed
        o.smoke = true;
        o.lines = 1, o.robots = 2, o.runs = 1, o.run_seconds = 30, o.day_hours = 1, o.query_runs = 1;
        continue;
      }
      if (i + 1 >= argc) throw std::invalid_argument(k + " needs a value");
      const std::string v = argv[++i];
      if (k == "--lines") o.lines = std::stoi(v);
      else if (k == "--robots-per-line") o.robots = std::stoi(v);
      else if (k == "--runs") o.runs = std::stoi(v);
      else if (k == "--run-seconds") o.run_seconds = std::stod(v);
      else if (k == "--day-hours") o.day_hours = std::stod(v);
      else if (k == "--query-runs") o.query_runs = std::stoi(v);
      else if (k == "--connections") o.connections = std::stoi(v);
      else if (k == "--batch-points") o.batch = std::stoul(v);
      else if (k == "--castor") o.castor = v;
      else if (k == "--models") o.models = v;
      else if (k == "--durability") o.durability = v;
      else throw std::invalid_argument("unknown option " + k);
    }
    if (o.lines < 1 || o.lines > 99 || o.robots < 1 || o.robots > 99 || o.runs < 1 || o.query_runs < 1 ||
        o.connections < 1 || o.run_seconds < 1 || o.day_hours <= 0 || o.batch == 0)
      throw std::invalid_argument("sizes must be positive (lines and robots per line 1..99)");
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "ingest_vs_victoria: %s\nusage: ingest_vs_victoria [--smoke] [--lines 10] [--robots-per-line 10] "
                 "[--runs 3] [--run-seconds 600] [--day-hours 24] [--query-runs 10] [--connections 4] "
                 "[--batch-points 20000] [--castor PATH] [--models DIR] [--durability strict|relaxed] [--keep]\n",
                 e.what());
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ingest_vs_victoria: %s\n", e.what());
    return 1;
  }
}
