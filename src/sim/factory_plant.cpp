#include "sim/factory_plant.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace castor::sim {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;
constexpr double kItemLength = 0.3;  // m
constexpr double kItemMass = 2.5;    // kg

// Joint parameters at the joint (gearing folded in): inertia (kg m²), gravity torque scale (N m),
// viscous (N m s/rad) and Coulomb (N m) friction, torque constant (N m/A), winding resistance
// (Ω), thermal resistance to ambient (K/W) and capacity (J/K): a ~6 min thermal time constant.
struct JointParams {
  double inertia, gravity, viscous, coulomb, kt, resistance, r_th, c_th;
};
constexpr std::array<JointParams, 6> kJoints{{
    {9.0, 0.0, 12.0, 6.0, 22.0, 1.4, 1.1, 330.0},
    {14.0, 160.0, 16.0, 8.0, 30.0, 1.2, 1.0, 380.0},
    {6.0, 70.0, 9.0, 5.0, 18.0, 1.5, 1.2, 300.0},
    {0.9, 0.0, 2.0, 1.0, 4.0, 2.2, 1.8, 160.0},
    {0.7, 6.0, 1.6, 0.8, 3.5, 2.4, 1.9, 150.0},
    {0.3, 0.0, 0.8, 0.4, 2.0, 2.8, 2.2, 120.0},
}};
constexpr double kLinkBase = 450, kLinkUpper = 700, kLinkFore = 600;  // mm

// Minimum-jerk position, velocity and acceleration factors for s in [0, 1].
struct Profile {
  double p, v, a;
};
Profile min_jerk(double s) {
  s = std::clamp(s, 0.0, 1.0);
  double s2 = s * s, s3 = s2 * s;
  return {10 * s3 - 15 * s3 * s + 6 * s3 * s2, 30 * s2 - 60 * s3 + 30 * s3 * s, 60 * s - 180 * s2 + 120 * s3};
}

std::string id2(const char* prefix, int a) { return fmt::format("{}-{:02d}", prefix, a); }

json::value number_of(const json::value& request, std::string_view key) {
  if (request.is_number()) return request;
  if (request.is_object()) {
    if (auto* v = request.as_object().if_contains(key)) return *v;
  }
  return nullptr;
}

}  // namespace

std::string_view fault_name(FaultKind kind) noexcept {
  switch (kind) {
    case FaultKind::bearing_wear: return "bearing_wear";
    case FaultKind::cooling_failure: return "cooling_failure";
    case FaultKind::encoder_drift: return "encoder_drift";
    case FaultKind::belt_slip: return "belt_slip";
    case FaultKind::stuck_sensor: return "stuck_sensor";
    case FaultKind::sensor_dropout: return "sensor_dropout";
    case FaultKind::collision: return "collision";
  }
  return "unknown";
}

std::optional<FaultKind> parse_fault(std::string_view name) noexcept {
  for (auto k : {FaultKind::bearing_wear, FaultKind::cooling_failure, FaultKind::encoder_drift,
                 FaultKind::belt_slip, FaultKind::stuck_sensor, FaultKind::sensor_dropout,
                 FaultKind::collision}) {
    if (fault_name(k) == name) return k;
  }
  return std::nullopt;
}

Result<Fault> parse_fault_request(const json::value& v) {
  const char* kinds =
      "bearing_wear, cooling_failure, encoder_drift, belt_slip, stuck_sensor, sensor_dropout, collision";
  if (!v.is_object()) {
    return Status(Code::invalid_argument,
                  R"(a fault is a JSON object such as {"at": 60, "twin": "robot-01-01", "fault": "bearing_wear"})");
  }
  const auto& o = v.as_object();
  for (const auto& [key, _] : o) {
    if (key != "at" && key != "twin" && key != "fault" && key != "severity" && key != "joint") {
      return Status(Code::invalid_argument,
                    fmt::format("unknown field '{}' in a fault; fields are at, twin, fault, severity, joint",
                                std::string_view(key)));
    }
  }
  Fault f;
  auto* twin = o.if_contains("twin");
  auto* kind = o.if_contains("fault");
  if (!twin || !twin->is_string() || twin->as_string().empty())
    return Status(Code::invalid_argument, "a fault needs \"twin\": the id of the twin it affects");
  if (!kind || !kind->is_string())
    return Status(Code::invalid_argument, fmt::format("a fault needs \"fault\": one of {}", kinds));
  auto k = parse_fault(json::sv(kind->as_string()));
  if (!k) {
    return Status(Code::invalid_argument,
                  fmt::format("unknown fault '{}'; use one of {}", json::sv(kind->as_string()), kinds));
  }
  f.twin = std::string(json::sv(twin->as_string()));
  f.kind = *k;
  if (auto* at = o.if_contains("at")) {
    if (!at->is_number() || at->to_number<double>() < 0)
      return Status(Code::invalid_argument, "\"at\" is the start in simulated seconds, a number >= 0");
    f.at_s = at->to_number<double>();
  }
  if (auto* s = o.if_contains("severity")) {
    if (!s->is_number() || s->to_number<double>() <= 0 || s->to_number<double>() > 1)
      return Status(Code::invalid_argument, "\"severity\" is a number in (0, 1]");
    f.severity = s->to_number<double>();
  }
  if (auto* j = o.if_contains("joint")) {
    if (!j->is_int64() || j->as_int64() < 1 || j->as_int64() > 6)
      return Status(Code::invalid_argument, "\"joint\" is a robot joint number from 1 to 6");
    f.joint = static_cast<int>(j->as_int64());
  }
  return f;
}

FactoryPlant::FactoryPlant(const PlantOptions& options) : options_(options), rng_(options.seed) {
  int lines = std::max(1, options.lines);
  int robots = std::max(0, options.robots);
  for (int li = 1; li <= lines; ++li) {
    std::string line = id2("line", li);
    Conveyor c;
    c.id = id2("conveyor", li);
    c.line = line;
    c.motor_temp = options.ambient_c;
    conveyors_.push_back(c);
    Controller ctl;
    ctl.id = id2("controller", li);
    ctl.line = line;
    controllers_.push_back(ctl);
    const char* kinds[] = {"PhotoEye", "PhotoEye", "PhotoEye", "TemperatureSensor", "VibrationSensor"};
    for (int si = 1; si <= 5; ++si) {
      Sensor s;
      s.id = fmt::format("sensor-{:02d}-{}", li, si);
      s.line = line;
      s.kind = kinds[si - 1];
      s.line_index = li - 1;
      s.position = si == 1 ? 0.2 * c.length : si == 2 ? 0.6 * c.length : si == 3 ? 0.98 * c.length : 4.0 * si;
      s.value = options.ambient_c;
      sensors_.push_back(s);
    }
  }
  // Robots are dealt to lines in turn, numbered per line: robot-03-07 is the 7th of line 3.
  std::vector<int> per_line(static_cast<std::size_t>(lines), 0);
  for (int i = 0; i < robots; ++i) per_line[static_cast<std::size_t>(i % lines)]++;
  for (int li = 1; li <= lines; ++li) {
    int n = per_line[static_cast<std::size_t>(li - 1)];
    for (int ri = 1; ri <= n; ++ri) {
      Robot r;
      r.id = fmt::format("robot-{:02d}-{:02d}", li, ri);
      r.line = id2("line", li);
      r.conveyor = id2("conveyor", li);
      r.slot = ri;
      std::uniform_real_distribution<double> u(-1, 1);
      r.cycle_time = 4.0 + 0.4 * u(rng_);
      r.phase = r.cycle_time * (0.5 + 0.5 * u(rng_));
      r.pick = {-60 + 5 * u(rng_), 40, -70, 0, 30, 0};
      r.place = {60 + 5 * u(rng_), 25, -50, 0, 45, 90};
      r.base_x = conveyors_[static_cast<std::size_t>(li - 1)].length * (ri - 0.5) / n * 1000.0;
      r.base_y = (ri % 2 ? 1.0 : -1.0) * 1200.0;
      r.cabinet = options.ambient_c;
      controllers_[static_cast<std::size_t>(li - 1)].nominal_per_minute += 60.0 / r.cycle_time;
      for (std::size_t j = 0; j < 6; ++j) {
        r.joints[j].q = r.pick[j];
        r.joints[j].temp = options.ambient_c;
        r.joints[j].wear_rate = 2e-7;  // normal wear: years to matter
      }
      robots_.push_back(std::move(r));
    }
  }
}

double FactoryPlant::noise(double sigma) { return sigma * normal_(rng_); }

void FactoryPlant::step(double dt) {
  t_ += dt;
  for (auto& r : robots_) step_robot(r, dt);
  for (std::size_t i = 0; i < conveyors_.size(); ++i) step_conveyor(conveyors_[i], i, dt);
  step_sensors(dt);
  step_lines(dt);
}

// Per line: energy (robots' power plus the conveyor drive at 48 V) and OEE = availability
// (share of the line's robots running in auto) x performance (throughput against the robots'
// nominal rate) x quality (1.5 % rejects), averaged over 5 minutes.
void FactoryPlant::step_lines(double dt) {
  double a = std::min(1.0, dt / 300.0);
  for (std::size_t i = 0; i < controllers_.size(); ++i) {
    Controller& ctl = controllers_[i];
    const Conveyor& c = conveyors_[i];
    double watts = 48.0 * c.current;
    int robots = 0, running = 0;
    for (const auto& r : robots_) {
      if (r.line != ctl.line) continue;
      watts += r.power;
      ++robots;
      if (r.status == "running" && r.mode == "auto" && t_ >= r.hold_until) ++running;
    }
    ctl.energy_kwh += watts * dt / 3.6e6;
    double avail = robots ? static_cast<double>(running) / robots : 0.0;
    ctl.availability += (avail - ctl.availability) * a;
    double perf = ctl.nominal_per_minute > 0 ? std::min(1.0, ctl.throughput / ctl.nominal_per_minute) : 0.0;
    ctl.performance += (perf - ctl.performance) * a;
  }
}

void FactoryPlant::step_robot(Robot& r, double dt) {
  bool moving = r.status == "running" && r.mode == "auto" && t_ >= r.hold_until;
  if (r.status == "running" && r.hold_until >= 0 && t_ >= r.hold_until) r.hold_until = -1;
  Profile prof{0, 0, 0};
  const std::array<double, 6>* from = &r.pick;
  const std::array<double, 6>* to = &r.pick;
  double leg = 0.35 * r.cycle_time;  // each move takes 35 % of the cycle; the rest is gripping
  double speed_factor = 1.0;
  if (moving) {
    r.phase += dt;
    if (r.phase >= r.cycle_time) {
      r.phase -= r.cycle_time;
      r.cycles++;
      r.last_cycle_time = r.cycle_time * (1.0 + 0.02 * std::max(0.0, r.joints[1].wear));
    }
    double p = r.phase / r.cycle_time;
    if (p < 0.15) {  // grip at the pick pose
      r.carrying = p > 0.1;
    } else if (p < 0.5) {  // carry to the place pose
      r.carrying = true;
      from = &r.pick, to = &r.place;
      prof = min_jerk((r.phase - 0.15 * r.cycle_time) / leg);
    } else if (p < 0.65) {  // release on the conveyor
      from = &r.place, to = &r.place;
      prof = {1, 0, 0};
      if (r.carrying && p > 0.55) {
        r.carrying = false;
        auto& c = conveyors_[static_cast<std::size_t>(std::stoi(r.line.substr(5)) - 1)];
        c.items.push_back(r.base_x / 1000.0);
      }
    } else {  // return empty
      from = &r.place, to = &r.pick;
      prof = min_jerk((r.phase - 0.65 * r.cycle_time) / leg);
    }
    speed_factor = 1.0 / leg;
  }
  bool collided = r.collision_until >= 0 && t_ < r.collision_until;
  double power = 150.0;  // controller, brakes, fans
  double max_wear = 0;
  for (std::size_t j = 0; j < 6; ++j) {
    Joint& jt = r.joints[j];
    const JointParams& jp = kJoints[j];
    if (moving) {
      double span = (*to)[j] - (*from)[j];
      jt.q = (*from)[j] + span * prof.p;
      jt.qd = span * prof.v * speed_factor;
      jt.qdd = span * prof.a * speed_factor * speed_factor;
    } else {
      jt.qd = 0;
      jt.qdd = 0;
    }
    double qd = jt.qd * kDeg, qdd = jt.qdd * kDeg;
    double payload = r.carrying ? 1.35 : 1.0;
    double gravity = 0;
    if (j == 1) gravity = jp.gravity * payload * std::cos(jt.q * kDeg);
    if (j == 2) gravity = jp.gravity * payload * std::cos((r.joints[1].q + jt.q) * kDeg);
    if (j == 4) gravity = jp.gravity * payload * std::cos((r.joints[1].q + r.joints[2].q + jt.q) * kDeg);
    double friction_scale = 1.0 + 3.0 * jt.wear;
    double friction = (jp.viscous * qd + (std::abs(qd) > 1e-6 ? jp.coulomb * (qd > 0 ? 1 : -1) : 0)) * friction_scale;
    jt.torque = jp.inertia * payload * qdd + gravity + friction;
    // A worn gearbox also drags (bearing friction that does not depend on direction).
    jt.current = std::abs(jt.torque) / jp.kt + 0.35 + 1.5 * jt.wear * (moving ? 1.0 : 0.3);
    if (collided) jt.current *= 3.5;
    double heat = jt.current * jt.current * jp.resistance;
    double cooling = (jt.temp - options_.ambient_c) / (jp.r_th / jt.cooling);
    jt.temp += dt * (heat - cooling) / jp.c_th;
    jt.wear += dt * jt.wear_rate;
    jt.drift += dt * jt.drift_rate;
    max_wear = std::max(max_wear, jt.wear);
    power += std::abs(jt.torque * qd) / 0.85 + heat;
  }
  r.power = power;
  // The gripper's supply pressure builds while it holds a part and bleeds off on release.
  double grip = r.carrying ? 6.0 : 0.3;
  r.gripper += (grip - r.gripper) * std::min(1.0, dt / 0.15);
  // Cabinet air: warmed by the drives' losses (about 2 % of the power), cooled by its fan.
  r.cabinet += (options_.ambient_c + 0.02 * power - r.cabinet) * std::min(1.0, dt / 600.0);
  double motion = std::abs(r.joints[0].qd) + std::abs(r.joints[1].qd) + std::abs(r.joints[2].qd);
  r.vibration = 0.25 + 0.004 * motion * (1.0 + 4.0 * max_wear) + 2.5 * max_wear + (collided ? 14.0 : 0.0);
  double q1 = r.joints[0].q * kDeg, q2 = r.joints[1].q * kDeg, q3 = r.joints[2].q * kDeg;
  double reach = kLinkUpper * std::cos(q2) + kLinkFore * std::cos(q2 + q3);
  r.tcp = {r.base_x + reach * std::cos(q1), r.base_y + reach * std::sin(q1),
           kLinkBase + kLinkUpper * std::sin(q2) + kLinkFore * std::sin(q2 + q3)};
}

void FactoryPlant::step_conveyor(Conveyor& c, std::size_t line_index, double dt) {
  double target = c.running ? c.setpoint : 0.0;
  c.drive += (target - c.drive) * std::min(1.0, dt / 1.5);  // drive time constant 1.5 s
  c.load = static_cast<double>(c.items.size()) * kItemMass;
  c.slip = 0.01 + 0.0004 * c.load + c.slip_fault;
  c.belt = c.drive * (1.0 - std::min(0.9, c.slip));
  c.current = 1.2 + 0.035 * c.load + 2.2 * c.drive + 3.0 * c.slip_fault * c.drive;
  // Drive motor: I²R heating (0.5 Ω) against cooling to ambient (0.5 K/W, 600 J/K: 5 min).
  c.motor_temp += dt * (0.5 * c.current * c.current - (c.motor_temp - options_.ambient_c) / 0.5) / 600.0;
  c.vibration = 0.15 + 0.5 * c.drive + 6.0 * c.slip_fault * c.drive + 0.004 * c.load;
  long delivered = 0;
  for (auto& x : c.items) x += c.belt * dt;
  std::erase_if(c.items, [&](double x) {
    if (x < c.length) return false;
    ++delivered;
    return true;
  });
  c.delivered += delivered;
  double rate = static_cast<double>(delivered) / dt * 60.0;
  c.items_per_minute += (rate - c.items_per_minute) * std::min(1.0, dt / 30.0);  // 30 s average
  auto& ctl = controllers_[line_index];
  ctl.produced += delivered;
  ctl.throughput = c.items_per_minute;
}

void FactoryPlant::step_sensors(double dt) {
  for (auto& s : sensors_) {
    const Conveyor& c = conveyors_[static_cast<std::size_t>(s.line_index)];
    if (s.kind == "PhotoEye") {
      bool blocked = std::any_of(c.items.begin(), c.items.end(), [&](double x) {
        return std::abs(x - s.position) < kItemLength / 2;
      });
      if (s.stuck) continue;  // a stuck photo-eye keeps its state and count
      if (blocked && !s.blocked) s.count++;
      s.blocked = blocked;
    } else if (s.kind == "TemperatureSensor") {
      double rise = 0;
      int n = 0;
      for (const auto& r : robots_) {
        if (r.line == s.line) {
          rise += r.joints[1].temp - options_.ambient_c;
          ++n;
        }
      }
      double air = options_.ambient_c + (n ? 0.15 * rise / n : 0.0);
      if (!s.stuck) s.value += (air - s.value) * std::min(1.0, dt / 20.0);
    } else {
      double v = 0.2 + 0.6 * c.drive + 8.0 * c.slip_fault;
      for (const auto& r : robots_) {
        if (r.line == s.line) v = std::max(v, 0.3 * r.vibration);
      }
      if (!s.stuck) {
        s.value = v;
        s.frequency = 25.0 * c.drive + 50.0;  // drive rotation and mains hum
      }
    }
  }
}

void FactoryPlant::report(std::int64_t ts_ns, std::vector<Report>& out) {
  for (auto& r : robots_) {
    std::string base = r.line + "/" + r.id;
    out.push_back({base, fmt::format(
        R"({{"ts":{},"cycleTime":{:.3f},"vibrationRms":{:.4f},"power":{:.1f},"tcpPosition":{{"x":{:.1f},"y":{:.1f},"z":{:.1f}}},"cycleCount":{},"status":"{}","mode":"{}","program":"{}","gripperPressure":{:.3f},"cabinetTemperature":{:.2f}}})",
        ts_ns, r.last_cycle_time + noise(0.01), std::max(0.0, r.vibration + noise(0.03)), r.power + noise(5.0),
        r.tcp[0] + noise(0.2), r.tcp[1] + noise(0.2), r.tcp[2] + noise(0.2), r.cycles, r.status, r.mode,
        r.program, std::max(0.0, r.gripper + noise(0.03)), r.cabinet + noise(0.1))});
    for (std::size_t j = 0; j < 6; ++j) {
      Joint& jt = r.joints[j];
      if (jt.dropout) continue;
      double temp = jt.stuck ? jt.stuck_temp : jt.temp + noise(0.1);
      out.push_back({fmt::format("{}/joint{}", base, j + 1),
                     fmt::format(R"({{"ts":{},"angle":{:.3f},"motorCurrent":{:.3f},"temperature":{:.2f},"torque":{:.3f}}})",
                                 ts_ns, jt.q + jt.drift + noise(0.02), std::max(0.0, jt.current + noise(0.03)), temp,
                                 jt.torque + noise(0.05))});
    }
  }
  for (auto& c : conveyors_) {
    out.push_back({c.line + "/" + c.id,
                   fmt::format(R"({{"ts":{},"speed":{:.4f},"load":{:.2f},"motorCurrent":{:.3f},"slip":{:.4f},"itemsPerMinute":{:.2f},"speedSetpoint":{:.3f},"status":"{}","motorTemperature":{:.2f},"vibrationRms":{:.4f}}})",
                               ts_ns, std::max(0.0, c.belt + noise(0.004)), std::max(0.0, c.load + noise(0.2)),
                               std::max(0.0, c.current + noise(0.05)), std::max(0.0, c.slip + noise(0.002)),
                               c.items_per_minute, c.setpoint, c.running ? "running" : "stopped",
                               c.motor_temp + noise(0.1), std::max(0.0, c.vibration + noise(0.02)))});
  }
  for (auto& s : sensors_) {
    if (s.dropout) continue;
    std::string path = s.line + "/" + s.id;
    const char* status = "ok";  // a stuck or failing sensor does not know it
    if (s.kind == "PhotoEye") {
      out.push_back({path, fmt::format(R"({{"ts":{},"blocked":{},"count":{},"status":"{}"}})", ts_ns,
                                       s.blocked ? "true" : "false", s.count, status)});
    } else if (s.kind == "TemperatureSensor") {
      double v = s.stuck ? s.value : s.value + noise(0.05);
      out.push_back({path, fmt::format(R"({{"ts":{},"temperature":{:.3f},"status":"{}"}})", ts_ns, v, status)});
    } else {
      double v = s.stuck ? s.value : std::max(0.0, s.value + noise(0.02));
      out.push_back({path, fmt::format(R"({{"ts":{},"vibrationRms":{:.4f},"frequency":{:.2f},"status":"{}"}})",
                                       ts_ns, v, s.frequency, status)});
    }
  }
  std::int64_t day = ts_ns / 86'400'000'000'000;
  for (auto& ctl : controllers_) {
    if (ctl.energy_day != day) {  // "since midnight" (UTC) of the reported time
      if (ctl.energy_day >= 0) ctl.energy_kwh = 0;
      ctl.energy_day = day;
    }
    double oee = ctl.availability * ctl.performance * 0.985;
    out.push_back({ctl.line + "/" + ctl.id,
                   fmt::format(R"({{"ts":{},"throughput":{:.2f},"producedCount":{},"status":"{}","mode":"{}","energy":{:.4f},"oee":{:.4f}}})",
                               ts_ns, ctl.throughput, ctl.produced, ctl.status, ctl.mode, ctl.energy_kwh, oee)});
  }
}

FactoryPlant::Robot* FactoryPlant::find_robot(std::string_view id) {
  for (auto& r : robots_)
    if (r.id == id) return &r;
  return nullptr;
}
FactoryPlant::Conveyor* FactoryPlant::find_conveyor(std::string_view id) {
  for (auto& c : conveyors_)
    if (c.id == id) return &c;
  return nullptr;
}
FactoryPlant::Sensor* FactoryPlant::find_sensor(std::string_view id) {
  for (auto& s : sensors_)
    if (s.id == id) return &s;
  return nullptr;
}
FactoryPlant::Controller* FactoryPlant::find_controller(std::string_view id) {
  for (auto& c : controllers_)
    if (c.id == id) return &c;
  return nullptr;
}

std::string FactoryPlant::line_of(std::string_view twin) const {
  auto* self = const_cast<FactoryPlant*>(this);
  if (auto* r = self->find_robot(twin)) return r->line;
  if (auto* c = self->find_conveyor(twin)) return c->line;
  if (auto* s = self->find_sensor(twin)) return s->line;
  if (auto* c = self->find_controller(twin)) return c->line;
  return {};
}

std::size_t FactoryPlant::twin_count() const noexcept {
  return robots_.size() + conveyors_.size() + sensors_.size() + controllers_.size();
}

Result<json::value> FactoryPlant::command(std::string_view twin, std::string_view name, const json::value& request) {
  auto done = [](std::string text) { return json::value(json::object{{"result", std::move(text)}}); };
  if (Robot* r = find_robot(twin)) {
    if (name == "start") {
      r->status = "running";
      r->collision_until = -1;
      return done("started");
    }
    if (name == "stop") {
      r->status = "stopped";
      return done("stopped");
    }
    if (name == "coolDown") {
      json::value s = number_of(request, "seconds");
      if (!s.is_number() || s.to_number<double>() <= 0 || s.to_number<double>() > 3600)
        return Status(Code::invalid_argument, "coolDown takes the pause in seconds (0 < seconds <= 3600)");
      r->hold_until = t_ + s.to_number<double>();
      return done(fmt::format("cooling down for {} s", s.to_number<double>()));
    }
    if (name == "maintenanceReset") {
      for (auto& j : r->joints) {
        j.wear = 0;
        j.wear_rate = 2e-7;
        j.drift = 0;
        j.drift_rate = 0;
        j.cooling = 1.0;
      }
      r->collision_until = -1;
      if (r->status == "fault") r->status = "stopped";
      return done("wear, drift and cooling reset; start the robot to resume");
    }
    return Status(Code::not_found, fmt::format("robots accept start, stop, coolDown and maintenanceReset, not '{}'", name));
  }
  if (Conveyor* c = find_conveyor(twin)) {
    if (name == "start" || name == "stop") {
      c->running = name == "start";
      return done(c->running ? "started" : "stopped");
    }
    if (name == "setSpeed") {
      json::value s = number_of(request, "speed");
      if (!s.is_number() || s.to_number<double>() < 0 || s.to_number<double>() > 3)
        return Status(Code::invalid_argument, "setSpeed takes the belt speed in m/s (0 to 3)");
      c->setpoint = s.to_number<double>();
      return done(fmt::format("speed set-point {} m/s", c->setpoint));
    }
    return Status(Code::not_found, fmt::format("conveyors accept start, stop and setSpeed, not '{}'", name));
  }
  if (Controller* ctl = find_controller(twin)) {
    if (name == "startLine" || name == "stopLine") {
      bool run = name == "startLine";
      for (auto& r : robots_)
        if (r.line == ctl->line && r.status != "fault") r.status = run ? "running" : "stopped";
      for (auto& c : conveyors_)
        if (c.line == ctl->line) c.running = run;
      ctl->status = run ? "running" : "stopped";
      return done(run ? "line started" : "line stopped");
    }
    if (name == "setLineSpeed") {
      json::value s = number_of(request, "speed");
      if (!s.is_number() || s.to_number<double>() < 0 || s.to_number<double>() > 3)
        return Status(Code::invalid_argument, "setLineSpeed takes the belt speed in m/s (0 to 3)");
      for (auto& c : conveyors_)
        if (c.line == ctl->line) c.setpoint = s.to_number<double>();
      return done("line speed set");
    }
    return Status(Code::not_found, fmt::format("line controllers accept startLine, stopLine and setLineSpeed, not '{}'", name));
  }
  return Status(Code::not_found, fmt::format("no machine '{}' in the simulated plant", twin));
}

Status FactoryPlant::set_point(std::string_view twin, std::string_view property, const json::value& value) {
  if (Conveyor* c = find_conveyor(twin); c && property == "speedSetpoint") {
    if (!value.is_number() || value.to_number<double>() < 0 || value.to_number<double>() > 3)
      return Status(Code::invalid_argument, "speedSetpoint is a belt speed in m/s from 0 to 3");
    c->setpoint = value.to_number<double>();
    return Status::ok();
  }
  auto one_of = [&](std::initializer_list<std::string_view> allowed) -> std::optional<std::string> {
    if (!value.is_string()) return std::nullopt;
    std::string_view s = json::sv(value.as_string());
    for (auto a : allowed)
      if (a == s) return std::string(s);
    return std::nullopt;
  };
  if (Robot* r = find_robot(twin); r && property == "mode") {
    auto m = one_of({"auto", "manual", "maintenance"});
    if (!m) return Status(Code::invalid_argument, "mode is \"auto\", \"manual\" or \"maintenance\"");
    r->mode = *m;
    return Status::ok();
  }
  if (Controller* ctl = find_controller(twin); ctl && property == "mode") {
    auto m = one_of({"auto", "manual", "stopped"});
    if (!m) return Status(Code::invalid_argument, "mode is \"auto\", \"manual\" or \"stopped\"");
    ctl->mode = *m;
    return Status::ok();
  }
  if (line_of(twin).empty()) return Status(Code::not_found, fmt::format("no machine '{}' in the simulated plant", twin));
  return Status(Code::not_found, fmt::format("'{}' has no writable set-point '{}' (conveyors: speedSetpoint; robots "
                                             "and controllers: mode)", twin, property));
}

Status FactoryPlant::inject(const Fault& f) {
  std::size_t joint = static_cast<std::size_t>((f.joint ? f.joint : 2) - 1);
  if (Robot* r = find_robot(f.twin)) {
    Joint& j = r->joints[joint];
    switch (f.kind) {
      case FaultKind::bearing_wear: j.wear_rate = f.severity / 900.0; return Status::ok();  // worn in 15 min
      case FaultKind::cooling_failure: j.cooling = 1.0 / (1.0 + 3.0 * f.severity); return Status::ok();
      case FaultKind::encoder_drift: j.drift_rate = 0.05 * f.severity; return Status::ok();
      case FaultKind::stuck_sensor:
        j.stuck = true;
        j.stuck_temp = j.temp;
        return Status::ok();
      case FaultKind::sensor_dropout: j.dropout = true; return Status::ok();
      case FaultKind::collision:
        r->collision_until = t_ + 0.5;
        r->status = "fault";
        return Status::ok();
      case FaultKind::belt_slip: break;
    }
    return Status(Code::invalid_argument, fmt::format("{} does not apply to robot {}", fault_name(f.kind), f.twin));
  }
  if (Conveyor* c = find_conveyor(f.twin)) {
    if (f.kind != FaultKind::belt_slip)
      return Status(Code::invalid_argument, fmt::format("conveyors take belt_slip, not {}", fault_name(f.kind)));
    c->slip_fault = 0.3 * f.severity;
    return Status::ok();
  }
  if (Sensor* s = find_sensor(f.twin)) {
    if (f.kind == FaultKind::stuck_sensor) s->stuck = true;
    else if (f.kind == FaultKind::sensor_dropout) s->dropout = true;
    else return Status(Code::invalid_argument, fmt::format("sensors take stuck_sensor or sensor_dropout, not {}", fault_name(f.kind)));
    return Status::ok();
  }
  return Status(Code::not_found, fmt::format("no machine '{}' in the simulated plant", f.twin));
}

}  // namespace castor::sim
