#include "api/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "twin/twin.hpp"

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
  // By hand, as twin times are: this stamps every audit line (snprintf was a third of one).
  char buf[twin::kTimeTextSize];
  twin::format_time_to(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(), buf);
  buf[23] = 'Z';  // "YYYY-MM-DDThh:mm:ss.fffZ": cut to milliseconds
  return std::string(buf, 24);
}

}  // namespace castor::api
