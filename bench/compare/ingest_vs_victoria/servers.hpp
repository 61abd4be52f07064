// The two servers of the ingest benchmark, each a child process with its own temporary data
// folder on a loopback port: `castor serve --insecure-local` and Debian's victoria-metrics.
// Both are stopped by their PID (SIGTERM, then SIGKILL after a grace period); never touches a
// process or a folder it did not create.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace castor::bench {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv with stdout on a pipe (when `pipe_stdout`) or the log, stderr on the log file.
  void start(const std::vector<std::string>& argv, const std::string& log, bool pipe_stdout,
             const std::vector<std::string>& extra_env = {});
  std::string read_line(int timeout_ms);  // one line of stdout; throws on timeout or exit
  // SIGTERM, wait up to `grace_s`, SIGKILL; returns the exit status (-1 if it was killed).
  int stop(int grace_s = 60);
  int pid() const { return pid_; }

 private:
  int pid_ = 0;
  int out_ = -1;
  std::string pending_;
};

class CastorServer {
 public:
  // `data` is created if missing; `args` are passed after serve's own.
  CastorServer(const std::string& binary, const std::string& data, const std::vector<std::string>& args);
  int port() const { return port_; }
  int pid() const { return proc_.pid(); }
  int stop() { return proc_.stop(); }

 private:
  ChildProcess proc_;
  int port_ = 0;
};

class VictoriaServer {
 public:
  explicit VictoriaServer(const std::string& data);
  int port() const { return port_; }
  int pid() const { return proc_.pid(); }
  void force_flush();  // GET /internal/force_flush: in-memory rows become searchable parts
  int stop() { return proc_.stop(); }

 private:
  ChildProcess proc_;
  std::string data_;
  int port_ = 0;
};

int free_loopback_port();

// Bytes of all regular files below `dir` (du -sb, apparent sizes).
std::uint64_t tree_bytes(const std::string& dir);

// Live SST bytes per column family of a closed RocksDB in `dir` (opened read-only).
std::map<std::string, std::uint64_t> rocksdb_family_bytes(const std::string& dir);

}  // namespace castor::bench
