// ImportLog: the output log of an import job, in ADT's shape — one JSON object per line with
// timestamp, jobId, jobType "Import", logType (Info, Warning, Error) and details. Written through
// a large buffer and fsync'd by finish(); thread-safe. Never throws on a full disk: it counts
// what it could not write and finish() reports it.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "common/json.hpp"
#include "common/status.hpp"

namespace castor::twin::jobs {

enum class LogType : unsigned char { info, warning, error };

class ImportLog {
 public:
  // Creates (or truncates) `file`; refuses to follow a symlink there.
  static Result<std::unique_ptr<ImportLog>> create(const std::filesystem::path& file,
                                                   std::string job_id);
  ~ImportLog();
  ImportLog(const ImportLog&) = delete;
  ImportLog& operator=(const ImportLog&) = delete;

  void write(LogType type, json::object details);
  // Flushes and fsyncs; an error if any line could not be written.
  Status finish();

 private:
  ImportLog(std::FILE* f, std::string job_id, std::filesystem::path file);

  std::mutex mu_;
  std::FILE* file_;
  std::string job_id_;
  std::filesystem::path path_;
  std::string line_;
  bool failed_ = false;
};

}  // namespace castor::twin::jobs
