#pragma once

// SqliteStore, behind open_sqlite_store() (<switchboard/router/sqlite_store.h>).
//
// Threads: append() encodes the commit on the caller's thread and queues it
// (group_commit.h). One writer thread owns the write connection: it takes everything
// queued (up to max_batch_events), writes it in one transaction with prepared
// statements, commits (one fsync at FULL), publishes the new head, then hands the
// batch to the completion thread, which runs the `done` callbacks in order while the
// writer goes on (or, when nothing waits to be written and nothing is left
// unanswered, runs them itself: Completions::answer). Reads use a second connection under read_mutex_; WAL lets them
// run while the writer writes, and they see committed transactions only. A third connection checkpoints the WAL on a
// thread of its own (sqlite_checkpointer.h), told after each batch; the writer copies the last few frames of each WAL
// cycle itself.

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <switchboard/router/sqlite_store.h>

#include "group_commit.h"
#include "sqlite_checkpointer.h"
#include "sqlite_connection.h"

namespace switchboard::router::store {

// What the writer has done so far; for tests, benchmarks and health reporting.
struct SqliteStats {
  uint64_t transactions = 0;          // committed
  uint64_t failed_transactions = 0;   // rolled back
  uint64_t commits = 0;               // Commits stored
  uint64_t events = 0;                // events stored
  uint64_t largest_batch = 0;         // Commits in one transaction, at most
  uint64_t writing_us = 0;            // in transactions, the fsync included: the writer's busy time
  uint64_t wal_frames = 0;            // pages written to the WAL (a frame each), the disk's work per commit
  uint64_t checkpoints = 0;           // rounds of the checkpoint thread that copied WAL frames back
  uint64_t writer_finishes = 0;       // the last frames of a WAL cycle, copied by the writer after the thread
  uint64_t writer_checkpoints = 0;    // what was left of the WAL, by the writer, when it outgrew the thread
  uint64_t writer_checkpoint_us = 0;  // the writer held up by both kinds, waiting for the thread included
  uint64_t database_syncs = 0;        // by the checkpoint thread: two a cycle it leaves the writer to finish
  uint64_t database_writebacks = 0;  // passes of the checkpoint thread writing the file back, one per round that copied
  uint64_t wal_pages = 0;            // in the WAL after the last commit
};

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> open(const SqliteOptions& options);
  ~SqliteStore() override;

  void append(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) override;
  std::vector<Event> events_after(uint64_t after, std::size_t limit) const override;
  std::vector<Event> timeline(const std::string& conversation_id, std::size_t limit) const override;
  uint64_t head() const override { return head_.load(std::memory_order_acquire); }
  Result<StoredState> load(std::size_t inbound_seen_limit) override;
  Status load_in_parts(std::size_t inbound_seen_limit, const std::function<void(StoredState)>& take) override;

  SqliteStats stats() const;

  // For tests: appends queue up until release_writes(), then share transactions.
  void hold_writes() { queue_.hold(); }
  void release_writes() { queue_.release(); }

 private:
  struct Writes;
  struct Reads;

  SqliteStore(SqliteOptions options, Connection writer, Connection reader);
  Status prepare();
  // Every record, handed to `take` each `rows_per_part` rows and once at the end.
  Status read_records(std::size_t inbound_seen_limit, std::size_t rows_per_part,
                      const std::function<void(StoredState)>& take);

  void write_loop();
  Status write_transaction(std::span<const EncodedCommit> batch);
  void write_commit(const EncodedCommit& pending, int& rc);
  void write_conversation(int& rc, const std::string& id, const std::string& contact_id, const std::string& body);
  void write_event(int& rc, uint64_t cursor, const std::string& conversation_id, uint64_t seq, const std::string& body);
  void write_heads(int& rc);
  void refuse_seq(int& rc, const std::string& conversation_id, uint64_t seq);

  std::vector<Event> read_events(Statement& query) const;

  const SqliteOptions options_;
  Connection writer_;  // the writer thread's, once it runs
  std::unique_ptr<Writes> writes_;

  mutable std::mutex read_mutex_;
  Connection reader_;
  std::unique_ptr<Reads> reads_;

  std::unique_ptr<Checkpointer> checkpointer_;  // uses writer_: destroyed before it
  // Redelivery answers written since old ones were last pruned; the writer's. Starts
  // high: the first answer written after opening prunes.
  std::size_t answers_since_prune_ = std::numeric_limits<std::size_t>::max() / 2;
  // The newest event this transaction wrote of each conversation (the writer's):
  // its next event is chained to it directly, and event_heads is written once per
  // conversation and transaction (write_heads) rather than once per event.
  struct Head {
    uint64_t cursor = 0;
    uint64_t seq = 0;
    uint64_t first_seq = 0;  // of the transaction's first event: above the stored head's
  };
  std::unordered_map<std::string, Head> heads_;
  std::string refused_;     // why the writer itself failed the transaction, if it did
  uint64_t wal_pages_ = 0;  // the writer's: in the WAL after its last commit, to count frames written

  CommitQueue queue_;
  Completions completions_;  // after the writer thread ends, answers what it wrote

  std::atomic<uint64_t> head_{0};
  mutable std::mutex stats_mutex_;
  SqliteStats stats_;

  std::thread writer_thread_;  // last: starts once everything above exists
};

}  // namespace switchboard::router::store
