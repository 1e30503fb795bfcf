#include "sqlite_checkpointer.h"

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

void Checkpointer::after_commit() {
  if (wal_pages_ >= kWriterPages) {
    // Errors are not the commit's: it is durable in the WAL already, and the next
    // checkpoint tries again.
    sqlite3_wal_checkpoint_v2(writer_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    wal_pages_ = 0;
    std::lock_guard lock(mutex_);
    ++checkpoints_;
  } else if (wal_pages_ >= kBackgroundPages) {
    {
      std::lock_guard lock(mutex_);
      pending_ = true;
    }
    wanted_.notify_one();
  }
}

uint64_t Checkpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

void Checkpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wanted_.wait(lock, [this] { return pending_ || stopping_; });
    if (stopping_) return;
    pending_ = false;
    lock.unlock();
    sqlite3_wal_checkpoint_v2(own_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    ++checkpoints_;
  }
}

}  // namespace switchboard::router::store
