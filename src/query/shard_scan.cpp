#include "query/shard_scan.hpp"

#include <algorithm>
#include <array>

#include "query/row_renderer.hpp"

namespace castor::query {
namespace {

class ShardScan {
 public:
  ShardScan(const ScanSpec& spec, twin::Shard& shard, ScanResult& out)
      : shard_(shard),
        spec_(spec),
        plan_(*spec.plan),
        slot_(plan_.anchor),
        out_(out),
        meter_(*spec.budget),
        json_{spec.render_cache, shard.index(), spec.render_cap > 1 ? &memo_ : nullptr} {
    out_.keys = KeyList(key_width(plan_));
  }
  ~ShardScan() {
    if (!meter_.flush()) out_.stopped = true;
  }

  bool stopped() const { return stop_; }

  // Both return false once the scan must stop.
  // `known`: an anchor conjunct the twin is already known to satisfy (IndexUse::condition).
  bool visit_twin(const twin::Twin& t, ExprId known = kNoExpr) {
    if (stop_ || !tick()) return false;
    if (!twin_matches(plan_, slot_, t, scratch_, known)) return done_with_row();
    if (spec_.collect == Collect::bindings) {
      keep(twin_binding(plan_, slot_, t, scratch_));
      if (spec_.first_hop != nullptr) {
        scratch_.clear();
        auto& hop = out_.first_hop;
        adjacent_here(shard_, plan_, *spec_.first_hop, t.id, scratch_, hop, hop.lists.emplace_back());
      }
    } else if (spec_.collect == Collect::keys) {
      keep_twin_row(
          t.id, [&](std::string& row) { render_twin_row(plan_, slot_, t, scratch_, row, json_); });
    }
    return matched();
  }

  // A twin an index entry satisfying the anchor's only condition stands for, when the rows read
  // nothing but $dtId and the entry's value (see covered_by): rendered without the twin.
  bool visit_entry(const Indexed& e, ExprId known) {
    const Datum value = datum_of(e.key);
    if (!value.defined()) return visit_twin(*e.twin_ptr(), known);
    if (stop_ || !tick()) return false;
    ++out_.stats.index_only;
    keep_twin_row(e.id,
                  [&](std::string& row) { render_values_row(plan_, slot_, e.id, value, row); });
    return matched();
  }

  // A twin the columns ruled out: counted as examined, nothing else.
  bool skip_twin() { return !stop_ && tick(); }

  // About `n` candidates will be visited (an index's): room for their rows and keys at once,
  // for up to kExpectMost of them (candidates other conditions reject need no room).
  void expect(std::size_t n) {
    constexpr std::size_t kExpectMost = std::size_t{1} << 14;
    if (spec_.collect != Collect::keys) return;
    n = std::min({n, spec_.limit, kExpectMost});
    out_.rendered.reserve(std::min(n, spec_.render_cap));
    out_.keys.reserve(n, n * 24);
  }

  bool visit_relationship(const twin::Twin& source, const twin::Relationship& r) {
    if (stop_ || !tick()) return false;
    if (!relationship_matches(plan_, slot_, source.id, r, scratch_)) return done_with_row();
    if (spec_.collect == Collect::bindings) {
      keep(relationship_binding(plan_, slot_, source.id, r, scratch_));
    } else if (spec_.collect == Collect::keys) {
      if (out_.rendered.size() < spec_.render_cap) {
        render([&](SlotTexts& texts) {
          render_relationship_slot(plan_, slot_, source.id, r, scratch_, texts);
        });
      }
      keep(std::array<std::string_view, 2>{source.id, r.id});
    }
    return matched();
  }

 private:
  bool tick() {
    ++out_.stats.examined;
    if ((out_.stats.examined & 255) == 0 && spec_.budget->exhausted()) {
      stop_ = true;
      out_.stopped = true;
    }
    return !stop_;
  }

  // A matching twin's key, and its row while the first page needs rows: `render(row)` writes it.
  template <class Render>
  void keep_twin_row(std::string_view id, Render&& render) {
    if (out_.rendered.size() < spec_.render_cap) {
      std::string& row = out_.rendered.emplace_back();
      // Rows of one query are alike: room for the last one's size saves regrowing each.
      row.reserve(row_size_ + 8);
      render(row);
      row_size_ = row.size();
      charge(row.size());
    }
    keep(std::array<std::string_view, 1>{id});
  }

  bool done_with_row() {
    scratch_.clear();
    return true;
  }

  template <class F>
  void render(F&& fill) {
    SlotTexts texts;
    fill(texts);
    out_.rendered.push_back(compose_single(plan_, slot_, std::move(texts)));
    charge(out_.rendered.back().size());
  }

  void keep(Bound b) {
    charge(b.bytes());
    out_.bindings.push_back(std::move(b));
  }

  template <std::size_t N>
  void keep(const std::array<std::string_view, N>& key) {
    if (out_.keys.width() == 0) {
      out_.keys.add({});
    } else {
      out_.keys.add(key);
    }
    charge(key[0].size() + (N > 1 ? key[N - 1].size() : 0) + 16 * N);
  }

  void charge(std::size_t bytes) {
    if (!meter_.add(bytes)) {
      stop_ = true;
      out_.stopped = true;
    }
  }

  bool matched() {
    scratch_.clear();
    ++out_.matched;
    if (out_.matched >= spec_.limit) stop_ = true;
    return !stop_;
  }

  twin::Shard& shard_;
  const ScanSpec& spec_;
  const Plan& plan_;
  SlotId slot_;
  ScanResult& out_;
  MemoryMeter meter_;
  Scratch scratch_;
  twin::RenderMemo memo_;  // the rows this scan renders, when there may be several
  TwinJson json_;
  std::size_t row_size_ = 0;  // of the last row rendered
  bool stop_ = false;
};

void scan_relationships(twin::Shard& shard, ShardScan& scan, const Plan& plan,
                        std::span<const std::string> ids) {
  auto each = [&](const twin::Twin& t) {
    for (const twin::Relationship& r : t.outgoing()) {
      if (!scan.visit_relationship(t, r)) return;
    }
  };
  if (plan.access.kind == AccessKind::ids) {
    for (const std::string& id : ids) {
      if (const twin::Twin* t = shard.find(id)) each(*t);
      if (scan.stopped()) return;
    }
    return;
  }
  shard.for_each_twin_while([&](const twin::Twin& t) {
    each(t);
    return !scan.stopped();
  });
}

// Top-level properties the anchor's paths read (at most 4), for the scan to prefetch.
std::vector<std::string_view> read_properties(const Plan& plan) {
  std::vector<std::string_view> names;
  for (const PathPlan& p : plan.paths) {
    if (p.slot != plan.anchor || p.names.empty() || p.names[0].starts_with('$')) continue;
    if (std::find(names.begin(), names.end(), p.names[0]) != names.end()) continue;
    names.push_back(p.names[0]);
    if (names.size() == 4) break;
  }
  return names;
}

// Index candidates lie scattered over the heap, and visiting one waits on its memory (the twin,
// then its cells): fetch each a few candidates ahead.
template <class Get>
void visit_twins(ShardScan& scan, std::size_t n, Get&& twin_at, ExprId known) {
  constexpr std::size_t kAhead = 8;
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      __builtin_prefetch(twin_at(i + kAhead));
      __builtin_prefetch(&twin_at(i + kAhead)->cells);
    }
    if (i + kAhead / 2 < n) __builtin_prefetch(twin_at(i + kAhead / 2)->cells.begin());
    if (!scan.visit_twin(*twin_at(i), known)) return;
  }
}

// Whether the rows of a property index's entries can come from the entries alone: only keys are
// collected, the index's comparison is the anchor's one condition, and the rows read nothing
// but $dtId and the indexed path.
bool covered_by(const ScanSpec& spec, const Plan& plan, const IndexSpec& index, ExprId condition) {
  const auto& local = plan.slots[plan.anchor].local;
  return spec.collect == Collect::keys && condition != kNoExpr && local.size() == 1 &&
         local[0] == condition && renders_from(plan, plan.anchor, index.names);
}

void visit_candidates(ShardScan& scan, const ScanSpec& spec, const Candidates& c, ExprId known) {
  if (c.entries.empty()) {
    visit_twins(
        scan, c.twins.size(), [&](std::size_t i) { return c.twins[i]; }, known);
  } else if (c.spec != nullptr && covered_by(spec, *spec.plan, *c.spec, known)) {
    for (const Indexed* e : c.entries) {
      if (!scan.visit_entry(*e, known)) return;
    }
  } else {
    visit_twins(
        scan, c.entries.size(), [&](std::size_t i) { return c.entries[i]->twin_ptr(); }, known);
  }
}

}  // namespace

void scan_shard(twin::Shard& shard, const ScanSpec& spec, std::span<const std::string> ids,
                ScanResult& out) {
  const Plan& plan = *spec.plan;
  ShardScan scan(spec, shard, out);
  if (plan.slots[plan.anchor].kind == SlotKind::relationship) {
    scan_relationships(shard, scan, plan, ids);
    return;
  }
  if (plan.access.kind == AccessKind::ids) {
    for (const std::string& id : ids) {
      const twin::Twin* t = shard.find(id);
      if (t != nullptr && !scan.visit_twin(*t)) return;
    }
    return;
  }
  const bool unconditional = plan.slots[plan.anchor].local.empty();
  if (spec.collect == Collect::count && unconditional && plan.access.kind == AccessKind::scan) {
    out.matched = shard.twin_count();  // COUNT() of every twin: no twin needs a look
    return;
  }
  if (spec.indexes == nullptr) {
    shard.for_each_twin_while([&](const twin::Twin& t) { return scan.visit_twin(t); });
    return;
  }
  const ShardIndex& index = spec.indexes->shard(shard.index());
  if (spec.collect == Collect::count &&
      (index.count_by_model(plan, out.matched) || index.count_by_value(plan, out.matched))) {
    ++out.stats.indexed;
    return;
  }
  Candidates candidates;
  if (index.candidates(plan, shard.twin_count(), candidates, out.index)) {
    ++out.stats.indexed;
    scan.expect(candidates.size());
    visit_candidates(scan, spec, candidates, out.index.condition);
    return;
  }
  if (index.scan_columns(
          plan, spec.indexes->hot_after(), [&](const twin::Twin& t) { return scan.visit_twin(t); },
          [&] { return scan.skip_twin(); }))
    return;
  index.for_each_twin_while([&](const twin::Twin& t) { return scan.visit_twin(t); },
                            read_properties(plan));
}

}  // namespace castor::query
