// factory_load: the reference factory's telemetry (100 robots x 30 signals, 10 lines x 20
// signals by default) sent as InfluxDB line protocol to Castor (POST /castor/v1/ingest) or to
// VictoriaMetrics (/write), over several keep-alive connections.
//   rate mode: real-time timestamps at --hz points per signal and second (or --rate points/s in
//              all), for --seconds; prints the points/s acknowledged each second.
//   bulk mode: --points N (or --span S seconds) of back-dated data at --hz, as fast as the server
//              takes it; prints points/s. The bodies are rendered before the clock starts.
// With --setup (Castor only) it first creates the factory models and twins.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <chrono>
#include <thread>
#include <vector>

#include "factory_workload.hpp"

namespace {

using namespace castor::bench;

struct Options {
  std::string target = "castor", mode = "bulk", models = CASTOR_FACTORY_MODELS;
  std::vector<std::string> only;
  int port = 0, connections = 4, seconds = 10, lines = 10, robots = 10;
  double hz = 1, rate = 0, span = 0, end_ago = 3600;
  long long points = 0;
  std::size_t batch = 20000;
  bool setup = false;
};

const char* kUsage =
    "usage: factory_load --port P [--target castor|victoria] [--setup] [--models DIR]\n"
    "         [--lines 10] [--robots-per-line 10] [--only power,temperature] [--connections 4]\n"
    "         [--batch-points 20000] [--hz 1]\n"
    "       rate mode: --mode rate [--rate POINTS_PER_S] [--seconds 10]\n"
    "       bulk mode: --mode bulk (--points N | --span SECONDS) [--end-ago 3600]\n";

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--setup") {
      o.setup = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument(k + " needs a value");
    const std::string v = argv[++i];
    if (k == "--port") o.port = std::stoi(v);
    else if (k == "--target") o.target = v;
    else if (k == "--mode") o.mode = v;
    else if (k == "--models") o.models = v;
    else if (k == "--lines") o.lines = std::stoi(v);
    else if (k == "--robots-per-line") o.robots = std::stoi(v);
    else if (k == "--connections") o.connections = std::stoi(v);
    else if (k == "--batch-points") o.batch = std::stoul(v);
    else if (k == "--hz") o.hz = std::stod(v);
    else if (k == "--rate") o.rate = std::stod(v);
    else if (k == "--seconds") o.seconds = std::stoi(v);
    else if (k == "--points") o.points = std::stoll(v);
    else if (k == "--span") o.span = std::stod(v);
    else if (k == "--end-ago") o.end_ago = std::stod(v);
    else if (k == "--only") {
      for (std::size_t p = 0; p <= v.size();) {
        std::size_t c = v.find(',', p);
        if (c == std::string::npos) c = v.size();
        if (c > p) o.only.push_back(v.substr(p, c - p));
        p = c + 1;
      }
    } else throw std::invalid_argument("unknown option " + k);
  }
  if (o.port <= 0) throw std::invalid_argument("--port is required");
  if (o.target != "castor" && o.target != "victoria") throw std::invalid_argument("--target is castor or victoria");
  if (o.mode != "rate" && o.mode != "bulk") throw std::invalid_argument("--mode is rate or bulk");
  if (o.setup && o.target != "castor") throw std::invalid_argument("--setup applies to castor only");
  if (o.hz <= 0 || o.connections <= 0 || o.batch == 0 || o.lines < 1 || o.robots < 1 || o.lines > 99 || o.robots > 99)
    throw std::invalid_argument("--hz, --connections, --batch-points must be positive; --lines and --robots-per-line 1..99");
  return o;
}

int bulk(const Options& o, const FactoryWorkload& w, Target t) {
  double span = o.span;
  if (o.points > 0) span = std::ceil(static_cast<double>(o.points) / (static_cast<double>(w.series()) * o.hz));
  if (span <= 0) throw std::invalid_argument("bulk mode needs --points or --span");
  const std::int64_t end = (now_ns() / 1'000'000'000 - static_cast<std::int64_t>(o.end_ago)) * 1'000'000'000;
  const std::int64_t t0 = end - static_cast<std::int64_t>(span * 1e9);
  std::fprintf(stderr, "rendering %.0f s of %zu series at %g Hz...\n", span, w.series(), o.hz);
  const auto bodies = w.render(t, t0, span, o.hz, o.connections, o.batch);
  const SendResult r = send_bodies(o.port, t, bodies);
  if (r.failures) std::fprintf(stderr, "failed batches: %zu, first: %s\n", r.failures, r.first_error.c_str());
  std::printf(
      "{\"bench\":\"factory_load\",\"mode\":\"bulk\",\"target\":\"%s\",\"series\":%zu,\"points\":%zu,\"bytes\":%zu,"
      "\"seconds\":%.3f,\"points_per_s\":%.0f,\"batch_latency_ms_p50\":%.1f,\"batch_latency_ms_p99\":%.1f,"
      "\"failed_batches\":%zu,\"from_ns\":%lld,\"to_ns\":%lld}\n",
      o.target.c_str(), w.series(), r.points, r.bytes, r.seconds, r.points_per_second(), r.latency_p50_ms,
      r.latency_p99_ms, r.failures, static_cast<long long>(t0), static_cast<long long>(end));
  return r.failures ? 1 : 0;
}

// Real-time load: every tick (1 s, or 1/hz when slower) sends the points of that tick.
int rate(const Options& o, const FactoryWorkload& w, Target t) {
  const double hz = o.rate > 0 ? o.rate / static_cast<double>(w.series()) : o.hz;
  const double tick = std::max(1.0, 1.0 / hz);
  std::size_t sent = 0, failures = 0;
  auto next = std::chrono::steady_clock::now();
  const int ticks = static_cast<int>(std::ceil(o.seconds / tick));
  for (int i = 0; i < ticks; ++i) {
    // The tick's points carry the times of the second (or period) that just ended.
    const std::int64_t t0 = now_ns() - static_cast<std::int64_t>(tick * 1e9);
    const auto bodies = w.render(t, t0, tick, hz, o.connections, o.batch);
    const SendResult r = send_bodies(o.port, t, bodies);
    sent += r.points;
    failures += r.failures;
    if (r.failures) std::fprintf(stderr, "failed batches: %zu, first: %s\n", r.failures, r.first_error.c_str());
    std::printf("tick %d: %zu points acknowledged in %.3f s (%.0f points/s offered)\n", i + 1, r.points, r.seconds,
                static_cast<double>(bodies.total_points) / tick);
    std::fflush(stdout);
    next += std::chrono::microseconds(static_cast<long long>(tick * 1e6));
    if (std::chrono::steady_clock::now() > next)
      std::fprintf(stderr, "tick %d: the server fell behind the offered rate\n", i + 1);
    std::this_thread::sleep_until(next);
  }
  std::printf("{\"bench\":\"factory_load\",\"mode\":\"rate\",\"target\":\"%s\",\"series\":%zu,\"hz\":%g,"
              "\"points\":%zu,\"points_per_s\":%.0f,\"failed_batches\":%zu}\n",
              o.target.c_str(), w.series(), hz, sent, static_cast<double>(sent) / (ticks * tick), failures);
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "factory_load: %s\n%s", e.what(), kUsage);
    return 2;
  }
  try {
    FactoryWorkload w({o.lines, o.robots}, o.only);
    if (w.series() == 0) throw std::invalid_argument("--only keeps no signal of the factory");
    const Target t = o.target == "castor" ? Target::castor : Target::victoria;
    if (o.setup) setup_castor(o.port, o.models, w);
    return o.mode == "bulk" ? bulk(o, w, t) : rate(o, w, t);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "factory_load: %s\n", e.what());
    return 1;
  }
}
