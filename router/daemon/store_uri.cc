#include "store_uri.h"

#include <switchboard/router/postgres_store.h>
#include <switchboard/router/sqlite_store.h>

namespace switchboard::daemon {
namespace {

constexpr char kSqlitePrefix[] = "sqlite:";

struct SqliteUri {
  std::string path;
  router::SqliteOptions::Synchronous synchronous = router::SqliteOptions::kFull;
};

router::Result<SqliteUri> parse_sqlite(const std::string& uri) {
  std::string rest = uri.substr(sizeof kSqlitePrefix - 1);
  SqliteUri parsed;
  if (auto q = rest.find('?'); q != std::string::npos) {
    const std::string query = rest.substr(q + 1);
    rest.resize(q);
    if (query == "synchronous=normal") {
      parsed.synchronous = router::SqliteOptions::kNormal;
    } else if (query != "synchronous=full") {
      return router::invalid_argument("store", "'" + query + "': the only option is synchronous=full|normal");
    }
  }
  if (rest.empty())
    return router::invalid_argument("store", "sqlite: needs a file path, e.g. sqlite:var/switchboard.db");
  parsed.path = std::move(rest);
  return parsed;
}

bool is_postgres(const std::string& uri) { return uri.starts_with("postgresql://") || uri.starts_with("postgres://"); }

}  // namespace

router::Status validate_store_uri(const std::string& uri) {
  if (uri == "memory:") return router::ok_status();
  if (uri.starts_with(kSqlitePrefix)) {
    auto parsed = parse_sqlite(uri);
    return parsed ? router::ok_status() : router::Status(parsed.error());
  }
  if (is_postgres(uri)) return router::ok_status();
  return router::invalid_argument("store", "'" + uri + "' is not a store URI (sqlite:PATH, postgresql://..., memory:)");
}

router::Result<std::unique_ptr<router::Store>> open_store(const std::string& uri, const std::string& node_id) {
  if (auto ok = validate_store_uri(uri); !ok) return ok.error();
  if (uri == "memory:") {
    // Nothing ever reloads a memory store, so it keeps only the event log.
    return router::make_memory_store({.keep_records = false});
  }
  // Any number of switchboardd share one database, each under its own node id.
  if (is_postgres(uri)) return router::open_postgres_store({.uri = uri, .exclusive = false, .node_id = node_id});
  auto parsed = parse_sqlite(uri);
  return router::open_sqlite_store({.path = parsed->path, .synchronous = parsed->synchronous});
}

}  // namespace switchboard::daemon
