#pragma once

// SQLite's process-wide settings, which sqlite3_config() takes only before SQLite's
// first use in the process: this library sets them from a static initializer.
//
// Memory statistics off. With them on (SQLite's default) every sqlite3_malloc and
// free takes one process-wide mutex, for figures (sqlite3_memory_used, the soft heap
// limit) that nothing here reads; the writer thread spent about a tenth of its time
// locking and unlocking it under webhook load.
//
// SQLite's own page cache, wrapped to skip the commits' truncations that can drop
// nothing.
//
// Every COMMIT ends by truncating the connection's page cache to the database's size.
// SQLite's cache (pcache1) keeps the largest page number it ever held, and when that
// is far past the limit it walks its whole hash table rather than a few buckets. When
// a B-tree page splits into pages out of order, SQLite swaps two of them through a
// parking number, the page after the 1 GiB lock byte (262,145 at 4 KiB pages), so
// below 1 GiB that largest number stays huge and every commit after a split walks
// every cached page: with the writer's 64 MiB cache (16,384 pages) that was a fifth
// of the writer thread's time under webhook load (perf, BENCHMARKS.md).
//
// The wrapper keeps its own bound on the page numbers the cache holds, leaving out
// the parking number (a page only passes through it within one split), and passes a
// truncation on only when a page at or past the limit may be there.

namespace switchboard::router::store {

// Whether both settings took: false when SQLite was used before this library's
// static initializers ran (the store then works as well, only slower).
bool sqlite_configured();

// The wrapper's bookkeeping for one cache, on its own for tests.
class TruncationGuard {
 public:
  // `parking` is the page number SQLite swaps pages through at this page size.
  explicit TruncationGuard(unsigned parking) : parking_(parking) {}

  void fetched(unsigned page) { highest_ = page > highest_ ? page : highest_; }
  void renumbered(unsigned to) {
    if (to != parking_) fetched(to);
  }
  // Whether truncating to `limit` (dropping pages numbered `limit` and up) may drop
  // something; when it does, nothing at or past `limit` is left afterwards.
  bool must_truncate(unsigned limit) {
    if (limit > highest_) return false;
    highest_ = limit == 0 ? 0 : limit - 1;
    return true;
  }

 private:
  unsigned parking_;
  unsigned highest_ = 0;  // no page past it is cached, the parking number aside
};

}  // namespace switchboard::router::store
