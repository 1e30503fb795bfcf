#pragma once

// PostgresStore, behind open_postgres_store() (<switchboard/router/postgres_store.h>).
//
// Threads: append() encodes the commit on the caller's thread and queues it
// (group_commit.h). One writer thread owns the write connection: it takes everything
// queued (up to max_batch_events), writes it in one transaction with prepared
// statements, sends one NOTIFY if the transaction stored events, commits, publishes
// the new head; the completion thread runs the `done` callbacks in order meanwhile. A failed transaction drops a
// lost connection; the next batch connects again (and, when exclusive, takes the
// advisory lock again on the new connection before writing). Reads use a second connection under
// read_mutex_, reconnecting once when it was lost.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction>

#include <switchboard/router/postgres_store.h>

#include "group_commit.h"

namespace switchboard::router::store {

// What the writer has done so far; for tests, benchmarks and health reporting.
struct PostgresStats {
  uint64_t transactions = 0;         // committed
  uint64_t failed_transactions = 0;  // rolled back (or lost)
  uint64_t commits = 0;              // Commits stored
  uint64_t events = 0;               // events stored
  uint64_t largest_batch = 0;        // Commits in one transaction, at most
  uint64_t notifications = 0;        // NOTIFYs sent, at most one per transaction
  uint64_t connects = 0;             // writer connections opened again after one was lost
};

class PostgresStore final : public Store {
 public:
  static Result<std::unique_ptr<PostgresStore>> open(const PostgresOptions& options);
  ~PostgresStore() override;

  void append(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) override;
  std::vector<Event> events_after(uint64_t after, std::size_t limit) const override;
  std::vector<Event> timeline(const std::string& conversation_id, std::size_t limit) const override;
  uint64_t head() const override { return head_.load(std::memory_order_acquire); }
  Result<StoredState> load(std::size_t inbound_seen_limit) override;
  bool shared() const override { return !options_.exclusive; }
  std::string node_id() const override { return options_.node_id; }
  Result<Changes> changes_since(uint64_t position) const override;
  Result<StoredState> load_records(const RecordKeys& keys) const override;
  Result<std::vector<std::string>> heartbeat(std::chrono::seconds silent_for) override;

  PostgresStats stats() const;

  // For tests: appends queue up until release_writes(), then share transactions.
  void hold_writes() { queue_.hold(); }
  void release_writes() { queue_.release(); }

 private:
  using Connection = std::unique_ptr<pqxx::connection>;

  PostgresStore(PostgresOptions options, Connection writer, Connection reader, uint64_t head);

  void write_loop();
  // Lost a race with another node (shared stores): the commit fails with kAborted.
  struct Conflict : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  struct Position {
    uint64_t head = 0;      // the newest event's cursor
    uint64_t position = 0;  // write transactions committed
  };

  Status write_transaction(std::span<const EncodedCommit> batch);
  Status connect_writer();
  Position lock_position(pqxx::work& tx);
  void check_conflicts(pqxx::work& tx, std::span<const EncodedCommit> batch);
  void taint(const Commit& commit);
  class TransactionRows;
  void write_commit(pqxx::work& tx, const EncodedCommit& pending, uint64_t position, uint64_t first_cursor,
                    TransactionRows& rows);
  void count(std::span<const EncodedCommit> batch, bool notified);

  // Runs `read` in a transaction on the reader, connecting again once if the
  // connection was lost. Does not throw.
  Status read(const std::function<void(pqxx::dbtransaction&)>& read) const;
  // `use` with the reader connection, under read_mutex_, reconnecting once when lost.
  Status with_reader(const std::function<void(pqxx::connection&)>& use) const;

  const PostgresOptions options_;
  Connection writer_;  // the writer thread's once it runs; null after it was lost

  mutable std::mutex read_mutex_;
  mutable Connection reader_;  // null after it was lost

  // Records ("kind/key") written by a commit of this node that lost a race, refused
  // until a commit says they were reloaded (Commit::reloaded). Writer thread only.
  std::set<std::string> tainted_;
  // Redelivery answers written since old ones were last pruned; the writer's. Starts
  // high: the first transaction after opening prunes.
  std::size_t answers_since_prune_ = std::numeric_limits<std::size_t>::max() / 2;

  CommitQueue queue_;
  Completions completions_;  // after the writer thread ends, answers what it wrote
  std::atomic<uint64_t> head_{0};
  mutable std::mutex stats_mutex_;
  PostgresStats stats_;

  std::thread writer_thread_;  // last: starts once everything above exists
};

}  // namespace switchboard::router::store
