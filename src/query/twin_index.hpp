// Twin indexes for the query planner, kept per shard: a model index (model id -> its twins,
// answering IS_OF_MODEL with inheritance and versions through the compiled model's ancestors)
// and property indexes (an ordered index of typed values of one property path, answering =, <,
// <=, >, >= with a literal). Declared ones come from the `query_indexes` option; others are
// created automatically for properties that WHERE clauses filter on repeatedly. Each shard's
// index is changed and read only on that shard's thread (it is the shard's ShardObserver);
// a property index's candidates satisfy the comparison it was chosen for (IndexUse::condition);
// the scan checks every other condition on the live twin.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/strings.hpp"
#include "query/chunked_set.hpp"
#include "query/datum.hpp"
#include "query/planner.hpp"
#include "query/twin_columns.hpp"
#include "twin/engine.hpp"
#include "twin/shard_observer.hpp"

namespace castor::query {

// One property index: the property path, and optionally the model whose twins (and the twins
// of models extending it) it covers. Written "dtmi:com:example:Robot;1:status.mode" or "mode".
struct IndexSpec {
  std::string model;               // empty: twins of every model
  std::vector<std::string> names;  // the path below the twin
  bool automatic = false;          // created for a hot property rather than declared

  std::string path() const;  // names joined by '.'
  std::string text() const;  // as written in the option
};
Result<IndexSpec> parse_index_spec(std::string_view text);

struct IndexOptions {
  std::vector<IndexSpec> declared;
  // A property becomes indexed automatically once this many queries filtered on it with a
  // literal comparison (=, <, <=, >, >=); 0 turns automatic indexes off. Default 3.
  std::size_t auto_after = 3;
  // At most this many automatic indexes (each costs memory per twin holding the property).
  std::size_t auto_max = 16;
};

// A typed, ordered value: null < booleans < numbers < strings (ADT never compares across types,
// so a range never leaves its type). Integers and reals compare by value, as in queries.
struct IndexKey {
  enum class Kind : std::uint8_t { null, boolean, number, string, end };
  // How a number key was written, for giving the value back (datum_of): an integer, a real, or
  // an integer a double cannot hold exactly. Not part of the order.
  enum class Form : std::uint8_t { real, integer, inexact };
  Kind kind = Kind::null;
  double number = 0;
  std::string text;
  Form form = Form::real;
  bool operator<(const IndexKey& o) const;
  bool operator==(const IndexKey& o) const;
};

// One entry of a property index: its key, the twin's address (which orders equal keys) and the
// twin's id, so that a query reading nothing but the key and $dtId renders its rows from the
// index without touching the twins (an index-only scan: each twin is a cache and TLB miss).
struct Indexed {
  IndexKey key;
  std::uintptr_t twin = 0;
  std::string id;
  bool operator<(const Indexed& o) const {
    if (key < o.key) return true;
    if (o.key < key) return false;
    return twin < o.twin;
  }
  const twin::Twin* twin_ptr() const { return reinterpret_cast<const twin::Twin*>(twin); }
};

// The value a key was made from; undefined when the key cannot give it back exactly.
Datum datum_of(const IndexKey& k);

// What an index found for a scan: twins (the model index) or property index entries.
struct Candidates {
  std::vector<const twin::Twin*> twins;
  std::vector<const Indexed*> entries;
  const IndexSpec* spec = nullptr;  // the property index of `entries`
  std::size_t size() const { return twins.size() + entries.size(); }
};

// How the scan of one shard finds its anchor candidates.
struct IndexUse {
  std::string what;       // "model" or the property path; empty: no index applied
  std::size_t count = 0;  // candidates
  // The anchor's conjunct every candidate satisfies (a property index's comparison, whose keys
  // follow every change of the twin), so the scan skips it; kNoExpr for the model index.
  ExprId condition = kNoExpr;
};

class ShardIndex {
 public:
  void update(std::string_view id, const twin::Twin* after);
  // Before any twin exists (a declared index).
  void add_declared(const IndexSpec& spec);
  // Indexes the shard's twins now and every change from here on (an index made while running).
  void add_property(const IndexSpec& spec, const twin::Shard& shard);
  bool has_property(const IndexSpec& spec) const;
  // The anchor's candidates from the most selective index the plan can use (fewest candidates),
  // or false when no index applies. `cap`: no use for an index with more candidates than this.
  bool candidates(const Plan& plan, std::size_t cap, Candidates& out, IndexUse& use) const;
  std::size_t model_count(std::string_view model) const;
  // COUNT() answered without visiting twins: when the anchor has no condition but one
  // IS_OF_MODEL, the sizes of the matching models' lists are the count (exact, not an estimate).
  bool count_by_model(const Plan& plan, std::uint64_t& n) const;
  // Likewise when the only condition is `path = literal` on an index for every model, with a
  // string, boolean or null literal (keys equal exactly when the values are: numbers are kept as
  // doubles, which is exact enough to find candidates but not to count without looking).
  bool count_by_value(const Plan& plan, std::uint64_t& n) const;
  // A full scan through columns (twin_columns.cpp): when every path the anchor's conditions
  // read is a top-level property with a column, calls visit(twin) for each twin the columns do
  // not rule out (the caller checks it on the live twin) and skip() for the others, both
  // returning false to stop. False when the columns cannot serve the plan (nothing called).
  // Counts full scans per property and makes a column for a property at the `hot`-th (0: never;
  // at most kMaxColumns per shard).
  static constexpr std::size_t kMaxColumns = 4;
  bool scan_columns(const Plan& plan, std::size_t hot,
                    const std::function<bool(const twin::Twin&)>& visit,
                    const std::function<bool()>& skip) const;
  std::size_t column_count() const noexcept { return columns_.size(); }

  // Every twin of the shard, from the model lists: dense arrays, one pointer chase fewer than the
  // shard's hash map. Stops when `f` returns false.
  template <class F>
  void for_each_twin_while(F&& f, std::span<const std::string_view> properties = {}) const {
    // Scans are bound by memory latency (twin, then its cells, then the text of a string
    // property the conditions read): fetch each a few twins ahead.
    constexpr std::size_t kAhead = 16;
    std::vector<std::size_t> texts;  // cell slots of `properties` in this model
    for (const auto& [id, slot] : models_) {
      texts.clear();
      for (std::string_view name : properties) {
        if (const model::ContentDef* p = slot.model->property(name)) {
          texts.push_back(static_cast<std::size_t>(p->slot));
        }
      }
      const auto& v = slot.twins;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i + kAhead < v.size()) __builtin_prefetch(v[i + kAhead]);
        if (i + kAhead / 2 < v.size()) __builtin_prefetch(v[i + kAhead / 2]->cells.begin());
        if (i + kAhead / 4 < v.size()) {
          const twin::Cells& cells = v[i + kAhead / 4]->cells;
          for (std::size_t c : texts) {
            if (c < cells.size()) __builtin_prefetch(cells[c].heap_address());
          }
        }
        if (!f(*v[i])) return;
      }
    }
  }

 private:
  struct Slot {
    model::InterfacePtr model;
    std::vector<const twin::Twin*> twins;
    // [column][position of the twin in `twins`]; mutable: scans make columns, a cache on the
    // shard's own thread like the index itself.
    mutable std::vector<std::vector<ColumnCell>> columns;
  };
  struct Entry;
  using Ordered = ChunkedSet<Indexed>;
  struct Property {
    IndexSpec spec;
    Ordered values;
  };
  struct Entry {
    const twin::Twin* twin = nullptr;
    Slot* slot = nullptr;
    std::uint32_t pos = 0;
    std::vector<std::pair<std::uint32_t, IndexKey>> keys;  // (property index, key) it is under
  };
  struct Range;

  void remove(Entry& e);
  void drop_keys(Entry& e);  // its property index keys only
  void add_keys(Entry& e, const twin::Twin& t);
  bool add_key(std::uint32_t property, Entry& e, const twin::Twin& t);
  bool model_candidates(const Plan& plan, std::vector<const Slot*>& slots, std::size_t& n) const;
  bool range_of(const Plan& plan, ExprId c, const Property& p, Range& r) const;
  bool covers(const Plan& plan, const std::string& model) const;
  // Columns (twin_columns.cpp): the slot's cells of twin `pos` set from `t` / appended / the last
  // moved into `pos`; a new column filled for every twin.
  void set_cells(const Slot& slot, std::size_t pos, const twin::Twin& t) const;
  void push_cells(const Slot& slot, const twin::Twin& t) const;
  static void move_last_cells(const Slot& slot, std::size_t pos);
  void add_column(std::string_view name) const;

  StringMap<Entry> entries_;
  std::map<std::string, Slot, std::less<>> models_;  // node-based: Entry::slot stays valid
  std::vector<std::unique_ptr<Property>> properties_;
  // Made by scans (const) on the shard's thread, as a cache.
  mutable std::vector<std::string> columns_;                         // property names
  mutable std::map<std::string, std::size_t, std::less<>> scanned_;  // full scans per property
  mutable Scratch cell_scratch_;  // reading a twin's value for its cells
};

// Every shard's index, and the bookkeeping for automatic ones. Registered with the engine as
// its ShardObserver before it opens; read by the query executor's shard scans.
class IndexSet final : public twin::ShardObserver {
 public:
  explicit IndexSet(IndexOptions options);
  void on_open(std::size_t shard_count) override;
  void on_twin_changed(std::size_t shard, std::string_view id, const twin::Twin* after) override;

  // On shard `index`'s thread only.
  const ShardIndex& shard(std::size_t index) const { return *shards_[index]; }
  // Counts the plan's literal comparisons on anchor properties, and creates an automatic index
  // (on every shard, asynchronously) for a property that reached IndexOptions::auto_after.
  void note(twin::Engine& engine, const Plan& plan);
  // Creates an index on every shard; `done` runs once all shards hold it.
  void create(twin::Engine& engine, IndexSpec spec, std::function<void()> done = {});
  std::vector<IndexSpec> specs() const;
  // After how many full scans reading a property its shard makes a column (0: never).
  std::size_t hot_after() const noexcept { return options_.auto_after; }

 private:
  IndexOptions options_;
  std::vector<std::unique_ptr<ShardIndex>> shards_;
  mutable std::mutex mu_;  // guards what follows (any thread)
  std::map<std::string, std::size_t, std::less<>> filtered_;  // path -> queries filtering on it
  std::vector<IndexSpec> created_;
};

}  // namespace castor::query
