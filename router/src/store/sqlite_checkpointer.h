#pragma once

// Copies the WAL back into the database file on a thread and connection of its own,
// so that the writer's commits do not wait for it. SQLite's automatic checkpoint runs
// inside the COMMIT that crosses the threshold: at synchronous=FULL that commit also
// waits for the database file's fsync, and every `done` of its batch with it.
//
// A PASSIVE checkpoint never blocks the writer. While the writer keeps writing,
// though, it cannot finish the WAL's last frames, and SQLite restarts the WAL from
// its beginning only once all of them are copied. So the thread goes round again,
// each round copying what the writer added during the last one, until a round finds
// little left; it syncs the database file, copies what came meanwhile, syncs those
// few pages too, and leaves the rest to the writer, which copies it after its next
// commit, between two transactions.
//
// The writer's checkpoint, reaching the WAL's end, makes SQLite sync the database
// file while every commit waits; the thread's second sync leaves that one only the
// pages copied since. With one sync (the pages of the thread's last round still
// unsynced) it held the writer 1.6-2.6 ms, about 30 times in 10 s at half load, and
// the WAL cycle's end is what sets the p99 there (BENCHMARKS.md, "eighth session").
// Before that, the writer copied all that piled up after the thread's one round and
// flushed every page the cycle copied: 14-73 ms once per WAL cycle (BENCHMARKS.md,
// "Durable appends").
//
// After each round that copied frames, the thread writes the database file back a
// chunk at a time (DatabaseWriteback) before anything else: its syncs then flush
// little, and the writer's WAL syncs never queue behind megabytes of its pages.
//
// Past a larger size the writer still finishes the job whatever the thread did
// (after waiting for its round, if one runs: SQLite refuses a second checkpoint
// meanwhile, and retrying at each commit would let the WAL grow without bound).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "database_writeback.h"
#include "sqlite_connection.h"

namespace switchboard::router::store {

class Checkpointer {
 public:
  // WAL sizes, in pages, at which the thread starts its rounds (SQLite's own default)
  // and at which the writer checkpoints regardless.
  // The thread starts once per WAL cycle, late: a page written again and again between
  // checkpoints is copied once, and hot pages (open conversations) are most of them.
  // Checkpointing early and often doubled the bytes written per message.
  static constexpr int kBackgroundPages = 6000;
  static constexpr int kWriterPages = 8000;
  // A round that copied at most this many frames hands the rest to the writer: about
  // what it appends at half load while such a round runs, a millisecond of copying
  // between its transactions.
  static constexpr int kWriterFinishesFrames = 256;

  // Takes over `writer`'s checkpoints; `own` is the checkpoint thread's connection to
  // the same file, which must have read it once already: until a connection has
  // opened the WAL, a checkpoint through it does nothing and says nothing. `writer`
  // must outlive this. `writeback_chunk_bytes`: see DatabaseWriteback (0: none).
  Checkpointer(Connection& writer, Connection own, uint64_t writeback_chunk_bytes);
  ~Checkpointer();  // stops the thread; closing the last connection checkpoints
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // On the writer's thread after each commit: wakes the thread, finishes its cycle
  // when it is nearly done, or past kWriterPages checkpoints right there.
  void after_commit();

  // Checkpoints that copied frames back: rounds of the thread, the writer finishing
  // a cycle after them, and the writer past kWriterPages.
  struct Counts {
    uint64_t background = 0;
    uint64_t finished_by_writer = 0;
    uint64_t by_writer = 0;
    std::chrono::microseconds writer_held{0};  // the writer checkpointing, or waiting to, instead of writing
    uint64_t database_syncs = 0;               // by the thread, of the pages its rounds copied
    uint64_t database_writebacks = 0;          // passes of DatabaseWriteback: one per round that copied
  };
  Counts checkpoints() const;

  // Pages in the WAL after the writer's last commit (0 right after it checkpointed).
  int wal_pages() const { return wal_pages_.load(std::memory_order_relaxed); }

 private:
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  void run();
  // What the thread does after a round.
  enum class Next {
    kNoSync,             // go again if a round is pending, else wait to be asked
    kSyncThenGoAgain,    // sync the database file, then copy what came meanwhile
    kSyncThenLeaveRest,  // sync the few pages the last round copied; the writer copies the rest
  };
  Next after_round(int backfilled);
  // Outside the lock; `cycle` is the one the round was in.
  void sync_then(Next next, uint64_t cycle);
  // The writer's: whether the thread left it the last frames of this WAL cycle.
  bool left_to_writer();
  // Checkpoints on the writer's connection, once the thread's round (if any) ended.
  void checkpoint_on_writer(uint64_t Counts::*count);

  Connection& writer_;
  Connection own_;
  DatabaseWriteback writeback_;    // of own_'s file
  std::atomic<int> wal_pages_{0};  // written by the writer's WAL hook, on the writer's thread
  bool asked_ = false;             // the writer's: the thread was woken in this WAL cycle

  mutable std::mutex mutex_;
  std::condition_variable wanted_;
  std::condition_variable idle_;  // a checkpoint ended
  bool pending_ = false;          // the thread is to run a round
  bool writer_finishes_ = false;  // the thread left the last frames to the writer
  bool running_ = false;          // a checkpoint runs, on either thread: SQLite allows one at a time
  bool writer_waits_ = false;     // for the thread's round to end: the thread starts no other
  bool stopping_ = false;
  int backfilled_ = 0;   // WAL frames copied back in this cycle as of the thread's last round
  bool synced_ = false;  // the thread synced the database file in this cycle
  uint64_t cycles_ = 0;  // WAL cycles begun or finished: what a sync started in an older one was for is done
  Counts counts_;

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace switchboard::router::store
