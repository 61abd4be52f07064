#include "factory_workload.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "http_client.hpp"

namespace castor::bench {
namespace {

constexpr const char* kPrefix = "dtmi:castor:factory:";
constexpr const char* kApi = "?api-version=2023-10-31";

std::string two(int n) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d", n);
  return b;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void append_value(std::string& out, char kind, double v) {
  char num[32];
  if (kind == 'b') {
    out += v != 0 ? "true" : "false";
    return;
  }
  if (kind == 'i') {
    auto r = std::to_chars(num, num + sizeof num, static_cast<long long>(v));
    out.append(num, r.ptr);
    out.push_back('i');
    return;
  }
  auto r = std::to_chars(num, num + sizeof num, v);
  out.append(num, r.ptr);
}

// One line of a group at time ts; returns the points it holds.
std::size_t append_line(std::string& out, Target target, const SignalGroup& g, std::size_t gi,
                        std::int64_t ts) {
  if (target == Target::castor) {
    out += g.twin;
  } else {
    out += g.measurement;
    out += ",twin=";
    out += g.twin;
  }
  if (!g.component.empty()) {
    out += ",component=";
    out += g.component;
  }
  out.push_back(' ');
  for (std::size_t f = 0; f < g.fields.size(); ++f) {
    if (f) out.push_back(',');
    out += g.fields[f];
    out.push_back('=');
    append_value(out, g.kinds[f], FactoryWorkload::value(gi, f, g.kinds[f], ts));
  }
  out.push_back(' ');
  char num[24];
  auto r = std::to_chars(num, num + sizeof num, ts);
  out.append(num, r.ptr);
  out.push_back('\n');
  return g.fields.size();
}

}  // namespace

FactoryWorkload::FactoryWorkload(FactoryShape shape, std::vector<std::string> only) : shape_(shape) {
  auto group = [](std::string twin, std::string model, std::string measurement, std::string component,
                  std::vector<std::pair<std::string, char>> fields, int line) {
    SignalGroup g{std::move(twin), kPrefix + model + ";1", std::move(measurement), std::move(component), {}, {}, line};
    for (auto& [name, kind] : fields) {
      g.fields.push_back(name);
      g.kinds.push_back(kind);
    }
    return g;
  };
  for (int l = 1; l <= shape.lines; ++l) {
    const std::string L = two(l);
    for (int r = 1; r <= shape.robots_per_line; ++r) {  // 6 + 6 x 4 = 30 signals per robot
      const std::string robot = "robot-" + L + "-" + two(r);
      add(group(robot, "Robot", "robot", "",
                {{"cycleTime", 'f'}, {"vibrationRms", 'f'}, {"power", 'f'}, {"gripperPressure", 'f'},
                 {"cabinetTemperature", 'f'}, {"cycleCount", 'i'}},
                l),
          only);
      for (int j = 1; j <= 6; ++j)
        add(group(robot, "Robot", "joint", "joint" + std::to_string(j),
                  {{"angle", 'f'}, {"motorCurrent", 'f'}, {"torque", 'f'}, {"temperature", 'f'}}, l),
            only);
    }
    // 7 + 4 + 3 x 2 + 1 + 2 = 20 signals per line
    add(group("conveyor-" + L, "Conveyor", "conveyor", "",
              {{"speed", 'f'}, {"load", 'f'}, {"motorCurrent", 'f'}, {"slip", 'f'}, {"itemsPerMinute", 'f'},
               {"motorTemperature", 'f'}, {"vibrationRms", 'f'}},
              l),
        only);
    add(group("controller-" + L, "LineController", "controller", "",
              {{"throughput", 'f'}, {"energy", 'f'}, {"oee", 'f'}, {"producedCount", 'i'}}, l),
        only);
    for (int s = 1; s <= 3; ++s)
      add(group("sensor-" + L + "-" + std::to_string(s), "PhotoEye", "photoeye", "", {{"blocked", 'b'}, {"count", 'i'}},
                l),
          only);
    add(group("sensor-" + L + "-4", "TemperatureSensor", "tempsensor", "", {{"temperature", 'f'}}, l), only);
    add(group("sensor-" + L + "-5", "VibrationSensor", "vibsensor", "", {{"vibrationRms", 'f'}, {"frequency", 'f'}}, l),
        only);
  }
}

void FactoryWorkload::add(SignalGroup g, const std::vector<std::string>& only) {
  if (!only.empty()) {
    SignalGroup kept = g;
    kept.fields.clear();
    kept.kinds.clear();
    for (std::size_t f = 0; f < g.fields.size(); ++f)
      if (std::find(only.begin(), only.end(), g.fields[f]) != only.end()) {
        kept.fields.push_back(g.fields[f]);
        kept.kinds.push_back(g.kinds[f]);
      }
    g = std::move(kept);
  }
  if (g.fields.empty()) return;
  series_ += g.fields.size();
  groups_.push_back(std::move(g));
}

double FactoryWorkload::value(std::size_t g, std::size_t f, char kind, std::int64_t ts_ns) {
  const std::int64_t s = ts_ns / 1'000'000'000;
  const std::uint64_t key = (static_cast<std::uint64_t>(g) << 8) | f;
  if (kind == 'i') return static_cast<double>(s / static_cast<std::int64_t>(5 + key % 7));  // a counter
  if (kind == 'b') return static_cast<double>(mix(key * 131 + static_cast<std::uint64_t>(s / 3)) & 1);
  // A slow wave around a level per series, plus noise, with three decimals (sensor resolution).
  const double level = 10.0 + static_cast<double>(mix(key) % 9000) / 100.0;
  const double phase = static_cast<double>(mix(key + 1) % 628) / 100.0;
  const double noise = static_cast<double>(mix(key ^ static_cast<std::uint64_t>(ts_ns)) % 1001) / 10000.0 - 0.05;
  const double v = level + 0.1 * level * std::sin(static_cast<double>(ts_ns) * 1e-9 / 600.0 + phase) + noise;
  return std::round(v * 1000.0) / 1000.0;
}

FactoryWorkload::Bodies FactoryWorkload::render(Target target, std::int64_t t0_ns, double seconds, double hz,
                                                int connections, std::size_t batch_points) const {
  if (hz <= 0 || connections <= 0 || batch_points == 0) throw std::invalid_argument("render: bad arguments");
  const auto samples = static_cast<std::int64_t>(std::llround(seconds * hz));
  const double step_ns = 1e9 / hz;
  Bodies b;
  b.bodies.resize(static_cast<std::size_t>(connections));
  b.points.resize(static_cast<std::size_t>(connections));
  for (int c = 0; c < connections; ++c) {
    std::string body;
    std::size_t points = 0;
    for (std::int64_t k = 0; k < samples; ++k) {
      const std::int64_t ts = t0_ns + static_cast<std::int64_t>(std::llround(static_cast<double>(k) * step_ns));
      for (std::size_t g = static_cast<std::size_t>(c); g < groups_.size(); g += static_cast<std::size_t>(connections)) {
        points += append_line(body, target, groups_[g], g, ts);
        if (points >= batch_points) {
          b.total_points += points;
          b.total_bytes += body.size();
          b.points[static_cast<std::size_t>(c)].push_back(points);
          b.bodies[static_cast<std::size_t>(c)].push_back(std::move(body));
          body = std::string();
          body.reserve(batch_points * 24);
          points = 0;
        }
      }
    }
    if (points) {
      b.total_points += points;
      b.total_bytes += body.size();
      b.points[static_cast<std::size_t>(c)].push_back(points);
      b.bodies[static_cast<std::size_t>(c)].push_back(std::move(body));
    }
  }
  return b;
}

std::vector<std::pair<std::string, std::string>> FactoryWorkload::twin_documents() const {
  auto doc = [](const std::string& model, const std::string& props) {
    return std::string(R"({"$metadata":{"$model":")") + kPrefix + model + ";1\"}" + (props.empty() ? "" : ",") + props +
           "}";
  };
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("factory", doc("Factory", R"("name":"Reference plant","location":"Hall 1")"));
  std::string joints;
  for (int j = 1; j <= 6; ++j)
    joints += ",\"joint" + std::to_string(j) + R"(":{"$metadata":{},"maxTemperature":90.0})";
  for (int l = 1; l <= shape_.lines; ++l) {
    const std::string L = two(l);
    out.emplace_back("line-" + L, doc("Line", "\"name\":\"Line " + std::to_string(l) + "\",\"index\":" +
                                                  std::to_string(l) + ",\"targetRate\":60.0"));
    out.emplace_back("controller-" + L, doc("LineController", R"("mode":"auto","status":"running","producedCount":0)"));
    out.emplace_back("conveyor-" + L, doc("Conveyor", R"("speedSetpoint":0.5,"status":"running","lengthM":24.0)"));
    for (int r = 1; r <= shape_.robots_per_line; ++r)
      out.emplace_back("robot-" + L + "-" + two(r),
                       doc("Robot", "\"serial\":\"R" + L + two(r) +
                                        R"(","status":"running","program":"pick-place","mode":"auto","cycleCount":0)" +
                                        joints));
    const char* kinds[] = {"PhotoEye", "PhotoEye", "PhotoEye", "TemperatureSensor", "VibrationSensor"};
    for (int s = 1; s <= 5; ++s) {
      std::string props = "\"serial\":\"S" + L + std::to_string(s) + R"(","status":"ok","position":)" +
                          std::to_string(4 * s) + ".0";
      if (s <= 3) props += ",\"count\":0";
      out.emplace_back("sensor-" + L + "-" + std::to_string(s), doc(kinds[s - 1], props));
    }
  }
  return out;
}

std::string read_models(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json") files.push_back(e.path());
  if (files.empty()) throw std::runtime_error("no *.json models in " + dir);
  std::sort(files.begin(), files.end());
  std::string out = "[";
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    if (out.size() > 1) out += ",";
    out += ss.str();
  }
  return out + "]";
}

void setup_castor(int port, const std::string& models_dir, const FactoryWorkload& w) {
  HttpConnection c(port);
  int s = c.request("POST", std::string("/models") + kApi, "application/json", read_models(models_dir));
  if (s != 201 && s != 409) throw std::runtime_error("model upload: HTTP " + std::to_string(s) + " " + c.body());
  for (const auto& [id, doc] : w.twin_documents()) {
    s = c.request("PUT", "/digitaltwins/" + id + kApi, "application/json", doc);
    if (s != 200) throw std::runtime_error("PUT twin " + id + ": HTTP " + std::to_string(s) + " " + c.body());
  }
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SendResult send_bodies(int port, Target target, const FactoryWorkload::Bodies& b) {
  using Clock = std::chrono::steady_clock;
  const char* path = target == Target::castor ? "/castor/v1/ingest" : "/write";
  const int expect = target == Target::castor ? 202 : 204;
  const std::size_t n = b.bodies.size();
  std::vector<std::vector<double>> lat(n);
  std::vector<std::size_t> points(n, 0), failures(n, 0);
  std::vector<std::string> errors(n);
  std::vector<std::unique_ptr<HttpConnection>> conns;
  for (std::size_t c = 0; c < n; ++c) conns.push_back(std::make_unique<HttpConnection>(port));
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < n; ++c)
    threads.emplace_back([&, c] {
      for (std::size_t i = 0; i < b.bodies[c].size(); ++i) {
        const auto t0 = Clock::now();
        int s = 0;
        try {
          s = conns[c]->request("POST", path, "text/plain", b.bodies[c][i]);
        } catch (const std::exception& e) {
          if (errors[c].empty()) errors[c] = e.what();
          ++failures[c];
          return;
        }
        lat[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (s == expect) {
          points[c] += b.points[c][i];
        } else {
          ++failures[c];
          if (errors[c].empty()) errors[c] = "HTTP " + std::to_string(s) + ": " + conns[c]->body().substr(0, 300);
        }
      }
    });
  for (auto& t : threads) t.join();
  SendResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (std::size_t c = 0; c < n; ++c) {
    r.points += points[c];
    r.failures += failures[c];
    if (r.first_error.empty()) r.first_error = errors[c];
    all.insert(all.end(), lat[c].begin(), lat[c].end());
  }
  r.bytes = b.total_bytes;
  std::sort(all.begin(), all.end());
  if (!all.empty()) {
    r.latency_p50_ms = all[all.size() / 2];
    r.latency_p99_ms = all[static_cast<std::size_t>(0.99 * static_cast<double>(all.size() - 1))];
  }
  return r;
}

}  // namespace castor::bench
