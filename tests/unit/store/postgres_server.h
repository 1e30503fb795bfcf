#pragma once

// A throwaway PostgreSQL 15 server for the tests of one test binary: initdb into a
// fresh temporary folder (as user postgres when running as root: initdb refuses
// root), on a free port, reachable over 127.0.0.1 without a password. Started on
// first use, since ctest runs each test in a process of its own and most of them
// (memory, SQLite) need no server; stopped and removed by a gtest Environment at the
// end of the process.
//
// When the server binaries are missing (/usr/lib/postgresql/15/bin, or
// $SWITCHBOARD_PG_BIN) or the server does not start, running() is false and error()
// says why: the PostgreSQL tests then fail with that message, never skip.

#include <filesystem>
#include <string>

#include <switchboard/router/error.h>

namespace switchboard::router::testing {

class PostgresServer {
 public:
  // This process's server, started on the first call.
  static PostgresServer& get();

  bool running() const { return running_; }
  const std::string& error() const { return error_; }

  // A new, empty database of its own; its connection URI.
  Result<std::string> create_database();

  // pg_ctl stop -m fast, and start again on the same port and data: for fault tests.
  Status stop();
  Status start();

  // A port with nothing listening on it, found by binding port 0.
  static int free_port();

  ~PostgresServer();

 private:
  PostgresServer();
  Status init();
  Status run(const std::string& command, const std::string& what) const;
  std::string uri(const std::string& database) const;
  friend class PostgresEnvironment;
  void shut_down();

  std::filesystem::path bin_;
  std::filesystem::path dir_;  // owned by postgres; holds data/, the socket and the log
  int port_ = 0;
  bool running_ = false;
  std::string error_;
  int databases_ = 0;
};

}  // namespace switchboard::router::testing
