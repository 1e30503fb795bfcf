#include "sqlite_connection.h"

namespace switchboard::router::store {

Result<Connection> Connection::open(const std::string& path, int flags, std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Connection connection;
  connection.db_.reset(db);  // sqlite3_open_v2 hands back a handle even when it fails
  if (rc != SQLITE_OK) {
    return Error{ErrorCode::kUnavailable,
                 {},
                 "sqlite: cannot open '" + path + "': " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc))};
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  return connection;
}

Status Connection::exec(const char* sql) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc);
  return ok_status();
}

Result<Statement> Connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &stmt, nullptr);
  if (rc != SQLITE_OK) return error(rc);
  return Statement(stmt);
}

Result<std::string> Connection::query_value(const char* sql) {
  auto stmt = prepare(sql);
  if (!stmt) return stmt.error();
  const int rc = stmt->step();
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return error(rc);
  return std::string(stmt->text(0));
}

Error Connection::error(int rc) const {
  const ErrorCode code = (rc & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::kAlreadyExists : ErrorCode::kUnavailable;
  return Error{code, {}, std::string("sqlite: ") + sqlite3_errmsg(db_.get())};
}

}  // namespace switchboard::router::store
