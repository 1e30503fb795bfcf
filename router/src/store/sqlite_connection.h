#pragma once

// Thin owners of the SQLite C API's handles: a connection and its prepared statements.
// Not thread-safe: each connection is used by one thread at a time (SqliteStore
// guarantees it), so connections are opened without SQLite's own mutex.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include <sqlite3.h>

#include <switchboard/router/error.h>

namespace switchboard::router::store {

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}

  // Binds ?1..?N. Text is not copied: it must outlive the statement's next reset().
  template <typename... Args>
  void bind(const Args&... args) {
    int index = 0;
    (bind_one(++index, args), ...);
  }

  int step() { return sqlite3_step(stmt_.get()); }
  void reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
  }

  // Binds, runs to the end and resets; SQLITE_DONE when it worked.
  template <typename... Args>
  int run(const Args&... args) {
    bind(args...);
    int rc = step();
    while (rc == SQLITE_ROW) rc = step();
    reset();
    return rc;
  }

  int64_t integer(int column) const { return sqlite3_column_int64(stmt_.get(), column); }
  std::string_view text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
    return {data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column))};
  }

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };

  void bind_one(int index, std::string_view text) {
    sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  template <typename Integer>
  requires std::is_integral_v<Integer>
  void bind_one(int index, Integer value) { sqlite3_bind_int64(stmt_.get(), index, static_cast<sqlite3_int64>(value)); }

  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

class Connection {
 public:
  // Opens `path` with SQLITE_OPEN_* `flags` and sets the busy timeout.
  static Result<Connection> open(const std::string& path, int flags, std::chrono::milliseconds busy_timeout);

  // Runs one or more statements that return nothing needed.
  Status exec(const char* sql);
  // For statements kept and reused (SQLITE_PREPARE_PERSISTENT).
  Result<Statement> prepare(std::string_view sql);
  // The first column of the first row of a one-value query ("PRAGMA user_version").
  Result<std::string> query_value(const char* sql);

  // "sqlite: <what went wrong last on this connection>", kAlreadyExists for a
  // constraint, kUnavailable for everything else.
  Error error(int rc) const;
  sqlite3* get() const { return db_.get(); }

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };

  std::unique_ptr<sqlite3, Close> db_;
};

}  // namespace switchboard::router::store
