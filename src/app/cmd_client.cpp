// The shared half of the client subcommands (see cmd_client.hpp): options, the session, errors
// with hints, JSON input and output helpers, paging.
#include "app/cmd_client.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "api/api_version.hpp"
#include "common/strings.hpp"

namespace castor::app {
namespace {

namespace fs = std::filesystem;

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

// --cacert, else DATA/tls/ca.pem when --data is given, else CASTOR_CACERT, else system roots.
std::string resolve_cacert(const ClientOptions& o) {
  if (!o.cacert.empty()) return o.cacert;
  if (!o.data.empty()) return (fs::path(o.data) / "tls" / "ca.pem").string();
  return env_or_empty("CASTOR_CACERT");
}

bool is_json_type(const api::Headers& headers) {
  auto ct = headers.get("Content-Type");
  return ct && ct->find("json") != std::string_view::npos;
}

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 lead bytes
  return n;
}

void pretty_to(std::string& out, const json::value& v, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<std::size_t>(d) * 2, ' ');
  };
  if (const auto* o = v.if_object(); o && !o->empty()) {
    out += '{';
    bool first = true;
    for (const auto& [k, item] : *o) {
      out += first ? "" : ",";
      first = false;
      newline(depth + 1);
      json::append_string(out, json::sv(k));
      out += ": ";
      pretty_to(out, item, depth + 1);
    }
    newline(depth);
    out += '}';
  } else if (const auto* a = v.if_array(); a && !a->empty()) {
    out += '[';
    for (std::size_t i = 0; i < a->size(); ++i) {
      out += i ? "," : "";
      newline(depth + 1);
      pretty_to(out, (*a)[i], depth + 1);
    }
    newline(depth);
    out += ']';
  } else {
    json::serialize_to(out, v);
  }
}

}  // namespace

void add_client_options(CLI::App& cmd, ClientOptions& o, std::string_view example) {
  cmd.add_option("--url", o.url, "URL of the running castor server")
      ->envname("CASTOR_URL")
      ->default_str(std::string(kDefaultUrl));
  cmd.add_option("--token", o.token,
                 "Bearer token ('castor token create' prints one); prefer the variable: command "
                 "lines are visible to other users")
      ->envname("CASTOR_TOKEN");
  cmd.add_option("--cacert", o.cacert,
                 "PEM file of the CA that signed the server's certificate [default: "
                 "DATA/tls/ca.pem with --data, else env CASTOR_CACERT, else the system's roots]");
  cmd.add_option("--data", o.data,
                 "The server's data directory, when it is on this machine (for its tls/ca.pem; "
                 "castor import copies into its import/ folder)");
  cmd.add_flag("--insecure", o.insecure,
               "Do not verify the server's certificate (anyone on the way can read and change "
               "the traffic, token included)");
  cmd.add_flag("--json", o.json, "Print the server's JSON instead of text for people");
  cmd.add_option("--timeout", o.timeout, "Seconds to wait for each answer [default: 60]")
      ->check(CLI::PositiveNumber);
  std::string footer = "Example:\n  " + std::string(example) +
                       "\n\nExit status: 0 done, 1 the server refused or could not be reached, 2 "
                       "usage error.\nSee docs/cli.md for every client command.";
  cmd.footer(footer);
}

std::function<void()> client_callback(std::shared_ptr<ClientOptions> options, CliContext& ctx,
                                      std::string command, ClientCommand run) {
  return [options, &ctx, command = std::move(command), run = std::move(run)] {
    auto url = api::parse_client_url(options->url);
    if (!url) {
      std::cerr << command << ": --url: " << url.status().message() << "\n";
      ctx.exit_code = kExitUsage;
      return;
    }
    options->token = trim(options->token);
    api::HttpClientOptions http;
    http.url = *url;
    http.ca_file = resolve_cacert(*options);
    http.verify = !options->insecure;
    http.request_timeout =
        std::chrono::milliseconds(static_cast<long long>(options->timeout * 1000));
    if (options->insecure && url->tls)
      std::cerr << command << ": warning: --insecure: the server's certificate is not verified; "
                << "anyone between here and " << url->text()
                << " can read and change this traffic, token included.\n";
    Session session(*options, command, std::move(http));
    ctx.exit_code = run(session);
  };
}

std::string AdtResponse::error_code() const {
  const auto* o = json.if_object();
  const auto* e = o ? o->if_contains("error") : nullptr;
  const auto* code = e && e->is_object() ? e->get_object().if_contains("code") : nullptr;
  return code && code->is_string() ? std::string(json::sv(code->get_string())) : std::string();
}

Session::Session(const ClientOptions& options, std::string command, api::HttpClientOptions http)
    : options_(options), command_(std::move(command)), http_(std::move(http)) {}

Result<AdtResponse> Session::call(api::Method method, std::string_view path, std::string body,
                                  std::string_view content_type, const api::Headers& extra) {
  std::string target = url().base_path + std::string(path);
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += "api-version=" + std::string(api::kAdtApiVersion);
  api::Headers headers = extra;
  headers.set("Accept", "application/json");
  if (!options_.token.empty()) headers.set("Authorization", "Bearer " + options_.token);
  if (!body.empty()) headers.set("Content-Type", std::string(content_type));
  return finish(http_.send(method, target, headers, std::move(body)));
}

Result<AdtResponse> Session::follow(std::string_view next_link) {
  std::string target = api::origin_target(next_link);
  if (target.empty())
    return Status(Code::internal, "the server sent a nextLink that is not a URL: " +
                                      std::string(next_link.substr(0, 200)));
  api::Headers headers;
  headers.set("Accept", "application/json");
  if (!options_.token.empty()) headers.set("Authorization", "Bearer " + options_.token);
  return finish(http_.send(api::Method::get, target, headers));
}

Result<AdtResponse> Session::finish(Result<api::ClientResponse> r) const {
  if (!r) return r.status();
  AdtResponse out;
  out.status = r->status;
  out.headers = std::move(r->headers);
  out.body = std::move(r->body);
  if (!out.body.empty() && is_json_type(out.headers)) {
    json::ParseError e;
    if (!json::parse(out.body, out.json, e)) out.json = nullptr;
  }
  return out;
}

int Session::fail(const Status& s) const {
  namespace ce = api::client_error;
  const std::string& why = s.reason();
  std::string url_text = url().text();
  std::cerr << command_ << ": " << s.message() << "\n";
  if (why == ce::kRefused || why == ce::kUnreachable || why == ce::kResolve) {
    std::cerr << "hint: is castor serve running at " << url_text
              << "? Start it with 'castor serve --data DIR', or point --url (or CASTOR_URL) at "
                 "the server.\n";
  } else if (why == ce::kTlsVerify) {
    std::cerr << "hint: trust the CA that signed the server's certificate: --cacert "
                 "DATA/tls/ca.pem (the file castor serve generated), --data DATA when the server "
                 "runs on this machine, or CASTOR_CACERT=FILE. --insecure skips the check.\n";
  } else if (why == ce::kTlsName) {
    std::cerr << "hint: use a host name or address the certificate names in --url (castor's "
                 "generated certificate: localhost, 127.0.0.1, ::1 and the server's host name), "
                 "or serve a certificate for this name with --tls-cert/--tls-key.\n";
  } else if (why == ce::kTlsConfig) {
    std::cerr << "hint: --cacert (or CASTOR_CACERT, or --data DATA for DATA/tls/ca.pem) must "
                 "name a readable PEM file.\n";
  } else if (why == ce::kNotTls) {
    api::ClientUrl plain = url();
    plain.tls = false;
    std::cerr << "hint: the server speaks plain HTTP (castor serve --insecure-local): use --url "
              << plain.text() << "\n";
  } else if ((why == ce::kClosed || why == ce::kBadResponse) && !url().tls) {
    std::cerr << "hint: castor serve speaks HTTPS unless started with --insecure-local: try "
                 "--url https://...\n";
  } else if (why == ce::kTimeout) {
    std::cerr << "hint: the server is slow or unreachable; --timeout SECONDS waits longer.\n";
  }
  return kExitFailed;
}

int Session::fail(const AdtResponse& r) const {
  const auto* o = r.json.if_object();
  const auto* e = o ? o->if_contains("error") : nullptr;
  if (e && e->is_object()) {
    const auto& err = e->get_object();
    const auto* msg = err.if_contains("message");
    std::cerr << command_ << ": " << r.error_code() << " (HTTP " << r.status
              << "): " << (msg && msg->is_string() ? json::sv(msg->get_string()) : "") << "\n";
    if (const auto* details = err.if_contains("details"); details && details->is_array()) {
      for (const auto& d : details->get_array()) {
        const auto* dm = d.is_object() ? d.get_object().if_contains("message") : nullptr;
        if (dm && dm->is_string()) std::cerr << "  - " << json::sv(dm->get_string()) << "\n";
      }
    }
  } else {
    std::cerr << command_ << ": HTTP " << r.status
              << " with a body that is not an ADT error: " << r.body.substr(0, 300) << "\n";
  }
  hint_for_status(r.status);
  return kExitFailed;
}

void Session::hint_for_status(int status) const {
  if (status == 401 && options_.token.empty()) {
    std::cerr << "hint: this server needs a token. Create one on the server machine with "
                 "'castor token create --data DATA --role admin' and pass it with --token or "
                 "CASTOR_TOKEN.\n";
  } else if (status == 401) {
    std::cerr << "hint: the token was refused (mistyped, revoked, or from another server). "
                 "Create a new one with 'castor token create --data DATA --role admin'.\n";
  } else if (status == 403) {
    std::cerr << "hint: use a token whose role allows this ('castor token create --role "
                 "operator' for twins, '--role admin' for models and imports).\n";
  }
}

int Session::usage(std::string_view message) const {
  std::cerr << command_ << ": " << message << "\n";
  return kExitUsage;
}

std::string encode(std::string_view text) { return percent_encode(text); }

Result<json::value> read_json_input(const std::string& path) {
  std::string text;
  std::string name = path == "-" ? "standard input" : "'" + path + "'";
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return invalid_argument("cannot read " + name + "; give a JSON file or - for stdin");
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  json::value v;
  json::ParseError e;
  if (!json::parse(text, v, e))
    return invalid_argument(name + " is not valid JSON: " + e.to_string());
  return v;
}

Result<Assignment> parse_assignment(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return invalid_argument("'" + std::string(text) +
                            "' is not name=value (e.g. temperature=21.5, mode=auto, "
                            "serial='\"007\"' for a string that looks like a number)");
  Assignment a;
  a.name = std::string(text.substr(0, eq));
  std::string_view raw = text.substr(eq + 1);
  json::ParseError e;
  if (raw.empty() || !json::parse(raw, a.value, e)) a.value = boost::json::string(raw);
  return a;
}

std::string pretty_json(const json::value& v) {
  std::string out;
  pretty_to(out, v, 0);
  return out;
}

std::string cell_text(const json::value& v, std::size_t width) {
  std::string s = v.is_string() ? std::string(json::sv(v.get_string())) : json::serialize(v);
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (display_width(s) <= width) return s;
  std::size_t kept = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++kept == width) break;
  }
  return s.substr(0, i) + "\u2026";
}

void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) widths[c] = display_width(header[c]);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], display_width(row[c]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size() && c < widths.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text.append(widths[c] - display_width(cells[c]) + 2, ' ');
    }
    out << text << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::optional<json::array> get_all_pages(Session& session, const std::string& path,
                                         int& exit_code) {
  json::array items;
  auto r = session.call(api::Method::get, path);
  while (true) {
    if (!r) {
      exit_code = session.fail(r.status());
      return std::nullopt;
    }
    const auto* page = r->json.if_object();
    const auto* value = page ? page->if_contains("value") : nullptr;
    if (!r->ok() || !value || !value->is_array()) {
      exit_code = session.fail(*r);
      return std::nullopt;
    }
    for (const auto& item : value->get_array()) items.push_back(item);
    const auto* next = page->if_contains("nextLink");
    if (!next || !next->is_string() || next->get_string().empty()) return items;
    r = session.follow(json::sv(next->get_string()));
  }
}

}  // namespace castor::app
