// castor export history / castor import history: history to and from files for a data lake.
// Export pages through GET /castor/v1/history/export of a running server into files per UTC day
// and model (history_archive.hpp), manifest last; import verifies every file against the
// manifest before sending anything, then posts the rows to POST /castor/v1/ingest?partial=true
// in batches. Both talk to the server over HTTP; export --offline reads a stopped server's store
// in-process instead.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "api/ingest_routes.hpp"
#include "app/cli.hpp"
#include "app/cmd_client.hpp"
#include "app/history_archive.hpp"
#include "common/config.hpp"
#include "history/series_store.hpp"
#include "ingest/batch_parsers.hpp"
#include "ingest/history_export.hpp"

namespace castor::app {
namespace {

namespace fs = std::filesystem;
using archive::FileEntry;
using archive::FileFormat;
using Clock = std::chrono::steady_clock;

struct ExportArgs {
  std::string from, to, out, format = "ndjson", model, twin;
  std::string offline;  // --offline DATA: read DATA's store in this process (no server running)
  bool zstd = false, force = false;
  std::size_t page = 100'000;
};

struct ImportArgs {
  std::string dir;
  std::size_t batch = 5'000;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A one-line progress display on stderr, redrawn at most 10 times a second, only on a terminal.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  void show(const std::string& text, bool force = false) {
    if (!enabled_) return;
    auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    std::cerr << "\r\033[K" << text << std::flush;
    shown_ = true;
  }
  void done() {
    if (shown_) std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  Clock::time_point last_{};
};

std::string bar(double fraction) {
  int full = static_cast<int>(fraction * 30 + 0.5);
  return "[" + std::string(full, '#') + std::string(30 - full, ' ') + "]";
}

std::string rate(double n, double secs) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", secs > 0 ? n / secs : 0.0);
  return buf;
}

// Non-empty DIR without --force, or DIR not writable: a usage error with what to do.
Status prepare_out_dir(const fs::path& dir, bool force) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      return Status(Code::invalid_argument, dir.string() + " exists and is not a folder");
    if (!fs::is_empty(dir, ec) && !force)
      return Status(Code::invalid_argument,
                    dir.string() +
                        " is not empty: choose a new folder, or add --force to write into it "
                        "(files of the same name are replaced)");
    fs::remove(dir / "manifest.json", ec);  // a stale manifest must never describe new files
  }
  fs::create_directories(dir, ec);
  if (ec)
    return Status(Code::invalid_argument, "cannot create " + dir.string() + ": " + ec.message());
  fs::path probe = dir / ".castor-write-test";
  Status s = archive::write_atomically(probe, "ok");
  if (!s.is_ok())
    return Status(Code::invalid_argument, dir.string() + " is not writable: " + s.message());
  fs::remove(probe, ec);
  return Status::ok();
}

std::string now_rfc3339() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return ingest::format_rfc3339_ns(ns);
}

// The store of a stopped server, opened in this process as castor serve opens it (history
// recovered), to export without a running server. RocksDB admits one process: while a server
// runs on DATA, opening fails and the user is told to use --url.
class OfflineStore {
 public:
  static Result<std::unique_ptr<OfflineStore>> open(const std::string& data) {
    ConfigSources sources;
    sources.flags["data"] = data;
    sources.env = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      return v ? std::optional<std::string>(v) : std::nullopt;
    };
    auto config = load_config(sources);
    if (!config) return config.status();
    if (!fs::exists(fs::path(data) / "store"))
      return Status(Code::invalid_argument, data + " holds no castor store (no " + data +
                                                "/store): give the data directory of castor serve");
    std::unique_ptr<OfflineStore> o(new OfflineStore());
    twin::EngineOptions options;
    options.data_dir = config->data_dir;
    options.extra_column_families = history::history_column_families();
    options.shards = config->shards;
    auto engine = twin::Engine::open(std::move(options));
    if (!engine)
      return Status(Code::unavailable,
                    "cannot open the store in " + data + " (" + engine.status().message() +
                        "); if castor serve is running on it, export with --url instead");
    o->engine_ = std::move(*engine);
    auto ingest = api::open_ingest(*o->engine_, *config, o->registry_);
    if (!ingest) return ingest.status();
    o->ingest_ = std::move(*ingest);
    return o;
  }
  ~OfflineStore() {
    if (ingest_) ingest_->close();
    ingest_.reset();
    if (engine_) engine_->close();
  }
  // One page, shaped like the endpoint's answer (body, continuation token header).
  Result<AdtResponse> page(ingest::ExportQuery q, const std::string& token) {
    if (!token.empty()) {
      auto c = ingest::decode_cursor(token);
      if (!c) return c.status();
      q.cursor = std::move(*c);
    }
    std::promise<Result<ingest::ExportPage>> promise;
    auto answer = promise.get_future();
    ingest::export_page(
        *ingest_->pipeline, *ingest_->reader, std::move(q),
        [&promise](Result<ingest::ExportPage> p) { promise.set_value(std::move(p)); });
    auto p = answer.get();
    if (!p) return p.status();
    AdtResponse r;
    r.status = 200;
    r.body = std::move(p->ndjson);
    if (p->next) r.headers.set("Castor-Continuation-Token", ingest::encode_cursor(*p->next));
    return r;
  }

 private:
  OfflineStore() = default;
  metrics::Registry registry_;
  std::unique_ptr<twin::Engine> engine_;
  std::unique_ptr<api::IngestService> ingest_;
};

// Every row of one page of the export endpoint into the writer.
Status write_page(std::string_view body, archive::ArchiveWriter& writer, std::uint64_t& points) {
  while (!body.empty()) {
    std::size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (line.empty()) continue;
    auto row = archive::parse_ndjson_row(line);
    if (!row)
      return Status(Code::internal, "the server sent a row this castor cannot read (" +
                                        row.status().message() +
                                        "): " + std::string(line.substr(0, 200)));
    CASTOR_RETURN_IF_ERROR(writer.add(*row));
    ++points;
  }
  return Status::ok();
}

using FetchPage = std::function<Result<AdtResponse>(std::string token)>;

// Every page into the writer, the next one fetched while this one is written (server and client
// work at once). Returns kExitOk, or the exit code of a failure it has reported.
int export_pages(Session& s, const FetchPage& fetch, archive::ArchiveWriter& writer,
                 std::uint64_t& points) {
  ProgressLine progress(!s.json() && isatty(fileno(stderr)));
  auto start = Clock::now();
  std::uint64_t pages = 0;
  auto pending = std::async(std::launch::async, fetch, std::string());
  while (true) {
    auto r = pending.get();
    if (!r || !r->ok()) {
      progress.done();
      if (r && r->status == 404 && r->error_code() == "NotFound")
        std::cerr << s.command() << ": the server at " << s.url().text()
                  << " has no history export (GET /castor/v1/history/export answered 404).\n";
      return r ? s.fail(*r) : s.fail(r.status());
    }
    ++pages;
    std::string token(r->headers.get("Castor-Continuation-Token").value_or(""));
    if (!token.empty()) pending = std::async(std::launch::async, fetch, token);
    Status st = write_page(r->body, writer, points);
    if (!st.is_ok()) {
      if (pending.valid()) pending.wait();
      progress.done();
      std::cerr << s.command() << ": " << st.message() << "\n";
      return kExitFailed;
    }
    progress.show("exporting: " + std::to_string(points) + " points, " +
                  rate(static_cast<double>(points), seconds_since(start)) + " points/s, " +
                  std::to_string(writer.files()) + " files, page " + std::to_string(pages));
    if (token.empty()) break;
  }
  progress.done();
  return kExitOk;
}

// Seals the files, writes the manifest last and prints the summary.
int finish_export(Session& s, archive::ArchiveWriter& writer, archive::Manifest& m,
                  const fs::path& dir, std::uint64_t points, Clock::time_point start) {
  auto files = writer.finish();
  if (!files) {
    std::cerr << s.command() << ": " << files.status().message() << "\n";
    return kExitFailed;
  }
  m.files = std::move(*files);
  std::string manifest = archive::manifest_json(m);
  Status st = archive::write_atomically(dir / "manifest.json", manifest);
  if (!st.is_ok()) {
    std::cerr << s.command() << ": " << st.message() << "\n";
    return kExitFailed;
  }
  double secs = seconds_since(start);
  if (s.json()) {
    std::cout << manifest;
    return kExitOk;
  }
  std::uint64_t series = 0;
  for (const auto& f : m.files)
    if (f.format == m.files.front().format) series += f.series;
  std::cout << "Exported " << points << " points (" << series << " series-days) into "
            << m.files.size() << " files in " << dir.string() << " in " << rate(secs * 1000, 1)
            << " ms (" << rate(static_cast<double>(points), secs)
            << " points/s); manifest: " << (dir / "manifest.json").string() << "\n";
  return kExitOk;
}

int run_export(Session& s, const ExportArgs& a) {
  archive::Manifest m;
  if (!ingest::parse_timestamp(a.from, m.from))
    return s.usage("--from must be an RFC 3339 date-time or integer nanoseconds since 1970");
  if (!ingest::parse_timestamp(a.to, m.to))
    return s.usage("--to must be an RFC 3339 date-time or integer nanoseconds since 1970");
  if (m.to <= m.from) return s.usage("--to must be after --from");
  std::vector<FileFormat> formats;
  if (a.format == "ndjson" || a.format == "both") formats.push_back(FileFormat::ndjson);
  if (a.format == "csv" || a.format == "both") formats.push_back(FileFormat::csv);
  m.model = a.model;
  m.twin = a.twin;
  m.source = s.url().text();
  m.created = now_rfc3339();
  std::shared_ptr<OfflineStore> offline;
  if (!a.offline.empty()) {
    auto o = OfflineStore::open(a.offline);
    if (!o) {
      std::cerr << s.command() << ": " << o.status().message() << "\n";
      return o.status().code() == Code::invalid_argument ? kExitUsage : kExitFailed;
    }
    offline = std::move(*o);
    m.source = "offline:" + fs::absolute(a.offline).string();
  }
  fs::path dir(a.out);
  Status ready = prepare_out_dir(dir, a.force);
  if (!ready.is_ok()) return s.usage(ready.message());
  ingest::ExportQuery local;
  local.from = m.from;
  local.to = m.to;
  local.model = a.model;
  local.twin = a.twin;
  local.limit = a.page;
  std::string base = "castor/v1/history/export?from=" + std::to_string(m.from) +
                     "&to=" + std::to_string(m.to) + "&limit=" + std::to_string(a.page);
  if (!a.model.empty()) base += "&model=" + encode(a.model);
  if (!a.twin.empty()) base += "&twin=" + encode(a.twin);
  FetchPage fetch = [&s, base, offline, local](std::string token) -> Result<AdtResponse> {
    if (offline) return offline->page(local, token);
    std::string path = base;
    if (!token.empty()) path += "&continuationToken=" + encode(token);
    return s.call(api::Method::get, path);
  };
  archive::ArchiveWriter writer(dir, formats, a.zstd);
  auto start = Clock::now();
  std::uint64_t points = 0;
  int code = export_pages(s, fetch, writer, points);
  if (code != kExitOk) {
    writer.abandon();
    return code;
  }
  return finish_export(s, writer, m, dir, points, start);
}

// ---- import ----

struct ImportTally {
  std::uint64_t sent = 0, accepted = 0, rejected = 0;
  std::map<std::string, std::uint64_t> by_code;
  std::vector<std::string> samples;  // the first few rejections, for people
};

// Records the rejections of one answer; `origin` maps a batch line to "file row N".
void tally_rejections(const json::value& list, const std::vector<std::string>& origin,
                      ImportTally& t) {
  if (!list.is_array()) return;
  for (const json::value& item : list.get_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.get_object();
    std::string code = o.contains("code") && o.at("code").is_string()
                           ? std::string(json::sv(o.at("code").get_string()))
                           : "Rejected";
    long long line = 0;
    if (o.contains("line")) json::as_int64(o.at("line"), line);
    ++t.rejected;
    ++t.by_code[code];
    if (t.samples.size() < 10) {
      std::string where = line >= 1 && static_cast<std::size_t>(line) <= origin.size()
                              ? origin[static_cast<std::size_t>(line - 1)]
                              : "a row";
      std::string msg = o.contains("message") && o.at("message").is_string()
                            ? std::string(json::sv(o.at("message").get_string()))
                            : "";
      t.samples.push_back(where + ": " + code + ": " + msg);
    }
  }
}

// Posts one batch (retrying while the server is overloaded); false after a failure was reported.
bool post_batch(Session& s, std::string& body, std::vector<std::string>& origin, ImportTally& t,
                int& exit_code) {
  if (origin.empty()) return true;
  for (int attempt = 0;; ++attempt) {
    auto r =
        s.call(api::Method::post, "castor/v1/ingest?partial=true", body, "application/x-ndjson");
    if (!r) {
      exit_code = s.fail(r.status());
      return false;
    }
    if (r->status == 503 && attempt < 60) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (r->status == 202 && r->json.is_object()) {
      long long n = 0;
      const auto& o = r->json.get_object();
      if (o.contains("accepted")) json::as_int64(o.at("accepted"), n);
      t.accepted += static_cast<std::uint64_t>(n);
      if (o.contains("rejected")) tally_rejections(o.at("rejected"), origin, t);
    } else if (r->status == 400 && r->error_code() == "InvalidObservations" &&
               r->json.is_object()) {  // partial=true: none of the batch was valid
      const auto& err = r->json.get_object().at("error").get_object();
      if (err.contains("details")) tally_rejections(err.at("details"), origin, t);
    } else {
      exit_code = s.fail(*r);
      return false;
    }
    t.sent += origin.size();
    body.clear();
    origin.clear();
    return true;
  }
}

// Posts batches one at a time, in order, while the caller reads the next one: the client's
// parsing overlaps the server's durable commit.
class BatchSender {
 public:
  BatchSender(Session& s, ImportTally& t, int& exit_code) : s_(s), t_(t), exit_code_(exit_code) {}
  ~BatchSender() { wait(); }
  // Waits for the batch before, then sends `body` (taken, left empty); false once one failed.
  bool send(std::string& body, std::vector<std::string>& origin) {
    if (!wait()) return false;
    if (origin.empty()) return true;
    inflight_ = std::async(std::launch::async,
                           [this, b = std::move(body), o = std::move(origin)]() mutable {
                             return post_batch(s_, b, o, t_, exit_code_);
                           });
    body.clear();
    origin.clear();
    return true;
  }
  bool wait() {
    if (inflight_.valid()) ok_ = inflight_.get() && ok_;
    return ok_;
  }

 private:
  Session& s_;
  ImportTally& t_;
  int& exit_code_;
  std::future<bool> inflight_;
  bool ok_ = true;
};

// Per (day, model) one file: NDJSON when the export wrote both formats.
std::vector<FileEntry> choose_files(const archive::Manifest& m) {
  std::map<std::pair<std::string, std::string>, FileEntry> pick;
  for (const auto& f : m.files) {
    auto key = std::make_pair(f.day, f.model);
    auto it = pick.find(key);
    if (it == pick.end() ||
        (it->second.format == FileFormat::csv && f.format == FileFormat::ndjson))
      pick[key] = f;
  }
  std::vector<FileEntry> out;
  for (auto& [k, f] : pick) out.push_back(std::move(f));  // day order: series stay in time order
  return out;
}

// Every file against the manifest before anything is sent; each bad one is reported. Returns the
// rows to send, or nothing when a file is bad.
std::optional<std::uint64_t> verify_all(Session& s, const fs::path& dir,
                                        const std::vector<FileEntry>& files,
                                        ProgressLine& progress) {
  std::uint64_t total = 0;
  std::vector<std::string> bad;
  for (std::size_t i = 0; i < files.size(); ++i) {
    progress.show("verifying " + std::to_string(i + 1) + "/" + std::to_string(files.size()) + ": " +
                  files[i].path);
    auto rows = archive::verify_file(dir, files[i]);
    if (!rows)
      bad.push_back(rows.status().message());
    else
      total += *rows;
  }
  progress.done();
  if (bad.empty()) return total;
  for (const auto& b : bad) std::cerr << s.command() << ": " << b << "\n";
  std::cerr << s.command() << ": " << bad.size()
            << " file(s) do not match manifest.json; nothing was sent. Export again, or restore "
               "the files.\n";
  return std::nullopt;
}

void print_import_summary(const Session& s, const ImportTally& t, std::size_t files,
                          std::uint64_t total, double secs) {
  if (s.json()) {
    json::object codes;
    for (const auto& [c, n] : t.by_code) codes[c] = n;
    std::cout << json::serialize(json::object{{"files", files},
                                              {"points", total},
                                              {"accepted", t.accepted},
                                              {"rejected", t.rejected},
                                              {"rejectedByCode", std::move(codes)},
                                              {"seconds", secs}})
              << "\n";
    return;
  }
  std::cout << "Imported " << files << " files: " << t.accepted << " of " << total
            << " points accepted, " << t.rejected << " rejected, in " << rate(secs * 1000, 1)
            << " ms (" << rate(static_cast<double>(t.sent), secs) << " points/s)\n";
  for (const auto& [c, n] : t.by_code) {
    std::cout << "  " << c << ": " << n;
    if (c == "OutOfOrder")
      std::cout << " (older than their series' last point; history keeps each series in time "
                   "order, so these are not added)";
    std::cout << "\n";
  }
  for (const auto& sample : t.samples) std::cout << "  " << sample << "\n";
}

int run_import_history(Session& s, const ImportArgs& a) {
  fs::path dir(a.dir);
  std::ifstream in(dir / "manifest.json", std::ios::binary);
  if (!in)
    return s.usage((dir / "manifest.json").string() +
                   " is missing: give the folder castor export history wrote");
  std::stringstream text;
  text << in.rdbuf();
  auto m = archive::parse_manifest(text.str());
  if (!m) return s.usage((dir / "manifest.json").string() + ": " + m.status().message());
  auto files = choose_files(*m);
  ProgressLine progress(!s.json() && isatty(fileno(stderr)));
  auto total = verify_all(s, dir, files, progress);
  if (!total) return kExitFailed;
  ImportTally t;
  int exit_code = kExitOk;
  BatchSender sender(s, t, exit_code);
  std::string body;
  std::vector<std::string> origin;
  std::uint64_t read = 0;
  auto start = Clock::now();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const FileEntry& f = files[i];
    std::uint64_t row_no = 0;
    Status st = archive::for_each_row(dir, f, [&](const archive::Row& row) {
      archive::append_ingest_line(body, row);
      origin.push_back(f.path + " row " + std::to_string(++row_no));
      ++read;
      if (origin.size() >= a.batch && !sender.send(body, origin))
        return Status(Code::aborted, "stopped");
      double done = *total ? static_cast<double>(read) / static_cast<double>(*total) : 1;
      progress.show(bar(done) + " " + std::to_string(read) + "/" + std::to_string(*total) +
                    " points, " + rate(static_cast<double>(read), seconds_since(start)) +
                    " points/s, file " + std::to_string(i + 1) + "/" +
                    std::to_string(files.size()));
      return Status::ok();
    });
    if (st.is_ok() && !sender.send(body, origin)) st = Status(Code::aborted, "stopped");
    if (st.is_ok() && i + 1 == files.size() && !sender.wait())
      st = Status(Code::aborted, "stopped");
    if (!st.is_ok()) {
      sender.wait();
      progress.done();
      if (st.code() != Code::aborted) std::cerr << s.command() << ": " << st.message() << "\n";
      std::cerr << s.command() << ": stopped after " << t.sent << " of " << *total << " points ("
                << t.accepted << " accepted)\n";
      return exit_code == kExitOk ? kExitFailed : exit_code;
    }
  }
  sender.wait();
  progress.done();
  print_import_summary(s, t, files.size(), *total, seconds_since(start));
  return t.rejected == 0 ? kExitOk : kExitFailed;
}

}  // namespace

void add_history_archive_commands(CLI::App& root, CliContext& ctx) {
  CLI::App* exp = root.add_subcommand("export", "Export data from a running server to files");
  exp->require_subcommand(1);
  auto ea = std::make_shared<ExportArgs>();
  auto eo = std::make_shared<ClientOptions>();
  CLI::App* eh = exp->add_subcommand(
      "history",
      "Write every history point in [--from, --to) into DIR/<YYYY-MM-DD>/<model>.{ndjson,csv}"
      "[.zst], one file per UTC day and model, with DIR/manifest.json (rows, series, bytes, "
      "SHA-256 of each file) written last. Re-import with 'castor import history DIR'.");
  eh->add_option("--from", ea->from, "Inclusive start: RFC 3339 or integer ns")->required();
  eh->add_option("--to", ea->to, "Exclusive end: RFC 3339 or integer ns")->required();
  eh->add_option("--out", ea->out, "Folder to write (new or empty, unless --force)")->required();
  eh->add_option("--format", ea->format, "ndjson, csv or both [default: ndjson]")
      ->check(CLI::IsMember({"ndjson", "csv", "both"}));
  eh->add_flag("--zstd", ea->zstd, "Compress each file with zstd (.zst)");
  eh->add_option("--model", ea->model, "Only twins of this model (or models extending it)");
  eh->add_option("--twin", ea->twin, "Only this twin");
  eh->add_option("--offline", ea->offline,
                 "Read the data directory of a stopped server in this process instead of asking "
                 "a running one (--url)");
  eh->add_flag("--force", ea->force, "Write into a non-empty --out folder");
  eh->add_option("--page", ea->page, "Points per request [default: 100000]")
      ->check(CLI::Range(1, 1'000'000));
  add_client_options(*eh, *eo,
                     "castor export history --from 2026-11-01T00:00:00Z --to "
                     "2026-11-08T00:00:00Z --out ./lake --format both --zstd --data ./castor-data");
  eh->callback(client_callback(eo, ctx, "castor export history",
                               [ea](Session& s) { return run_export(s, *ea); }));

  CLI::App* imp = root.get_subcommand("import");
  auto ia = std::make_shared<ImportArgs>();
  auto io = std::make_shared<ClientOptions>();
  CLI::App* ih = imp->add_subcommand(
      "history",
      "Send the points of a 'castor export history' folder to a running server (POST "
      "/castor/v1/ingest?partial=true, in batches). Every file is checked against manifest.json "
      "first; if one is missing or changed, nothing is sent.");
  ih->add_option("dir", ia->dir, "The export folder (holding manifest.json)")->required();
  ih->add_option("--batch", ia->batch, "Points per request [default: 5000]")
      ->check(CLI::Range(1, 100'000));
  add_client_options(*ih, *io, "castor import history ./lake --data ./castor-data");
  ih->callback(client_callback(io, ctx, "castor import history",
                               [ia](Session& s) { return run_import_history(s, *ia); }));
}

}  // namespace castor::app
