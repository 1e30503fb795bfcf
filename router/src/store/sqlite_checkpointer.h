#pragma once

// Copies the WAL back into the database file on a thread and connection of its own,
// so that the writer's commits do not wait for it. SQLite's automatic checkpoint runs
// inside the COMMIT that crosses the threshold: at synchronous=FULL that commit also
// waits for the database file's fsync, and every `done` of its batch with it.
//
// A PASSIVE checkpoint never blocks the writer. While the writer keeps writing,
// though, it cannot finish the WAL's last frames, and SQLite restarts the WAL from
// its beginning only once all of them are copied; so past a larger size the writer
// finishes the job itself, which is quick because little is left to copy. It first
// waits for the thread's checkpoint, if one runs: SQLite refuses a second checkpoint
// meanwhile, and retrying at each commit would let the WAL grow without bound.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "sqlite_connection.h"

namespace switchboard::router::store {

class Checkpointer {
 public:
  // WAL sizes, in pages, at which the thread checkpoints (SQLite's own default) and
  // at which the writer does.
  // The thread runs once per WAL cycle, late: a page written again and again between
  // checkpoints is copied once, and hot pages (open conversations) are most of them.
  // Checkpointing early and often doubled the bytes written per message.
  static constexpr int kBackgroundPages = 6000;
  static constexpr int kWriterPages = 8000;

  // Takes over `writer`'s checkpoints; `own` is the checkpoint thread's connection to
  // the same file, which must have read it once already: until a connection has
  // opened the WAL, a checkpoint through it does nothing and says nothing. `writer`
  // must outlive this.
  Checkpointer(Connection& writer, Connection own);
  ~Checkpointer();  // stops the thread; closing the last connection checkpoints
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // On the writer's thread after each commit: wakes the thread, or past
  // kWriterPages checkpoints right there.
  void after_commit();

  // Checkpoints that copied frames back: on this thread, and by the writer.
  struct Counts {
    uint64_t background = 0;
    uint64_t by_writer = 0;
  };
  Counts checkpoints() const;

 private:
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  void run();

  Connection& writer_;
  Connection own_;
  int wal_pages_ = 0;   // written by the writer's WAL hook, on the writer's thread
  bool asked_ = false;  // the writer's: the thread was woken in this WAL cycle

  mutable std::mutex mutex_;
  std::condition_variable wanted_;
  std::condition_variable idle_;  // a checkpoint ended
  bool pending_ = false;
  bool running_ = false;  // a checkpoint runs, on either thread: SQLite allows one at a time
  bool stopping_ = false;
  Counts counts_;

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace switchboard::router::store
