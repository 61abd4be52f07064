// Synthetic but realistic signals of the reference factory, deterministic (fixed seeds), for the
// history codec benchmarks. Each documents its sampling, resolution and timestamp source, since
// bytes per point depend on exactly those.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "history/types.hpp"

namespace castor::history::bench {

inline constexpr std::int64_t kMs = 1'000'000;
inline constexpr std::int64_t kSecond = 1'000 * kMs;
inline constexpr std::int64_t kStart = 1'735'689'600 * kSecond;  // 2025-01-01T00:00:00Z

// Where timestamps come from, which decides how much entropy they carry.
enum class Clock {
  exact,      // a PLC or DAQ timer: exactly periodic
  ms_jitter,  // device clock with ms resolution, +-2 ms scheduling jitter (the common case)
  ns_jitter,  // stamped on arrival in ns: +-1 ms network jitter at full resolution
};

struct Signal {
  ValueType type = ValueType::float64;
  std::vector<std::int64_t> ts;
  std::vector<double> doubles;
  std::vector<std::int64_t> ints;  // int64 values; booleans as 0/1
};

inline std::vector<std::int64_t> timestamps(std::size_t n, std::int64_t period, Clock clock,
                                            std::mt19937_64& rng) {
  std::vector<std::int64_t> ts(n);
  std::uniform_int_distribution<std::int64_t> ms(-2, 2), ns(-kMs, kMs);
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t t = kStart + static_cast<std::int64_t>(i) * period;
    if (clock == Clock::ms_jitter) t += ms(rng) * kMs;
    if (clock == Clock::ns_jitter) t += ns(rng);
    ts[i] = t;
  }
  return ts;
}

inline double round_to(double v, double scale) {
  return std::round(v * scale) / scale;
}

// 1 Hz joint position of a robot axis in radians, 3 decimals: a 30 s pick-and-place cycle of
// +-1.2 rad plus 0.5 mrad encoder noise.
inline Signal joint_angle(std::size_t n, Clock clock) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 0.0005);
  Signal s;
  s.ts = timestamps(n, kSecond, clock, rng);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i);
    s.doubles.push_back(round_to(1.2 * std::sin(2 * std::numbers::pi * t / 30) + noise(rng), 1000));
  }
  return s;
}

// 1 Hz motor winding temperature in degC, 3 decimals: warms from 35 towards 62 over an hour,
// a daily ambient swing of +-2, 0.01 sensor noise.
inline Signal motor_temperature(std::size_t n, Clock clock) {
  std::mt19937_64 rng(2);
  std::normal_distribution<double> noise(0, 0.01);
  Signal s;
  s.ts = timestamps(n, kSecond, clock, rng);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i);
    const double warm =
        35 + 27 * (1 - std::exp(-t / 3600)) + 2 * std::sin(2 * std::numbers::pi * t / 86400);
    s.doubles.push_back(round_to(warm + noise(rng), 1000));
  }
  return s;
}

// 1 Hz produced-parts counter (int64): one part every 7.3 s on average.
inline Signal parts_counter(std::size_t n, Clock clock) {
  std::mt19937_64 rng(3);
  std::bernoulli_distribution part(1 / 7.3);
  Signal s;
  s.type = ValueType::int64;
  s.ts = timestamps(n, kSecond, clock, rng);
  std::int64_t count = 1'234'567;
  for (std::size_t i = 0; i < n; ++i) s.ints.push_back(count += part(rng) ? 1 : 0);
  return s;
}

// 1 Hz "running" status (boolean): states last 20 minutes on average.
inline Signal running_status(std::size_t n, Clock clock) {
  std::mt19937_64 rng(4);
  std::bernoulli_distribution flip(1.0 / 1200);
  Signal s;
  s.type = ValueType::boolean;
  s.ts = timestamps(n, kSecond, clock, rng);
  bool running = true;
  for (std::size_t i = 0; i < n; ++i) s.ints.push_back((running ^= flip(rng)) ? 1 : 0);
  return s;
}

// 100 Hz bearing acceleration in g, 3 decimals, from a DAQ clock: 7 Hz and 23 Hz components
// (shaft and gear mesh) and 0.02 g broadband noise.
inline Signal vibration(std::size_t n, Clock clock) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 0.02);
  Signal s;
  s.ts = timestamps(n, 10 * kMs, clock, rng);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / 100;
    const double a = 0.5 * std::sin(2 * std::numbers::pi * 7 * t) +
                     0.2 * std::sin(2 * std::numbers::pi * 23 * t);
    s.doubles.push_back(round_to(a + noise(rng), 1000));
  }
  return s;
}

// 1 Hz electrical power of a robot in kW, 3 decimals, from a PLC clock: a level of 47 with a
// slow 10 % swing (about an hour per period) and +-0.05 of uniform noise. The values of the
// end-to-end benchmark (bench/load/factory_workload), so codec changes can be judged here first.
inline Signal machine_power(std::size_t n, Clock clock) {
  std::mt19937_64 rng(6);
  std::uniform_int_distribution<int> noise(0, 1000);
  Signal s;
  s.ts = timestamps(n, kSecond, clock, rng);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i);
    const double v = 47 + 4.7 * std::sin(t / 600 + 1.3) + noise(rng) / 10000.0 - 0.05;
    s.doubles.push_back(round_to(v, 1000));
  }
  return s;
}

}  // namespace castor::history::bench
