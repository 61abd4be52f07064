// Renders result rows as ADT shows them: SELECT * is the twin or relationship document itself;
// projections are objects keyed by column name, holding whole twins and relationships or the
// values of paths, with missing values left out. Rows are rendered from the current state of
// their twins, on the shards that own them, from the keys a query materialized. Never renders a
// row whose twin or relationship has since been deleted.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "query/budget.hpp"
#include "query/datum.hpp"
#include "query/key_list.hpp"
#include "query/planner.hpp"
#include "twin/engine.hpp"
#include "twin/twin_json.hpp"

namespace castor::query {

class Scratch;
class RenderCache;

// Where whole twins' ADT JSON comes from on one shard: the query render cache when the service
// has one (render_cache.hpp), else twin::render_twin. `memo`: for a batch of twins rendered by
// one task (twin::RenderMemo), owned by that task; null for a single twin.
struct TwinJson {
  RenderCache* cache = nullptr;
  std::size_t shard = 0;
  twin::RenderMemo* memo = nullptr;
  void append(const twin::Twin& t, std::string& out) const;
};

// The texts a slot contributes to a row, one per entry of SlotPlan::outputs (none: no value).
using SlotTexts = std::vector<std::optional<std::string>>;

// On the shard that owns the twin (or the relationship's source twin).
void render_twin_slot(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s,
                      SlotTexts& out, const TwinJson& json = {});
void render_relationship_slot(const Plan& plan, SlotId slot, std::string_view source,
                              const twin::Relationship& r, Scratch& s, SlotTexts& out);

// The row of a single-slot plan whose slot is a twin, written straight into `row` (what
// compose_single(render_twin_slot(...)) gives, without the intermediate texts).
void render_twin_row(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s,
                     std::string& row, const TwinJson& json = {});

// Whether the slot's outputs read nothing but $dtId and the path `names` (no SELECT *, no whole
// twin): then render_values_row writes the row from the id and that path's value alone.
bool renders_from(const Plan& plan, SlotId slot, std::span<const std::string> names);
void render_values_row(const Plan& plan, SlotId slot, std::string_view id, const Datum& value,
                       std::string& row);

// The row's JSON from its slots' texts; by_slot[s] may be null for slots without outputs.
std::string compose_row(const Plan& plan, std::span<const SlotTexts* const> by_slot);
// The row of a single-slot plan from that slot's texts, which it may take over.
std::string compose_single(const Plan& plan, SlotId slot, SlotTexts&& texts);

// Key parts per stored slot: 1 for a twin, 2 for a relationship.
std::size_t key_width(const Plan& plan);

using PageDone = std::function<void(Result<std::vector<std::string>> rows, QueryStats stats)>;

// Renders rows [from, to) of `keys` (laid out as key_width describes) on their owners' shards;
// whole twins come from `cache` when it is not null.
void render_page(twin::Engine& engine, std::shared_ptr<const Plan> plan,
                 std::shared_ptr<const KeyList> keys, std::size_t from, std::size_t to,
                 PageDone done, RenderCache* cache = nullptr);

}  // namespace castor::query
