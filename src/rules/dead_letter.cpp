#include "rules/dead_letter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/json.hpp"
#include "twin/twin.hpp"

namespace castor::rules {

DeadLetterFile::DeadLetterFile(std::filesystem::path dir, std::string endpoint)
    : path_(dir / (endpoint + ".ndjson")), endpoint_(std::move(endpoint)) {}

DeadLetterFile::~DeadLetterFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status DeadLetterFile::append(std::span<const DeadLetter> letters) {
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::string time = twin::format_time(now);
  std::string line;
  for (const auto& letter : letters) {
    line += "{\"time\":";
    json::append_string(line, time);
    line += ",\"endpoint\":";
    json::append_string(line, endpoint_);
    line += ",\"reason\":";
    json::append_string(line, letter.reason);
    line += ",\"attempts\":" + std::to_string(letter.attempts) + ",\"event\":";
    line += letter.event;
    line += "}\n";
  }
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0)
      return internal_error("cannot open the dead-letter file " + path_.string() + ": " +
                            std::strerror(errno) + "; check the permissions of DATA/deadletter");
  }
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return internal_error("cannot write the dead-letter file " + path_.string() + ": " +
                            std::strerror(errno) + "; check the free disk space");
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0)
    return internal_error("cannot sync the dead-letter file " + path_.string() + ": " +
                          std::strerror(errno));
  return Status::ok();
}

}  // namespace castor::rules
