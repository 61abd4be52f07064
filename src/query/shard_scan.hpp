// The anchor scan: on one shard, finds the anchor's candidates (every twin or relationship, or
// only those named by point lookups), checks the anchor's own conditions on the live data (but
// the comparison a property index found the candidates by, which they satisfy), and
// keeps what the query needs of each match: a count (COUNT), a rendered row for the first few,
// a key, or a binding to traverse from. Candidates come from the shard's most selective index
// that applies (twin_index.hpp), else from every twin. Rejected twins are never rendered. Runs on the shard
// thread, reads only that shard, and stops at its budget's deadline or at TOP's limit.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "query/binding.hpp"
#include "query/budget.hpp"
#include "query/expander.hpp"
#include "query/key_list.hpp"
#include "query/planner.hpp"
#include "query/twin_index.hpp"
#include "twin/shard.hpp"

namespace castor::query {

enum class Collect : std::uint8_t {
  count,     // COUNT(): nothing but the number
  keys,      // a single-slot result: rows and keys
  bindings,  // the start of a traversal
};

class IndexSet;
class RenderCache;

struct ScanSpec {
  std::shared_ptr<const Plan> plan;
  const IndexSet* indexes = nullptr;  // null: every anchor scan reads every twin
  RenderCache* render_cache = nullptr;  // null: whole twins are rendered for every row
  std::shared_ptr<Budget> budget;
  Collect collect = Collect::keys;
  // Collect::bindings: the first traversal step, when it is a single hop from the anchor; each
  // match's relationships for it are read in the same visit (ScanResult::first_hop).
  const Step* first_hop = nullptr;
  std::size_t render_cap = 0;                                   // matches rendered right away
  std::size_t limit = std::numeric_limits<std::size_t>::max();  // TOP: matches kept at most
};

struct ScanResult {
  std::uint64_t matched = 0;
  std::vector<std::string> rendered;  // rows of the first min(matched, render_cap) matches
  KeyList keys;                       // Collect::keys: every match in scan order
  std::vector<Bound> bindings;        // Collect::bindings: every match
  AdjacencyResult first_hop;          // with ScanSpec::first_hop: lists[i] for bindings[i]
  QueryStats stats;
  IndexUse index;        // the index that gave the candidates, if one did
  bool stopped = false;  // the budget ran out: the result is incomplete
};

// `ids`: the point lookups owned by this shard; ignored unless the plan's access is by ids.
void scan_shard(twin::Shard& shard, const ScanSpec& spec, std::span<const std::string> ids,
                ScanResult& out);

}  // namespace castor::query
