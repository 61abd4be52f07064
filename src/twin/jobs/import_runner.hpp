// Runs one import job from its input file to its end state: reads the sections, adds the models
// as one set, parses and validates twins and relationships on worker threads, imports them through
// the engine's bulk path in file order, and writes the ADT-shaped output log. Per-entity errors
// are logged and skipped; the job then ends failed. Never touches job bookkeeping (JobManager).
#pragma once

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>

#include "twin/engine.hpp"
#include "twin/jobs/import_reader.hpp"
#include "twin/jobs/job.hpp"

namespace castor::twin::jobs {

struct ImportOptions {
  // Default 0: one parse/validate worker per hardware thread. More workers overlap parsing with
  // the shards' and the store's work; on a busy machine fewer leave the shards more room.
  std::size_t threads = 0;
  ReaderOptions reader;
  // Default 8: blocks of twins handed to the shards and not yet durable. More smooths the
  // commit latency away; each costs a block's worth of memory (~2.5 MB for 20-property twins).
  std::size_t twin_blocks_in_flight = 8;
  // Default 10: entity errors repeated in the job's error "details" (the log has all of them).
  std::size_t error_details = 10;
};

// What an import has done so far, durably; the API shows it while the job runs.
struct ImportProgress {
  std::atomic<std::uint64_t> models{0}, twins{0}, relationships{0}, errors{0};
  std::atomic<Nanos> last_action{0};
  ImportCounts snapshot() const {
    return {models.load(), twins.load(), relationships.load(), errors.load()};
  }
};

struct ImportResult {
  JobStatus status = JobStatus::succeeded;  // succeeded, failed or cancelled
  std::optional<JobError> error;
};

// Runs the job to its end. `cancel` is polled between blocks: once set, no further block is
// started, the ones in flight finish, and the result is cancelled.
ImportResult run_import(Engine& engine, const std::string& job_id,
                        const std::filesystem::path& input, const std::filesystem::path& output,
                        const ImportOptions& options, ImportProgress& progress,
                        const std::atomic<bool>& cancel);

}  // namespace castor::twin::jobs
