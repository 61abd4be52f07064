#include "servers.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>

#include "http_client.hpp"

extern char** environ;

namespace castor::bench {
namespace fs = std::filesystem;

void ChildProcess::start(const std::vector<std::string>& argv, const std::string& log, bool pipe_stdout,
                         const std::vector<std::string>& extra_env) {
  int fds[2] = {-1, -1};
  if (pipe_stdout && pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (pipe_stdout) {
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
  } else {
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
  }
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (pipe_stdout) close(fds[1]);
  if (rc != 0) {
    if (pipe_stdout) close(fds[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc) +
                             " (castor: build it or pass --castor PATH; victoria-metrics: scripts/bootstrap.sh installs it)");
  }
  pid_ = pid;
  out_ = pipe_stdout ? fds[0] : -1;
}

std::string ChildProcess::read_line(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (auto nl = pending_.find('\n'); nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("no output from the child within the time allowed");
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(out_, buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("the child exited before it was ready");
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

int ChildProcess::stop(int grace_s) {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_s);
  pid_t r = 0;
  while ((r = waitpid(pid_, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (r == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    status = -1;
  }
  pid_ = 0;
  if (out_ >= 0) close(out_);
  out_ = -1;
  return status == -1 ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

CastorServer::CastorServer(const std::string& binary, const std::string& data, const std::vector<std::string>& args) {
  fs::create_directories(data);
  std::vector<std::string> argv{binary, "serve", "--insecure-local", "--listen", "127.0.0.1:0", "--data", data};
  argv.insert(argv.end(), args.begin(), args.end());
  proc_.start(argv, fs::path(data).parent_path() / "castor.log", true, {"CASTOR_ACCESS_LOG=false"});
  const std::string line = proc_.read_line(120'000);  // recovery of a big history takes a while
  const std::string prefix = "Castor listening on http://127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) throw std::runtime_error("castor serve said: " + line);
  port_ = std::stoi(line.substr(prefix.size()));
}

VictoriaServer::VictoriaServer(const std::string& data) : data_(data) {
  fs::create_directories(data);
  port_ = free_loopback_port();
  proc_.start({"/usr/bin/victoria-metrics", "-storageDataPath=" + data,
               "-httpListenAddr=127.0.0.1:" + std::to_string(port_), "-retentionPeriod=100y", "-loggerLevel=WARN"},
              fs::path(data).parent_path() / "victoria-metrics.log", false);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      HttpConnection c(port_);
      if (c.request("GET", "/health", "", "") == 200) return;
    } catch (const std::exception&) {
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("victoria-metrics did not answer /health within 30 s (see its log in " +
                               fs::path(data).parent_path().string() + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void VictoriaServer::force_flush() {
  HttpConnection c(port_);
  const int s = c.request("GET", "/internal/force_flush", "", "");
  if (s != 200) throw std::runtime_error("victoria-metrics force_flush: HTTP " + std::to_string(s));
}

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

std::uint64_t tree_bytes(const std::string& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; it != end; it.increment(ec))
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  return n;
}

std::map<std::string, std::uint64_t> rocksdb_family_bytes(const std::string& dir) {
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
  if (!s.ok()) throw std::runtime_error("RocksDB " + dir + ": " + s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, families, &handles, &raw);
  if (!s.ok()) throw std::runtime_error("RocksDB " + dir + ": " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<std::string, std::uint64_t> out;
  for (auto* h : handles) {
    rocksdb::ColumnFamilyMetaData meta;
    db->GetColumnFamilyMetaData(h, &meta);
    out[h->GetName()] = meta.size;
    db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  return out;
}

}  // namespace castor::bench
