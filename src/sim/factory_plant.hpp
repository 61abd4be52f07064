// The reference smart factory as physics: robots with six driven joints (pick-and-place
// trajectories, motor current from inertia, gravity and friction, first-order motor heating,
// gearbox wear), conveyors (set-point tracking, load, belt slip, moving items), photo-eyes,
// line sensors and controllers, with noise on every sensor and injectable faults.
// Pure computation on one thread: never performs I/O, never reads a clock.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"
#include "common/status.hpp"

namespace castor::sim {

enum class FaultKind {
  bearing_wear,     // a joint's gearbox wears fast: friction, current, heat and vibration rise
  cooling_failure,  // a joint motor loses most of its cooling: temperature climbs
  encoder_drift,    // a joint's reported angle drifts away from the true angle
  belt_slip,        // a conveyor belt slips: belt speed falls below the drive speed
  stuck_sensor,     // a sensor (or a robot joint's temperature) repeats its last value
  sensor_dropout,   // a sensor (or a robot joint) stops reporting
  collision,        // a robot hits something: current and vibration spike, the robot stops
};
std::string_view fault_name(FaultKind kind) noexcept;
std::optional<FaultKind> parse_fault(std::string_view name) noexcept;

struct Fault {
  double at_s = 0;         // simulated seconds after the start
  std::string twin;        // the twin it affects
  FaultKind kind = FaultKind::bearing_wear;
  double severity = 1.0;   // 0 < severity <= 1
  int joint = 0;           // 1..6 for joint faults of robots; 0 = the default (joint 2)
};

// A fault as the schedule file or a live request gives it: {"at": 120, "twin": "robot-03-07",
// "fault": "bearing_wear", "severity": 0.8, "joint": 2}. "at" is optional (default 0 = now).
Result<Fault> parse_fault_request(const json::value& v);

struct PlantOptions {
  int lines = 10;
  int robots = 100;  // spread evenly over the lines
  double ambient_c = 22.0;
  std::uint64_t seed = 1;
};

// One message the plant reports: `path` is "<line>/<twin>[/<component>]" and `payload` a JSON
// object with "ts" (ns since the epoch) and the measured values.
struct Report {
  std::string path;
  std::string payload;
};

class FactoryPlant {
 public:
  explicit FactoryPlant(const PlantOptions& options);

  // Advances the physics by dt simulated seconds (the simulator uses 10 ms steps).
  void step(double dt);
  double time() const noexcept { return t_; }

  // Appends one report per reporting twin and component (robots, their six joints, conveyors,
  // sensors, controllers), time-stamped `ts_ns`. Dropped-out sensors are left out.
  void report(std::int64_t ts_ns, std::vector<Report>& out);

  // Commands and set-points as the machines accept them. Errors are invalid_argument (bad
  // payload) or not_found (no such twin or command), with a sentence that says why.
  Result<json::value> command(std::string_view twin, std::string_view name, const json::value& request);
  Status set_point(std::string_view twin, std::string_view property, const json::value& value);

  // Starts a fault now (its `at_s` is ignored); not_found for an unknown twin, invalid_argument
  // when the fault does not apply to that kind of twin.
  Status inject(const Fault& fault);

  // The line a twin belongs to ("line-03"), empty when there is no such twin.
  std::string line_of(std::string_view twin) const;
  std::size_t twin_count() const noexcept;

  struct Joint {
    double q = 0, qd = 0, qdd = 0;  // true angle (deg), velocity (deg/s), acceleration (deg/s²)
    double temp = 22, current = 0, torque = 0;
    double wear = 0, wear_rate = 0;  // wear 0 = new; rate per second
    double drift_rate = 0, drift = 0;  // encoder drift: deg/s, accumulated deg
    double cooling = 1.0;             // 1 = healthy; a cooling failure lowers it
    bool stuck = false, dropout = false;
    double stuck_temp = 0;
  };
  struct Robot {
    std::string id, line, conveyor;
    int slot = 0;           // position along its line's conveyor
    double cycle_time = 4;  // nominal seconds per pick-and-place cycle
    double phase = 0;       // seconds into the current cycle
    double last_cycle_time = 0;
    long cycles = 0;
    std::array<Joint, 6> joints;
    std::array<double, 6> pick{}, place{};
    std::string status = "running", mode = "auto", program = "pick-place";
    bool carrying = false;
    double hold_until = -1;  // cool-down pause end
    double collision_until = -1;
    double vibration = 0, power = 0;
    double gripper = 0.3;   // pneumatic supply pressure at the gripper (bar)
    double cabinet = 22;    // control cabinet air (°C)
    std::array<double, 3> tcp{};
    double base_x = 0, base_y = 0;
  };
  struct Conveyor {
    std::string id, line;
    double length = 24, setpoint = 0.5, drive = 0, belt = 0, slip = 0.01, slip_fault = 0;
    double current = 0, load = 0, items_per_minute = 0;
    double motor_temp = 22, vibration = 0;  // drive motor winding (°C), drive bearing (m/s²)
    bool running = true;
    std::vector<double> items;  // positions of items on the belt (m)
    long delivered = 0;
  };
  struct Sensor {
    std::string id, line, kind;  // kind: PhotoEye, TemperatureSensor, VibrationSensor
    int line_index = 0;
    double position = 0;
    bool blocked = false;
    long count = 0;
    double value = 0, frequency = 0;
    bool stuck = false, dropout = false;
  };
  struct Controller {
    std::string id, line, mode = "auto", status = "running";
    long produced = 0;
    double throughput = 0;
    double energy_kwh = 0;          // drawn by the line's robots and conveyor since midnight
    std::int64_t energy_day = -1;   // the (UTC) day energy_kwh counts
    double availability = 1, performance = 0;  // 5-minute averages for OEE
    double nominal_per_minute = 0;  // items/min the line's robots make at their nominal cycles
  };

  const std::vector<Robot>& robots() const noexcept { return robots_; }
  const std::vector<Conveyor>& conveyors() const noexcept { return conveyors_; }
  const std::vector<Sensor>& sensors() const noexcept { return sensors_; }

 private:
  void step_robot(Robot& r, double dt);
  void step_conveyor(Conveyor& c, std::size_t line_index, double dt);
  void step_sensors(double dt);
  void step_lines(double dt);
  double noise(double sigma);
  Robot* find_robot(std::string_view id);
  Conveyor* find_conveyor(std::string_view id);
  Sensor* find_sensor(std::string_view id);
  Controller* find_controller(std::string_view id);

  PlantOptions options_;
  double t_ = 0;
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::vector<Robot> robots_;
  std::vector<Conveyor> conveyors_;  // one per line, index = line index
  std::vector<Sensor> sensors_;
  std::vector<Controller> controllers_;  // one per line
};

}  // namespace castor::sim
