// What castor's client subcommands (twins, models add|list|..., import, query) share: the common
// options, one kept-alive connection to a running server, ADT requests, and failures printed with
// what to do about them. Talks to the server only over HTTP; never opens DATA's store itself.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_client.hpp"
#include "app/cli.hpp"
#include "common/json.hpp"

namespace castor::app {

// Exit codes of every client subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the server said no, or could not be reached
inline constexpr int kExitUsage = 2;   // bad options or input files

inline constexpr std::string_view kDefaultUrl = "https://127.0.0.1:8443/";

struct ClientOptions {
  std::string url{kDefaultUrl};  // --url, env CASTOR_URL
  std::string token;             // --token, env CASTOR_TOKEN
  std::string cacert;            // --cacert; else DATA/tls/ca.pem; else env CASTOR_CACERT
  std::string data;              // --data: the server's data directory on this machine
  bool insecure = false;         // --insecure: no certificate checks
  bool json = false;             // --json: machine-readable output
  double timeout = 60;           // --timeout seconds per request
};

// Adds the common options to a client subcommand; `example` goes into its --help footer.
void add_client_options(CLI::App& cmd, ClientOptions& options, std::string_view example);

// A client subcommand's callback: builds the session and stores the command's exit code.
class Session;
using ClientCommand = std::function<int(Session&)>;
std::function<void()> client_callback(std::shared_ptr<ClientOptions> options, CliContext& ctx,
                                      std::string command, ClientCommand run);

// An ADT API answer; `json` is set when the body is JSON (null otherwise).
struct AdtResponse {
  int status = 0;
  api::Headers headers;
  std::string body;
  json::value json;
  bool ok() const noexcept { return status >= 200 && status < 300; }
  // The ADT error code ("DigitalTwinNotFound"), "" when the body is not an ADT error.
  std::string error_code() const;
};

class Session {
 public:
  Session(const ClientOptions& options, std::string command, api::HttpClientOptions http);

  // METHOD base_path + path with ?api-version=... (path may carry its own query: "models?x=1").
  Result<AdtResponse> call(api::Method method, std::string_view path, std::string body = {},
                           std::string_view content_type = "application/json",
                           const api::Headers& extra = {});
  // GET of an absolute nextLink URL from the same server.
  Result<AdtResponse> follow(std::string_view next_link);

  // Print why a request failed (the ADT code and message, or the transport problem) with what
  // to do about it; return kExitFailed.
  int fail(const Status& transport) const;
  int fail(const AdtResponse& response) const;
  // Print a usage problem found after parsing (e.g. an unreadable file); return kExitUsage.
  int usage(std::string_view message) const;

  bool json() const noexcept { return options_.json; }
  const ClientOptions& options() const noexcept { return options_; }
  const api::ClientUrl& url() const noexcept { return http_.options().url; }
  const std::string& command() const noexcept { return command_; }

 private:
  Result<AdtResponse> finish(Result<api::ClientResponse> r) const;
  void hint_for_status(int status) const;

  ClientOptions options_;
  std::string command_;
  api::HttpClient http_;
};

// Percent-encodes one path segment or query value (twin ids and DTMIs may hold any character).
std::string encode(std::string_view text);

// Reads a JSON document from FILE or "-" (stdin); the error says which file and where.
Result<json::value> read_json_input(const std::string& path);

// name=value from the command line: the value as JSON when it parses (21.5, true, "007", {...}),
// otherwise as a string (auto, robot-1).
struct Assignment {
  std::string name;
  json::value value;
};
Result<Assignment> parse_assignment(std::string_view text);

// Indented JSON for people; compact JSON stays json::serialize.
std::string pretty_json(const json::value& v);
// A cell for tables: strings as they are, everything else as compact JSON, cut at `width`.
std::string cell_text(const json::value& v, std::size_t width = 60);
// Left-aligned columns separated by two spaces.
void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

// Every result of a query, following continuation tokens. On failure `exit_code` is set and the
// failure already reported, except when `no_endpoint`: the server has no /query yet.
struct QueryOutcome {
  json::array rows;
  int exit_code = kExitOk;
  bool no_endpoint = false;
  int http_status = 0;  // what the server answered when no_endpoint
};
QueryOutcome run_query(Session& session, const std::string& query,
                       unsigned page_size = 0);  // cmd_query.cpp
// Says that the server has no query endpoint yet ("<what> needs ..." when `what` is given);
// returns kExitFailed.
int report_no_query_endpoint(const Session& session, const QueryOutcome& outcome,
                             std::string_view what);  // cmd_query.cpp

// Every item of a paged ADT list (GET path, then nextLink until none); errors are reported.
std::optional<json::array> get_all_pages(Session& session, const std::string& path, int& exit_code);

}  // namespace castor::app
