// The query service: what POST /query (and benchmarks and tests) call. It parses and plans the
// query text, runs it under a per-query time and memory budget, answers its first page, and
// keeps the result's keys for the continuation tokens of later pages. Errors carry ADT's codes
// in Status::reason(): SqlQueryError, TimeoutError, BadRequest (tokens), ServiceUnavailable.
// Never blocks the calling thread; callbacks run on a shard thread or the caller's.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "query/budget.hpp"
#include "query/cursor_store.hpp"
#include "query/limits.hpp"
#include "query/render_cache.hpp"
#include "query/row_list.hpp"
#include "query/twin_index.hpp"
#include "twin/engine.hpp"

namespace castor::query {

struct QueryOptions {
  // Longest a query may run before TimeoutError. Default 30 s (ADT gives up after 60 s); a
  // shorter budget frees shards sooner from runaway queries.
  std::chrono::milliseconds timeout{30000};
  // Memory one query may hold for intermediate rows and result keys. Default 256 MiB: about
  // 5 M result rows of short ids.
  std::size_t memory_limit = std::size_t{256} << 20;
  // Largest page; max-items-per-page asks for less. Default 1000: ADT's (adjustable) limit.
  std::size_t max_page_size = 1000;
  // How long a continuation token stays valid after the page that returned it. Default 5 min.
  std::chrono::milliseconds cursor_ttl{300000};
  // Memory all kept results may use together; the least recently read go first. Default
  // 512 MiB.
  std::size_t cursor_memory = std::size_t{512} << 20;
  // Parser limits (ADT's documented defaults).
  QueryLimits limits;
  // The twin indexes the engine keeps (registered as its observer when it opened); null: every
  // query scans. Also where filters are counted for automatic indexes.
  std::shared_ptr<IndexSet> indexes;
  // Rendered JSON of whole twins, per shard (registered as the engine's observer when it
  // opened); null: every row showing a whole twin renders it.
  std::shared_ptr<RenderCache> render_cache;
};

struct QueryPage {
  RowList rows;                   // JSON values
  std::string continuation;       // empty on the last page
  double charge = 0;              // query units, for the query-charge header
  QueryStats stats;               // the work behind this page (what the charge is made of)
};

class QueryService : public std::enable_shared_from_this<QueryService> {
 public:
  using Done = std::function<void(Result<QueryPage>)>;

  QueryService(twin::Engine& engine, QueryOptions options);

  // Runs `text` and answers its first page; page_size 0 (or above the maximum) means the largest.
  void run(std::string_view text, std::size_t page_size, Done done);
  // Answers the page a continuation token points at.
  void next(std::string_view token, std::size_t page_size, Done done);

  const QueryOptions& options() const noexcept { return options_; }
  const CursorStore& cursors() const noexcept { return cursors_; }

 private:
  std::size_t clamp(std::size_t page_size) const;
  void answer(std::shared_ptr<const Plan> plan, std::shared_ptr<const KeyList> keys,
              std::size_t next, RowList rows, QueryStats stats, std::string cursor_id,
              const Done& done);

  twin::Engine& engine_;
  QueryOptions options_;
  CursorStore cursors_;
};

// Blocking conveniences for tests and benchmarks; never call them on a shard thread.
Result<QueryPage> run_sync(QueryService& service, std::string_view text, std::size_t page_size = 0);
Result<QueryPage> next_sync(QueryService& service, std::string_view token,
                            std::size_t page_size = 0);

}  // namespace castor::query
