// Change events become the CloudEvents ADT emits: type names, source, subject, dataschema,
// data, and the structured JSON form.
#include <gtest/gtest.h>

#include "common/json.hpp"
#include "rules/event_mapping.hpp"
#include "twin/twin.hpp"

namespace castor::rules {
namespace {

constexpr twin::Nanos kTime = 1714557600123456700;  // 2024-05-01T10:00:00.1234567Z

EventMapper mapper() {
  MappingOptions o;
  o.source = "castor.example.com";
  o.instance = 0x0123456789abcdefull;
  o.component_model = [](std::string_view model, std::string_view component) {
    return model == "dtmi:factory:Robot;1" && component == "arm" ? std::string("dtmi:factory:Arm;1")
                                                                 : std::string();
  };
  return EventMapper(o);
}

twin::ChangeEvent change(twin::EventType type, std::string data) {
  twin::ChangeEvent e;
  e.type = type;
  e.sequence = 42;
  e.time = kTime;
  e.twin_id = "robot-1";
  e.model_id = "dtmi:factory:Robot;1";
  e.data = std::move(data);
  return e;
}

json::object as_json(const CloudEvent& c) {
  auto v = json::parse(to_json(c));
  EXPECT_TRUE(v.is_ok()) << to_json(c);
  return v->get_object();
}

std::string str(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(json::sv(v->get_string())) : std::string("<absent>");
}

TEST(CloudEventMapping, TypesAreAdtNames) {
  EXPECT_EQ(cloud_event_type(twin::EventType::twin_create), "Microsoft.DigitalTwins.Twin.Create");
  EXPECT_EQ(cloud_event_type(twin::EventType::twin_update), "Microsoft.DigitalTwins.Twin.Update");
  EXPECT_EQ(cloud_event_type(twin::EventType::twin_delete), "Microsoft.DigitalTwins.Twin.Delete");
  EXPECT_EQ(cloud_event_type(twin::EventType::relationship_create),
            "Microsoft.DigitalTwins.Relationship.Create");
  EXPECT_EQ(cloud_event_type(twin::EventType::relationship_update),
            "Microsoft.DigitalTwins.Relationship.Update");
  EXPECT_EQ(cloud_event_type(twin::EventType::relationship_delete),
            "Microsoft.DigitalTwins.Relationship.Delete");
  EXPECT_EQ(cloud_event_type(twin::EventType::telemetry), "microsoft.iot.telemetry");
}

TEST(CloudEventMapping, TwinLifecycleCarriesTheTwin) {
  std::string twin_json =
      R"({"$dtId":"robot-1","$etag":"W/\"x\"","$metadata":{"$model":"dtmi:factory:Robot;1"}})";
  auto o = as_json(mapper().map(change(twin::EventType::twin_create, twin_json)));
  EXPECT_EQ(str(o, "specversion"), "1.0");
  EXPECT_EQ(str(o, "type"), "Microsoft.DigitalTwins.Twin.Create");
  EXPECT_EQ(str(o, "source"), "castor.example.com");
  EXPECT_EQ(str(o, "subject"), "robot-1");
  EXPECT_EQ(str(o, "time"), "2024-05-01T10:00:00.1234567Z");
  EXPECT_EQ(str(o, "datacontenttype"), "application/json");
  EXPECT_EQ(str(o, "dataschema"), "<absent>");
  EXPECT_EQ(str(o, "id"), "01234567-89ab-cdef-0000-00000000002a");
  EXPECT_EQ(str(o, "traceparent").size(), 55u);
  EXPECT_TRUE(str(o, "traceparent").starts_with("00-"));
  EXPECT_EQ(json::serialize(o.at("data")), json::serialize(*json::parse(twin_json)));
  auto d = as_json(mapper().map(change(twin::EventType::twin_delete, twin_json)));
  EXPECT_EQ(str(d, "type"), "Microsoft.DigitalTwins.Twin.Delete");
}

TEST(CloudEventMapping, AttributesComeInAdtOrder) {
  std::string text = to_json(mapper().map(change(twin::EventType::twin_create, "{}")));
  std::vector<std::size_t> at;
  for (const char* k : {"specversion", "id", "type", "source", "data", "subject", "time",
                        "datacontenttype", "traceparent"})
    at.push_back(text.find(std::string("\"") + k + "\":"));
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end())) << text;
  EXPECT_EQ(std::count(at.begin(), at.end(), std::string::npos), 0) << text;
}

TEST(CloudEventMapping, ComponentPatchPathsBecomeTwinPaths) {
  auto e = change(
      twin::EventType::twin_update,
      R"({"modelId":"dtmi:factory:Robot;1","patch":[{"op":"replace","path":"/torque","value":3},)"
      R"({"op":"move","from":"/a~1b","path":"/c"}]})");
  e.component = "arm";
  auto o = as_json(mapper().map(e));
  EXPECT_EQ(str(o, "subject"), "robot-1");
  const auto& patch = o.at("data").at("patch").get_array();
  EXPECT_EQ(json::sv(patch[0].at("path").get_string()), "/arm/torque");
  EXPECT_EQ(json::sv(patch[1].at("from").get_string()), "/arm/a~1b");
  EXPECT_EQ(json::sv(patch[1].at("path").get_string()), "/arm/c");
  EXPECT_EQ(json::sv(o.at("data").at("modelId").get_string()), "dtmi:factory:Robot;1");
  EXPECT_EQ(prefix_patch_paths("not json", "arm"), "not json");
}

TEST(CloudEventMapping, RelationshipSubjectNamesTheRelationship) {
  auto e = change(
      twin::EventType::relationship_create,
      R"({"$relationshipId":"r1","$sourceId":"robot-1","$targetId":"line-1","$relationshipName":"feeds"})");
  e.relationship_id = "r1";
  auto o = as_json(mapper().map(e));
  EXPECT_EQ(str(o, "type"), "Microsoft.DigitalTwins.Relationship.Create");
  EXPECT_EQ(str(o, "subject"), "robot-1/relationships/r1");
  EXPECT_EQ(json::sv(o.at("data").at("$targetId").get_string()), "line-1");
}

TEST(CloudEventMapping, TelemetryUsesMessageIdTwinSourceAndDataschema) {
  auto e = change(twin::EventType::telemetry, R"({"Temperature":50})");
  e.message_id = "msg-7";
  e.source_time = kTime + 1000000000;
  auto o = as_json(mapper().map(e));
  EXPECT_EQ(str(o, "type"), "microsoft.iot.telemetry");
  EXPECT_EQ(str(o, "id"), "msg-7");
  EXPECT_EQ(str(o, "source"), "castor.example.com/digitaltwins/robot-1");
  EXPECT_EQ(str(o, "dataschema"), "dtmi:factory:Robot;1");
  EXPECT_EQ(str(o, "subject"), "<absent>");
  EXPECT_EQ(str(o, "time"), "2024-05-01T10:00:01.1234567Z");
  EXPECT_EQ(json::serialize(o.at("data")), R"({"Temperature":50})");

  e.component = "arm";
  e.message_id.clear();
  auto c = as_json(mapper().map(e));
  EXPECT_EQ(str(c, "subject"), "arm");
  EXPECT_EQ(str(c, "dataschema"), "dtmi:factory:Arm;1");
  EXPECT_EQ(str(c, "id"), "01234567-89ab-cdef-0000-00000000002a");  // no Message-Id: generated
}

TEST(CloudEventMapping, IdsDifferPerEventAndInstance) {
  auto m = mapper();
  EXPECT_NE(m.event_id(1), m.event_id(2));
  MappingOptions other;
  other.instance = 7;
  EXPECT_NE(EventMapper(other).event_id(1), m.event_id(1));
  EXPECT_NE(m.traceparent(1), m.traceparent(2));
}

}  // namespace
}  // namespace castor::rules
