// The traversal of JOIN and MATCH: starting from anchor bindings, follows the plan's steps edge
// by edge. Each step asks the shards that own the bound twins for their relationships (outgoing,
// incoming or both, by name), then the shards that own the twins reached, in one batch per
// shard, to check those twins' own conditions; conditions across slots are checked as soon as
// their slots are bound. Variable hops [*n..m] expand level by level without walking straight
// back over the relationship just crossed, so cycles end at the hop limit. Never blocks a shard.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "query/binding.hpp"
#include "query/budget.hpp"
#include "query/planner.hpp"
#include "query/row_list.hpp"
#include "twin/engine.hpp"

namespace castor::query {

// Rows of slot bindings: row i is cells[i * width, (i + 1) * width), each an index into the
// expander's bound table or kUnbound.
class RowTable {
 public:
  explicit RowTable(std::size_t width) : width_(width) {}
  std::size_t width() const noexcept { return width_; }
  std::size_t size() const noexcept { return cells_.size() / width_; }
  std::span<const std::uint32_t> row(std::size_t i) const {
    return std::span<const std::uint32_t>(cells_).subspan(i * width_, width_);
  }
  void push(std::span<const std::uint32_t> row) {
    cells_.insert(cells_.end(), row.begin(), row.end());
  }
  void reserve(std::size_t rows) { cells_.reserve(rows * width_); }
  std::size_t bytes() const noexcept { return cells_.capacity() * sizeof(std::uint32_t); }

 private:
  std::size_t width_;
  std::vector<std::uint32_t> cells_;
};

// A relationship found next to a bound twin.
struct Adjacent {
  std::string neighbor;    // the twin at the other end
  std::string rel_source;  // the relationship's source twin (its owner)
  std::string rel_id;
  std::uint32_t rel_bound = kUnbound;  // outgoing: its binding, when its slot is read
  bool incoming = false;
  std::uint32_t twin_at = kUnbound;  // single hop: `neighbor`'s place in the step's bind round
};
using Adjacency = std::unordered_map<std::string, std::vector<Adjacent>>;

// One shard's adjacency lists, and the bindings of outgoing relationships they refer to.
struct AdjacencyResult {
  std::vector<std::vector<Adjacent>> lists;  // by twin asked about
  std::vector<Bound> rels;                   // Adjacent::rel_bound indexes these
  std::uint64_t examined = 0;
};

// The relationships of twin `id` that step `st` may cross, appended to `list` (and the bindings
// of those it crosses outgoing, to out.rels); on the thread of `shard`, which owns `id`.
// `known`: the twin `id`, when the caller has already found it.
void adjacent_here(twin::Shard& shard, const Plan& plan, const Step& st, const std::string& id,
                   Scratch& s, AdjacencyResult& out, std::vector<Adjacent>& list,
                   const twin::Twin* known = nullptr);

// Adjacency lists of a single hop's `from` twins by their binding (index into the expander's
// bound table), so that rows find their twin's relationships by index, not by id.
class HopLists {
 public:
  // The list of binding `b`, or null when none was read for it.
  const std::vector<Adjacent>* find(std::uint32_t b) const noexcept {
    return b < of_bound_.size() && of_bound_[b] != kUnbound ? &lists_[of_bound_[b]] : nullptr;
  }
  void set(std::uint32_t b, std::vector<Adjacent> list);
  std::vector<std::vector<Adjacent>>& lists() noexcept { return lists_; }
  void clear() noexcept {
    lists_.clear();
    of_bound_.clear();
  }

 private:
  std::vector<std::vector<Adjacent>> lists_;
  std::vector<std::uint32_t> of_bound_;  // binding -> lists_ index, or kUnbound
};

class RenderCache;
struct BindTask;
struct BindExtras;
struct BindResult;

class Expander : public std::enable_shared_from_this<Expander> {
 public:
  // `render_limit`: when the last step binds at most this many twins and they are the rows'
  // only stored slot, it renders their rows too (rendered_rows()); 0: never. `render_cache` may
  // be null.
  Expander(twin::Engine& engine, std::shared_ptr<const Plan> plan, std::shared_ptr<Budget> budget,
           std::size_t render_limit = 0, RenderCache* render_cache = nullptr);
  ~Expander();
  Expander(const Expander&) = delete;
  Expander& operator=(const Expander&) = delete;

  // Runs every step from `anchors` (bindings of the anchor slot); `done` runs once, after which
  // rows() holds the complete rows. `first_hop`, when given, holds the first step's adjacency
  // of anchors (read by the anchor scan: lists[i] belongs to anchors[i]), saving a round.
  void run(std::vector<Bound> anchors, std::function<void(Status)> done,
           AdjacencyResult* first_hop = nullptr);
  const RowTable& rows() const noexcept { return rows_; }
  const std::vector<Bound>& bound() const noexcept { return bound_; }
  std::uint64_t examined() const noexcept { return examined_; }
  // A row of a last-step twin, rendered on its shard while it was bound (see render_limit):
  // bytes [offset, offset + size) of rendered_blocks()[block]. Each shard task writes the rows
  // of its twins into one block.
  struct RenderedRow {
    std::uint32_t block = 0;
    std::uint32_t size = 0;  // 0: not rendered (a row is never empty)
    std::size_t offset = 0;
  };
  // By index into bound().
  const std::vector<RenderedRow>& rendered_rows() const noexcept { return rendered_rows_; }
  const std::vector<RowList::Block>& rendered_blocks() const noexcept { return rendered_blocks_; }

 private:
  void next_step();
  void finish(Status s);
  bool charge(std::size_t bytes);
  void filter_residuals(std::uint32_t steps_done);
  // Single hop: relationships of the rows' `from` twins, then the twins they reach.
  void single_hop(const Step& st);
  void single_hop_bind(const Step& st);
  void assemble_single(const Step& st);
  void replace_rows(RowTable next);
  // Variable hops: one level per round, then the twins reached.
  void start_hops(const Step& st);
  void hop_level(const Step& st, std::uint32_t level);
  void expand_level(const Step& st, std::uint32_t level);
  void hops_done(const Step& st);
  void assemble_hops(const Step& st);
  // Fetches adjacency for `ids` (the twins of bindings `bounds`, when given) into hop_lists_ by
  // binding, or without `bounds` into adjacency_ by id; then calls `then`.
  void fetch_adjacency(const Step& st, std::vector<std::string> ids,
                       std::vector<std::uint32_t> bounds, std::function<void()> then);
  // Moves one shard's relationship bindings into bound_ (pointing its lists at them); returns
  // the bytes to charge for them and the lists.
  std::size_t keep_rels(AdjacencyResult& result);
  BindExtras bind_extras(const Step& st, std::size_t twins) const;
  // Keeps one shard's bindings (and what came with them); returns the bytes to charge.
  std::size_t keep_bound(const BindTask& task, BindResult& result);
  // Binds `twins` to st.to and `rels` (source, id) to st.relationship on their owners' shards;
  // when the next step is a single hop from st.to, also reads the bound twins' relationships
  // for it (into next_lists_). twin_bound_[i] is then the binding of twins[i] (or kUnbound).
  void fetch_bindings(const Step& st, std::vector<std::string> twins,
                      std::vector<std::pair<std::string, std::string>> rels,
                      std::function<void()> then);

  twin::Engine& engine_;
  std::shared_ptr<const Plan> plan_;
  std::shared_ptr<Budget> budget_;
  std::function<void(Status)> done_;
  std::vector<Bound> bound_;
  RowTable rows_;
  std::size_t step_ = 0;
  std::uint64_t examined_ = 0;
  std::size_t render_limit_ = 0;
  RenderCache* render_cache_ = nullptr;
  std::vector<RenderedRow> rendered_rows_;
  std::vector<RowList::Block> rendered_blocks_;
  // Per step:
  Adjacency adjacency_;  // variable hops: by twin id
  HopLists hop_lists_;   // single hops: by binding of the `from` twin
  HopLists next_lists_;  // the next single hop's, read while binding this step's twins
  // The twins of the last bind round, by shard.
  std::shared_ptr<std::vector<BindTask>> bind_tasks_;
  // By place in the last bind round's list of twins: bound_ index or kUnbound. Rows find their
  // twin's binding by place (Adjacent::twin_at, hop_place_) instead of by id.
  std::vector<std::uint32_t> twin_bound_;
  std::unordered_map<std::string, std::uint32_t> hop_place_;   // variable hops: id -> place
  std::unordered_map<std::string, std::uint32_t> rel_bound_;   // source\nid -> same
  // Variable hops: per row, the frontier (twin, key of the relationship it was reached by) and
  // the twins reached within the hop range.
  std::vector<std::vector<std::pair<std::string, std::string>>> frontier_;
  std::vector<std::unordered_set<std::string>> reached_;
  std::size_t charged_ = 0;  // memory charged to the budget, returned on destruction
};

}  // namespace castor::query
