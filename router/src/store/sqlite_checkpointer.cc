#include "sqlite_checkpointer.h"

#include <switchboard/router/thread_name.h>

namespace switchboard::router::store {

Checkpointer::Checkpointer(Connection& writer, Connection own, uint64_t writeback_chunk_bytes)
    : writer_(writer),
      own_(std::move(own)),
      writeback_(sqlite3_db_filename(own_.get(), "main"), writeback_chunk_bytes),
      thread_([this] { run(); }) {
  // Replaces the automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(writer_.get(), &Checkpointer::on_wal_commit, this);
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_.get(), nullptr, nullptr);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wanted_.notify_one();
  thread_.join();
}

int Checkpointer::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  static_cast<Checkpointer*>(self)->wal_pages_.store(pages, std::memory_order_relaxed);
  return SQLITE_OK;
}

namespace {

// What a PASSIVE checkpoint found: frames in the WAL, and frames of them copied back
// so far (by this round and earlier ones). Both stay -1 when the connection has not
// opened the WAL or the checkpoint failed. Errors are not the commit's: it is durable
// in the WAL already, and the next checkpoint tries again.
struct Round {
  int wal_frames = -1;
  int backfilled = -1;
};

Round checkpoint(sqlite3* db) {
  Round round;
  const int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &round.wal_frames, &round.backfilled);
  return rc == SQLITE_OK ? round : Round{};
}

// Flushes the pages the thread's rounds copied into the database file. SQLite syncs
// the file only in the checkpoint that reaches the WAL's end, which is the writer's:
// it would flush all that the cycle copied (10-29 ms measured, the writer waiting).
// Errors change nothing: the WAL starts over only after that last sync.
void sync_database(sqlite3* db) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK && file && file->pMethods) {
    file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
  }
}

}  // namespace

void Checkpointer::after_commit() {
  const int pages = wal_pages_.load(std::memory_order_relaxed);
  if (pages >= kWriterPages) {
    checkpoint_on_writer(&Counts::by_writer);
  } else if (pages < kBackgroundPages) {
    asked_ = false;  // the WAL started over
  } else if (!asked_) {
    asked_ = true;
    {
      std::lock_guard lock(mutex_);
      pending_ = true;
      writer_finishes_ = false;
      synced_ = false;
      backfilled_ = 0;  // a WAL that started over has nothing copied back yet
      ++cycles_;
    }
    wanted_.notify_one();
  } else if (left_to_writer()) {
    checkpoint_on_writer(&Counts::finished_by_writer);
  }
}

bool Checkpointer::left_to_writer() {
  std::lock_guard lock(mutex_);
  return writer_finishes_;
}

void Checkpointer::checkpoint_on_writer(uint64_t Counts::*count) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  writer_waits_ = true;
  idle_.wait(lock, [this] { return !running_; });
  running_ = true;
  lock.unlock();
  const bool copied = checkpoint(writer_.get()).backfilled > 0;
  wal_pages_.store(0, std::memory_order_relaxed);
  lock.lock();
  running_ = false;
  writer_waits_ = false;
  pending_ = false;  // done: a round of the thread asked for earlier would find nothing left
  writer_finishes_ = false;
  ++cycles_;
  if (copied) ++(counts_.*count);
  counts_.writer_held +=
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
}

Checkpointer::Counts Checkpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void Checkpointer::run() {
  name_this_thread("sb-checkpoint");
  std::unique_lock lock(mutex_);
  for (;;) {
    wanted_.wait(lock, [this] { return (pending_ && !running_ && !writer_waits_) || stopping_; });
    if (stopping_) return;
    pending_ = false;
    running_ = true;
    lock.unlock();
    const Round round = checkpoint(own_.get());
    lock.lock();
    running_ = false;
    const bool copied = round.backfilled > backfilled_;  // -1 when the round failed
    const Next next = after_round(round.backfilled);
    if (copied && writeback_.enabled()) ++counts_.database_writebacks;
    idle_.notify_all();
    const uint64_t cycle = cycles_;
    lock.unlock();
    // Outside the lock and outside `running_`: the writer may checkpoint meanwhile.
    if (copied) writeback_.run();  // does nothing unless enabled
    if (next != Next::kNoSync) sync_then(next, cycle);
    lock.lock();
  }
}

Checkpointer::Next Checkpointer::after_round(int backfilled) {
  if (backfilled < 0) return Next::kNoSync;  // failed: the writer steps in past kWriterPages
  const int copied = backfilled - backfilled_;
  backfilled_ = backfilled;
  if (copied > 0) ++counts_.background;
  if (copied > kWriterFinishesFrames) {
    pending_ = true;  // the writer added about this many during the round: copy them too
    return Next::kNoSync;
  }
  // Few copied: the writer added little meanwhile, or a reader's snapshot holds the
  // rest back and another round would copy nothing either.
  if (synced_) return Next::kSyncThenLeaveRest;
  synced_ = true;
  return Next::kSyncThenGoAgain;
}

// Not a checkpoint: the writer may run one meanwhile, and may finish the cycle.
void Checkpointer::sync_then(Next next, uint64_t cycle) {
  sync_database(own_.get());
  std::lock_guard lock(mutex_);
  ++counts_.database_syncs;
  if (cycle != cycles_) return;  // the cycle ended meanwhile: what the sync was for is done
  if (next == Next::kSyncThenGoAgain) {
    pending_ = true;  // copy what the writer added during the sync
  } else {
    writer_finishes_ = true;
  }
}

}  // namespace switchboard::router::store
