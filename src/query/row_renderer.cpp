#include "query/row_renderer.hpp"

#include <algorithm>
#include <unordered_map>

#include "query/binding.hpp"
#include "query/path_reader.hpp"
#include "query/render_cache.hpp"
#include "query/scatter.hpp"
#include "twin/twin_json.hpp"

namespace castor::query {
namespace {

std::optional<std::string> datum_text(const Datum& d) {
  if (!d.defined()) return std::nullopt;
  std::string out;
  d.append_json(out);
  return out;
}

// One twin or relationship a page needs, rendered once however many rows show it.
struct Item {
  SlotId slot = kNoSlot;
  std::string_view id;
  std::string_view rel_id;
};

struct PageWork {
  std::shared_ptr<const Plan> plan;
  std::shared_ptr<const KeyList> keys;
  std::size_t from = 0;
  std::size_t to = 0;
  std::vector<Item> items;
  std::vector<std::uint32_t> row_items;  // (to - from) rows x plan->stored.size()
  std::vector<std::size_t> shards;
  std::vector<std::vector<std::uint32_t>> per_shard;  // item indexes of each task
  std::vector<std::optional<SlotTexts>> texts;        // by item; none: vanished

  void collect(const twin::Engine& engine);
  std::vector<std::string> compose(QueryStats& stats) const;
};

void PageWork::collect(const twin::Engine& engine) {
  std::unordered_map<std::string, std::uint32_t> seen;
  std::unordered_map<std::size_t, std::size_t> task_of_shard;
  for (std::size_t r = from; r < to; ++r) {
    std::size_t part = 0;
    for (SlotId slot : plan->stored) {
      Item item{slot, keys->part(r, part), {}};
      part += 1;
      if (plan->slots[slot].kind == SlotKind::relationship) item.rel_id = keys->part(r, part++);
      std::string key =
          std::to_string(slot) + '\n' + std::string(item.id) + '\n' + std::string(item.rel_id);
      auto [it, fresh] = seen.emplace(std::move(key), static_cast<std::uint32_t>(items.size()));
      row_items.push_back(it->second);
      if (!fresh) continue;
      items.push_back(item);
      const std::size_t shard = engine.shard_of(item.id);
      auto [t, added] = task_of_shard.emplace(shard, shards.size());
      if (added) {
        shards.push_back(shard);
        per_shard.emplace_back();
      }
      per_shard[t->second].push_back(it->second);
    }
  }
  texts.resize(items.size());
}

std::vector<std::string> PageWork::compose(QueryStats& stats) const {
  std::vector<std::string> rows;
  std::vector<const SlotTexts*> by_slot(plan->slots.size(), nullptr);
  const std::size_t width = plan->stored.size();
  for (std::size_t r = 0; r < to - from; ++r) {
    bool complete = true;
    for (std::size_t k = 0; k < width && complete; ++k) {
      const auto& text = texts[row_items[r * width + k]];
      complete = text.has_value();
      by_slot[plan->stored[k]] = complete ? &*text : nullptr;
    }
    if (!complete) continue;  // deleted since the query ran
    rows.push_back(compose_row(*plan, by_slot));
    stats.bytes += rows.back().size();
  }
  stats.returned += rows.size();
  stats.examined += items.size();
  return rows;
}

void render_item(const Plan& plan, twin::Shard& shard, const Item& item, Scratch& s,
                 std::optional<SlotTexts>& out, const TwinJson& json) {
  const twin::Twin* t = shard.find(item.id);
  if (t == nullptr) return;
  out.emplace();
  if (plan.slots[item.slot].kind == SlotKind::twin)
    return render_twin_slot(plan, item.slot, *t, s, *out, json);
  const twin::Relationship* r = t->relationship(item.rel_id);
  if (r == nullptr) {
    out.reset();
    return;
  }
  render_relationship_slot(plan, item.slot, item.id, *r, s, *out);
}

}  // namespace

void TwinJson::append(const twin::Twin& t, std::string& out) const {
  if (cache != nullptr) return cache->append_twin(shard, t, out, memo);
  twin::render_twin(t, out, memo);
}

void render_twin_slot(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s,
                      SlotTexts& out, const TwinJson& json) {
  out.clear();
  for (std::uint32_t o : plan.slots[slot].outputs) {
    const Output& output = plan.outputs[o];
    if (output.whole) {
      std::string text;
      json.append(t, text);
      out.emplace_back(std::move(text));
    } else {
      out.push_back(datum_text(read_twin_path(t, plan.paths[output.path].names, s)));
    }
  }
}

void render_relationship_slot(const Plan& plan, SlotId slot, std::string_view source,
                              const twin::Relationship& r, Scratch& s, SlotTexts& out) {
  out.clear();
  for (std::uint32_t o : plan.slots[slot].outputs) {
    const Output& output = plan.outputs[o];
    if (output.whole) {
      std::string text;
      twin::render_relationship(source, r, text);
      out.emplace_back(std::move(text));
    } else {
      out.push_back(
          datum_text(read_relationship_path(source, r, plan.paths[output.path].names, s)));
    }
  }
}

std::string compose_row(const Plan& plan, std::span<const SlotTexts* const> by_slot) {
  if (plan.select_all) {
    const SlotTexts* t = by_slot[plan.outputs[0].slot];
    return t != nullptr && !t->empty() && (*t)[0] ? *(*t)[0] : std::string("{}");
  }
  std::string row = "{";
  for (std::uint32_t i = 0; i < plan.outputs.size(); ++i) {
    const Output& o = plan.outputs[i];
    if (o.slot == kNoSlot || by_slot[o.slot] == nullptr) continue;
    const auto& outputs = plan.slots[o.slot].outputs;
    const std::size_t k =
        static_cast<std::size_t>(std::find(outputs.begin(), outputs.end(), i) - outputs.begin());
    const auto& text = (*by_slot[o.slot])[k];
    if (!text) continue;
    if (row.size() > 1) row.push_back(',');
    row += o.key;
    row += *text;
  }
  row.push_back('}');
  return row;
}

namespace {

// The slot's outputs as one JSON object: `whole(row)` writes the whole twin, `read(names)` gives
// the value of a path (undefined: left out).
template <class Whole, class Read>
void render_outputs(const Plan& plan, SlotId slot, std::string& row, Whole&& whole, Read&& read) {
  row.push_back('{');
  bool first = true;
  for (const Output& o : plan.outputs) {
    if (o.slot != slot) continue;
    const std::size_t mark = row.size();
    if (!first) row.push_back(',');
    row += o.key;
    if (o.whole) {
      whole(row);
    } else {
      const Datum d = read(plan.paths[o.path].names);
      if (!d.defined()) {
        row.resize(mark);  // missing values are left out
        continue;
      }
      d.append_json(row);
    }
    first = false;
  }
  row.push_back('}');
}

bool is_dt_id(std::span<const std::string_view> names) {
  return names.size() == 1 && names[0] == "$dtId";
}

}  // namespace

void render_twin_row(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s,
                     std::string& row, const TwinJson& json) {
  if (plan.select_all) {
    if (plan.outputs[0].slot == slot) return json.append(t, row);
    row += "{}";
    return;
  }
  render_outputs(
      plan, slot, row, [&](std::string& r) { json.append(t, r); },
      [&](std::span<const std::string_view> names) { return read_twin_path(t, names, s); });
}

bool renders_from(const Plan& plan, SlotId slot, std::span<const std::string> names) {
  if (plan.select_all) return false;
  for (const Output& o : plan.outputs) {
    if (o.slot != slot) continue;
    if (o.whole) return false;
    const auto& path = plan.paths[o.path].names;
    if (is_dt_id(path)) continue;
    if (!std::equal(path.begin(), path.end(), names.begin(), names.end())) return false;
  }
  return true;
}

void render_values_row(const Plan& plan, SlotId slot, std::string_view id, const Datum& value,
                       std::string& row) {
  render_outputs(
      plan, slot, row, [](std::string&) {},
      [&](std::span<const std::string_view> names) {
        return is_dt_id(names) ? Datum::of_text(id) : value;
      });
}

std::string compose_single(const Plan& plan, SlotId slot, SlotTexts&& texts) {
  if (plan.select_all && plan.outputs[0].slot == slot && !texts.empty() && texts[0]) {
    return std::move(*texts[0]);
  }
  std::vector<const SlotTexts*> by_slot(plan.slots.size(), nullptr);
  by_slot[slot] = &texts;
  return compose_row(plan, by_slot);
}

std::size_t key_width(const Plan& plan) {
  std::size_t w = 0;
  for (SlotId s : plan.stored) w += plan.slots[s].kind == SlotKind::relationship ? 2 : 1;
  return w;
}

void render_page(twin::Engine& engine, std::shared_ptr<const Plan> plan,
                 std::shared_ptr<const KeyList> keys, std::size_t from, std::size_t to,
                 PageDone done, RenderCache* cache) {
  auto work = std::make_shared<PageWork>();
  work->plan = std::move(plan);
  work->keys = std::move(keys);
  work->from = from;
  work->to = std::min(to, work->keys->size());
  work->collect(engine);
  using Texts = std::vector<std::optional<SlotTexts>>;
  scatter<Texts>(
      engine, work->shards,
      [work, cache](twin::Shard& shard, std::size_t task, Texts& out) {
        Scratch s;
        twin::RenderMemo memo;
        const auto& indexes = work->per_shard[task];
        const TwinJson json{cache, shard.index(), indexes.size() > 1 ? &memo : nullptr};
        out.resize(indexes.size());
        for (std::size_t j = 0; j < indexes.size(); ++j) {
          render_item(*work->plan, shard, work->items[indexes[j]], s, out[j], json);
          s.clear();
        }
      },
      [work, done = std::move(done)](std::vector<Texts> results, Status status) {
        QueryStats stats;
        if (!status.is_ok()) return done(status, stats);
        for (std::size_t t = 0; t < results.size(); ++t) {
          for (std::size_t j = 0; j < results[t].size(); ++j) {
            work->texts[work->per_shard[t][j]] = std::move(results[t][j]);
          }
        }
        auto rows = work->compose(stats);
        done(std::move(rows), stats);
      });
}

}  // namespace castor::query
