// JobManager: ADT import and delete jobs — creation, listing, cancellation, deletion — run one at
// a time (ADT's limit) on one background thread, kept durably in the store's "jobs" column family
// and purged 30 days after they end. A job that was running when Castor stopped is marked failed
// at the next start (import jobs are not atomic; running one again is safe); jobs not yet started
// then start. Errors carry ADT codes in Status::reason(). Never blocks on a running job.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "twin/engine.hpp"
#include "twin/jobs/import_runner.hpp"
#include "twin/jobs/job.hpp"

namespace castor::twin::jobs {

// The column family that keeps the jobs; Engine::open creates it.
inline constexpr const char* kJobsFamily = "jobs";

struct JobManagerOptions {
  std::filesystem::path import_dir;  // where file:// paths point; created when missing
  ImportOptions import;
};

class JobManager {
 public:
  static Result<std::unique_ptr<JobManager>> open(Engine& engine, JobManagerOptions options);
  ~JobManager();
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;
  // Stops the job thread; a running job ends failed ("Castor shut down"). Idempotent.
  void close();

  // --- import jobs ---
  Result<ImportJob> create_import(const std::string& id, const std::string& input_uri,
                                  const std::string& output_uri);
  Result<ImportJob> get_import(std::string_view id);
  std::vector<ImportJob> list_imports();  // oldest first
  Status delete_import(std::string_view id);
  Result<ImportJob> cancel_import(std::string_view id);

  // --- delete jobs ---
  Result<DeleteJob> create_delete(const std::string& id, std::uint32_t timeout_minutes);
  Result<DeleteJob> get_delete(std::string_view id);
  std::vector<DeleteJob> list_deletes();  // oldest first

  const std::filesystem::path& import_folder() const noexcept { return folder_; }

 private:
  struct Import {
    ImportJob job;
    std::filesystem::path input, output;  // resolved when the job was created
    std::shared_ptr<ImportProgress> progress = std::make_shared<ImportProgress>();
    std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  };
  struct Queued {
    bool import;
    std::string id;
  };

  JobManager(Engine& engine, JobManagerOptions options, store::ColumnFamily cf,
             std::filesystem::path folder);
  Status load();
  Status persist(const ImportJob& j);  // with mu_ held
  Status persist(const DeleteJob& j);
  void purge_expired();       // with mu_ held
  Status check_slot() const;  // with mu_ held: JobLimitReached while a job is active
  ImportJob live_view(const Import& i) const;
  void run();
  void run_import(const std::string& id);
  void run_delete(const std::string& id);

  Engine& engine_;
  JobManagerOptions options_;
  store::ColumnFamily cf_;
  std::filesystem::path folder_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Import, std::less<>> imports_;
  std::map<std::string, DeleteJob, std::less<>> deletes_;
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::atomic<bool> shutdown_{false};  // tells a running job to stop for good
  std::thread thread_;
};

}  // namespace castor::twin::jobs
