#include "sim/factory_plant.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sim/fault_schedule.hpp"

namespace castor::sim {
namespace {

void run(FactoryPlant& p, double seconds) {
  for (int i = 0, n = static_cast<int>(seconds / 0.01); i < n; ++i) p.step(0.01);
}

json::object report_of(FactoryPlant& p, const std::string& path) {
  std::vector<Report> out;
  p.report(1, out);
  for (auto& r : out) {
    if (r.path == path) return json::parse(r.payload)->as_object();
  }
  ADD_FAILURE() << "no report for " << path;
  return {};
}

const FactoryPlant::Robot& robot(const FactoryPlant& p, const std::string& id) {
  for (auto& r : p.robots())
    if (r.id == id) return r;
  throw std::runtime_error("no robot " + id);
}

TEST(FactoryPlant, ReferencePlantReportsEveryTwinAndJointAsValidJson) {
  FactoryPlant p({});
  EXPECT_EQ(p.robots().size(), 100u);
  EXPECT_EQ(p.twin_count(), 100u + 10u + 50u + 10u);
  std::vector<Report> out;
  p.report(123, out);
  EXPECT_EQ(out.size(), 100u * 7 + 10u + 50u + 10u);
  for (auto& r : out) {
    auto doc = json::parse(r.payload);
    ASSERT_TRUE(doc) << r.payload;
    EXPECT_EQ(doc->as_object().at("ts").as_int64(), 123);
  }
  EXPECT_EQ(p.line_of("robot-03-07"), "line-03");
  EXPECT_EQ(p.line_of("sensor-10-5"), "line-10");
  EXPECT_EQ(p.line_of("nope"), "");
}

TEST(FactoryPlant, RobotsCycleAndItemsReachTheEndOfTheLine) {
  FactoryPlant p({.lines = 2, .robots = 10});
  run(p, 90);
  for (auto& r : p.robots()) EXPECT_GE(r.cycles, 15) << r.id;
  // Items are placed on the belt and counted by the photo-eye at its end.
  auto eye = report_of(p, "line-01/sensor-01-3");
  EXPECT_GT(eye.at("count").as_int64(), 10);
  auto ctl = report_of(p, "line-01/controller-01");
  EXPECT_GT(ctl.at("producedCount").as_int64(), 10);
  EXPECT_GT(ctl.at("throughput").as_double(), 10.0);
  // Moving joints draw current above the idle current and warm above ambient.
  auto& r = robot(p, "robot-01-01");
  EXPECT_GT(r.joints[1].temp, 22.5);
  auto conv = report_of(p, "line-01/conveyor-01");
  EXPECT_NEAR(conv.at("speed").as_double(), 0.5 * (1 - conv.at("slip").as_double()), 0.03);
}

TEST(FactoryPlant, AuxiliarySignalsFollowTheirPhysics) {
  FactoryPlant p({.lines = 1, .robots = 10});
  run(p, 600);
  // The gripper holds pressure while carrying and not otherwise (on average: it takes 0.15 s
  // to build and bleed); cabinets and the drive motor warm up.
  double carrying = 0, idle = 0;
  int n_carrying = 0, n_idle = 0;
  for (int i = 0; i < 1000; ++i) {
    p.step(0.01);
    for (const auto& r : p.robots()) {
      if (r.carrying) {
        carrying += r.gripper;
        ++n_carrying;
      } else {
        idle += r.gripper;
        ++n_idle;
      }
    }
  }
  ASSERT_GT(n_carrying, 0);
  ASSERT_GT(n_idle, 0);
  EXPECT_GT(carrying / n_carrying, 4.5);
  EXPECT_LT(idle / n_idle, 2.0);
  for (const auto& r : p.robots()) EXPECT_GT(r.cabinet, 22.5) << r.id;
  auto conv = report_of(p, "line-01/conveyor-01");
  EXPECT_GT(conv.at("motorTemperature").as_double(), 23.0);
  EXPECT_GT(conv.at("vibrationRms").as_double(), 0.2);
  auto joint = report_of(p, "line-01/robot-01-01/joint2");
  EXPECT_GT(std::abs(joint.at("torque").as_double()), 1.0);  // the shoulder holds the arm up
  // The line: energy of 10 robots (~200 W each) and the drive over 10 minutes, and an OEE
  // below 1 but well above 0 for a healthy line.
  auto ctl = report_of(p, "line-01/controller-01");
  EXPECT_GT(ctl.at("energy").as_double(), 0.2);
  EXPECT_LT(ctl.at("energy").as_double(), 1.0);
  double oee = ctl.at("oee").as_double();
  EXPECT_GT(oee, 0.4);
  EXPECT_LT(oee, 1.0);
  // Stopping the robots takes availability, and so OEE, down.
  for (const auto& r : p.robots()) ASSERT_TRUE(p.command(r.id, "stop", json::value()).is_ok());
  run(p, 600);
  EXPECT_LT(report_of(p, "line-01/controller-01").at("oee").as_double(), oee / 2);
}

TEST(FactoryPlant, CoolingFailureHeatsTheJointMotor) {
  FactoryPlant p({.lines = 1, .robots = 2});
  ASSERT_TRUE(p.inject({.twin = "robot-01-01", .kind = FaultKind::cooling_failure, .severity = 1.0, .joint = 2}));
  run(p, 900);
  double failed = robot(p, "robot-01-01").joints[1].temp;
  double healthy = robot(p, "robot-01-02").joints[1].temp;
  EXPECT_GT(failed, healthy + 25) << failed << " vs " << healthy;
}

TEST(FactoryPlant, BearingWearRaisesVibrationAndCurrent) {
  FactoryPlant p({.lines = 1, .robots = 2});
  run(p, 10);
  double before = robot(p, "robot-01-01").vibration;
  ASSERT_TRUE(p.inject({.twin = "robot-01-01", .kind = FaultKind::bearing_wear, .severity = 1.0}));
  run(p, 600);
  auto& worn = robot(p, "robot-01-01");
  auto& healthy = robot(p, "robot-01-02");
  EXPECT_GT(worn.joints[1].wear, 0.5);
  EXPECT_LT(healthy.joints[1].wear, 0.01);
  EXPECT_GT(worn.vibration, before + 1.0);
  EXPECT_GT(worn.joints[1].temp, healthy.joints[1].temp + 1.0);
  EXPECT_GT(worn.joints[1].current, healthy.joints[1].current);
}

TEST(FactoryPlant, EncoderDriftSeparatesReportedFromTrueAngle) {
  FactoryPlant p({.lines = 1, .robots = 1, .seed = 7});
  ASSERT_TRUE(p.inject({.twin = "robot-01-01", .kind = FaultKind::encoder_drift, .severity = 1.0, .joint = 1}));
  run(p, 200);
  auto j = report_of(p, "line-01/robot-01-01/joint1");
  EXPECT_NEAR(j.at("angle").as_double() - robot(p, "robot-01-01").joints[0].q, 10.0, 0.5);
}

TEST(FactoryPlant, BeltSlipSlowsTheBeltBelowTheDrive) {
  FactoryPlant p({.lines = 1, .robots = 2});
  run(p, 10);
  ASSERT_TRUE(p.inject({.twin = "conveyor-01", .kind = FaultKind::belt_slip, .severity = 1.0}));
  run(p, 5);
  auto& c = p.conveyors()[0];
  EXPECT_LT(c.belt, 0.75 * c.drive);
  EXPECT_FALSE(p.inject({.twin = "conveyor-01", .kind = FaultKind::collision}));
}

TEST(FactoryPlant, StuckAndDroppedSensors) {
  FactoryPlant p({.lines = 1, .robots = 2});
  run(p, 5);
  ASSERT_TRUE(p.inject({.twin = "sensor-01-4", .kind = FaultKind::stuck_sensor}));
  ASSERT_TRUE(p.inject({.twin = "sensor-01-5", .kind = FaultKind::sensor_dropout}));
  ASSERT_TRUE(p.inject({.twin = "robot-01-02", .kind = FaultKind::sensor_dropout, .joint = 3}));
  double first = report_of(p, "line-01/sensor-01-4").at("temperature").as_double();
  run(p, 60);
  EXPECT_EQ(report_of(p, "line-01/sensor-01-4").at("temperature").as_double(), first);
  std::vector<Report> out;
  p.report(1, out);
  for (auto& r : out) {
    EXPECT_NE(r.path, "line-01/sensor-01-5");
    EXPECT_NE(r.path, "line-01/robot-01-02/joint3");
  }
}

TEST(FactoryPlant, CollisionStopsTheRobotUntilStarted) {
  FactoryPlant p({.lines = 1, .robots = 1});
  run(p, 3);
  ASSERT_TRUE(p.inject({.twin = "robot-01-01", .kind = FaultKind::collision}));
  p.step(0.01);
  EXPECT_GT(robot(p, "robot-01-01").vibration, 10);
  long cycles = robot(p, "robot-01-01").cycles;
  run(p, 20);
  EXPECT_EQ(robot(p, "robot-01-01").status, "fault");
  EXPECT_EQ(robot(p, "robot-01-01").cycles, cycles);
  ASSERT_TRUE(p.command("robot-01-01", "start", nullptr));
  run(p, 20);
  EXPECT_GT(robot(p, "robot-01-01").cycles, cycles);
}

TEST(FactoryPlant, CommandsAndSetPoints) {
  FactoryPlant p({.lines = 1, .robots = 1});
  ASSERT_TRUE(p.command("conveyor-01", "setSpeed", json::value(json::object{{"speed", 1.2}})));
  run(p, 12);
  EXPECT_NEAR(p.conveyors()[0].drive, 1.2, 0.01);
  ASSERT_TRUE(p.set_point("conveyor-01", "speedSetpoint", 0.3));
  run(p, 12);
  EXPECT_NEAR(p.conveyors()[0].drive, 0.3, 0.01);
  EXPECT_EQ(p.command("conveyor-01", "setSpeed", json::value(json::object{{"speed", 9}})).status().code(),
            Code::invalid_argument);
  EXPECT_EQ(p.command("conveyor-01", "fly", nullptr).status().code(), Code::not_found);
  EXPECT_EQ(p.command("robot-99-99", "start", nullptr).status().code(), Code::not_found);
  EXPECT_EQ(p.set_point("robot-01-01", "mode", "sideways").code(), Code::invalid_argument);
  ASSERT_TRUE(p.set_point("robot-01-01", "mode", "manual"));
  long cycles = robot(p, "robot-01-01").cycles;
  run(p, 10);
  EXPECT_EQ(robot(p, "robot-01-01").cycles, cycles);  // manual mode: no automatic cycles
  ASSERT_TRUE(p.command("controller-01", "stopLine", nullptr));
  run(p, 10);
  EXPECT_LT(p.conveyors()[0].drive, 0.01);
}

TEST(FactoryPlant, SameSeedSameRun) {
  FactoryPlant a({.lines = 1, .robots = 3, .seed = 42}), b({.lines = 1, .robots = 3, .seed = 42});
  run(a, 5);
  run(b, 5);
  std::vector<Report> ra, rb;
  a.report(9, ra);
  b.report(9, rb);
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(ra[i].payload, rb[i].payload);
}

TEST(FaultSchedule, ParsesArraysAndNdjsonAndNamesBadLines) {
  auto dir = std::filesystem::temp_directory_path() / ("castor-sim-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.json") << R"([{"at": 30, "twin": "robot-01-01", "fault": "collision"},
                                       {"at": 10, "twin": "conveyor-01", "fault": "belt_slip", "severity": 0.5}])";
  auto a = load_fault_schedule(dir / "a.json");
  ASSERT_TRUE(a) << a.status().message();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].twin, "conveyor-01");  // sorted by start
  std::ofstream(dir / "b.ndjson") << "# faults\n{\"twin\": \"robot-01-01\", \"fault\": \"encoder_drift\", \"joint\": 1}\n\n"
                                     "{\"twin\": \"robot-01-01\", \"fault\": \"melting\"}\n";
  auto b = load_fault_schedule(dir / "b.ndjson");
  ASSERT_FALSE(b);
  EXPECT_NE(b.status().message().find("b.ndjson:4"), std::string::npos) << b.status().message();
  EXPECT_NE(b.status().message().find("melting"), std::string::npos);
  EXPECT_FALSE(parse_fault_request(json::parse(R"({"twin": "r", "fault": "collision", "joint": 7})").value()));
  EXPECT_FALSE(parse_fault_request(json::parse(R"({"twin": "r", "fault": "collision", "extra": 1})").value()));
  GroundTruth gt;
  ASSERT_TRUE(gt.open(dir / "truth.ndjson"));
  ASSERT_TRUE(gt.record((*a)[1], 1'700'000'000'123'456'789, 30, "schedule"));
  std::ifstream in(dir / "truth.ndjson");
  std::string line;
  std::getline(in, line);
  auto doc = json::parse(line);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->as_object().at("start").as_string(), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(doc->as_object().at("fault").as_string(), "collision");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace castor::sim
