#include "twin/jobs/import_runner.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "twin/jobs/import_log.hpp"
#include "twin/jobs/ordered_pool.hpp"

namespace castor::twin::jobs {
namespace {

Nanos now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The entities of one block. Their documents live in `arena`, which must outlive them; through a
// non-owning storage_ptr, destroying a document costs nothing.
struct ParsedBlock {
  std::unique_ptr<boost::json::monotonic_resource> arena;
  std::vector<BulkItem> items;
  std::vector<BulkError> errors;  // lines that are not JSON objects
};

ParsedBlock parse_block(const Block& b, LineParser& parser) {
  ParsedBlock out;
  out.arena = std::make_unique<boost::json::monotonic_resource>();
  out.items.reserve(b.lines.size());
  boost::json::storage_ptr arena(out.arena.get());
  for (const Line& line : b.lines) {
    BulkItem item{line.number, json::object(arena)};
    Status s = parser.parse_object(line.text, item.doc);
    if (s.is_ok())
      out.items.push_back(std::move(item));
    else
      out.errors.push_back({line.number, "", std::move(s)});
  }
  return out;
}

class Runner {
 public:
  Runner(Engine& engine, const ImportOptions& options, ImportProgress& progress,
         const std::atomic<bool>& cancel, ImportLog& log)
      : engine_(engine),
        options_(options),
        progress_(progress),
        cancel_(cancel),
        log_(log),
        threads_(options.threads ? options.threads
                                 : std::max(1u, std::thread::hardware_concurrency())) {}

  // Imports every section; a Status only for a malformed file (entity errors are counted).
  Status run(ImportReader& reader);
  std::uint64_t errors() const { return errors_; }
  const std::vector<std::string>& details() const { return details_; }

 private:
  Result<std::optional<Block>> next_of(Section s, ImportReader& reader);
  Status models_section(Block first, ImportReader& reader);
  Status twins_section(Block first, ImportReader& reader);
  Status relationships_section(Block first, ImportReader& reader);
  void add_models(std::vector<json::value>& models, std::vector<std::uint64_t>& lines);
  void record(Section s, std::vector<BulkError>& errors);
  void entity_error(Section s, std::uint64_t line, const std::string& id, const Status& st);
  void section_log(Section s, std::string_view status, std::uint64_t imported = 0,
                   std::uint64_t failed = 0);
  void touch() { progress_.last_action = now_nanos(); }
  std::string_view section_status(std::uint64_t errors_before) const {
    return cancel_ ? "Cancelled" : errors_ == errors_before ? "Succeeded" : "Failed";
  }

  Engine& engine_;
  const ImportOptions& options_;
  ImportProgress& progress_;
  const std::atomic<bool>& cancel_;
  ImportLog& log_;
  std::size_t threads_;
  std::optional<Block> held_;  // the first block of the next section
  std::uint64_t errors_ = 0;
  std::vector<std::string> details_;
};

Status Runner::run(ImportReader& reader) {
  while (!cancel_) {
    auto block = next_of(Section::header, reader);  // Section::header: a block of any section
    if (!block) return block.status();
    if (!*block) return Status::ok();
    Section s = (*block)->section;
    section_log(s, "Started");
    Status st = s == Section::models  ? models_section(std::move(**block), reader)
                : s == Section::twins ? twins_section(std::move(**block), reader)
                                      : relationships_section(std::move(**block), reader);
    CASTOR_RETURN_IF_ERROR(st);
  }
  return Status::ok();
}

// The next block of section `s` (of any section for Section::header); nothing when the section
// (or the file) ends.
Result<std::optional<Block>> Runner::next_of(Section s, ImportReader& reader) {
  std::optional<Block> b;
  if (held_) {
    b.swap(held_);
  } else {
    auto r = reader.next();
    if (!r) return r.status();
    b = std::move(*r);
  }
  if (b && s != Section::header && b->section != s) {
    held_ = std::move(b);
    return std::optional<Block>();
  }
  return b;
}

void Runner::section_log(Section s, std::string_view status, std::uint64_t imported,
                         std::uint64_t failed) {
  json::object d{{"section", section_name(s)}, {"status", status}};
  if (status != "Started") {
    d["imported"] = imported;
    d["failed"] = failed;
  }
  log_.write(LogType::info, std::move(d));
}

void Runner::entity_error(Section s, std::uint64_t line, const std::string& id, const Status& st) {
  ++errors_;
  ++progress_.errors;
  std::string_view code =
      st.reason().empty() ? code_name(st.code()) : std::string_view(st.reason());
  json::object d{
      {"section", section_name(s)}, {"line", line}, {"code", code}, {"message", st.message()}};
  if (!id.empty()) d["id"] = id;
  log_.write(LogType::error, std::move(d));
  if (details_.size() < options_.error_details)
    details_.push_back("line " + std::to_string(line) + (id.empty() ? "" : " (" + id + ")") + ": " +
                       st.message());
}

void Runner::record(Section s, std::vector<BulkError>& errors) {
  for (const BulkError& e : errors) entity_error(s, e.line, e.id, e.status);
  touch();
}

// --- models: one set, like POST /models; models that exist already are kept ---

Status Runner::models_section(Block first, ImportReader& reader) {
  LineParser parser;
  std::vector<json::value> models;
  std::vector<std::uint64_t> lines;
  std::uint64_t failed_before = errors_;
  for (std::optional<Block> b(std::move(first)); b;) {
    for (const Line& line : b->lines) {
      json::value v;
      Status s = parser.parse_value(line.text, v);
      if (!s.is_ok()) {
        entity_error(Section::models, line.number, "", s);
        continue;
      }
      const json::value* id = v.is_object() ? v.get_object().if_contains("@id") : nullptr;
      if (id && id->is_string() && engine_.models().get(json::sv(id->get_string()))) {
        log_.write(LogType::warning,
                   {{"section", "Models"},
                    {"line", line.number},
                    {"id", id->get_string()},
                    {"message", "the model exists already; kept it (models cannot be replaced)"}});
        continue;
      }
      models.push_back(std::move(v));
      lines.push_back(line.number);
    }
    auto next = next_of(Section::models, reader);
    if (!next) return next.status();
    b = std::move(*next);
  }
  if (!cancel_) add_models(models, lines);
  section_log(Section::models, section_status(failed_before), progress_.models,
              errors_ - failed_before);
  return Status::ok();
}

void Runner::add_models(std::vector<json::value>& models, std::vector<std::uint64_t>& lines) {
  if (models.empty()) return;
  model::AddResult r =
      engine_.add_models(std::span<const json::value>(models.data(), models.size()));
  if (r.status.is_ok()) {
    progress_.models += r.added.size();
    touch();
    return;
  }
  // All or none, as ADT adds a model set: every model of the section counts as failed.
  std::string code =
      r.error == model::ModelError::already_exists ? "ModelAlreadyExists" : "DTDLParserError";
  Status set_error(Code::invalid_argument, r.status.message(), code);
  entity_error(Section::models, lines.front(), "", set_error);
  for (const std::string& d : r.details)
    log_.write(LogType::error, {{"section", "Models"}, {"code", code}, {"message", d}});
  errors_ += models.size() - 1;
  progress_.errors += models.size() - 1;
}

// --- twins: parsed and validated by the pool, imported in file order ---

Status Runner::twins_section(Block first, ImportReader& reader) {
  struct Commits {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t pending = 0;
    std::deque<BulkOutcome> outcomes;
  } commits;
  OrderedPool<PreparedTwins> pool(threads_, [this](Block&& b, LineParser& p) {
    ParsedBlock parsed = parse_block(b, p);
    PreparedTwins prepared = engine_.prepare_twins(std::move(parsed.items));
    for (auto& e : parsed.errors) prepared.rejected.errors.push_back(std::move(e));
    return prepared;
  });
  std::uint64_t imported = 0, failed_before = errors_;
  auto drain = [&](std::unique_lock<std::mutex>& lock) {
    while (!commits.outcomes.empty()) {
      BulkOutcome o = std::move(commits.outcomes.front());
      commits.outcomes.pop_front();
      lock.unlock();
      imported += o.imported;
      progress_.twins += o.imported;
      record(Section::twins, o.errors);
      lock.lock();
    }
  };
  std::optional<Block> next(std::move(first));
  Status read_error;
  while (true) {
    while (next && !cancel_ && pool.in_flight() < 2 * threads_) {
      pool.submit(std::move(*next));
      auto r = next_of(Section::twins, reader);
      if (!r) read_error = r.status();
      next = r ? std::move(*r) : std::nullopt;
    }
    if (pool.in_flight() == 0) break;
    PreparedTwins prepared = pool.take();
    if (cancel_) continue;  // started blocks finish; their results are dropped
    std::unique_lock lock(commits.mu);
    commits.cv.wait(lock, [&] { return commits.pending < options_.twin_blocks_in_flight; });
    drain(lock);
    ++commits.pending;
    lock.unlock();
    engine_.import_twins(std::move(prepared), [&commits](BulkOutcome o) {
      std::lock_guard l(commits.mu);
      commits.outcomes.push_back(std::move(o));
      --commits.pending;
      commits.cv.notify_all();
    });
  }
  std::unique_lock lock(commits.mu);
  commits.cv.wait(lock, [&] { return commits.pending == 0; });
  drain(lock);
  lock.unlock();
  CASTOR_RETURN_IF_ERROR(read_error);
  section_log(Section::twins, section_status(failed_before), imported, errors_ - failed_before);
  return Status::ok();
}

// --- relationships: parsed by the pool, imported one block at a time (the engine's three
// rounds of shard tasks per block), in file order ---

Status Runner::relationships_section(Block first, ImportReader& reader) {
  OrderedPool<ParsedBlock> pool(threads_,
                                [](Block&& b, LineParser& p) { return parse_block(b, p); });
  std::uint64_t imported = 0, failed_before = errors_;
  std::optional<Block> next(std::move(first));
  Status read_error;
  while (true) {
    while (next && !cancel_ && pool.in_flight() < 2 * threads_) {
      pool.submit(std::move(*next));
      auto r = next_of(Section::relationships, reader);
      if (!r) read_error = r.status();
      next = r ? std::move(*r) : std::nullopt;
    }
    if (pool.in_flight() == 0) break;
    ParsedBlock parsed = pool.take();
    if (cancel_) continue;
    BulkOutcome o = engine_.import_relationships(std::move(parsed.items));
    imported += o.imported;
    progress_.relationships += o.imported;
    record(Section::relationships, parsed.errors);
    record(Section::relationships, o.errors);
  }
  CASTOR_RETURN_IF_ERROR(read_error);
  section_log(Section::relationships, section_status(failed_before), imported,
              errors_ - failed_before);
  return Status::ok();
}

ImportResult finish(ImportLog& log, ImportResult result) {
  std::string_view status = result.status == JobStatus::succeeded   ? "Succeeded"
                            : result.status == JobStatus::cancelled ? "Cancelled"
                                                                    : "Failed";
  log.write(result.status == JobStatus::failed && result.error && result.error->code != "JobFailed"
                ? LogType::error
                : LogType::info,
            {{"status", status}});
  if (Status s = log.finish(); !s.is_ok() && result.status == JobStatus::succeeded)
    return {JobStatus::failed, JobError{"OutputLogFailed", s.message(), {}}};
  return result;
}

}  // namespace

ImportResult run_import(Engine& engine, const std::string& job_id,
                        const std::filesystem::path& input, const std::filesystem::path& output,
                        const ImportOptions& options, ImportProgress& progress,
                        const std::atomic<bool>& cancel) {
  auto log = ImportLog::create(output, job_id);
  if (!log) return {JobStatus::failed, JobError{"ValidationFailed", log.status().message(), {}}};
  (*log)->write(LogType::info, {{"status", "Started"}});
  progress.last_action = now_nanos();
  auto reader = ImportReader::open(input, options.reader);
  Status st = reader ? Status::ok() : reader.status();
  Runner runner(engine, options, progress, cancel, **log);
  if (st.is_ok()) st = runner.run(**reader);
  if (!st.is_ok()) {
    (*log)->write(LogType::error,
                  {{"code", st.reason().empty() ? "InvalidImportFile" : st.reason()},
                   {"message", st.message()}});
    return finish(
        **log, {JobStatus::failed, JobError{"InvalidImportFile", st.message(), runner.details()}});
  }
  if (cancel) return finish(**log, {JobStatus::cancelled, std::nullopt});
  if (runner.errors() == 0) return finish(**log, {JobStatus::succeeded, std::nullopt});
  std::string message =
      std::to_string(runner.errors()) + (runner.errors() == 1 ? " entity" : " entities") +
      " could not be imported and were skipped (the rest was imported); the output log lists "
      "each with its line, fix them and run the job again";
  return finish(**log, {JobStatus::failed, JobError{"JobFailed", message, runner.details()}});
}

}  // namespace castor::twin::jobs
