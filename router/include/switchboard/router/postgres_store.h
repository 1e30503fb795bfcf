#pragma once

// The Store for more than one node: a PostgreSQL database (libpqxx), written by one
// thread per store that commits everything queued in one transaction (group commit).
// Link switchboard::store_postgres.

#include <cstddef>
#include <cstdint>
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

  // Redelivery answers ((channel, external_id) -> the first result) kept, the newest;
  // older ones are deleted in steps of redelivery_prune_step, at most a tenth of this.
  // At least Limits::dedupe_entries (the Desk's window, which load() fills), so a
  // restart forgets none the Desk knew.
  std::size_t keep_redelivery_answers = 1'000'000;
  // Answers that come before the old ones are deleted again: the delete was a round
  // trip in every transaction and, skipping the index entries of rows it had
  // deleted, the slowest statement but one. 0 counts as 1.
  std::size_t redelivery_prune_step = 2048;

  // One writer per database, with the commits' own cursors and no conflict checks
  // (tools, tests). While set, the store holds the session-level advisory lock
  // kPostgresExclusiveLockKey on its writer connection for its whole life (taken
  // again after a reconnect) and open fails while another session holds it, after
  // waiting up to 2 s for it (the time a killed predecessor's session takes to end).
  //
  // Off, the store is shared (Store::shared(); switchboardd's way): any number of
  // nodes write the database, each under its own node_id; the store hands out
  // cursors in commit order and checks each commit against what the others wrote
  // (docs/storage.md, "Several nodes").
  bool exclusive = true;

  // This node's name among those sharing the database: stable across restarts (a
  // node restarted under its id delivers the outbound messages it had taken on) and
  // unique among them.
  std::string node_id = "node";
};

// The advisory lock an exclusive store holds, in the database it uses (advisory locks
// are per database): "SwitchBd" in ASCII. Operators can see the holder with
// SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 1667777124
// AND classid = 1400334708 (the key's low and high 32 bits).
inline constexpr int64_t kPostgresExclusiveLockKey = 0x5377697463684264;

// Connects, migrates the schema, then starts the writer.
//
// Errors: kUnavailable "postgresql: ..." when the server cannot be reached or the
// schema cannot be written; kFailedPrecondition when the database's schema is newer
// than this binary knows; kFailedPrecondition "postgresql: another switchboardd is
// using this database" when `exclusive` and another session holds
// kPostgresExclusiveLockKey.
//
// The Store's contract (store.h) holds; in addition, `done` runs on the store's
// completion thread, in append order (keep it short: later answers wait); a failed transaction
// (connection lost, server stopped) rolls back and reports kUnavailable
// "postgresql: <reason>" to every commit in it, and the writer reconnects for the next
// one; when `exclusive`, a reconnected writer takes the lock again before it writes,
// and while another session holds it each batch fails with kUnavailable (the lock of
// a session the server has not yet seen end, say after a network failure, is released
// when the server notices); a repeated (conversation, seq) fails only its own commit,
// with kAlreadyExists (exclusive) or kAborted "conflict: ..." (shared);
// events_after never passes an event whose transaction may still commit below it
// (see PostgresStore); every transaction that stores events sends one
// `NOTIFY switchboard_events`; destroying the store commits what was appended, calls
// every `done`, releases the lock, then disconnects.
Result<std::unique_ptr<Store>> open_postgres_store(const PostgresOptions& options);

}  // namespace switchboard::router
