// The planner's decisions, which the execution corpus only sees through their results: point
// lookups by $dtId (or $sourceId) reach only the owning shards, the anchor is the pinned slot,
// traversal steps run outward from it, conditions are checked where their slots are bound, and
// T.rel.property reads the relationship.
#include <gtest/gtest.h>

#include "query/parser.hpp"
#include "query/planner.hpp"

namespace castor::query {
namespace {

std::shared_ptr<const Plan> plan_of(std::string_view text) {
  auto q = parse(text);
  EXPECT_TRUE(q.is_ok()) << q.status().message();
  return plan_query(std::move(*q));
}

TEST(QueryPlanner, PointLookupsUseTheFewestIds) {
  auto p = plan_of(
      "SELECT * FROM DIGITALTWINS T WHERE T.$dtId IN ['a', 'b', 'a'] AND T.x = 1 AND T.$dtId = "
      "'a'");
  EXPECT_EQ(p->access.kind, AccessKind::ids);
  EXPECT_EQ(p->access.ids, std::vector<std::string>{"a"});
  p = plan_of("SELECT * FROM DIGITALTWINS T WHERE T.$dtId IN ['a', 'b', 'a']");
  EXPECT_EQ(p->access.ids, (std::vector<std::string>{"a", "b"}));
  p = plan_of("SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 5");
  EXPECT_EQ(p->access.kind, AccessKind::ids);
  EXPECT_TRUE(p->access.ids.empty()) << "no id can equal a number";
}

TEST(QueryPlanner, OutputKeysAreTheirNamesAsJson) {
  auto p = plan_of("SELECT T.$dtId, T.temperature, T.a.b AS x, T FROM DIGITALTWINS T");
  ASSERT_EQ(p->outputs.size(), 4u);
  EXPECT_EQ(p->outputs[0].key, "\"$dtId\":");
  EXPECT_EQ(p->outputs[1].key, "\"temperature\":");
  EXPECT_EQ(p->outputs[2].key, "\"x\":");
  EXPECT_EQ(p->outputs[3].key, "\"T\":");
}

TEST(QueryPlanner, OrAndNotDoNotPinIds) {
  for (const char* q : {"SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'a' OR T.x = 1",
                        "SELECT * FROM DIGITALTWINS T WHERE NOT T.$dtId = 'a'",
                        "SELECT * FROM DIGITALTWINS T WHERE T.$dtId NIN ['a']",
                        "SELECT * FROM DIGITALTWINS T WHERE T.$dtId != 'a'"}) {
    EXPECT_EQ(plan_of(q)->access.kind, AccessKind::scan) << q;
  }
}

TEST(QueryPlanner, RelationshipsAreLookedUpBySource) {
  auto p = plan_of("SELECT * FROM RELATIONSHIPS WHERE $sourceId IN ['A', 'B'] AND $targetId = 'C'");
  EXPECT_EQ(p->access.kind, AccessKind::ids);
  EXPECT_EQ(p->access.ids, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(plan_of("SELECT * FROM RELATIONSHIPS WHERE $targetId = 'C'")->access.kind,
            AccessKind::scan);
}

TEST(QueryPlanner, TraversalsStartAtThePinnedTwin) {
  auto p = plan_of(
      "SELECT S FROM DIGITALTWINS S JOIN T RELATED S.feeds JOIN U RELATED T.feeds WHERE "
      "T.$dtId = 'mid'");
  EXPECT_EQ(p->anchor, 1u);
  ASSERT_EQ(p->steps.size(), 2u);
  EXPECT_EQ(p->steps[0].from, 1u);
  EXPECT_EQ(p->steps[0].to, 0u);
  EXPECT_EQ(p->steps[0].direction, Direction::backward);
  EXPECT_EQ(p->steps[1].from, 1u);
  EXPECT_EQ(p->steps[1].direction, Direction::forward);
  p = plan_of("SELECT A FROM DIGITALTWINS MATCH (A)-[:x]->(B)<-[:y]-(C) WHERE C.$dtId = 'c'");
  EXPECT_EQ(p->anchor, p->query.match_nodes[2]);
  EXPECT_EQ(p->steps[0].direction, Direction::forward) << "C-[:y]->B, walked from C";
}

TEST(QueryPlanner, ConditionsRunWhereTheirSlotsAreBound) {
  auto p = plan_of(
      "SELECT F FROM DIGITALTWINS F JOIN R RELATED F.contains E WHERE F.$dtId = 'f' AND "
      "R.t > 1 AND E.since > 2 AND R.name > F.name AND 1 = 1");
  EXPECT_EQ(p->slots[0].local.size(), 1u);  // F.$dtId
  EXPECT_EQ(p->slots[1].local.size(), 1u);  // R.t
  EXPECT_EQ(p->slots[2].local.size(), 1u);  // E.since
  ASSERT_EQ(p->residuals.size(), 1u);       // R.name > F.name
  EXPECT_EQ(p->residuals[0].ready_after, 1u);
  EXPECT_EQ(p->constant.size(), 1u);
  EXPECT_TRUE(p->slots[0].in_residual && p->slots[1].in_residual);
  EXPECT_EQ(p->slots[0].captured.size(), 1u);
}

TEST(QueryPlanner, TwinDotRelationshipReadsTheRelationship) {
  auto p = plan_of(
      "SELECT F.contains.since AS s FROM DIGITALTWINS F JOIN R RELATED F.contains WHERE "
      "F.$dtId = 'f'");
  ASSERT_EQ(p->slots.size(), 3u) << "the unnamed relationship gets a slot";
  EXPECT_EQ(p->slots[2].kind, SlotKind::relationship);
  EXPECT_EQ(p->outputs[0].slot, 2u);
  EXPECT_EQ(p->stored, std::vector<SlotId>{2});
}

TEST(QueryPlanner, VariableHopsHaveNoRelationshipSlot) {
  auto p = plan_of("SELECT B FROM DIGITALTWINS MATCH (A)-[*2..4]-(B) WHERE A.$dtId = 'a'");
  ASSERT_EQ(p->steps.size(), 1u);
  EXPECT_EQ(p->steps[0].relationship, kNoSlot);
  EXPECT_EQ(p->steps[0].min_hops, 3u);
  EXPECT_EQ(p->steps[0].max_hops, 4u);
  EXPECT_EQ(p->slots.size(), 2u);
}

TEST(QueryPlanner, IndexHintsForPhaseTwo) {
  auto p = plan_of(
      "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:x:Room;1', exact) AND T.t > 20");
  EXPECT_EQ(p->hints.model, "dtmi:x:Room;1");
  EXPECT_TRUE(p->hints.exact);
  EXPECT_EQ(p->hints.property_conditions.size(), 1u);
}

}  // namespace
}  // namespace castor::query
