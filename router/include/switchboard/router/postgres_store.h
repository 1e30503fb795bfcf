#pragma once

// The Store for more than one node: a PostgreSQL database (libpqxx), written by one
// thread per store that commits everything queued in one transaction (group commit).
// Link switchboard::store_postgres.

#include <cstddef>
#include <memory>
#include <string>

#include <switchboard/router/error.h>
#include <switchboard/router/store.h>

namespace switchboard::router {

struct PostgresOptions {
  // A libpq connection URI ("postgresql://user@host:5432/db?connect_timeout=5") or
  // key=value string. The database must exist; its tables are created on open.
  std::string uri;

  // Upper bound of events written in one transaction; a commit is never split.
  std::size_t max_batch_events = 4096;
};

// Connects, migrates the schema, then starts the writer.
//
// Errors: kUnavailable "postgresql: ..." when the server cannot be reached or the
// schema cannot be written; kFailedPrecondition when the database's schema is newer
// than this binary knows.
//
// The Store's contract (store.h) holds; in addition, `done` runs on the store's writer
// thread (keep it short: the next transaction waits for it); a failed transaction
// (connection lost, server stopped) rolls back and reports kUnavailable
// "postgresql: <reason>" to every commit in it, and the writer reconnects for the next
// one; a repeated (conversation, seq) fails only its own commit, with kAlreadyExists;
// events_after never passes an event whose transaction may still commit below it
// (see PostgresStore); every transaction that stores events sends one
// `NOTIFY switchboard_events`; destroying the store commits what was appended, calls
// every `done`, then disconnects.
Result<std::unique_ptr<Store>> open_postgres_store(const PostgresOptions& options);

}  // namespace switchboard::router
