#include "query/expander.hpp"

#include <algorithm>
#include <optional>

#include "query/render_cache.hpp"
#include "query/row_renderer.hpp"
#include "query/scatter.hpp"
#include "twin/twin_json.hpp"

namespace castor::query {

namespace {

// Ids whose table slot a shard loop starts loading ahead of the one it looks up.
constexpr std::size_t kPrefetchAhead = 8;
// Twins to render in one round from which the shards are spread over the CPUs (Engine::spread):
// ~0.25 ms of rendering, against the ~0.04 ms it takes to wake an idle CPU of a virtual machine.
constexpr std::size_t kSpreadTwins = 256;

// Adjacency entries an adjacency list makes room for before it is filled.
constexpr std::size_t kListRoom = 64;

bool name_matches(const Step& st, std::string_view name) {
  return st.names.empty() || std::find(st.names.begin(), st.names.end(), name) != st.names.end();
}

std::string rel_key(std::string_view source, std::string_view id) {
  std::string k(source);
  k.push_back('\n');
  k.append(id);
  return k;
}

// Whether an outgoing relationship crossed by this step is bound to its slot at its source.
bool binds_relationship(const Plan& plan, const Step& st) {
  return st.relationship != kNoSlot && plan.slots[st.relationship].needed();
}

// Splits items into one list per owning shard, in first-seen shard order.
template <class T, class Owner>
std::vector<std::size_t> split_by_shard(const twin::Engine& engine, std::vector<T> items,
                                        Owner owner, std::vector<std::vector<T>>& per_task) {
  std::vector<std::size_t> shards;
  std::vector<std::size_t> task_of(engine.shard_count(), SIZE_MAX);
  for (T& item : items) {
    const std::size_t shard = engine.shard_of(owner(item));
    if (task_of[shard] == SIZE_MAX) {
      task_of[shard] = shards.size();
      shards.push_back(shard);
      per_task.emplace_back();
    }
    per_task[task_of[shard]].push_back(std::move(item));
  }
  return shards;
}

// Places of the distinct twins a step reaches, by id: open addressing over views of ids that
// outlive it, sized once (a node per twin, as std::unordered_map allocates, costs more than the
// lookups).
class PlaceTable {
 public:
  explicit PlaceTable(std::size_t most) {
    std::size_t n = 16;
    while (n < most * 2) n *= 2;
    slots_.resize(n);
    mask_ = n - 1;
  }
  // The place of `id`, given `next` (and true) when it is new.
  std::pair<std::uint32_t, bool> emplace(std::string_view id, std::uint32_t next) {
    for (std::size_t i = std::hash<std::string_view>{}(id)&mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.place == kUnbound) {
        slot = Slot{id, next};
        return {next, true};
      }
      if (slot.id == id) return {slot.place, false};
    }
  }

 private:
  struct Slot {
    std::string_view id;
    std::uint32_t place = kUnbound;
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace

void HopLists::set(std::uint32_t b, std::vector<Adjacent> list) {
  if (of_bound_.size() <= b) of_bound_.resize(static_cast<std::size_t>(b) + 1, kUnbound);
  of_bound_[b] = static_cast<std::uint32_t>(lists_.size());
  lists_.push_back(std::move(list));
}

struct BindTask {
  std::vector<std::string> twins;
  std::vector<std::uint32_t> places;  // twins[j]'s place in the round's list of twins
  std::vector<std::pair<std::string, std::string>> rels;
};

std::size_t count_twins(const std::vector<BindTask>& tasks) {
  std::size_t n = 0;
  for (const BindTask& t : tasks) n += t.twins.size();
  return n;
}

// What else a bind round does while it visits the twins it binds (each saves a round of
// messages): read their relationships for the next step, or render their rows.
struct BindExtras {
  const Step* next = nullptr;  // the following single hop from the twins bound here
  bool render = false;         // the last step, whose twins are the rows: render them
  RenderCache* cache = nullptr;
};

struct BindResult {
  std::vector<std::optional<Bound>> twins;
  std::vector<std::optional<Bound>> rels;
  AdjacencyResult next;                       // BindExtras::next: lists[i] for twins[i]
  // BindExtras::render: the rows of the twins bound, one after another; twin i's row ends at
  // row_ends[i] and starts where twin i - 1's ends (the same place: not bound).
  std::string rendered;
  std::vector<std::size_t> row_ends;
  std::uint64_t examined = 0;
};

namespace {

// Twins of a bind batch are cold: start loading, a few twins ahead of the one being bound,
// what binding it reads (cells; relationships for the next hop) and rendering it (texts).
void prefetch_ahead(const std::vector<twin::Twin*>& found, std::size_t i, const BindExtras& extras,
                    std::size_t shard) {
  constexpr std::size_t kCells = 4;
  constexpr std::size_t kTexts = 2;
  if (i + kCells < found.size() && found[i + kCells] != nullptr) {
    const twin::Twin& t = *found[i + kCells];
    twin::prefetch_cells(t);
    if (extras.render && extras.cache != nullptr) extras.cache->prefetch(shard, &t);
    if (extras.next != nullptr) __builtin_prefetch(t.extra_if());
  }
  if (i + kTexts < found.size() && found[i + kTexts] != nullptr) {
    const twin::Twin& t = *found[i + kTexts];
    if (extras.render) twin::prefetch_texts(t);
    if (extras.next != nullptr && t.extra_if() != nullptr) {
      __builtin_prefetch(t.extra_if()->outgoing.data());
    }
  }
}

// Appends the row of `t` to the batch's `rows`, `left` twins (this one included) before the
// batch ends. The first row sizes the block for all of them: rows of one step are usually
// twins of one model, and growing a block of hundreds of kilobytes copies it.
void render_row(const Plan& plan, SlotId slot, const twin::Twin& t, Scratch& s,
                const TwinJson& json, std::size_t left, std::string& rows) {
  const bool first = rows.empty();
  render_twin_row(plan, slot, t, s, rows, json);
  if (first) rows.reserve(rows.size() + rows.size() * (left - 1) * 9 / 8 + 4096);
}

void bind_here(twin::Shard& shard, const Plan& plan, const Step& st, const BindExtras& extras,
               const BindTask& task, BindResult& out) {
  Scratch s;
  const std::size_t n = task.twins.size();
  twin::RenderMemo memo;
  const TwinJson json{extras.cache, shard.index(), n > 1 ? &memo : nullptr};
  out.twins.resize(n);
  if (extras.next != nullptr) out.next.lists.resize(n);
  if (extras.render) out.row_ends.resize(n);
  std::vector<twin::Twin*> found(n);
  shard.find_all(std::span<const std::string>(task.twins), std::span<twin::Twin*>(found));
  for (std::size_t i = 0; i < n; ++i) {
    ++out.examined;
    prefetch_ahead(found, i, extras, shard.index());
    const twin::Twin* t = found[i];
    Bound b;
    if (t != nullptr && bind_twin(plan, st.to, *t, s, b)) {
      out.twins[i] = std::move(b);
      s.clear();
      if (extras.next != nullptr) {
        adjacent_here(shard, plan, *extras.next, task.twins[i], s, out.next, out.next.lists[i], t);
      }
      if (extras.render) render_row(plan, st.to, *t, s, json, n - i, out.rendered);
    }
    if (extras.render) out.row_ends[i] = out.rendered.size();
    s.clear();
  }
  out.rels.resize(task.rels.size());
  for (std::size_t i = 0; i < task.rels.size(); ++i) {
    ++out.examined;
    const auto& [source, id] = task.rels[i];
    const twin::Twin* t = shard.find(source);
    const twin::Relationship* r = t ? t->relationship(id) : nullptr;
    Bound b;
    if (r != nullptr && bind_relationship(plan, st.relationship, source, *r, s, b)) {
      out.rels[i] = std::move(b);
    }
    s.clear();
  }
}

}  // namespace

void adjacent_here(twin::Shard& shard, const Plan& plan, const Step& st, const std::string& id,
                   Scratch& s, AdjacencyResult& out, std::vector<Adjacent>& list,
                   const twin::Twin* known) {
  const bool bind = binds_relationship(plan, st);
  // Which relationship was crossed matters to variable hops (never straight back) and to binding
  // an incoming one at its source; a single hop that binds none needs only the neighbors.
  const bool keyed = st.max_hops != 1 || bind;
  if (st.direction != Direction::backward) {
    if (const twin::Twin* t = known != nullptr ? known : shard.find(id)) {
      // Room ahead (growing the list one by one allocated ~4 times per twin), but not for every
      // relationship of a hub twin when the step follows only some names.
      list.reserve(list.size() + std::min<std::size_t>(t->outgoing().size(), kListRoom));
      for (const twin::Relationship& r : t->outgoing()) {
        ++out.examined;
        if (!name_matches(st, r.name)) continue;
        Adjacent a{r.target, keyed ? id : std::string(), keyed ? r.id : std::string(), kUnbound,
                   false};
        if (bind) {
          Bound b;
          const bool ok = bind_relationship(plan, st.relationship, id, r, s, b);
          s.clear();
          if (!ok) continue;
          a.rel_bound = static_cast<std::uint32_t>(out.rels.size());
          out.rels.push_back(std::move(b));
        }
        list.push_back(std::move(a));
      }
    }
  }
  if (st.direction == Direction::forward) return;
  const std::vector<twin::IncomingEdge>* in = shard.incoming(id);
  if (in == nullptr) return;
  list.reserve(list.size() + std::min<std::size_t>(in->size(), kListRoom));
  for (const twin::IncomingEdge& e : *in) {
    ++out.examined;
    if (e.pending || !name_matches(st, e.name)) continue;
    // A self-loop was already listed as outgoing when both directions are followed.
    if (st.direction == Direction::any && e.source == id) continue;
    list.push_back(Adjacent{e.source, keyed ? e.source : std::string(),
                            keyed ? e.relationship_id : std::string(), kUnbound, true});
  }
}

Expander::Expander(twin::Engine& engine, std::shared_ptr<const Plan> plan,
                   std::shared_ptr<Budget> budget, std::size_t render_limit,
                   RenderCache* render_cache)
    : engine_(engine),
      plan_(std::move(plan)),
      budget_(std::move(budget)),
      rows_(plan_->slots.size()),
      render_limit_(render_limit),
      render_cache_(render_cache) {}

Expander::~Expander() {
  budget_->release(charged_);
}

void Expander::run(std::vector<Bound> anchors, std::function<void(Status)> done,
                   AdjacencyResult* first_hop) {
  done_ = std::move(done);
  bound_ = std::move(anchors);
  const std::size_t anchor_count = bound_.size();
  std::vector<std::uint32_t> row(plan_->slots.size(), kUnbound);
  for (std::size_t i = 0; i < anchor_count; ++i) {
    row[plan_->anchor] = static_cast<std::uint32_t>(i);
    rows_.push(row);
  }
  if (!charge(rows_.bytes())) return;
  if (first_hop != nullptr) {
    const std::size_t bytes = keep_rels(*first_hop);
    for (std::size_t i = 0; i < anchor_count && i < first_hop->lists.size(); ++i) {
      next_lists_.set(static_cast<std::uint32_t>(i), std::move(first_hop->lists[i]));
    }
    if (!charge(bytes)) return;
  }
  next_step();
}

void Expander::finish(Status s) {
  if (!done_) return;
  auto done = std::move(done_);
  done_ = nullptr;
  done(std::move(s));
}

bool Expander::charge(std::size_t bytes) {
  charged_ += bytes;
  if (budget_->charge(bytes)) return true;
  finish(budget_->error());
  return false;
}

void Expander::next_step() {
  if (budget_->exhausted()) return finish(budget_->error());
  if (rows_.size() == 0 || step_ == plan_->steps.size()) return finish(Status::ok());
  const Step& st = plan_->steps[step_];
  hop_lists_ = std::move(next_lists_);  // what the previous step's bindings read, if anything
  next_lists_.clear();
  adjacency_.clear();
  if (st.max_hops == 1) return single_hop(st);
  start_hops(st);
}

void Expander::filter_residuals(std::uint32_t steps_done) {
  std::vector<ExprId> ready;
  for (const Residual& r : plan_->residuals) {
    if (r.ready_after == steps_done) ready.push_back(r.expr);
  }
  if (ready.empty()) return;
  RowTable kept(rows_.width());
  Scratch s;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const RowResolver resolver(*plan_, bound_, rows_.row(i));
    if (all_true(*plan_, ready, resolver, s)) kept.push(rows_.row(i));
    s.clear();
  }
  rows_ = std::move(kept);
}

void Expander::replace_rows(RowTable next) {
  if (!charge(next.bytes())) return;
  rows_ = std::move(next);
  ++step_;
  filter_residuals(static_cast<std::uint32_t>(step_));
  next_step();
}

void Expander::fetch_adjacency(const Step& st, std::vector<std::string> ids,
                               std::vector<std::uint32_t> bounds, std::function<void()> then) {
  // Each twin asked about, with its binding (kUnbound: kept by id).
  using Ask = std::pair<std::string, std::uint32_t>;
  std::vector<Ask> asks;
  asks.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    asks.emplace_back(std::move(ids[i]), i < bounds.size() ? bounds[i] : kUnbound);
  }
  auto per_task = std::make_shared<std::vector<std::vector<Ask>>>();
  const auto shards = split_by_shard(
      engine_, std::move(asks), [](const Ask& a) -> const std::string& { return a.first; },
      *per_task);
  auto self = shared_from_this();
  scatter<AdjacencyResult>(
      engine_, shards,
      [self, per_task, &st](twin::Shard& shard, std::size_t task, AdjacencyResult& out) {
        Scratch s;
        const auto& mine = (*per_task)[task];
        out.lists.resize(mine.size());
        for (std::size_t j = 0; j < mine.size(); ++j) {
          if (j + kPrefetchAhead < mine.size()) shard.prefetch(mine[j + kPrefetchAhead].first);
          adjacent_here(shard, *self->plan_, st, mine[j].first, s, out, out.lists[j]);
        }
      },
      [self, per_task, then = std::move(then)](std::vector<AdjacencyResult> results,
                                               Status status) {
        if (!status.is_ok()) return self->finish(status);
        std::size_t bytes = 0;
        for (std::size_t t = 0; t < results.size(); ++t) {
          bytes += self->keep_rels(results[t]);
          const auto& mine = (*per_task)[t];
          for (std::size_t j = 0; j < results[t].lists.size() && j < mine.size(); ++j) {
            auto& list = results[t].lists[j];
            if (mine[j].second == kUnbound) {
              self->adjacency_[mine[j].first] = std::move(list);
            } else {
              self->hop_lists_.set(mine[j].second, std::move(list));
            }
          }
        }
        if (self->charge(bytes)) then();
      });
}

std::size_t Expander::keep_rels(AdjacencyResult& result) {
  std::size_t bytes = 0;
  const auto base = static_cast<std::uint32_t>(bound_.size());
  for (Bound& b : result.rels) {
    bytes += b.bytes();
    bound_.push_back(std::move(b));
  }
  result.rels.clear();
  examined_ += result.examined;
  result.examined = 0;
  for (auto& list : result.lists) {
    for (Adjacent& a : list) {
      if (a.rel_bound != kUnbound) a.rel_bound += base;
      bytes += sizeof(Adjacent) + a.neighbor.size() + a.rel_source.size() + a.rel_id.size();
    }
  }
  return bytes;
}

void Expander::fetch_bindings(const Step& st, std::vector<std::string> twins,
                              std::vector<std::pair<std::string, std::string>> rels,
                              std::function<void()> then) {
  twin_bound_.assign(twins.size(), kUnbound);
  rel_bound_.clear();
  auto tasks = std::make_shared<std::vector<BindTask>>();
  std::vector<std::size_t> shards;
  std::vector<std::size_t> task_of(engine_.shard_count(), SIZE_MAX);
  auto task_for = [&](std::size_t shard) -> BindTask& {
    if (task_of[shard] == SIZE_MAX) {
      task_of[shard] = shards.size();
      shards.push_back(shard);
      tasks->emplace_back();
    }
    return (*tasks)[task_of[shard]];
  };
  // Each twin's shard first, so that every task's lists are sized once.
  std::vector<std::uint32_t> shard_of(twins.size());
  std::vector<std::size_t> per_shard(engine_.shard_count(), 0);
  for (std::size_t i = 0; i < twins.size(); ++i) {
    shard_of[i] = static_cast<std::uint32_t>(engine_.shard_of(twins[i]));
    ++per_shard[shard_of[i]];
  }
  for (std::size_t i = 0; i < twins.size(); ++i) {
    BindTask& task = task_for(shard_of[i]);
    if (task.twins.empty()) {
      task.twins.reserve(per_shard[shard_of[i]]);
      task.places.reserve(per_shard[shard_of[i]]);
    }
    task.twins.push_back(std::move(twins[i]));
    task.places.push_back(static_cast<std::uint32_t>(i));
  }
  for (auto& rel : rels) {
    BindTask& task = task_for(engine_.shard_of(rel.first));
    task.rels.push_back(std::move(rel));
  }
  bind_tasks_ = tasks;
  const std::size_t extras_twins = tasks->size() == 0 ? 0 : count_twins(*tasks);
  BindExtras extras = bind_extras(st, extras_twins);
  next_lists_.clear();
  // Rendering a few hundred twins per shard takes long enough that the shards must overlap.
  if (extras.render && extras_twins >= kSpreadTwins) engine_.spread(shards);
  auto self = shared_from_this();
  scatter<BindResult>(
      engine_, shards,
      [self, tasks, &st, extras](twin::Shard& shard, std::size_t task, BindResult& out) {
        bind_here(shard, *self->plan_, st, extras, (*tasks)[task], out);
      },
      [self, tasks, then = std::move(then)](std::vector<BindResult> results, Status status) {
        if (!status.is_ok()) return self->finish(status);
        std::size_t more = 0;  // bindings to keep, for room in bound_ at once
        for (const BindResult& r : results)
          more += r.twins.size() + r.rels.size() + r.next.rels.size();
        self->bound_.reserve(self->bound_.size() + more);
        std::size_t bytes = 0;
        for (std::size_t t = 0; t < results.size(); ++t) bytes += self->keep_bound((*tasks)[t], results[t]);
        if (self->charge(bytes)) then();
      });
}

// The next single hop starting from the twins bound here reads their relationships in the same
// visit; the last step renders its twins when they are the rows and fit the first page.
BindExtras Expander::bind_extras(const Step& st, std::size_t twins) const {
  BindExtras extras;
  const std::size_t last = plan_->steps.size() - 1;
  if (!st.closes && step_ < last) {
    const Step& n = plan_->steps[step_ + 1];
    if (n.from == st.to && n.max_hops == 1) extras.next = &n;
  }
  extras.render = !st.closes && step_ == last && !plan_->count && plan_->stored.size() == 1 &&
                  plan_->stored[0] == st.to && twins > 0 && twins <= render_limit_;
  extras.cache = render_cache_;
  return extras;
}

std::size_t Expander::keep_bound(const BindTask& task, BindResult& result) {
  std::size_t bytes = 0;
  auto keep = [&](std::optional<Bound>& b) {
    if (!b) return kUnbound;
    bytes += b->bytes();
    bound_.push_back(std::move(*b));
    return static_cast<std::uint32_t>(bound_.size() - 1);
  };
  examined_ += result.examined;
  const auto block = static_cast<std::uint32_t>(rendered_blocks_.size());
  if (!result.row_ends.empty()) {
    bytes += result.rendered.capacity();
    rendered_blocks_.push_back(std::make_shared<const std::string>(std::move(result.rendered)));
  }
  for (std::size_t j = 0; j < task.twins.size(); ++j) {
    const std::uint32_t b = keep(result.twins[j]);
    twin_bound_[task.places[j]] = b;
    if (b == kUnbound || j >= result.row_ends.size()) continue;
    const std::size_t begin = j == 0 ? 0 : result.row_ends[j - 1];
    if (rendered_rows_.size() <= b) rendered_rows_.resize(b + 1);
    rendered_rows_[b] =
        RenderedRow{block, static_cast<std::uint32_t>(result.row_ends[j] - begin), begin};
  }
  // The next hop's lists, by the binding of the twin they belong to (only twins bound here).
  if (!result.next.lists.empty()) {
    bytes += keep_rels(result.next);
    for (std::size_t j = 0; j < task.twins.size() && j < result.next.lists.size(); ++j) {
      const std::uint32_t b = twin_bound_[task.places[j]];
      if (b != kUnbound) next_lists_.set(b, std::move(result.next.lists[j]));
    }
  }
  for (std::size_t j = 0; j < task.rels.size(); ++j) {
    rel_bound_[rel_key(task.rels[j].first, task.rels[j].second)] = keep(result.rels[j]);
  }
  return bytes;
}

void Expander::single_hop(const Step& st) {
  // The `from` bindings whose lists no earlier round read, each asked once.
  std::vector<std::uint32_t> bounds;
  std::vector<std::string> ids;
  std::vector<bool> asked(bound_.size(), false);
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const std::uint32_t b = rows_.row(i)[st.from];
    if (hop_lists_.find(b) != nullptr || asked[b]) continue;
    asked[b] = true;
    bounds.push_back(b);
    ids.push_back(bound_[b].id);
  }
  auto self = shared_from_this();
  if (ids.empty()) return single_hop_bind(st);
  fetch_adjacency(st, std::move(ids), std::move(bounds),
                  [self, &st] { self->single_hop_bind(st); });
}

void Expander::single_hop_bind(const Step& st) {
  // Each distinct neighbor gets a place in the bind round; its Adjacents remember it.
  std::size_t reached = 0;
  for (const auto& list : hop_lists_.lists()) reached += list.size();
  PlaceTable places(st.closes ? 0 : reached);  // views of hop_lists_'s neighbors
  std::vector<std::string> twins;
  twins.reserve(reached);
  std::vector<std::pair<std::string, std::string>> rels;
  std::unordered_set<std::string> rel_seen;
  const bool bind_rel = binds_relationship(*plan_, st);
  for (auto& list : hop_lists_.lists()) {
    for (Adjacent& a : list) {
      if (!st.closes) {
        const auto [place, fresh] =
            places.emplace(a.neighbor, static_cast<std::uint32_t>(twins.size()));
        if (fresh) twins.push_back(a.neighbor);
        a.twin_at = place;
      }
      if (bind_rel && a.incoming && rel_seen.insert(rel_key(a.rel_source, a.rel_id)).second) {
        rels.emplace_back(a.rel_source, a.rel_id);
      }
    }
  }
  auto self = shared_from_this();
  fetch_bindings(st, std::move(twins), std::move(rels), [self, &st] { self->assemble_single(st); });
}

void Expander::assemble_single(const Step& st) {
  const bool bind_rel = binds_relationship(*plan_, st);
  RowTable next(rows_.width());
  // Each row's list, looked up once; their sizes bound the rows (room for them at once).
  std::vector<const std::vector<Adjacent>*> lists(rows_.size());
  std::size_t most = 0;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    lists[i] = hop_lists_.find(rows_.row(i)[st.from]);
    most += lists[i] == nullptr ? 0 : lists[i]->size();
  }
  next.reserve(most);
  std::vector<std::uint32_t> row(rows_.width());
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const auto old = rows_.row(i);
    const std::vector<Adjacent>* list = lists[i];
    if (list == nullptr) continue;
    for (const Adjacent& a : *list) {
      std::copy(old.begin(), old.end(), row.begin());
      if (st.closes) {
        if (bound_[old[st.to]].id != a.neighbor) continue;
      } else {
        if (a.twin_at >= twin_bound_.size() || twin_bound_[a.twin_at] == kUnbound) continue;
        row[st.to] = twin_bound_[a.twin_at];
      }
      if (bind_rel) {
        std::uint32_t rb = a.rel_bound;
        if (a.incoming) {
          const auto r = rel_bound_.find(rel_key(a.rel_source, a.rel_id));
          rb = r == rel_bound_.end() ? kUnbound : r->second;
        }
        if (rb == kUnbound) continue;
        row[st.relationship] = rb;
      }
      next.push(row);
    }
  }
  replace_rows(std::move(next));
}

void Expander::start_hops(const Step& st) {
  frontier_.assign(rows_.size(), {});
  reached_.assign(rows_.size(), {});
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    frontier_[i].emplace_back(bound_[rows_.row(i)[st.from]].id, std::string());
  }
  hop_level(st, 1);
}

void Expander::hop_level(const Step& st, std::uint32_t level) {
  if (budget_->exhausted()) return finish(budget_->error());
  std::unordered_set<std::string> missing;
  for (const auto& states : frontier_) {
    for (const auto& [node, via] : states) {
      if (!adjacency_.count(node)) missing.insert(node);
    }
  }
  auto self = shared_from_this();
  auto then = [self, &st, level] { self->expand_level(st, level); };
  if (missing.empty()) return then();
  fetch_adjacency(st, {missing.begin(), missing.end()}, {}, std::move(then));
}

void Expander::expand_level(const Step& st, std::uint32_t level) {
  bool any = false;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < frontier_.size(); ++i) {
    std::vector<std::pair<std::string, std::string>> next;
    std::unordered_set<std::string> seen;
    for (const auto& [node, via] : frontier_[i]) {
      for (const Adjacent& a : adjacency_[node]) {
        std::string key = rel_key(a.rel_source, a.rel_id);
        if (key == via) continue;  // never straight back over the relationship just crossed
        if (!seen.insert(a.neighbor + '\n' + key).second) continue;
        if (level >= st.min_hops && reached_[i].insert(a.neighbor).second)
          bytes += a.neighbor.size() + 32;
        bytes += a.neighbor.size() + key.size() + 64;
        next.emplace_back(a.neighbor, std::move(key));
      }
    }
    any = any || !next.empty();
    frontier_[i] = std::move(next);
  }
  if (!charge(bytes)) return;
  if (level == st.max_hops || !any) return hops_done(st);
  hop_level(st, level + 1);
}

void Expander::hops_done(const Step& st) {
  frontier_.clear();
  hop_place_.clear();
  std::vector<std::string> twins;
  if (!st.closes) {
    for (const auto& nodes : reached_) {
      for (const std::string& node : nodes) {
        if (hop_place_.emplace(node, static_cast<std::uint32_t>(twins.size())).second) {
          twins.push_back(node);
        }
      }
    }
  }
  auto self = shared_from_this();
  fetch_bindings(st, std::move(twins), {}, [self, &st] { self->assemble_hops(st); });
}

void Expander::assemble_hops(const Step& st) {
  RowTable next(rows_.width());
  std::vector<std::uint32_t> row(rows_.width());
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const auto old = rows_.row(i);
    for (const std::string& node : reached_[i]) {
      std::copy(old.begin(), old.end(), row.begin());
      if (st.closes) {
        if (bound_[old[st.to]].id != node) continue;
      } else {
        const auto t = hop_place_.find(node);
        if (t == hop_place_.end() || twin_bound_[t->second] == kUnbound) continue;
        row[st.to] = twin_bound_[t->second];
      }
      next.push(row);
    }
  }
  reached_.clear();
  hop_place_.clear();
  replace_rows(std::move(next));
}

}  // namespace castor::query
