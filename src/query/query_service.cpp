#include "query/query_service.hpp"

#include <fmt/format.h>

#include <future>

#include "query/executor.hpp"
#include "query/parser.hpp"
#include "query/row_renderer.hpp"

namespace castor::query {
namespace {

// SqlQueryError with the parser's sentence, which names the position where it can.
Status sql_error(const QueryError& e) {
  std::string message = e.message;
  if (message.find("position") == std::string::npos) {
    if (!message.empty() && message.back() == '.') message.pop_back();
    message += fmt::format(" (at position {}).", e.position);
  }
  return Status(Code::invalid_argument, std::move(message), std::string(QueryError::kAdtCode));
}

Status expired_token() {
  return Status(Code::invalid_argument,
                "The continuation token has expired or its result was dropped (tokens stay valid "
                "for a limited time after the page that returned them); run the query again.",
                "BadRequest");
}

template <class F>
Result<QueryPage> wait_for(F&& start) {
  std::promise<Result<QueryPage>> p;
  auto f = p.get_future();
  start([&p](Result<QueryPage> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace

QueryService::QueryService(twin::Engine& engine, QueryOptions options)
    : engine_(engine),
      options_(std::move(options)),
      cursors_(options_.cursor_ttl, options_.cursor_memory) {}

std::size_t QueryService::clamp(std::size_t page_size) const {
  const std::size_t most = std::max<std::size_t>(options_.max_page_size, 1);
  return page_size == 0 || page_size > most ? most : page_size;
}

void QueryService::run(std::string_view text, std::size_t page_size, Done done) {
  Query q;
  QueryError error;
  if (!parse(text, q, error, options_.limits)) return done(sql_error(error));
  auto plan = plan_query(std::move(q));
  if (options_.indexes) options_.indexes->note(engine_, *plan);
  auto budget = std::make_shared<Budget>(options_.timeout, options_.memory_limit);
  auto self = shared_from_this();
  execute(
      engine_, plan, std::move(budget), clamp(page_size),
      [self, plan, done = std::move(done)](Result<Execution> r) {
        if (!r) return done(r.status());
        self->answer(plan, r->keys, r->next, std::move(r->rows), r->stats, {}, done);
      },
      options_.indexes.get(), options_.render_cache.get());
}

void QueryService::next(std::string_view token, std::size_t page_size, Done done) {
  auto parsed = CursorStore::parse_token(token);
  if (!parsed) return done(parsed.status());
  auto cursor = cursors_.get(parsed->id);
  if (!cursor) return done(expired_token());
  const std::size_t from = parsed->offset;
  if (from >= cursor->keys->size()) return done(expired_token());
  const std::size_t to = std::min(cursor->keys->size(), from + clamp(page_size));
  auto self = shared_from_this();
  render_page(engine_, cursor->plan, cursor->keys, from, to,
              [self, c = *cursor, id = parsed->id, to, done = std::move(done)](
                  Result<std::vector<std::string>> rows, QueryStats stats) {
                if (!rows) return done(rows.status());
                self->answer(c.plan, c.keys, to, RowList::of(std::move(*rows)), stats, id, done);
              },
              options_.render_cache.get());
}

void QueryService::answer(std::shared_ptr<const Plan> plan, std::shared_ptr<const KeyList> keys,
                          std::size_t next, RowList rows, QueryStats stats, std::string cursor_id,
                          const Done& done) {
  QueryPage page;
  page.rows = std::move(rows);
  page.charge = stats.charge();
  page.stats = stats;
  if (next < keys->size()) {
    if (cursor_id.empty()) {
      auto id = cursors_.put(Cursor{std::move(plan), std::move(keys)});
      if (!id) return done(id.status());
      cursor_id = std::move(*id);
    }
    page.continuation = CursorStore::format_token(cursor_id, next);
  } else if (!cursor_id.empty()) {
    cursors_.erase(cursor_id);  // the last page: nothing left to keep
  }
  done(std::move(page));
}

Result<QueryPage> run_sync(QueryService& service, std::string_view text, std::size_t page_size) {
  return wait_for([&](QueryService::Done done) { service.run(text, page_size, std::move(done)); });
}

Result<QueryPage> next_sync(QueryService& service, std::string_view token, std::size_t page_size) {
  return wait_for(
      [&](QueryService::Done done) { service.next(token, page_size, std::move(done)); });
}

}  // namespace castor::query
