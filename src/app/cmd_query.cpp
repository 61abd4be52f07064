// castor query "SELECT ...": runs an ADT query on a running server, following continuation tokens,
// and prints a table (or JSON). Also the query paging that `castor twins list` uses.
#include <iostream>

#include "app/cli.hpp"
#include "app/cmd_client.hpp"

namespace castor::app {
namespace {

// Before the query language is served, POST /query has no route (404) or is refused as not
// implemented; either way the caller should say so rather than show a bare 404.
bool is_missing_endpoint(const AdtResponse& r) {
  return r.status == 404 || r.status == 405 || r.status == 501;
}

// Columns in first-seen order, except $metadata (long, rarely what a person looks for) last.
std::vector<std::string> columns_of(const json::array& rows) {
  std::vector<std::string> cols;
  bool metadata = false, scalars = false;
  for (const auto& row : rows) {
    const auto* o = row.if_object();
    if (!o) {
      scalars = true;
      continue;
    }
    for (const auto& [k, v] : *o) {
      std::string key(json::sv(k));
      if (key == "$metadata") {
        metadata = true;
      } else if (std::find(cols.begin(), cols.end(), key) == cols.end()) {
        cols.push_back(std::move(key));
      }
    }
  }
  if (metadata) cols.emplace_back("$metadata");
  if (scalars) cols.emplace_back("value");
  return cols;
}

void print_rows(const json::array& rows) {
  if (rows.empty()) {
    std::cerr << "0 rows\n";
    return;
  }
  auto cols = columns_of(rows);
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size());
  for (const auto& row : rows) {
    std::vector<std::string> line;
    for (const auto& c : cols) {
      const auto* o = row.if_object();
      const json::value* v = o ? o->if_contains(c) : (c == "value" ? &row : nullptr);
      line.push_back(v ? cell_text(*v, 40) : "");
    }
    cells.push_back(std::move(line));
  }
  print_table(std::cout, cols, cells);
  std::cerr << rows.size() << " row(s)\n";
}

struct QueryArgs {
  std::string query;
  unsigned page_size = 0;  // 0: the server's default
};

int query(Session& s, const QueryArgs& a) {
  QueryOutcome out = run_query(s, a.query, a.page_size);
  if (out.no_endpoint) return report_no_query_endpoint(s, out, "");
  if (out.exit_code != kExitOk) return out.exit_code;
  if (s.json()) {
    std::cout << json::serialize(out.rows) << "\n";
  } else {
    print_rows(out.rows);
  }
  return kExitOk;
}

}  // namespace

QueryOutcome run_query(Session& session, const std::string& text, unsigned page_size) {
  QueryOutcome out;
  json::object spec{{"query", text}};
  api::Headers headers;
  if (page_size > 0) headers.set("max-items-per-page", std::to_string(page_size));
  while (true) {
    auto r = session.call(api::Method::post, "query", json::serialize(spec), "application/json",
                          headers);
    if (!r) {
      out.exit_code = session.fail(r.status());
      return out;
    }
    if (is_missing_endpoint(*r)) {
      out.no_endpoint = true;
      out.http_status = r->status;
      out.exit_code = kExitFailed;
      return out;
    }
    const auto* page = r->json.if_object();
    const auto* value = page ? page->if_contains("value") : nullptr;
    if (!r->ok() || !value || !value->is_array()) {
      out.exit_code = session.fail(*r);
      return out;
    }
    for (const auto& row : value->get_array()) out.rows.push_back(row);
    const auto* token = page->if_contains("continuationToken");
    if (!token || !token->is_string() || token->get_string().empty()) return out;
    spec = json::object{{"continuationToken", *token}};
  }
}

int report_no_query_endpoint(const Session& session, const QueryOutcome& outcome,
                             std::string_view what) {
  std::cerr << session.command() << ": ";
  if (what.empty()) {
    std::cerr << "the server at " << session.url().text()
              << " has no query endpoint (POST /query) yet";
  } else {
    std::cerr << what << " needs the query endpoint (POST /query), which the server at "
              << session.url().text() << " does not have yet";
  }
  std::cerr << " (it answered HTTP " << outcome.http_status
            << "). Single twins work meanwhile: 'castor twins get ID'.\n";
  return kExitFailed;
}

void add_query_command(CLI::App& root, CliContext& ctx) {
  auto args = std::make_shared<QueryArgs>();
  auto options = std::make_shared<ClientOptions>();
  CLI::App* cmd = root.add_subcommand(
      "query",
      "Run an ADT query (SELECT ... FROM DIGITALTWINS | RELATIONSHIPS ...) on a running server "
      "and print every result as a table (or --json), following continuation tokens.");
  cmd->add_option("query", args->query, "The query text; quote it for the shell")->required();
  cmd->add_option("--page-size", args->page_size,
                  "Rows per request (max-items-per-page) [default: the server's]")
      ->check(CLI::Range(1u, 1000000u));
  add_client_options(*cmd, *options,
                     "castor query \"SELECT T.\\$dtId, T.speed FROM DIGITALTWINS T WHERE "
                     "IS_OF_MODEL(T, 'dtmi:factory:Robot;1')\"");
  cmd->callback(client_callback(options, ctx, "castor query",
                                [args](Session& s) { return query(s, *args); }));
}

}  // namespace castor::app
