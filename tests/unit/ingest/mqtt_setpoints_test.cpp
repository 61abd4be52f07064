// Which changes of a twin update are set-points for the machine: users' add/replace of writable
// properties (of the twin or a component), never a device's own reports or read-only values.
#include "ingest/mqtt_setpoints.hpp"

#include <gtest/gtest.h>

#include <span>

#include "common/json.hpp"

namespace castor::ingest {
namespace {

class Setpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    auto defs = json::parse(R"([
      {"@id": "dtmi:t:Gripper;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
       "contents": [{"@type": "Property", "name": "force", "schema": "double", "writable": true},
                    {"@type": "Property", "name": "wear", "schema": "double"}]},
      {"@id": "dtmi:t:Robot;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
       "contents": [{"@type": "Property", "name": "speed", "schema": "double", "writable": true},
                    {"@type": "Property", "name": "serial", "schema": "string"},
                    {"@type": "Property", "name": "limits", "writable": true, "schema":
                      {"@type": "Object", "fields": [{"name": "max", "schema": "double"}]}},
                    {"@type": "Component", "name": "gripper", "schema": "dtmi:t:Gripper;1"}]}])")
                    .value();
    auto& a = defs.get_array();
    ASSERT_TRUE(models.add(std::span<const json::value>(a.data(), a.size())).status.is_ok());
  }

  std::vector<Setpoint> of(std::string patch, bool observed = false, std::string component = "",
                           twin::EventType type = twin::EventType::twin_update) {
    twin::ChangeEvent e;
    e.type = type;
    e.twin_id = "robot-1";
    e.model_id = "dtmi:t:Robot;1";
    e.component = std::move(component);
    e.observed = observed;
    e.data = R"({"modelId":"dtmi:t:Robot;1","patch":)" + patch + "}";
    return setpoints_of(e, models);
  }

  model::ModelRegistry models;
};

TEST_F(Setpoints, WritablePropertiesOfTheTwinAndItsComponents) {
  auto out = of(R"([{"op":"replace","path":"/speed","value":1.5},
                    {"op":"add","path":"/gripper/force","value":20},
                    {"op":"add","path":"/limits","value":{"max":3}}])");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].twin, "robot-1");
  EXPECT_EQ(out[0].component, "");
  EXPECT_EQ(out[0].name, "speed");
  EXPECT_EQ(out[0].payload, "1.5");
  EXPECT_EQ(out[1].component, "gripper");
  EXPECT_EQ(out[1].name, "force");
  EXPECT_EQ(out[1].payload, "20");
  EXPECT_EQ(out[2].name, "limits");
  EXPECT_EQ(out[2].payload, R"({"max":3})");
}

TEST_F(Setpoints, AComponentsOwnPatchNamesItInTheEvent) {
  auto out = of(R"([{"op":"replace","path":"/force","value":7}])", false, "gripper");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].component, "gripper");
  EXPECT_EQ(out[0].name, "force");
  EXPECT_TRUE(of(R"([{"op":"replace","path":"/gripper/force","value":7}])", false, "gripper").empty());
}

TEST_F(Setpoints, NothingElseIsASetpoint) {
  EXPECT_TRUE(of(R"([{"op":"replace","path":"/speed","value":1}])", true).empty());  // a report
  EXPECT_TRUE(of(R"([{"op":"replace","path":"/serial","value":"x"}])").empty());     // read-only
  EXPECT_TRUE(of(R"([{"op":"add","path":"/gripper/wear","value":1}])").empty());
  EXPECT_TRUE(of(R"([{"op":"remove","path":"/speed"}])").empty());
  EXPECT_TRUE(of(R"([{"op":"replace","path":"/limits/max","value":2}])").empty());  // a field
  EXPECT_TRUE(of(R"([{"op":"replace","path":"/nope/force","value":2}])").empty());
  EXPECT_TRUE(of(R"(not json)").empty());
  EXPECT_TRUE(of(R"([{"op":"replace","path":"/speed","value":1}])", false, "",
                 twin::EventType::twin_create).empty());
}

}  // namespace
}  // namespace castor::ingest
