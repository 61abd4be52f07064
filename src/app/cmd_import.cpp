// castor import FILE: bulk-loads an ADT import file (NDJSON: Header, Models, Twins, Relationships)
// through the server's import-jobs API. The server reads only from its import folder, so the file
// is placed there first (when the folder is on this machine) or named inside it (--remote). Then
// the job is watched: a progress line on a terminal, a summary, exit 0 only when it succeeded.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "app/cli.hpp"
#include "app/cmd_client.hpp"

namespace castor::app {
namespace {

namespace fs = std::filesystem;

struct ImportArgs {
  std::string file;
  std::string import_dir;  // --import-dir: the server's import folder on this machine
  bool remote = false;     // FILE is a path inside the server's import folder
  std::string job_id;
  bool no_wait = false;
  double poll = 0.5;  // seconds between status requests
};

std::string new_job_id() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rd() & 0xffff));
  return std::string("import-") + stamp + "-" + suffix;
}

// Where the input lives, as the job names it (relative to the server's import folder).
struct Placement {
  std::string input;      // relative path inside the import folder
  fs::path local_folder;  // the import folder on this machine ("" with --remote)
  fs::path placed;        // the copy we made (removed when the job is refused or has ended)
  fs::path local_file;    // the input on this machine ("" with --remote)
};

// The relative path of `file` inside `folder`, or "" when it lies outside.
std::string inside(const fs::path& file, const fs::path& folder) {
  std::error_code ec;
  fs::path f = fs::weakly_canonical(file, ec);
  fs::path d = fs::weakly_canonical(folder, ec);
  fs::path rel = f.lexically_relative(d);
  if (rel.empty() || *rel.begin() == "..") return {};
  return rel.generic_string();
}

// Links (or copies, across file systems) FILE into the folder under a temporary name, then
// renames it, so the server never sees half a file.
Status place_copy(const fs::path& file, const fs::path& folder, const std::string& name) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec)
    return invalid_argument("cannot create the import folder '" + folder.string() +
                            "': " + ec.message());
  fs::path tmp = folder / ("." + name + ".part");
  fs::remove(tmp, ec);
  fs::create_hard_link(file, tmp, ec);
  if (ec) fs::copy_file(file, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(tmp, folder / name, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return invalid_argument("cannot copy '" + file.string() + "' into '" + folder.string() +
                            "': " + ec.message());
  }
  return Status::ok();
}

Result<Placement> place_input(const ImportArgs& a, const ClientOptions& o, const std::string& job) {
  Placement p;
  if (a.remote) {
    p.input = a.file;
    return p;
  }
  if (a.import_dir.empty() && o.data.empty())
    return invalid_argument(
        "the server reads import files only from its import folder (DATA/import unless "
        "castor serve has --import-dir). When the server runs on this machine, add --data DATA "
        "(or --import-dir DIR) and the file is copied there; otherwise copy it into that folder "
        "yourself and run 'castor import --remote NAME'.");
  std::error_code ec;
  if (!fs::is_regular_file(a.file, ec))
    return invalid_argument("'" + a.file +
                            "' is not a readable file; give an ADT import file (NDJSON)");
  if (a.import_dir.empty() && !fs::is_directory(o.data, ec))
    return invalid_argument("--data '" + o.data +
                            "' is not a directory; give castor serve's data directory");
  p.local_folder = a.import_dir.empty() ? fs::path(o.data) / "import" : fs::path(a.import_dir);
  p.local_file = a.file;
  if (std::string rel = inside(a.file, p.local_folder); !rel.empty()) {
    p.input = rel;  // already in place
    return p;
  }
  std::string name = job + ".ndjson";
  if (Status s = place_copy(a.file, p.local_folder, name); !s) return s;
  p.input = name;
  p.placed = p.local_folder / name;
  return p;
}

// ---- watching the job ----

struct Progress {
  std::string status;
  long long models = -1, twins = -1, relationships = -1, errors = -1;  // -1: not reported
  long long done() const {
    return std::max(0LL, models) + std::max(0LL, twins) + std::max(0LL, relationships) +
           std::max(0LL, errors);
  }
};

// The entities in a local import file (lines of the Models, Twins and Relationships sections),
// so the progress bar has an end. Section lines are short; only those are parsed as JSON.
long long count_entities(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string line, section;
  long long n = 0;
  while (std::getline(in, line)) {
    if (line.size() < 80 && line.find("\"Section\"") != std::string::npos) {
      json::value v;
      json::ParseError e;
      const auto* o = json::parse(line, v, e) ? v.if_object() : nullptr;
      const auto* name = o && o->size() == 1 ? o->if_contains("Section") : nullptr;
      if (name && name->is_string()) {
        section = json::sv(name->get_string());
        continue;
      }
    }
    bool blank = line.find_first_not_of(" \t\r") == std::string::npos;
    if (!blank && section != "Header") ++n;
  }
  return n;
}

long long count_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  long long n = -1;
  return v && json::as_int64(*v, n) ? n : -1;
}

Progress progress_of(const json::value& job) {
  Progress p;
  const auto* o = job.if_object();
  if (!o) return p;
  if (const auto* s = o->if_contains("status"); s && s->is_string())
    p.status = json::sv(s->get_string());
  // The counts are Castor's addition to the ADT job (ADT reports them only in the output log).
  const json::object* counts = o;
  for (const char* key : {"progress", "counts"})
    if (const auto* c = o->if_contains(key); c && c->is_object()) counts = &c->get_object();
  p.models = count_of(*counts, "models");
  p.twins = count_of(*counts, "twins");
  p.relationships = count_of(*counts, "relationships");
  p.errors = count_of(*counts, "errors");
  return p;
}

bool finished(const std::string& status) {
  return status == "succeeded" || status == "failed" || status == "cancelled";
}

std::string with_commas(long long n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string counts_text(const Progress& p) {
  std::string out;
  auto add = [&](const char* what, long long n, bool always) {
    if (n < 0 || (n == 0 && !always)) return;
    out += (out.empty() ? "" : ", ") + with_commas(n) + " " + what + (n == 1 ? "" : "s");
  };
  add("model", p.models, true);
  add("twin", p.twins, true);
  add("relationship", p.relationships, true);
  add("error", p.errors, false);
  return out;
}

// One self-overwriting line on a terminal: a bar when the total is known (else a spinner),
// status, counts, elapsed time.
void draw(const Progress& p, long long total, double seconds, unsigned tick) {
  static constexpr const char* kSpin[] = {"|", "/", "-", "\\"};
  std::string head = kSpin[tick % 4];
  if (total > 0) {
    constexpr int kWidth = 24;
    double f = p.status == "succeeded"
                   ? 1.0
                   : std::min(1.0, static_cast<double>(p.done()) / static_cast<double>(total));
    int filled = static_cast<int>(f * kWidth);
    head = "[" + std::string(filled, '#') + std::string(kWidth - filled, '-') + "] " +
           std::to_string(static_cast<int>(f * 100)) + "%";
  }
  std::string counts = counts_text(p);
  std::fprintf(stderr, "\r\033[K%s %-10s %s%s%.1f s", head.c_str(), p.status.c_str(),
               counts.c_str(), counts.empty() ? "" : "  ", seconds);
  std::fflush(stderr);
}

// Polls until the job ends; returns its last state (null when a request failed: reported).
std::optional<json::value> watch(Session& s, const std::string& job, const fs::path& local,
                                 double poll, int& code) {
  bool tty = !s.json() && isatty(fileno(stderr));
  long long total = tty && !local.empty() ? count_entities(local) : 0;
  auto start = std::chrono::steady_clock::now();
  std::string last_status;
  for (unsigned tick = 0;; ++tick) {
    auto r = s.call(api::Method::get, "jobs/imports/" + encode(job));
    if (!r || !r->ok()) {
      if (tty) std::fputs("\n", stderr);
      code = r ? s.fail(*r) : s.fail(r.status());
      return std::nullopt;
    }
    Progress p = progress_of(r->json);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (tty) {
      draw(p, total, secs, tick);
    } else if (!s.json() && p.status != last_status) {
      std::cerr << "import job '" << job << "': " << p.status << "\n";
    }
    last_status = p.status;
    if (finished(p.status) || p.status.empty()) {
      if (tty) std::fputs("\r\033[K", stderr);
      return std::move(r->json);
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(poll));
  }
}

void print_job_error(const json::value& job) {
  const auto* o = job.if_object();
  const auto* e = o ? o->if_contains("error") : nullptr;
  if (!e || !e->is_object()) return;
  const auto& err = e->get_object();
  std::string code = err.contains("code") ? cell_text(err.at("code"), 200) : "";
  std::string msg = err.contains("message") ? cell_text(err.at("message"), 2000) : "";
  std::cerr << "  " << code << (code.empty() ? "" : ": ") << msg << "\n";
  if (const auto* d = err.if_contains("details"); d && d->is_array())
    for (const auto& item : d->get_array())
      if (const auto* m = item.is_object() ? item.get_object().if_contains("message") : nullptr)
        std::cerr << "  - " << cell_text(*m, 2000) << "\n";
}

int summarize(Session& s, const std::string& job, const json::value& state, double seconds,
              const Placement& where, const std::string& output) {
  Progress p = progress_of(state);
  if (s.json()) std::cout << json::serialize(state) << "\n";
  std::string counts = counts_text(p);
  std::fprintf(stderr, "Import job '%s' %s after %.1f s%s%s.\n", job.c_str(),
               p.status.empty() ? "ended with an unknown status" : p.status.c_str(), seconds,
               counts.empty() ? "" : ": ", counts.c_str());
  if (p.status != "succeeded") print_job_error(state);
  std::string log = where.local_folder.empty() ? output + " in the server's import folder"
                                               : (where.local_folder / output).string();
  std::cerr << "The job's log: " << log << "\n";
  return p.status == "succeeded" ? kExitOk : kExitFailed;
}

// file://PATH with PATH (relative to the import folder) percent-encoded, '/' kept.
std::string file_uri(const std::string& path) {
  std::string out = "file://";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = std::min(path.find('/', start), path.size());
    out += encode(std::string_view(path).substr(start, slash - start));
    if (slash < path.size()) out += '/';
    start = slash + 1;
  }
  return out;
}

int run_import(Session& s, const ImportArgs& a) {
  std::string job = a.job_id.empty() ? new_job_id() : a.job_id;
  auto where = place_input(a, s.options(), job);
  if (!where) return s.usage(where.status().message());
  std::string output = job + ".log.ndjson";
  json::object spec{{"inputBlobUri", file_uri(where->input)}, {"outputBlobUri", file_uri(output)}};
  auto r = s.call(api::Method::put, "jobs/imports/" + encode(job), json::serialize(spec));
  if (!r || !r->ok()) {
    std::error_code ec;
    if (!where->placed.empty()) fs::remove(where->placed, ec);
    if (r && r->status == 404 && r->error_code() == "NotFound") {
      std::cerr << s.command() << ": the server at " << s.url().text()
                << " has no import-jobs API (PUT /jobs/imports/{id} answered 404).\n";
      return kExitFailed;
    }
    return r ? s.fail(*r) : s.fail(r.status());
  }
  if (!where->placed.empty() && !s.json())
    std::cerr << "Copied " << a.file << " to " << where->placed.string() << "\n";
  if (a.no_wait) {
    std::cout << (s.json() ? r->body : "Import job '" + job + "' created.") << "\n";
    return kExitOk;
  }
  if (!s.json())
    std::cerr << "Import job '" << job << "' created; Ctrl-C stops watching, not the job.\n";
  auto start = std::chrono::steady_clock::now();
  int code = kExitOk;
  auto state = watch(s, job, where->local_file, a.poll, code);
  if (!state) return code;
  std::error_code ec;
  if (!where->placed.empty()) fs::remove(where->placed, ec);  // our copy; the job is done with it
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summarize(s, job, *state, secs, *where, output);
}

}  // namespace

void add_import_command(CLI::App& root, CliContext& ctx) {
  auto args = std::make_shared<ImportArgs>();
  auto options = std::make_shared<ClientOptions>();
  CLI::App* cmd = root.add_subcommand(
      "import",
      "Bulk-load an ADT import file (NDJSON with Header, Models, Twins and Relationships "
      "sections) into a running server as an import job, and watch it to the end. The server "
      "reads only from its import folder: with --data (or --import-dir) the file is copied "
      "there; with --remote, FILE already is a path inside it.");
  // Not ->required(): 'castor import history DIR' (cmd_history.cpp) has no FILE.
  cmd->add_option("file", args->file, "The import file (.ndjson)");
  cmd->add_option("--import-dir", args->import_dir,
                  "The server's import folder on this machine, when not DATA/import");
  cmd->add_flag("--remote", args->remote,
                "FILE is a path inside the server's import folder; copy nothing");
  cmd->add_option("--job-id", args->job_id, "Id of the job [default: import-DATE-TIME-XXXX]");
  cmd->add_flag("--no-wait", args->no_wait, "Create the job and exit without watching it");
  cmd->add_option("--poll", args->poll, "Seconds between status checks [default: 0.5]")
      ->check(CLI::PositiveNumber);
  add_client_options(*cmd, *options, "castor import plant.ndjson --data ./castor-data");
  auto run = client_callback(options, ctx, "castor import",
                             [args](Session& s) { return run_import(s, *args); });
  cmd->callback([cmd, args, run, &ctx] {
    if (cmd->got_subcommand("history")) return;
    if (args->file.empty()) {
      std::cerr << "castor import: FILE is required (or 'castor import history DIR')\n";
      ctx.exit_code = kExitUsage;
      return;
    }
    run();
  });
}

}  // namespace castor::app
