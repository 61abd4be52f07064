#include "model/registry.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace castor::model {
namespace {

json::value doc(std::string_view text) {
  auto v = json::parse(text);
  EXPECT_TRUE(v.is_ok()) << v.status().to_string();
  return *v;
}

json::value iface(std::string_view id, std::string_view extra = "") {
  std::string s = R"({"@context": "dtmi:dtdl:context;3", "@id": ")" + std::string(id) +
                  R"(", "@type": "Interface", "displayName": {"en": "Name", "de": "Name"})";
  if (!extra.empty()) s += ", " + std::string(extra);
  s += "}";
  return doc(s);
}

TEST(ModelRegistry, AddsAtomicallyAndRefusesExistingIds) {
  ModelRegistry reg;
  json::value set1[] = {iface("dtmi:t:A;1", R"("contents": [{"@type": "Property", "name": "p", "schema": "double"}])"),
                        iface("dtmi:t:B;1", R"("extends": "dtmi:t:A;1")")};
  auto r = reg.add(set1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.added.size(), 2u);
  EXPECT_EQ(reg.size(), 2u);
  EXPECT_TRUE(reg.interface("dtmi:t:B;1")->property("p"));  // inherited
  EXPECT_EQ(reg.get("dtmi:t:B;1")->display_name.at("de").as_string(), "Name");

  // One new valid model plus one existing id: nothing is added.
  json::value set2[] = {iface("dtmi:t:C;1"), iface("dtmi:t:A;1")};
  auto r2 = reg.add(set2);
  EXPECT_EQ(r2.error, ModelError::already_exists);
  EXPECT_EQ(r2.status.code(), Code::already_exists);
  EXPECT_EQ(reg.size(), 2u);
  EXPECT_FALSE(reg.get("dtmi:t:C;1"));

  // One valid and one invalid model: nothing is added, the error names the problem.
  json::value set3[] = {iface("dtmi:t:C;1"), iface("dtmi:t:D;1", R"("contents": [{"@type": "Property", "name": "9", "schema": "double"}])")};
  auto r3 = reg.add(set3);
  EXPECT_EQ(r3.error, ModelError::invalid);
  EXPECT_NE(r3.status.message().find("name"), std::string::npos);
  EXPECT_FALSE(reg.get("dtmi:t:C;1"));
}

TEST(ModelRegistry, ResolvesAgainstEarlierUploadsAndChecksAcrossThem) {
  ModelRegistry reg;
  json::value base[] = {iface("dtmi:t:Base;1", R"("contents": [{"@type": "Property", "name": "speed", "schema": "double"}])")};
  ASSERT_TRUE(reg.add(base).status.is_ok());
  json::value ok[] = {iface("dtmi:t:Derived;1", R"("extends": "dtmi:t:Base;1")")};
  ASSERT_TRUE(reg.add(ok).status.is_ok());
  // A name clash with an inherited property is caught even though the base is already stored.
  json::value clash[] = {iface("dtmi:t:Clash;1", R"("extends": "dtmi:t:Base;1", "contents": [{"@type": "Telemetry", "name": "speed", "schema": "double"}])")};
  auto r = reg.add(clash);
  EXPECT_EQ(r.error, ModelError::invalid);
  // An unknown reference is reported by name.
  json::value missing[] = {iface("dtmi:t:X;1", R"("extends": "dtmi:t:Nope;1")")};
  auto m = reg.add(missing);
  EXPECT_EQ(m.error, ModelError::unresolved);
  EXPECT_NE(m.status.message().find("dtmi:t:Nope;1"), std::string::npos);
}

TEST(ModelRegistry, ListDependenciesDecommissionAndDelete) {
  ModelRegistry reg;
  json::value set[] = {iface("dtmi:t:Joint;1"),
                       iface("dtmi:t:Arm;1", R"("contents": [{"@type": "Component", "name": "j", "schema": "dtmi:t:Joint;1"}])"),
                       iface("dtmi:t:Robot;1", R"("extends": "dtmi:t:Arm;1")"),
                       iface("dtmi:t:Other;1")};
  ASSERT_TRUE(reg.add(set).status.is_ok());
  std::string want[] = {"dtmi:t:Robot;1"};
  auto deps = reg.list(want);
  ASSERT_TRUE(deps.is_ok());
  std::vector<std::string> ids;
  for (const auto& r : *deps) ids.push_back(r->id);
  EXPECT_EQ(ids, (std::vector<std::string>{"dtmi:t:Arm;1", "dtmi:t:Joint;1", "dtmi:t:Robot;1"}));
  std::string unknown[] = {"dtmi:t:Unknown;1"};
  EXPECT_EQ(reg.list(unknown).status().code(), Code::not_found);
  EXPECT_EQ(reg.list()->size(), 4u);

  EXPECT_TRUE(reg.decommission("dtmi:t:Other;1").is_ok());
  EXPECT_TRUE(reg.get("dtmi:t:Other;1")->decommissioned);
  EXPECT_EQ(reg.decommission("dtmi:t:Unknown;1").code(), Code::not_found);

  Status s = reg.remove("dtmi:t:Joint;1");
  EXPECT_EQ(s.code(), Code::failed_precondition);
  EXPECT_NE(s.message().find("dtmi:t:Arm;1"), std::string::npos);
  EXPECT_TRUE(reg.remove("dtmi:t:Robot;1").is_ok());
  EXPECT_TRUE(reg.remove("dtmi:t:Arm;1").is_ok());
  EXPECT_TRUE(reg.remove("dtmi:t:Joint;1").is_ok());
  EXPECT_EQ(reg.size(), 1u);
}

TEST(ModelRegistry, RestoreRebuildsCompiledModels) {
  ModelRegistry reg;
  json::value set[] = {iface("dtmi:t:A;1", R"("contents": [{"@type": "Property", "name": "p", "schema": "double"}])"),
                       iface("dtmi:t:B;1", R"("extends": "dtmi:t:A;1")")};
  ASSERT_TRUE(reg.add(set).status.is_ok());
  ASSERT_TRUE(reg.decommission("dtmi:t:A;1").is_ok());
  std::vector<ModelRecord> saved;
  auto all = reg.list();
  ASSERT_TRUE(all.is_ok());
  for (const auto& r : *all) saved.push_back(*r);
  ModelRegistry fresh;
  ASSERT_TRUE(fresh.restore(std::move(saved)).is_ok());
  EXPECT_TRUE(fresh.get("dtmi:t:A;1")->decommissioned);
  EXPECT_TRUE(fresh.interface("dtmi:t:B;1")->property("p"));
  EXPECT_EQ(fresh.dependents("dtmi:t:A;1"), std::vector<std::string>{"dtmi:t:B;1"});
}

TEST(ModelRegistry, ConcurrentReadersSeeConsistentSnapshots) {
  ModelRegistry reg;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      auto all = reg.list();
      ASSERT_TRUE(all.is_ok());
      for (const auto& r : *all) ASSERT_TRUE(r->compiled);
    }
  });
  for (int i = 0; i < 50; ++i) {
    json::value one[] = {iface("dtmi:t:M" + std::to_string(i) + ";1")};
    ASSERT_TRUE(reg.add(one).status.is_ok());
  }
  stop = true;
  reader.join();
  EXPECT_EQ(reg.size(), 50u);
}

}  // namespace
}  // namespace castor::model
