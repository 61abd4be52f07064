#include "query/executor.hpp"

#include <algorithm>
#include <iterator>

#include "query/eval.hpp"
#include "query/expander.hpp"
#include "query/row_renderer.hpp"
#include "query/scatter.hpp"
#include "query/shard_scan.hpp"

namespace castor::query {
namespace {

// Anchors traversed per round: small enough that TOP stops soon and intermediate rows stay
// small, large enough that each round's batches amortize their messages.
constexpr std::size_t kChunk = 1024;

// Conditions that read no slot see every path as undefined.
class NoRow final : public Resolver {
 public:
  Datum read(ExprId, Scratch&) const override { return Datum::undefined(); }
  const model::CompiledInterface* model_of(SlotId) const override { return nullptr; }
};

class Run : public std::enable_shared_from_this<Run> {
 public:
  Run(twin::Engine& engine, std::shared_ptr<const Plan> plan, std::shared_ptr<Budget> budget,
      std::size_t page, ExecutionDone done, const IndexSet* indexes, RenderCache* render_cache)
      : engine_(engine),
        indexes_(indexes),
        render_cache_(render_cache),
        plan_(std::move(plan)),
        budget_(std::move(budget)),
        page_(page),
        done_(std::move(done)),
        keys_(key_width(*plan_)) {}

  void start() {
    Scratch s;
    if (!all_true(*plan_, plan_->constant, NoRow(), s)) return finish_rows();
    scan();
  }

 private:
  std::size_t top() const {
    return plan_->top > 0 ? static_cast<std::size_t>(plan_->top) : SIZE_MAX;
  }

  void scan();
  void scanned(std::vector<ScanResult> results, Status status);
  void single_slot(std::vector<ScanResult>& results);
  void next_chunk();
  void chunk_done(Expander& expander, Status status);
  void finish_rows();
  void keep_rendered(Expander& expander, const RowTable& rows, std::size_t first_key,
                     std::size_t taken);
  void finish(RowList rows, std::size_t next, std::shared_ptr<const KeyList> keys = nullptr) {
    Execution e;
    e.rows = std::move(rows);
    e.next = next;
    e.keys = keys ? std::move(keys) : std::make_shared<const KeyList>(std::move(keys_));
    e.stats = stats_;
    e.stats.returned += e.rows.size();
    e.stats.bytes += e.rows.text_bytes();
    done_(std::move(e));
  }
  void fail(Status s) {
    budget_->cancel();
    done_(std::move(s));
  }

  twin::Engine& engine_;
  const IndexSet* indexes_;
  RenderCache* render_cache_;
  std::shared_ptr<const Plan> plan_;
  std::shared_ptr<Budget> budget_;
  std::size_t page_;
  ExecutionDone done_;
  std::vector<std::vector<std::string>> task_ids_;
  std::vector<Bound> anchors_;
  AdjacencyResult first_hop_;     // the scan's first-hop lists, by anchor (see ScanSpec)
  bool first_hop_ready_ = false;  // first_hop_ has a list for every anchor
  std::size_t next_anchor_ = 0;
  KeyList keys_;
  // The first page's rows, when rendered on the shards while their twins were bound.
  RowList first_rows_;
  std::uint64_t count_ = 0;
  QueryStats stats_;
};

void Run::scan() {
  std::vector<std::size_t> shards;
  if (plan_->access.kind == AccessKind::ids) {
    std::vector<std::size_t> task_of(engine_.shard_count(), SIZE_MAX);
    for (const std::string& id : plan_->access.ids) {
      const std::size_t shard = engine_.shard_of(id);
      if (task_of[shard] == SIZE_MAX) {
        task_of[shard] = shards.size();
        shards.push_back(shard);
        task_ids_.emplace_back();
      }
      task_ids_[task_of[shard]].push_back(id);
    }
  } else {
    shards = all_shards(engine_);
    task_ids_.resize(shards.size());
  }
  auto spec = std::make_shared<ScanSpec>();
  spec->plan = plan_;
  spec->indexes = indexes_;
  spec->render_cache = render_cache_;
  spec->budget = budget_;
  const bool single = plan_->single_slot();
  spec->collect = !single ? Collect::bindings : plan_->count ? Collect::count : Collect::keys;
  // Point lookups bind few anchors: their scan also reads the first hop's relationships.
  if (!single && plan_->access.kind == AccessKind::ids && plan_->access.ids.size() <= kChunk &&
      plan_->steps[0].from == plan_->anchor && plan_->steps[0].max_hops == 1) {
    spec->first_hop = &plan_->steps[0];
    first_hop_ready_ = true;
  }
  if (single && !plan_->count) {
    spec->limit = top();
    const std::size_t want = std::min(page_, spec->limit);
    // Each shard renders its share of the first page; a skewed result renders the rest later.
    spec->render_cap = plan_->access.kind == AccessKind::ids || shards.empty()
                           ? want
                           : std::min(want, want / shards.size() + 8);
  }
  auto self = shared_from_this();
  scatter<ScanResult>(
      engine_, shards,
      [self, spec](twin::Shard& shard, std::size_t task, ScanResult& out) {
        scan_shard(shard, *spec, self->task_ids_[task], out);
      },
      [self](std::vector<ScanResult> results, Status status) {
        self->scanned(std::move(results), std::move(status));
      });
}

void Run::scanned(std::vector<ScanResult> results, Status status) {
  if (!status.is_ok()) return fail(std::move(status));
  for (const ScanResult& r : results) {
    stats_.examined += r.stats.examined;
    stats_.indexed += r.stats.indexed;
    stats_.index_only += r.stats.index_only;
    if (r.stopped) return fail(budget_->error());
  }
  if (plan_->single_slot()) return single_slot(results);
  for (ScanResult& r : results) {
    first_hop_ready_ = first_hop_ready_ && r.first_hop.lists.size() == r.bindings.size();
    const auto base = static_cast<std::uint32_t>(first_hop_.rels.size());
    for (auto& list : r.first_hop.lists) {
      for (Adjacent& a : list) {
        if (a.rel_bound != kUnbound) a.rel_bound += base;
      }
      first_hop_.lists.push_back(std::move(list));
    }
    std::move(r.first_hop.rels.begin(), r.first_hop.rels.end(), std::back_inserter(first_hop_.rels));
    first_hop_.examined += r.first_hop.examined;
    std::move(r.bindings.begin(), r.bindings.end(), std::back_inserter(anchors_));
  }
  next_chunk();
}

// One slot: the shards did everything; the rows rendered there come first, in shard order.
void Run::single_slot(std::vector<ScanResult>& results) {
  if (plan_->count) {
    for (const ScanResult& r : results) count_ += r.matched;
    return finish_rows();
  }
  RowList rendered;
  std::size_t key_rows = 0, key_bytes = 0;
  for (const ScanResult& r : results) {
    key_rows += r.keys.size();
    key_bytes += r.keys.text_bytes();
  }
  keys_.reserve(key_rows, key_bytes);
  rendered.reserve(std::min(key_rows, page_));
  for (ScanResult& r : results) {
    keys_.append(r.keys, 0, r.rendered.size());
    for (std::string& row : r.rendered) rendered.push_back(std::move(row));
  }
  for (ScanResult& r : results) keys_.append(r.keys, r.rendered.size(), r.keys.size());
  const std::size_t total = std::min(keys_.size(), top());
  if (total < keys_.size()) {
    KeyList kept(keys_.width());
    kept.append(keys_, 0, total);
    keys_ = std::move(kept);
  }
  const std::size_t want = std::min(page_, total);
  if (rendered.size() >= want) {
    rendered.truncate(want);
    return finish(std::move(rendered), want);
  }
  // Shards with more matches than their share rendered too few: render the gap now.
  auto keys = std::make_shared<const KeyList>(std::move(keys_));
  auto self = shared_from_this();
  const std::size_t have = rendered.size();
  render_page(engine_, plan_, keys, have, want,
              [self, keys, want, rendered = std::move(rendered)](
                  Result<std::vector<std::string>> rows, QueryStats stats) mutable {
                if (!rows) return self->fail(rows.status());
                self->stats_.examined += stats.examined;
                rendered.append(RowList::of(std::move(*rows)));
                self->finish(std::move(rendered), want, keys);
              },
              render_cache_);
}

void Run::next_chunk() {
  if (budget_->exhausted()) return fail(budget_->error());
  const std::size_t produced = plan_->count ? count_ : keys_.size();
  if (next_anchor_ >= anchors_.size() || produced >= top()) return finish_rows();
  const std::size_t end = std::min(anchors_.size(), next_anchor_ + kChunk);
  std::vector<Bound> chunk(std::make_move_iterator(anchors_.begin() + next_anchor_),
                           std::make_move_iterator(anchors_.begin() + end));
  // The scan's first-hop lists serve when the one chunk holds every anchor they belong to.
  const bool first_hop = first_hop_ready_ && next_anchor_ == 0 && end == anchors_.size();
  next_anchor_ = end;
  // Rows still missing from the first page: the last step may render them as it binds them.
  const std::size_t room = plan_->count || keys_.size() >= page_ ? 0 : page_ - keys_.size();
  auto expander = std::make_shared<Expander>(engine_, plan_, budget_, room, render_cache_);
  auto self = shared_from_this();
  expander->run(
      std::move(chunk), [self, expander](Status s) { self->chunk_done(*expander, std::move(s)); },
      first_hop ? &first_hop_ : nullptr);
}

void Run::chunk_done(Expander& expander, Status status) {
  if (!status.is_ok()) return fail(std::move(status));
  stats_.examined += expander.examined();
  const RowTable& rows = expander.rows();
  const auto& bound = expander.bound();
  const std::size_t before = keys_.bytes();
  std::vector<std::string_view> parts;
  const std::size_t keys_before = keys_.size();
  std::size_t i = 0;
  for (; i < rows.size(); ++i) {
    if ((plan_->count ? count_ : keys_.size()) >= top()) break;
    if (plan_->count) {
      ++count_;
      continue;
    }
    parts.clear();
    const auto row = rows.row(i);
    for (SlotId s : plan_->stored) {
      const Bound& b = bound[row[s]];
      parts.push_back(b.id);
      if (plan_->slots[s].kind == SlotKind::relationship) parts.push_back(b.rel_id);
    }
    keys_.add(parts);
  }
  if (!plan_->count && plan_->stored.size() == 1) keep_rendered(expander, rows, keys_before, i);
  if (keys_.bytes() > before && !budget_->charge(keys_.bytes() - before)) {
    return fail(budget_->error());
  }
  next_chunk();
}

// The JSON of the chunk's first `taken` rows (keys first_key...), as far as the first page goes
// and while every row before them was rendered by the expander as it bound their one stored
// twin. The rows stay in the expander's blocks: a twin in several rows is one range, not copies.
void Run::keep_rendered(Expander& expander, const RowTable& rows, std::size_t first_key,
                        std::size_t taken) {
  const auto& rendered = expander.rendered_rows();
  if (rendered.empty() || first_rows_.size() != first_key || first_key >= page_) return;
  const SlotId slot = plan_->stored[0];
  const std::size_t end = std::min(taken, page_ - first_key);
  const std::uint32_t base = first_rows_.add_blocks(expander.rendered_blocks());
  for (std::size_t i = 0; i < end; ++i) {
    const std::uint32_t b = rows.row(i)[slot];
    if (b >= rendered.size() || rendered[b].size == 0) return;
    const Expander::RenderedRow& r = rendered[b];
    first_rows_.push_back(base + r.block, r.offset, r.size);
  }
}

void Run::finish_rows() {
  if (plan_->count) {
    RowList count;
    count.push_back("{\"COUNT\":" + std::to_string(count_) + "}");
    return finish(std::move(count), 0);
  }
  const std::size_t want = std::min(page_, keys_.size());
  if (want == 0) return finish(RowList(), 0);
  if (first_rows_.size() >= want) {  // rendered as they were bound: no round to the shards
    first_rows_.truncate(want);
    return finish(std::move(first_rows_), want);
  }
  auto keys = std::make_shared<const KeyList>(std::move(keys_));
  auto self = shared_from_this();
  render_page(engine_, plan_, keys, 0, want,
              [self, keys, want](Result<std::vector<std::string>> rows, QueryStats stats) {
                if (!rows) return self->fail(rows.status());
                self->stats_.examined += stats.examined;
                self->finish(RowList::of(std::move(*rows)), want, keys);
              },
              render_cache_);
}

}  // namespace

void execute(twin::Engine& engine, std::shared_ptr<const Plan> plan, std::shared_ptr<Budget> budget,
             std::size_t page_size, ExecutionDone done, const IndexSet* indexes,
             RenderCache* render_cache) {
  auto run = std::make_shared<Run>(engine, std::move(plan), std::move(budget),
                                   std::max<std::size_t>(page_size, 1), std::move(done), indexes,
                                   render_cache);
  run->start();
}

}  // namespace castor::query
