#include "postgres.hpp"

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace castor::bench {
namespace {

namespace fs = std::filesystem;

std::string bin_dir() {
  for (const char* v : {"17", "16", "15", "14", "13"}) {
    fs::path p = fs::path("/usr/lib/postgresql") / v / "bin";
    if (fs::exists(p / "initdb")) return p.string();
  }
  throw std::runtime_error("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt install postgresql)");
}

// Runs a program to completion (as `postgres` when we are root); throws if it fails.
void run(std::vector<std::string> argv) {
  if (geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // Their chatter goes to stderr (progress), keeping stdout for the figures.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (auto& a : argv) cmd += a + " ";
    throw std::runtime_error("failed: " + cmd);
  }
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

PostgresServer::PostgresServer() {
  const std::string bin = bin_dir();
  char tmpl[] = "/tmp/castor-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("running as root needs the 'postgres' user (apt install postgresql)");
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + dir_);
  }
  const std::string data = dir_ + "/data";
  run({bin + "/initdb", "-D", data, "-U", "bench", "--auth=trust", "-E", "UTF8", "--no-sync"});
  port_ = free_port();
  // Tuned for a read benchmark: no fsync while loading, enough memory for the working set.
  const std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_ +
                           " -c shared_buffers=2GB -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                           " -c maintenance_work_mem=1GB -c work_mem=64MB -c effective_cache_size=8GB"
                           " -c max_wal_size=8GB -c jit=off";
  run({bin + "/pg_ctl", "-D", data, "-l", dir_ + "/server.log", "-w", "-t", "120", "-o", opts, "start"});
  std::ifstream pidfile(data + "/postmaster.pid");
  pidfile >> pid_;
  if (pid_ <= 0) throw std::runtime_error("PostgreSQL started but wrote no postmaster.pid");
}

PostgresServer::~PostgresServer() {
  if (pid_ > 0) {
    kill(pid_, SIGINT);  // fast shutdown
    for (int i = 0; i < 600 && kill(pid_, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (kill(pid_, 0) == 0) kill(pid_, SIGKILL);
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PostgresServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=bench dbname=postgres";
}

PgConnection::PgConnection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
  if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

void PgConnection::exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const auto st = PQresultStatus(r);
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error(sql + ": " + err);
}

int PgConnection::query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    throw std::runtime_error(sql + ": " + err);
  }
  int n = PQntuples(r);
  // COUNT queries answer their count as the row count, so both engines are compared by rows.
  if (n == 1 && PQnfields(r) == 1 && sql.find("count(*)") != std::string::npos) n = std::atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

void PgConnection::copy_in(const std::string& copy_sql, const std::string& rows) {
  PGresult* r = PQexec(conn_, copy_sql.c_str());
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    throw std::runtime_error(copy_sql + ": " + err);
  }
  PQclear(r);
  if (PQputCopyData(conn_, rows.data(), static_cast<int>(rows.size())) != 1 || PQputCopyEnd(conn_, nullptr) != 1)
    throw std::runtime_error(std::string("COPY: ") + PQerrorMessage(conn_));
  r = PQgetResult(conn_);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  while ((r = PQgetResult(conn_)) != nullptr) PQclear(r);
  if (!ok) throw std::runtime_error("COPY: " + err);
}

void copy_escape(std::string_view field, std::string& out) {
  for (char c : field) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out.push_back(c);
    }
  }
}

}  // namespace castor::bench
