#pragma once

// Writes a database file's dirty pages back to the disk a chunk at a time, each chunk
// waited for before the next starts, so that the disk's queue never holds more than
// one chunk of them.
//
// Why: the checkpoint thread copies the WAL back into the database file through the
// page cache, then syncs the file. That sync handed the disk megabytes at once, and
// each of the writer's WAL syncs (one per commit, a few pages) queued behind them:
// the end of each WAL cycle set the acknowledgement's p99 at half load. Written back a
// chunk at a time after each round, the pages leave the cache while the commits go
// on, and the sync finds few left (BENCHMARKS.md, "ninth session").
//
// Linux only (sync_file_range); elsewhere run() does nothing and the syncs flush
// everything, as before. Errors change nothing either: a page not written back here
// is flushed by the next sync, which also reports any error to SQLite.

#include <algorithm>
#include <cstdint>

namespace switchboard::router::store {

class DatabaseWriteback {
 public:
  // A pass takes at most this many chunks: in a larger file the chunks grow, so that a
  // pass over a clean gigabyte costs about a millisecond of system calls.
  static constexpr uint64_t kMaxChunksPerPass = 1024;

  // `chunk_bytes` 0: run() does nothing.
  // `path` null or empty (a database in memory), or a file that cannot be opened: run()
  // does nothing.
  DatabaseWriteback(const char* path, uint64_t chunk_bytes);
  ~DatabaseWriteback();
  DatabaseWriteback(const DatabaseWriteback&) = delete;
  DatabaseWriteback& operator=(const DatabaseWriteback&) = delete;

  // Writes back every page of the file that is dirty now; returns when they are on the
  // disk. Clean chunks cost a system call each and no I/O.
  void run() const;

  // Whether run() writes anything back: a chunk size, Linux, and the file opened.
  bool enabled() const { return fd_ >= 0; }

  // The chunk a pass over a file of `file_bytes` uses: `chunk_bytes`, or larger so that
  // the pass takes at most kMaxChunksPerPass.
  static uint64_t chunk_for(uint64_t file_bytes, uint64_t chunk_bytes) {
    return std::max(chunk_bytes, (file_bytes + kMaxChunksPerPass - 1) / kMaxChunksPerPass);
  }

 private:
  int fd_ = -1;  // our own, read-only: write-back is the inode's, whichever descriptor asks
  uint64_t chunk_bytes_;
};

}  // namespace switchboard::router::store
