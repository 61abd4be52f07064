// Import and delete jobs as ADT shows them (status, times, error) plus Castor's progress counts,
// and their JSON form — the same text the API answers and the store keeps. Plain data; the
// JobManager owns the live ones. Never touches the engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "twin/twin.hpp"

namespace castor::twin::jobs {

// ADT's job states. Delete jobs use notstarted, running, failed and succeeded.
enum class JobStatus : std::uint8_t {
  notstarted,
  running,
  failed,
  succeeded,
  cancelling,
  cancelled
};
std::string_view status_name(JobStatus s);
std::optional<JobStatus> parse_status(std::string_view s);
bool is_finished(JobStatus s);  // failed, succeeded, cancelled

// The job's "error": ADT's Error shape; `details` become {"code","message"} entries.
struct JobError {
  std::string code;
  std::string message;
  std::vector<std::string> details;
};

// Castor's addition to the ADT job: what has been imported so far (durable), and how many
// entities failed. Shown as "progress": {"models": .., "twins": .., "relationships": .., "errors":
// ..}.
struct ImportCounts {
  std::uint64_t models = 0, twins = 0, relationships = 0, errors = 0;
};

struct ImportJob {
  std::string id;
  std::string input_uri, output_uri;  // as the client sent them
  JobStatus status = JobStatus::notstarted;
  Nanos created = 0, last_action = 0, finished = 0;  // finished: 0 until it ends
  std::optional<JobError> error;
  ImportCounts progress;
};

struct DeleteJob {
  std::string id;
  JobStatus status = JobStatus::notstarted;
  Nanos created = 0, finished = 0;
  std::uint32_t timeout_minutes = 720;  // ADT's default: 12 hours
  std::optional<JobError> error;
};

// Jobs are kept this long after they last changed, then purged (purgeDateTime).
constexpr Nanos kJobRetention = Nanos{30} * 24 * 3600 * 1'000'000'000;
Nanos purge_time(const ImportJob& j);
Nanos purge_time(const DeleteJob& j);

// ADT JSON (with "progress" for imports). `stored` adds what only the store needs.
std::string render(const ImportJob& j);
std::string render(const DeleteJob& j, bool stored = false);
Result<ImportJob> parse_import_job(std::string_view text);
Result<DeleteJob> parse_delete_job(std::string_view text);

}  // namespace castor::twin::jobs
