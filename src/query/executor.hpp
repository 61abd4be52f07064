// The executor: runs a Plan against the engine and answers its first page. It scatters the
// anchor scan to the shards that can hold matches (the owners of the looked-up ids, else all),
// gathers the matches, traverses JOIN and MATCH steps in chunks of anchors (so TOP stops
// early), and materializes the keys of every result row, from which later pages are rendered.
// Every task it posts is non-blocking and touches only its own shard's state.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "query/budget.hpp"
#include "query/key_list.hpp"
#include "query/planner.hpp"
#include "query/row_list.hpp"
#include "twin/engine.hpp"

namespace castor::query {

class IndexSet;
class RenderCache;

struct Execution {
  RowList rows;                         // the first page
  std::shared_ptr<const KeyList> keys;  // every result row's key (row_renderer.hpp's layout)
  std::size_t next = 0;                 // the first row of the next page; keys->size(): none
  QueryStats stats;
};

using ExecutionDone = std::function<void(Result<Execution>)>;

// `done` runs exactly once, on a shard thread or the caller's.
// `indexes` (may be null) offers the anchor scans their candidates; `render_cache` (may be null)
// the rendered JSON of whole twins. Both must outlive the execution.
void execute(twin::Engine& engine, std::shared_ptr<const Plan> plan, std::shared_ptr<Budget> budget,
             std::size_t page_size, ExecutionDone done, const IndexSet* indexes = nullptr,
             RenderCache* render_cache = nullptr);

}  // namespace castor::query
