// Scratch::property: the remembered lookups must give what the model itself answers, per model,
// also when more (model, name) pairs are asked than it remembers.
#include "query/datum.hpp"

#include <gtest/gtest.h>

#include "model/registry.hpp"

namespace castor::query {
namespace {

model::InterfacePtr compile(model::ModelRegistry& registry, const std::string& id,
                            const std::string& contents) {
  auto doc = json::parse(R"({"@context": "dtmi:dtdl:context;3", "@id": ")" + id +
                         R"(", "@type": "Interface", "contents": [)" + contents + "]}");
  EXPECT_TRUE(doc.is_ok());
  const json::value models[] = {*doc};
  const auto added = registry.add(models);
  EXPECT_TRUE(added.status.is_ok()) << added.status.to_string();
  return registry.interface(id);
}

TEST(ScratchProperty, AnswersAsTheModelPerModelAndName) {
  model::ModelRegistry registry;
  // The same names in two models sit in different slots.
  const auto a = compile(registry, "dtmi:test:A;1",
                         R"({"@type": "Property", "name": "x", "schema": "double"},
                            {"@type": "Property", "name": "y", "schema": "string"})");
  const auto b = compile(registry, "dtmi:test:B;1",
                         R"({"@type": "Property", "name": "y", "schema": "string"},
                            {"@type": "Property", "name": "x", "schema": "double"},
                            {"@type": "Telemetry", "name": "t", "schema": "double"})");
  ASSERT_TRUE(a && b);
  Scratch s;
  for (int round = 0; round < 3; ++round) {  // six pairs: more than it remembers
    for (const auto& m : {a, b}) {
      for (const char* name : {"x", "y", "t"}) {
        EXPECT_EQ(s.property(m, name), m->property(name)) << m->id << " " << name;
      }
    }
    s.clear();  // between rows: the remembered lookups stay right
  }
  EXPECT_NE(s.property(a, "x"), s.property(b, "x"));
  EXPECT_EQ(s.property(b, "t"), nullptr);  // telemetry is not a property
  EXPECT_EQ(s.property(a, "nope"), nullptr);
}

}  // namespace
}  // namespace castor::query
