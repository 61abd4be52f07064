#include "twin/jobs/job_manager.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "twin/jobs/import_paths.hpp"
#include "twin/twin_json.hpp"

namespace castor::twin::jobs {
namespace {

constexpr std::string_view kImportPrefix = "import/";
constexpr std::string_view kDeletePrefix = "delete/";

Nanos now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status validation_failed(std::string message) {
  return {Code::invalid_argument, std::move(message), "ValidationFailed"};
}

Status import_not_found(std::string_view id) {
  return {Code::not_found, "import job '" + std::string(id) + "' was not found",
          "ImportJobNotFound"};
}

JobError interrupted(std::string_view what) {
  return {
      "JobInterrupted",
      "Castor stopped while the " + std::string(what) +
          " was running; what it had done before stays. Run it again: an import replaces twins and "
          "relationships and keeps existing models, so running it twice is safe",
      {}};
}

bool active(JobStatus s) {
  return !is_finished(s);
}

}  // namespace

JobManager::JobManager(Engine& engine, JobManagerOptions options, store::ColumnFamily cf,
                       std::filesystem::path folder)
    : engine_(engine), options_(std::move(options)), cf_(cf), folder_(std::move(folder)) {}

Result<std::unique_ptr<JobManager>> JobManager::open(Engine& engine, JobManagerOptions options) {
  auto cf = engine.store().column_family(kJobsFamily);
  if (!cf) return cf.status();
  auto folder = prepare_import_folder(options.import_dir);
  if (!folder) return folder.status();
  std::unique_ptr<JobManager> m(
      new JobManager(engine, std::move(options), *cf, std::move(*folder)));
  CASTOR_RETURN_IF_ERROR(m->load());
  m->thread_ = std::thread([raw = m.get()] { raw->run(); });
  return m;
}

JobManager::~JobManager() {
  close();
}

void JobManager::close() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    shutdown_ = true;
    for (auto& [id, i] : imports_) *i.cancel = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// Jobs of an earlier run: interrupted ones end failed, waiting ones wait again, old ones go.
Status JobManager::load() {
  std::vector<std::pair<Nanos, Queued>> waiting;
  for (auto it = engine_.store().scan_prefix(cf_, ""); it.valid(); it.next()) {
    std::string_view key = it.key();
    if (key.starts_with(kImportPrefix)) {
      auto j = parse_import_job(it.value());
      if (!j) return j.status();
      Import i;
      i.job = std::move(*j);
      imports_.emplace(i.job.id, std::move(i));
    } else if (key.starts_with(kDeletePrefix)) {
      auto j = parse_delete_job(it.value());
      if (!j) return j.status();
      deletes_.emplace(j->id, std::move(*j));
    }
  }
  std::lock_guard lock(mu_);
  for (auto& [id, i] : imports_) {
    if (i.job.status == JobStatus::notstarted) {
      waiting.push_back({i.job.created, {true, id}});
      auto in = resolve_import_uri(i.job.input_uri, "inputBlobUri", folder_, PathUse::input);
      auto out = resolve_import_uri(i.job.output_uri, "outputBlobUri", folder_, PathUse::output);
      if (in && out) {
        i.input = *in;
        i.output = *out;
        continue;
      }
      waiting.pop_back();
      i.job.error = JobError{"ValidationFailed", (in ? out.status() : in.status()).message(), {}};
    } else if (active(i.job.status)) {
      i.job.error = interrupted("import job");
    } else {
      continue;
    }
    i.job.status = JobStatus::failed;
    i.job.finished = i.job.last_action = now_nanos();
    CASTOR_RETURN_IF_ERROR(persist(i.job));
  }
  for (auto& [id, d] : deletes_) {
    if (d.status == JobStatus::notstarted) {
      waiting.push_back({d.created, {false, id}});
    } else if (active(d.status)) {
      d.status = JobStatus::failed;
      d.error = interrupted("delete job");
      d.finished = now_nanos();
      CASTOR_RETURN_IF_ERROR(persist(d));
    }
  }
  std::sort(waiting.begin(), waiting.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [t, q] : waiting) queue_.push_back(std::move(q));
  purge_expired();
  return Status::ok();
}

Status JobManager::persist(const ImportJob& j) {
  return engine_.store().put(cf_, std::string(kImportPrefix) + j.id, render(j));
}

Status JobManager::persist(const DeleteJob& j) {
  return engine_.store().put(cf_, std::string(kDeletePrefix) + j.id, render(j, true));
}

void JobManager::purge_expired() {
  Nanos now = now_nanos();
  std::erase_if(imports_, [&](const auto& kv) {
    const ImportJob& j = kv.second.job;
    if (active(j.status) || purge_time(j) > now) return false;
    return engine_.store().erase(cf_, std::string(kImportPrefix) + j.id).is_ok();
  });
  std::erase_if(deletes_, [&](const auto& kv) {
    const DeleteJob& j = kv.second;
    if (active(j.status) || purge_time(j) > now) return false;
    return engine_.store().erase(cf_, std::string(kDeletePrefix) + j.id).is_ok();
  });
}

Status JobManager::check_slot() const {
  for (const auto& [id, i] : imports_)
    if (active(i.job.status))
      return {Code::invalid_argument,
              "import job '" + id + "' is " + std::string(status_name(i.job.status)) +
                  "; Castor runs one job at a time, as ADT does. Wait for it to end (or cancel it) "
                  "and try again",
              "JobLimitReached"};
  for (const auto& [id, d] : deletes_)
    if (active(d.status))
      return {Code::invalid_argument,
              "delete job '" + id + "' is " + std::string(status_name(d.status)) +
                  "; Castor runs one job at a time, as ADT does. Wait for it to end and try again",
              "JobLimitReached"};
  return Status::ok();
}

ImportJob JobManager::live_view(const Import& i) const {
  ImportJob j = i.job;
  if (j.status == JobStatus::running || j.status == JobStatus::cancelling) {
    j.progress = i.progress->snapshot();
    j.last_action = std::max(j.last_action, i.progress->last_action.load());
  }
  return j;
}

// --- import jobs ---

Result<ImportJob> JobManager::create_import(const std::string& id, const std::string& input_uri,
                                            const std::string& output_uri) {
  if (Status s = check_id(id, "import job"); !s.is_ok()) return s;
  auto in = resolve_import_uri(input_uri, "inputBlobUri", folder_, PathUse::input);
  if (!in) return in.status();
  auto out = resolve_import_uri(output_uri, "outputBlobUri", folder_, PathUse::output);
  if (!out) return out.status();
  if (*in == *out)
    return validation_failed(
        "outputBlobUri names the input file; give the output log its own name");
  std::lock_guard lock(mu_);
  purge_expired();
  if (stopping_)
    return Status(Code::unavailable, "Castor is shutting down; create the job after it restarted",
                  "ServiceUnavailable");
  if (imports_.count(id))
    return validation_failed("import job '" + id +
                             "' exists already; delete it first or choose another id");
  CASTOR_RETURN_IF_ERROR(check_slot());
  Import i;
  i.job.id = id;
  i.job.input_uri = input_uri;
  i.job.output_uri = output_uri;
  i.job.created = i.job.last_action = now_nanos();
  i.input = std::move(*in);
  i.output = std::move(*out);
  CASTOR_RETURN_IF_ERROR(persist(i.job));
  ImportJob view = i.job;
  imports_.emplace(id, std::move(i));
  queue_.push_back({true, id});
  cv_.notify_all();
  return view;
}

Result<ImportJob> JobManager::get_import(std::string_view id) {
  std::lock_guard lock(mu_);
  purge_expired();
  auto it = imports_.find(id);
  if (it == imports_.end()) return import_not_found(id);
  return live_view(it->second);
}

std::vector<ImportJob> JobManager::list_imports() {
  std::lock_guard lock(mu_);
  purge_expired();
  std::vector<ImportJob> out;
  for (const auto& [id, i] : imports_) out.push_back(live_view(i));
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.created < b.created; });
  return out;
}

Status JobManager::delete_import(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = imports_.find(id);
  if (it == imports_.end()) return import_not_found(id);
  JobStatus s = it->second.job.status;
  if (s == JobStatus::running || s == JobStatus::cancelling)
    return validation_failed("import job '" + std::string(id) + "' is " +
                             std::string(status_name(s)) +
                             "; cancel it and delete it once it is cancelled");
  CASTOR_RETURN_IF_ERROR(engine_.store().erase(cf_, std::string(kImportPrefix) + std::string(id)));
  std::erase_if(queue_, [&](const Queued& q) { return q.import && q.id == id; });
  imports_.erase(it);
  return Status::ok();
}

Result<ImportJob> JobManager::cancel_import(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = imports_.find(id);
  if (it == imports_.end()) return import_not_found(id);
  Import& i = it->second;
  if (is_finished(i.job.status))
    return validation_failed("import job '" + std::string(id) + "' has already ended (" +
                             std::string(status_name(i.job.status)) +
                             "); only a waiting or running job can be cancelled");
  Nanos now = now_nanos();
  if (i.job.status == JobStatus::notstarted) {
    std::erase_if(queue_, [&](const Queued& q) { return q.import && q.id == id; });
    i.job.status = JobStatus::cancelled;
    i.job.finished = now;
  } else if (i.job.status == JobStatus::running) {
    i.job.status = JobStatus::cancelling;
    *i.cancel = true;
  }
  i.job.last_action = now;
  CASTOR_RETURN_IF_ERROR(persist(i.job));
  return live_view(i);
}

// --- delete jobs ---

Result<DeleteJob> JobManager::create_delete(const std::string& id, std::uint32_t timeout_minutes) {
  if (Status s = check_id(id, "delete job"); !s.is_ok()) return s;
  std::lock_guard lock(mu_);
  purge_expired();
  if (stopping_)
    return Status(Code::unavailable, "Castor is shutting down; create the job after it restarted",
                  "ServiceUnavailable");
  if (deletes_.count(id))
    return validation_failed("a delete job with Operation-Id '" + id +
                             "' exists already; use a new id");
  CASTOR_RETURN_IF_ERROR(check_slot());
  DeleteJob d;
  d.id = id;
  d.created = now_nanos();
  d.timeout_minutes = timeout_minutes;
  CASTOR_RETURN_IF_ERROR(persist(d));
  deletes_.emplace(id, d);
  queue_.push_back({false, id});
  cv_.notify_all();
  return d;
}

Result<DeleteJob> JobManager::get_delete(std::string_view id) {
  std::lock_guard lock(mu_);
  purge_expired();
  auto it = deletes_.find(id);
  if (it == deletes_.end())
    return Status(Code::not_found, "delete job '" + std::string(id) + "' was not found",
                  "DeleteJobNotFound");
  return it->second;
}

std::vector<DeleteJob> JobManager::list_deletes() {
  std::lock_guard lock(mu_);
  purge_expired();
  std::vector<DeleteJob> out;
  for (const auto& [id, d] : deletes_) out.push_back(d);
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.created < b.created; });
  return out;
}

// --- the job thread ---

void JobManager::run() {
  pthread_setname_np(pthread_self(), "castor-jobs");
  while (true) {
    Queued next;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    if (next.import)
      run_import(next.id);
    else
      run_delete(next.id);
  }
}

void JobManager::run_import(const std::string& id) {
  std::shared_ptr<ImportProgress> progress;
  std::shared_ptr<std::atomic<bool>> cancel;
  std::filesystem::path input, output;
  {
    std::lock_guard lock(mu_);
    auto it = imports_.find(id);
    if (it == imports_.end() || it->second.job.status != JobStatus::notstarted) return;
    Import& i = it->second;
    i.job.status = JobStatus::running;
    i.job.last_action = now_nanos();
    (void)persist(i.job);
    std::tie(progress, cancel, input, output) = std::tie(i.progress, i.cancel, i.input, i.output);
  }
  ImportResult r =
      jobs::run_import(engine_, id, input, output, options_.import, *progress, *cancel);
  std::lock_guard lock(mu_);
  auto it = imports_.find(id);
  if (it == imports_.end()) return;
  ImportJob& j = it->second.job;
  j.progress = progress->snapshot();
  j.status = r.status;
  j.error = std::move(r.error);
  if (shutdown_ && r.status == JobStatus::cancelled) {
    j.status = JobStatus::failed;
    j.error = interrupted("import job");
  }
  j.finished = j.last_action = now_nanos();
  (void)persist(j);
}

void JobManager::run_delete(const std::string& id) {
  std::uint32_t minutes = 0;
  {
    std::lock_guard lock(mu_);
    auto it = deletes_.find(id);
    if (it == deletes_.end() || it->second.status != JobStatus::notstarted) return;
    it->second.status = JobStatus::running;
    minutes = it->second.timeout_minutes;
    (void)persist(it->second);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(minutes);
  Status s = engine_.delete_all(
      [&] { return shutdown_.load() || std::chrono::steady_clock::now() > deadline; });
  std::lock_guard lock(mu_);
  DeleteJob& d = deletes_.at(id);
  d.status = s.is_ok() ? JobStatus::succeeded : JobStatus::failed;
  if (shutdown_ && !s.is_ok())
    d.error = interrupted("delete job");
  else if (s.code() == Code::aborted)
    d.error = JobError{"JobTimeout",
                       "the delete job ran out of its " + std::to_string(minutes) +
                           " minutes (timeoutInMinutes) before it deleted everything; run another",
                       {}};
  else if (!s.is_ok())
    d.error = JobError{"JobFailed", s.message(), {}};
  d.finished = now_nanos();
  (void)persist(d);
}

}  // namespace castor::twin::jobs
