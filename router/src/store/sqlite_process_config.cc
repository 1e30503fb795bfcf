#include "sqlite_process_config.h"

#include <sqlite3.h>

#include <new>

namespace switchboard::router::store {
namespace {

// SQLite's lock byte sits at 1 GiB (PENDING_BYTE; only its test builds move it); the
// page after the one holding it is where balance_nonroot parks a page it renumbers.
constexpr unsigned kLockByte = 0x40000000;

sqlite3_pcache_methods2 g_inner{};

struct Cache {
  sqlite3_pcache* inner;
  TruncationGuard guard;
};

Cache& of(sqlite3_pcache* cache) { return *reinterpret_cast<Cache*>(cache); }

int init(void*) { return g_inner.xInit != nullptr ? g_inner.xInit(g_inner.pArg) : SQLITE_OK; }
void shutdown(void*) {
  if (g_inner.xShutdown != nullptr) g_inner.xShutdown(g_inner.pArg);
}

sqlite3_pcache* create(int page_size, int extra, int purgeable) {
  sqlite3_pcache* inner = g_inner.xCreate(page_size, extra, purgeable);
  if (inner == nullptr) return nullptr;
  auto* cache = new (std::nothrow) Cache{inner, TruncationGuard(kLockByte / static_cast<unsigned>(page_size) + 1)};
  if (cache == nullptr) g_inner.xDestroy(inner);
  return reinterpret_cast<sqlite3_pcache*>(cache);
}

void set_size(sqlite3_pcache* cache, int pages) { g_inner.xCachesize(of(cache).inner, pages); }
int page_count(sqlite3_pcache* cache) { return g_inner.xPagecount(of(cache).inner); }

sqlite3_pcache_page* fetch(sqlite3_pcache* cache, unsigned page, int create_flag) {
  Cache& c = of(cache);
  sqlite3_pcache_page* found = g_inner.xFetch(c.inner, page, create_flag);
  if (found != nullptr) c.guard.fetched(page);
  return found;
}

void unpin(sqlite3_pcache* cache, sqlite3_pcache_page* page, int discard) {
  g_inner.xUnpin(of(cache).inner, page, discard);
}

void renumber(sqlite3_pcache* cache, sqlite3_pcache_page* page, unsigned from, unsigned to) {
  Cache& c = of(cache);
  g_inner.xRekey(c.inner, page, from, to);
  c.guard.renumbered(to);
}

void truncate(sqlite3_pcache* cache, unsigned limit) {
  Cache& c = of(cache);
  if (c.guard.must_truncate(limit)) g_inner.xTruncate(c.inner, limit);
}

void destroy(sqlite3_pcache* cache) {
  Cache* c = &of(cache);
  g_inner.xDestroy(c->inner);
  delete c;
}

void shrink(sqlite3_pcache* cache) { g_inner.xShrink(of(cache).inner); }

bool wrap_page_cache() {
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &g_inner) != SQLITE_OK || g_inner.xCreate == nullptr) return false;
  const sqlite3_pcache_methods2 wrapper{
      .iVersion = g_inner.iVersion,
      .pArg = nullptr,
      .xInit = init,
      .xShutdown = shutdown,
      .xCreate = create,
      .xCachesize = set_size,
      .xPagecount = page_count,
      .xFetch = fetch,
      .xUnpin = unpin,
      .xRekey = renumber,
      .xTruncate = truncate,
      .xDestroy = destroy,
      .xShrink = g_inner.xShrink != nullptr ? shrink : nullptr,
  };
  return sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapper) == SQLITE_OK;  // SQLite copies it
}

bool configure() {
  const bool statistics_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  return wrap_page_cache() && statistics_off;
}

// Before main: sqlite3_config() is refused once SQLite was used. Nothing in this
// process uses SQLite from a static initializer.
const bool g_configured = configure();

}  // namespace

bool sqlite_configured() { return g_configured; }

}  // namespace switchboard::router::store
