#pragma once

// The embedded durable Store: one SQLite file in WAL mode, written by one thread that
// commits everything queued in one transaction (group commit), so throughput is not
// bounded by the disk's fsync rate. Link switchboard::store_sqlite.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <switchboard/router/error.h>
#include <switchboard/router/store.h>

namespace switchboard::router {

struct SqliteOptions {
  // The database file; created with its schema when missing. Its directory must exist
  // and be writable (SQLite keeps PATH-wal and PATH-shm next to it).
  std::string path;

  // kFull: a commit is on disk (the WAL fsync'd) before `done` reports it; nothing
  // acknowledged is lost, even to a power loss.
  // kNormal: the WAL is fsync'd only at checkpoints. A process crash (kill -9) still
  // loses nothing, but a power loss or kernel crash may lose the last transactions
  // before it, and with them messages that were acknowledged. The file stays
  // consistent either way.
  enum Synchronous { kFull, kNormal } synchronous = kFull;

  // Upper bound of events written in one transaction; a commit is never split.
  std::size_t max_batch_events = 4096;

  // Redelivery answers ((channel, external_id) -> the first result) kept, the newest;
  // older ones are deleted in steps of redelivery_prune_step, at most a tenth of this
  // (so that many more are held for a while). At least Limits::dedupe_entries (the
  // Desk's window, which load() fills), so a restart forgets none the Desk knew.
  std::size_t keep_redelivery_answers = 1'000'000;
  // Answers deleted at once. A step is part of one batch's transaction, so it bounds
  // how long the commits in that batch wait: a tenth of a million rows in one step
  // held them for hundreds of milliseconds. Deleting one by one would instead dirty
  // an index page per message. 0 counts as 1.
  std::size_t redelivery_prune_step = 2048;

  // How long a connection waits for a lock held by another process (a backup, the
  // sqlite3 shell) before the operation fails.
  std::chrono::milliseconds busy_timeout{5000};

  // Pages the writer keeps in memory. Pages it has to read again from the file cost a
  // system call each inside the transaction, with the write lock held.
  uint64_t writer_cache_bytes = 64ull << 20;

  // The largest size the database file may grow to; 0: no limit. Appends that need
  // more space fail like on a full disk.
  uint64_t max_size_bytes = 0;

  // The checkpoint thread writes the pages it copied into the database file back to
  // the disk this many bytes at a time, each chunk waited for, so that the commits'
  // WAL syncs never queue behind megabytes of them (Linux; elsewhere the syncs flush
  // everything at once). At half load this took the p99 of an acknowledgement from
  // about 6 to about 4 ms (BENCHMARKS.md). Larger files use larger chunks, at most
  // 1,024 a pass. 0: no write-back between the syncs.
  uint64_t writeback_chunk_bytes = 256u << 10;

  // Rows per part at start-up (Store::load_in_parts): enough that handing a part to
  // the Desk costs nothing next to decoding it, few enough that the Desk starts at
  // once. 0: everything in one part.
  std::size_t rows_per_load_part = 8192;
};

// Opens (creating if needed) and migrates the database, then starts the writer.
//
// Errors: kUnavailable "sqlite: ..." when the file cannot be opened or written (no
// such directory, read-only file, not a database); kFailedPrecondition when its schema
// is newer than this binary knows.
//
// The Store's contract (store.h) holds; in addition, `done` runs on the store's
// completion thread, in append order (keep it short: later answers wait), a failed transaction
// reports kUnavailable "sqlite: <reason>" to every commit in it and none of them is
// stored, and destroying the store commits what was appended, calls every `done`,
// then closes the file.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options);

}  // namespace switchboard::router
