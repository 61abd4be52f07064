#include "query/planner.hpp"

#include <algorithm>
#include <optional>

#include "common/json.hpp"

namespace castor::query {
namespace {

Direction reverse(Direction d) {
  switch (d) {
    case Direction::forward: return Direction::backward;
    case Direction::backward: return Direction::forward;
    case Direction::any: return Direction::any;
  }
  return d;
}

// One slot per collection (same index), then one per unnamed single hop. Returns each edge's
// relationship slot (kNoSlot for variable hops).
std::vector<SlotId> make_slots(Plan& plan) {
  const Query& q = plan.query;
  for (std::size_t i = 0; i < q.collections.size(); ++i) {
    SlotPlan s;
    s.kind =
        q.collections[i].kind == CollectionKind::twin ? SlotKind::twin : SlotKind::relationship;
    s.collection = static_cast<CollectionId>(i);
    plan.slots.push_back(std::move(s));
  }
  std::vector<SlotId> edge_slot;
  for (const Edge& e : q.edges) {
    if (e.relationship != kNoCollection) {
      edge_slot.push_back(e.relationship);
    } else if (e.max_hops == 1) {
      edge_slot.push_back(static_cast<SlotId>(plan.slots.size()));
      SlotPlan s;
      s.kind = SlotKind::relationship;
      plan.slots.push_back(std::move(s));
    } else {
      edge_slot.push_back(kNoSlot);
    }
  }
  return edge_slot;
}

// The relationship slot a twin path `T.rel...` reads through, or kNoSlot.
SlotId relationship_through(const Plan& plan, const std::vector<SlotId>& edge_slot,
                            const Expr& path, std::string_view first) {
  const Query& q = plan.query;
  for (std::size_t i = 0; i < q.edges.size(); ++i) {
    const Edge& e = q.edges[i];
    if (e.source != path.collection || edge_slot[i] == kNoSlot) continue;
    for (TextRef n : q.relationship_names(e)) {
      if (q.str(n) == first) return edge_slot[i];
    }
  }
  return kNoSlot;
}

void plan_paths(Plan& plan, const std::vector<SlotId>& edge_slot) {
  const Query& q = plan.query;
  plan.paths.resize(q.exprs.size());
  for (std::size_t i = 0; i < q.exprs.size(); ++i) {
    const Expr& e = q.exprs[i];
    if (e.kind != ExprKind::path || e.collection == kNoCollection) continue;
    PathPlan& p = plan.paths[i];
    for (TextRef n : q.property_path(e)) p.names.push_back(q.str(n));
    p.slot = e.collection;
    if (e.qualified && !p.names.empty() && plan.slots[p.slot].kind == SlotKind::twin) {
      const SlotId through = relationship_through(plan, edge_slot, e, p.names.front());
      if (through != kNoSlot) {
        p.slot = through;
        p.names.erase(p.names.begin());
      }
    }
  }
}

void collect_slots(const Plan& plan, ExprId id, std::vector<SlotId>& out) {
  const Query& q = plan.query;
  const Expr& e = q.expr(id);
  SlotId s = kNoSlot;
  if (e.kind == ExprKind::path) s = plan.paths[id].slot;
  if (e.kind == ExprKind::call && e.function == Function::is_of_model) s = e.collection;
  if (s != kNoSlot && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  if (e.kind == ExprKind::call && e.function == Function::is_of_model) return;
  for (ExprId child : q.children(e)) collect_slots(plan, child, out);
}

void collect_paths(const Plan& plan, ExprId id, std::vector<ExprId>& out) {
  const Query& q = plan.query;
  const Expr& e = q.expr(id);
  if (e.kind == ExprKind::path) {
    out.push_back(id);
    return;
  }
  if (e.kind == ExprKind::call && e.function == Function::is_of_model) return;
  for (ExprId child : q.children(e)) collect_paths(plan, child, out);
}

// Cheap conjuncts first: those reading only system properties ($dtId, $metadata...) and models.
int cost(const Plan& plan, ExprId id) {
  std::vector<ExprId> paths;
  collect_paths(plan, id, paths);
  for (ExprId p : paths) {
    const auto& names = plan.paths[p].names;
    if (names.empty() || !names.front().starts_with('$')) return 1;
  }
  return 0;
}

std::vector<ExprId> conjuncts(const Query& q) {
  if (q.where == kNoExpr) return {};
  const Expr& w = q.expr(q.where);
  if (w.kind != ExprKind::logical_and) return {q.where};
  auto kids = q.children(w);
  return {kids.begin(), kids.end()};
}

std::vector<std::vector<SlotId>> split_where(Plan& plan) {
  std::vector<std::vector<SlotId>> residual_slots;
  for (ExprId c : conjuncts(plan.query)) {
    std::vector<SlotId> slots;
    collect_slots(plan, c, slots);
    if (slots.empty()) {
      plan.constant.push_back(c);
    } else if (slots.size() == 1) {
      plan.slots[slots[0]].local.push_back(c);
    } else {
      plan.residuals.push_back(Residual{c, 0});
      for (SlotId s : slots) plan.slots[s].in_residual = true;
      residual_slots.push_back(std::move(slots));
      std::vector<ExprId> paths;
      collect_paths(plan, c, paths);
      for (ExprId p : paths) {
        const SlotId s = plan.paths[p].slot;
        if (s != kNoSlot) plan.slots[s].captured.push_back(p);
      }
    }
  }
  for (SlotPlan& s : plan.slots) {
    std::stable_sort(s.local.begin(), s.local.end(),
                     [&](ExprId a, ExprId b) { return cost(plan, a) < cost(plan, b); });
  }
  return residual_slots;
}

bool is_system_path(const Plan& plan, ExprId id, SlotId slot, std::string_view field) {
  const Expr& e = plan.query.expr(id);
  if (e.kind != ExprKind::path) return false;
  const PathPlan& p = plan.paths[id];
  return p.slot == slot && p.names.size() == 1 && p.names[0] == field;
}

// The ids a conjunct `field = 'x'` or `field IN [...]` pins the slot to (an empty list when no
// literal can match), or nothing when the conjunct is of another shape.
std::optional<std::vector<std::string>> point_ids(const Plan& plan, ExprId c, SlotId slot,
                                                  std::string_view field) {
  const Query& q = plan.query;
  const Expr& e = q.expr(c);
  std::vector<std::string> ids;
  auto add = [&](ExprId lit) {
    const Expr& l = q.expr(lit);
    if (l.kind != ExprKind::string_literal) return;
    std::string id(q.str(l.text));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
  };
  if (e.kind == ExprKind::compare && e.op == CompareOp::eq) {
    const auto kids = q.children(e);
    if (is_system_path(plan, kids[0], slot, field) && q.expr(kids[1]).kind != ExprKind::path) {
      add(kids[1]);
      return ids;
    }
    if (is_system_path(plan, kids[1], slot, field) && q.expr(kids[0]).kind != ExprKind::path) {
      add(kids[0]);
      return ids;
    }
    return std::nullopt;
  }
  if (e.kind == ExprKind::in_list && !e.negated) {
    const auto kids = q.children(e);
    if (!is_system_path(plan, kids[0], slot, field)) return std::nullopt;
    for (std::size_t i = 1; i < kids.size(); ++i) add(kids[i]);
    return ids;
  }
  return std::nullopt;
}

void choose_anchor(Plan& plan) {
  const Query& q = plan.query;
  const bool twins = q.source == Source::digital_twins;
  const std::string_view field = twins ? "$dtId" : "$sourceId";
  std::optional<std::vector<std::string>> best;
  for (SlotId s = 0; s < q.collections.size(); ++s) {
    if ((plan.slots[s].kind == SlotKind::twin) != twins) continue;
    for (ExprId c : plan.slots[s].local) {
      auto ids = point_ids(plan, c, s, field);
      if (ids && (!best || ids->size() < best->size())) {
        best = std::move(ids);
        plan.anchor = s;
      }
    }
  }
  if (best) {
    plan.access = Access{AccessKind::ids, std::move(*best)};
    return;
  }
  plan.anchor = q.from_collection() != kNoCollection ? q.from_collection() : q.match_nodes.front();
}

void order_steps(Plan& plan, const std::vector<SlotId>& edge_slot) {
  const Query& q = plan.query;
  std::vector<bool> bound(plan.slots.size(), false);
  std::vector<bool> done(q.edges.size(), false);
  bound[plan.anchor] = true;
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t i = 0; i < q.edges.size() && !progress; ++i) {
      const Edge& e = q.edges[i];
      if (done[i] || (!bound[e.source] && !bound[e.target])) continue;
      Step st;
      st.edge = static_cast<std::uint32_t>(i);
      st.from = bound[e.source] ? e.source : e.target;
      st.to = st.from == e.source ? e.target : e.source;
      st.closes = bound[st.to];
      st.direction = st.from == e.source ? e.direction : reverse(e.direction);
      st.relationship = edge_slot[i];
      for (TextRef n : q.relationship_names(e)) st.names.push_back(q.str(n));
      st.min_hops = e.min_hops;
      st.max_hops = e.max_hops;
      plan.steps.push_back(std::move(st));
      bound[e.target] = bound[e.source] = true;
      if (edge_slot[i] != kNoSlot) bound[edge_slot[i]] = true;
      done[i] = true;
      progress = true;
    }
  }
}

void place_residuals(Plan& plan, const std::vector<std::vector<SlotId>>& residual_slots) {
  std::vector<std::uint32_t> bound_at(plan.slots.size(), 0);
  for (std::size_t k = 0; k < plan.steps.size(); ++k) {
    const Step& st = plan.steps[k];
    if (!st.closes) bound_at[st.to] = static_cast<std::uint32_t>(k + 1);
    if (st.relationship != kNoSlot) bound_at[st.relationship] = static_cast<std::uint32_t>(k + 1);
  }
  for (std::size_t i = 0; i < plan.residuals.size(); ++i) {
    for (SlotId s : residual_slots[i]) {
      plan.residuals[i].ready_after = std::max(plan.residuals[i].ready_after, bound_at[s]);
    }
  }
}

void plan_outputs(Plan& plan) {
  const Query& q = plan.query;
  plan.count = q.select.kind == SelectKind::count;
  plan.top = q.select.top;
  if (q.select.kind == SelectKind::all) {
    plan.select_all = true;
    plan.outputs.push_back(Output{{}, {}, 0, kNoExpr, true});
  } else if (q.select.kind == SelectKind::projections) {
    for (const Projection& p : q.select.projections) {
      const PathPlan& pp = plan.paths[p.expr];
      Output o{q.output_name(p), {}, pp.slot, p.expr, pp.names.empty()};
      json::append_string(o.key, o.name);
      o.key.push_back(':');
      plan.outputs.push_back(std::move(o));
    }
  }
  for (std::uint32_t i = 0; i < plan.outputs.size(); ++i) {
    if (plan.outputs[i].slot != kNoSlot) plan.slots[plan.outputs[i].slot].outputs.push_back(i);
  }
  for (SlotId s = 0; s < plan.slots.size(); ++s) {
    if (!plan.slots[s].outputs.empty()) plan.stored.push_back(s);
  }
}

void index_hints(Plan& plan) {
  const Query& q = plan.query;
  for (ExprId c : plan.slots[plan.anchor].local) {
    const Expr& e = q.expr(c);
    if (e.kind == ExprKind::call && e.function == Function::is_of_model &&
        plan.hints.model.empty()) {
      const auto args = q.children(e);
      plan.hints.model = std::string(q.str(q.expr(args.back()).text));
      plan.hints.exact = e.exact;
    } else if (e.kind == ExprKind::compare) {
      plan.hints.property_conditions.push_back(c);
    }
  }
}

}  // namespace

std::shared_ptr<const Plan> plan_query(Query query) {
  auto plan = std::make_shared<Plan>();
  plan->query = std::move(query);
  const std::vector<SlotId> edge_slot = make_slots(*plan);
  plan_paths(*plan, edge_slot);
  const auto residual_slots = split_where(*plan);
  choose_anchor(*plan);
  order_steps(*plan, edge_slot);
  place_residuals(*plan, residual_slots);
  plan_outputs(*plan);
  index_hints(*plan);
  return plan;
}

}  // namespace castor::query
