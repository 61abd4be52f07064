// A throw-away PostgreSQL for side-by-side benchmarks: initdb into a temporary folder, started
// with pg_ctl on 127.0.0.1 and a free port, stopped by the postmaster's PID. As root it runs as
// the unprivileged `postgres` user (PostgreSQL refuses to run as root). Never touches a
// PostgreSQL it did not start.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

namespace castor::bench {

class PostgresServer {
 public:
  // Starts the server or throws std::runtime_error with the reason.
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  std::string conninfo() const;  // for PQconnectdb
  int port() const { return port_; }

 private:
  std::string dir_;
  int port_ = 0;
  int pid_ = 0;
};

// One connection; every call throws std::runtime_error with PostgreSQL's message on failure.
class PgConnection {
 public:
  explicit PgConnection(const std::string& conninfo);
  ~PgConnection();
  void exec(const std::string& sql);
  // Rows of a (parameterized) query; the text of every field, row by row.
  int query(const std::string& sql, const std::vector<std::string>& params = {});
  // COPY table FROM STDIN: `rows` in COPY's text format, already escaped.
  void copy_in(const std::string& copy_sql, const std::string& rows);

 private:
  PGconn* conn_ = nullptr;
};

// COPY text-format escaping of one field (backslash, tab, newline, carriage return).
void copy_escape(std::string_view field, std::string& out);

}  // namespace castor::bench
