// Twin core at scale: creates N twins of a 20-property model through the engine (durable writes),
// reports resident memory per twin, then closes and reopens the store and reports how long
// recovery takes. Goals: 1 M twins in <= 800 MB RSS; restart of a 1 M-twin store in <= 5 s.
// Usage: twin_scale_bench [--twins N] [--dir PATH] [--keep]
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "twin/engine.hpp"

namespace {

using namespace castor;
using Clock = std::chrono::steady_clock;

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

std::string model_json() {
  std::string s = R"({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:bench:Machine;1", "@type": "Interface", "contents": [)";
  const char* schemas[] = {"double", "double", "double", "integer", "boolean"};
  for (int p = 0; p < 20; ++p)
    s += std::string(p ? "," : "") + R"({"@type": "Property", "name": "p)" + std::to_string(p) +
         R"(", "schema": ")" + schemas[p % 5] + "\"}";
  return s + "]}";
}

json::value twin_body(std::size_t i) {
  json::object o;
  o["$metadata"] = json::object{{"$model", "dtmi:bench:Machine;1"}};
  for (int p = 0; p < 20; ++p) {
    std::string name = "p" + std::to_string(p);
    switch (p % 5) {
      case 3: o[name] = static_cast<std::int64_t>(i * 20 + p); break;
      case 4: o[name] = (i + p) % 2 == 0; break;
      default: o[name] = static_cast<double>(i) * 0.001 + p; break;
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 1'000'000;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "castor-twin-scale";
  bool keep = false;
  bool restart_only = false;  // measure recovery of an existing --dir only
  std::size_t cache_mb = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--twins" && i + 1 < argc) n = std::stoul(argv[++i]);
    else if (a == "--rocksdb-mb" && i + 1 < argc) cache_mb = std::stoul(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--keep") keep = true;
    else if (a == "--restart-only") restart_only = true;
    else {
      std::cerr << "usage: twin_scale_bench [--twins N] [--dir PATH] [--keep]\n";
      return 2;
    }
  }
  if (!restart_only) std::filesystem::remove_all(dir);
  twin::EngineOptions options;
  options.data_dir = dir;
  if (cache_mb) {  // to separate the twins' own memory from RocksDB's caches
    options.store.block_cache_bytes = cache_mb << 20;
    options.store.write_buffer_bytes = cache_mb << 20;
  }
  long rss_before = 0;
  // Create in a child process so that the restart below is measured in a process whose heap
  // holds only what recovery built (as after a real restart).
  pid_t child = restart_only ? 1 : fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  if (child == 0) {
    auto engine = twin::Engine::open(options);
    if (!engine) {
      std::cerr << engine.status().to_string() << "\n";
      return 1;
    }
    auto& e = **engine;
    auto models = json::parse("[" + model_json() + "]");
    auto added = e.add_models(std::span<const json::value>(models->as_array().data(), models->as_array().size()));
    if (!added.status.is_ok()) {
      std::cerr << added.status.to_string() << "\n";
      return 1;
    }
    rss_before = rss_kb();
    auto t0 = Clock::now();
    std::atomic<std::size_t> done{0}, failed{0};
    std::mutex mu;
    std::condition_variable cv;
    constexpr std::size_t kWindow = 20000;  // writes in flight
    for (std::size_t i = 0; i < n; ++i) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return i - done.load() < kWindow; });
      }
      e.put_twin("machine-" + std::to_string(i), twin_body(i), {}, [&](Result<twin::Rendered> r) {
        if (!r) failed++;
        done++;
        cv.notify_one();
      });
      if ((i + 1) % 100000 == 0) std::fprintf(stderr, "\rcreating twins: %zu/%zu", i + 1, n);
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done.load() == n; });
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    long rss_after = rss_kb();
    std::fprintf(stderr, "\n");
    std::printf("twins                 %zu (failed %zu)\n", n, failed.load());
    std::printf("create rate           %.0f twins/s (durable, %.1f s)\n", n / secs, secs);
    std::printf("rss growth            %.1f MB\n", (rss_after - rss_before) / 1024.0);
    std::printf("bytes per twin        %.0f (RSS growth / twins, includes RocksDB memtables)\n",
                (rss_after - rss_before) * 1024.0 / n);
    std::printf("rss total             %.1f MB\n", rss_after / 1024.0);
    std::atomic<std::size_t> struct_bytes{0};
    std::mutex m2;
    std::condition_variable cv2;
    std::atomic<bool> counted{false};
    e.for_each_shard([&](twin::Shard& s) { s.for_each_twin([&](const twin::Twin& t) { struct_bytes += t.memory_bytes(); }); },
                     [&] { counted = true; cv2.notify_one(); });
    std::unique_lock l2(m2);
    cv2.wait(l2, [&] { return counted.load(); });
    std::printf("twin structures       %.0f bytes per twin (estimate, without map overhead)\n",
                static_cast<double>(struct_bytes.load()) / n);
    std::fflush(stdout);
    engine->reset();  // a clean shutdown: flushes the store
    std::_Exit(0);
  }
  int status = 0;
  if (!restart_only) waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  rss_before = rss_kb();
  auto t1 = Clock::now();
  auto reopened = twin::Engine::open(options);
  double restart = std::chrono::duration<double>(Clock::now() - t1).count();
  if (!reopened) {
    std::cerr << reopened.status().to_string() << "\n";
    return 1;
  }
  std::printf("restart               %.2f s to ready with %zu twins\n", restart, (*reopened)->twin_count());
  std::printf("rss after restart     %.1f MB total, %.0f bytes per twin over the empty process\n",
              rss_kb() / 1024.0, (rss_kb() - rss_before) * 1024.0 / n);
  reopened->reset();
  if (!keep && !restart_only) std::filesystem::remove_all(dir);
  return 0;
}
