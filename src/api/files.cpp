#include "api/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace castor::api {
namespace {

Status io_error(std::string_view what, const std::filesystem::path& path) {
  return internal_error(std::string(what) + " '" + path.string() + "' failed: " +
                        std::strerror(errno) + ". Check the permissions and free space there.");
}

Status fsync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("opening directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("syncing directory", dir);
  return Status::ok();
}

}  // namespace

Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                             mode_t mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return io_error("creating", tmp);
  ::fchmod(fd, mode);  // O_CREAT's mode is filtered by the umask and ignored for existing files
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = io_error("writing", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = io_error("syncing", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = io_error("renaming into", path);
    ::unlink(tmp.c_str());
    return s;
  }
  return fsync_directory(path.has_parent_path() ? path.parent_path() : ".");
}

Status ensure_directory(const std::filesystem::path& dir, mode_t mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return Status::ok();
  if (dir.has_parent_path() && !dir.parent_path().empty()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) {
      return internal_error("cannot create directory '" + dir.parent_path().string() +
                            "': " + ec.message() + ". Check the path and its permissions.");
    }
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
    return io_error("creating directory", dir);
  return Status::ok();
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return not_found("'" + path.string() + "' does not exist");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return internal_error("cannot read '" + path.string() + "': " + std::strerror(errno) +
                          ". Check its permissions.");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string rfc3339_utc(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) secs -= std::chrono::seconds(1);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace castor::api
