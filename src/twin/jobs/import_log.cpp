#include "twin/jobs/import_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "twin/twin.hpp"

namespace castor::twin::jobs {
namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 20;

std::string_view type_name(LogType t) {
  switch (t) {
    case LogType::info: return "Info";
    case LogType::warning: return "Warning";
    case LogType::error: return "Error";
  }
  return "Info";
}

Nanos now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ImportLog::ImportLog(std::FILE* f, std::string job_id, std::filesystem::path file)
    : file_(f), job_id_(std::move(job_id)), path_(std::move(file)) {
  std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
}

ImportLog::~ImportLog() {
  std::fclose(file_);
}

Result<std::unique_ptr<ImportLog>> ImportLog::create(const std::filesystem::path& file,
                                                     std::string job_id) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return Status(Code::invalid_argument,
                  "cannot write the output log " + file.string() + ": " + std::strerror(errno),
                  "ValidationFailed");
  std::FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    return Status(Code::unavailable, "cannot write the output log " + file.string());
  }
  return std::unique_ptr<ImportLog>(new ImportLog(f, std::move(job_id), file));
}

void ImportLog::write(LogType type, json::object details) {
  json::value v(std::move(details));
  std::lock_guard lock(mu_);
  line_.clear();
  line_ += "{\"timestamp\":\"";
  line_ += format_time(now_nanos());
  line_ += "\",\"jobId\":";
  json::append_string(line_, job_id_);
  line_ += ",\"jobType\":\"Import\",\"logType\":\"";
  line_ += type_name(type);
  line_ += "\",\"details\":";
  json::serialize_to(line_, v);
  line_ += "}\n";
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) failed_ = true;
}

Status ImportLog::finish() {
  std::lock_guard lock(mu_);
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) failed_ = true;
  if (failed_)
    return Status(Code::unavailable, "the output log " + path_.string() +
                                         " could not be written completely (disk full?)");
  return Status::ok();
}

}  // namespace castor::twin::jobs
