// Import jobs at scale: writes an ADT import file of a factory — lines of 99 robots each, twins of
// 20-property models, every line containing its robots and feeding the next line (as many
// relationships as twins) — then imports it through the job path (JobManager, durable, strict
// fsync) into a fresh store, several times, and prints the medians. Goal: 1 M twins + 1 M
// relationships in <= 20 s. Each run is checked by reopening the store and counting.
// Usage: import_bench [--twins N] [--runs R] [--threads T] [--dir PATH] [--keep] [--no-verify]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "twin/engine.hpp"
#include "twin/jobs/job_manager.hpp"

namespace {

using namespace castor;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kGroup = 100;  // one line twin and 99 robots

std::string model(std::string_view id, std::string_view relationships) {
  std::string s = R"({"@context":"dtmi:dtdl:context;3","@id":")" + std::string(id) +
                  R"(","@type":"Interface","contents":[)";
  const char* schemas[] = {"double", "double", "integer", "boolean", "string"};
  for (int p = 0; p < 20; ++p)
    s += std::string(p ? "," : "") + R"({"@type":"Property","name":"p)" + std::to_string(p) +
         R"(","schema":")" + schemas[p % 5] + "\"}";
  return s + std::string(relationships) + "]}";
}

void properties(std::string& s, std::size_t i) {
  char buf[64];
  for (int p = 0; p < 20; ++p) {
    switch (p % 5) {
      case 2: std::snprintf(buf, sizeof buf, ",\"p%d\":%zu", p, i * 20 + p); break;
      case 3:
        std::snprintf(buf, sizeof buf, ",\"p%d\":%s", p, (i + p) % 2 ? "true" : "false");
        break;
      case 4: std::snprintf(buf, sizeof buf, ",\"p%d\":\"SN-%zu-%d\"", p, i, p); break;
      default:
        std::snprintf(buf, sizeof buf, ",\"p%d\":%.3f", p, static_cast<double>(i) * 0.001 + p);
        break;
    }
    s += buf;
  }
}

// The import file: header, 2 models, `twins` twins, as many relationships.
void write_file(const fs::path& file, std::size_t twins) {
  std::ofstream out(file, std::ios::binary);
  out << "{\"Section\":\"Header\"}\n{\"fileVersion\":\"1.0.0\",\"author\":\"castor\","
         "\"organization\":\"bench\"}\n";
  out << "{\"Section\":\"Models\"}\n" << model("dtmi:bench:Robot;1", "") << "\n";
  out << model(
             "dtmi:bench:Line;1",
             R"(,{"@type":"Relationship","name":"contains","target":"dtmi:bench:Robot;1","properties":[{"@type":"Property","name":"slot","schema":"integer"}]},{"@type":"Relationship","name":"feeds","target":"dtmi:bench:Line;1"})")
      << "\n{\"Section\":\"Twins\"}\n";
  std::string s;
  for (std::size_t i = 0; i < twins; ++i) {
    std::size_t g = i / kGroup, k = i % kGroup;
    s = k == 0 ? "{\"$dtId\":\"line-" + std::to_string(g) +
                     "\",\"$metadata\":{\"$model\":\"dtmi:bench:Line;1\"}"
               : "{\"$dtId\":\"robot-" + std::to_string(g) + "-" + std::to_string(k) +
                     "\",\"$metadata\":{\"$model\":\"dtmi:bench:Robot;1\"}";
    properties(s, i);
    out << s << "}\n";
  }
  out << "{\"Section\":\"Relationships\"}\n";
  std::size_t groups = (twins + kGroup - 1) / kGroup;
  for (std::size_t i = 0; i < twins; ++i) {
    std::size_t g = i / kGroup, k = i % kGroup;
    std::string line = "line-" + std::to_string(g);
    if (k == 0)
      out << "{\"$dtId\":\"" << line << "\",\"$relationshipId\":\"feeds\",\"$targetId\":\"line-"
          << (g + 1) % groups << "\",\"$relationshipName\":\"feeds\"}\n";
    else
      out << "{\"$dtId\":\"" << line << "\",\"$relationshipId\":\"contains-" << k
          << "\",\"$targetId\":\"robot-" << g << "-" << k
          << "\",\"$relationshipName\":\"contains\",\"slot\":" << k << "}\n";
  }
}

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// CPU seconds per live thread (by id), with the thread's name.
std::map<std::string, std::pair<std::string, double>> thread_cpu() {
  std::map<std::string, std::pair<std::string, double>> out;
  for (const auto& t : fs::directory_iterator("/proc/self/task")) {
    std::ifstream comm(t.path() / "comm"), stat(t.path() / "stat");
    std::string name, text;
    std::getline(comm, name);
    std::getline(stat, text);
    std::istringstream rest(text.substr(text.rfind(')') + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(rest), {}};
    if (f.size() > 12)
      out[t.path().filename()] = {
          name, (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK))};
  }
  return out;
}

// CPU seconds spent since `before`, by thread name, of threads still alive (the shards, the
// store's committer under the process name, RocksDB's flush and compaction threads).
std::string cpu_by_thread(const std::map<std::string, std::pair<std::string, double>>& before) {
  std::map<std::string, double> by_name;
  for (const auto& [tid, nc] : thread_cpu()) {
    auto b = before.find(tid);
    by_name[nc.first] += nc.second - (b == before.end() ? 0.0 : b->second.second);
  }
  std::string out;
  for (const auto& [name, secs] : by_name) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s=%.2f", name.c_str(), secs);
    out += buf;
  }
  return out;
}

struct Run {
  double total = 0, twins_s = 0, relationships_s = 0, rss_mb = 0, cpu = 0;
  std::string threads;
  std::size_t twins = 0, relationships = 0;
};

// Seconds between the log lines that start and end `section`.
double section_seconds(const fs::path& log, std::string_view section) {
  std::ifstream in(log);
  std::string line;
  twin::Nanos start = 0, end = 0;
  std::string key = "\"section\":\"" + std::string(section) + "\"";
  while (std::getline(in, line)) {
    if (line.find(key) == std::string::npos ||
        line.find("\"logType\":\"Info\"") == std::string::npos)
      continue;
    twin::Nanos t = 0;
    twin::parse_time(line.substr(14, 28), t);
    (line.find("\"Started\"") != std::string::npos ? start : end) = t;
  }
  return static_cast<double>(end - start) / 1e9;
}

std::optional<Run> run_once(const fs::path& dir, const fs::path& import_dir, std::size_t threads,
                            bool verify) {
  fs::remove_all(dir / "data");
  twin::EngineOptions options;
  options.data_dir = dir / "data";
  auto engine = twin::Engine::open(options);
  if (!engine) return std::cerr << engine.status().to_string() << "\n", std::nullopt;
  twin::jobs::JobManagerOptions jo;
  jo.import_dir = import_dir;
  jo.import.threads = threads;
  auto jobs = twin::jobs::JobManager::open(**engine, jo);
  if (!jobs) return std::cerr << jobs.status().to_string() << "\n", std::nullopt;
  auto t0 = Clock::now();
  double cpu0 = cpu_seconds();
  auto threads0 = thread_cpu();
  auto job = (*jobs)->create_import("bench", "file://factory.ndjson", "file://factory.log.ndjson");
  if (!job) return std::cerr << job.status().to_string() << "\n", std::nullopt;
  bool tty = isatty(2);
  for (int tick = 1; !twin::jobs::is_finished(job->status); ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    job = (*jobs)->get_import("bench");
    if (tick % (tty ? 10 : 100) == 0)
      std::fprintf(stderr, "%simporting: %llu twins, %llu relationships, %.1f s%s", tty ? "\r" : "",
                   static_cast<unsigned long long>(job->progress.twins),
                   static_cast<unsigned long long>(job->progress.relationships),
                   std::chrono::duration<double>(Clock::now() - t0).count(), tty ? "" : "\n");
  }
  Run r;
  r.total = std::chrono::duration<double>(Clock::now() - t0).count();
  r.cpu = cpu_seconds() - cpu0;
  r.threads = cpu_by_thread(threads0);
  r.rss_mb = rss_kb() / 1024.0;
  if (tty) std::fprintf(stderr, "\n");
  if (job->status != twin::jobs::JobStatus::succeeded)
    return std::cerr << "the import ended " << status_name(job->status) << ": "
                     << (job->error ? job->error->message : "") << "\n",
           std::nullopt;
  r.twins_s = section_seconds(import_dir / "factory.log.ndjson", "Twins");
  r.relationships_s = section_seconds(import_dir / "factory.log.ndjson", "Relationships");
  (*jobs)->close();
  engine->reset();
  r.twins = r.relationships = static_cast<std::size_t>(-1);
  if (!verify) return r;
  auto reopened = twin::Engine::open(options);  // durable: everything is there after a reopen
  if (!reopened) return std::cerr << reopened.status().to_string() << "\n", std::nullopt;
  r.twins = (*reopened)->twin_count();
  r.relationships = (*reopened)->relationship_count();
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 1'000'000, runs = 3, threads = 0;
  fs::path dir = fs::temp_directory_path() / "castor-import-bench";
  bool keep = false, verify = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--twins" && i + 1 < argc)
      n = std::stoul(argv[++i]);
    else if (a == "--runs" && i + 1 < argc)
      runs = std::max<std::size_t>(1, std::stoul(argv[++i]));
    else if (a == "--threads" && i + 1 < argc)
      threads = std::stoul(argv[++i]);
    else if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (a == "--keep")
      keep = true;
    else if (a == "--no-verify")
      verify = false;
    else
      return std::cerr << "usage: import_bench [--twins N] [--runs R] [--threads T] [--dir PATH] "
                          "[--keep] [--no-verify]\n",
             2;
  }
  fs::path import_dir = dir / "import";
  fs::create_directories(import_dir);
  fs::path file = import_dir / "factory.ndjson";
  std::string stamp = std::to_string(n);
  if (!fs::exists(file) || !fs::exists(import_dir / stamp)) {
    std::fprintf(stderr, "writing %s (%zu twins, %zu relationships)\n", file.c_str(), n, n);
    write_file(file, n);
    std::ofstream(import_dir / stamp).put('\n');
  }
  std::printf("file                  %.0f MB, %zu twins, %zu relationships\n",
              fs::file_size(file) / 1e6, n, n);
  std::vector<double> totals, twin_rates, rel_rates, cpus;
  for (std::size_t i = 0; i < runs; ++i) {
    auto r = run_once(dir, import_dir, threads, verify);
    if (!r) return 1;
    if (verify && (r->twins != n || r->relationships != n))
      return std::cerr << "after reopening: " << r->twins << " twins, " << r->relationships
                       << " relationships\n",
             1;
    std::printf(
        "run %zu                 %.2f s total (twins %.2f s, relationships %.2f s), CPU %.1f s, "
        "RSS %.0f MB\n",
        i + 1, r->total, r->twins_s, r->relationships_s, r->cpu, r->rss_mb);
    std::printf("  cpu s by thread     %s\n", r->threads.c_str());
    totals.push_back(r->total);
    cpus.push_back(r->cpu);
    twin_rates.push_back(n / r->twins_s);
    rel_rates.push_back(n / r->relationships_s);
  }
  std::printf("twins/s               %.0f (median)\n", median(twin_rates));
  std::printf("relationships/s       %.0f (median)\n", median(rel_rates));
  std::printf("total                 %.2f s (median of %zu; goal <= 20 s for 1 M + 1 M)\n",
              median(totals), runs);
  std::printf(
      "cpu                   %.1f s (median, all threads incl. RocksDB's, during the import)\n",
      median(cpus));
  fs::remove_all(dir / "data");
  if (!keep) fs::remove_all(dir);
  return 0;
}
