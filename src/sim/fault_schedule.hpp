// Fault schedules and ground truth for the plant simulator: a schedule file lists faults to
// start at simulated times; every fault that starts is appended to a ground-truth file (NDJSON)
// so analytics can be scored later. Reads and appends files; never touches the plant itself.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "sim/factory_plant.hpp"

namespace castor::sim {

// Reads a schedule: a JSON array of faults, or one fault object per line (NDJSON; blank lines
// and lines starting with '#' are skipped). Errors name the file and the line or index.
Result<std::vector<Fault>> load_fault_schedule(const std::filesystem::path& file);

// Appends one line per started fault: {"fault","twin","joint","severity","start","startNs",
// "simSeconds","source"} where source is "schedule" or "live". Flushed per line.
class GroundTruth {
 public:
  GroundTruth() = default;
  ~GroundTruth();
  GroundTruth(const GroundTruth&) = delete;
  GroundTruth& operator=(const GroundTruth&) = delete;
  Status open(const std::filesystem::path& file);
  Status record(const Fault& fault, std::int64_t start_ns, double sim_seconds, const char* source);

 private:
  std::FILE* f_ = nullptr;
};

// RFC 3339 UTC with nanoseconds, e.g. 2026-11-24T08:00:00.123456789Z.
std::string rfc3339_ns(std::int64_t ns);

}  // namespace castor::sim
