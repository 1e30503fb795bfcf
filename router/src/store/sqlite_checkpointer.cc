#include "sqlite_checkpointer.h"

#include <switchboard/router/thread_name.h>

namespace switchboard::router::store {

Checkpointer::Checkpointer(Connection& writer, Connection own)
    : writer_(writer), own_(std::move(own)), thread_([this] { run(); }) {
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
  static_cast<Checkpointer*>(self)->wal_pages_ = pages;
  return SQLITE_OK;
}

namespace {

// Copies what it can of the WAL back; true when it copied anything. Errors are not
// the commit's: it is durable in the WAL already, and the next checkpoint tries again.
bool checkpoint(sqlite3* db) {
  int wal_frames = -1;
  int copied = -1;  // both stay -1 when the connection has not opened the WAL
  const int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
  return rc == SQLITE_OK && copied > 0;
}

}  // namespace

void Checkpointer::after_commit() {
  if (wal_pages_ >= kWriterPages) {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return !running_; });
    running_ = true;
    lock.unlock();
    const bool copied = checkpoint(writer_.get());
    wal_pages_ = 0;
    lock.lock();
    running_ = false;
    pending_ = false;  // done: a round of the thread asked for earlier would find nothing left
    if (copied) ++counts_.by_writer;
  } else if (wal_pages_ < kBackgroundPages) {
    asked_ = false;  // the WAL started over
  } else if (!asked_) {
    asked_ = true;
    {
      std::lock_guard lock(mutex_);
      pending_ = true;
    }
    wanted_.notify_one();
  }
}

Checkpointer::Counts Checkpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void Checkpointer::run() {
  name_this_thread("sb-checkpoint");
  std::unique_lock lock(mutex_);
  for (;;) {
    wanted_.wait(lock, [this] { return (pending_ && !running_) || stopping_; });
    if (stopping_) return;
    pending_ = false;
    running_ = true;
    lock.unlock();
    const bool copied = checkpoint(own_.get());
    lock.lock();
    running_ = false;
    if (copied) ++counts_.background;
    idle_.notify_all();
  }
}

}  // namespace switchboard::router::store
