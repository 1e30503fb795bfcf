#include "postgres_store.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <string_view>
#include <thread>
#include <utility>

#include <pqxx/pqxx>

#include "postgres_error.h"
#include "postgres_schema.h"
#include "record_codec.h"
#include "sql_store_common.h"

namespace switchboard::router {
namespace store {
namespace {

// Reads see one snapshot for all their statements: load() gets every table as of the
// same commit, and events_after's visibility rule and its rows agree.
using ReadTransaction = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

// The writer's prepared statements, (name, SQL); prepared again on every connection.
constexpr std::array<std::pair<const char*, const char*>, 10> kWrites = {{
    {"insert_event", "INSERT INTO events(cursor, conversation_id, seq, body) VALUES($1, $2, $3, $4)"},
    {"upsert_contact", "INSERT INTO contacts(id, body) VALUES($1, $2) ON CONFLICT(id) DO UPDATE SET body = $2"},
    {"upsert_conversation",
     "INSERT INTO conversations(id, contact_id, body) VALUES($1, $2, $3) "
     "ON CONFLICT(id) DO UPDATE SET contact_id = $2, body = $3"},
    {"upsert_outbox",
     "INSERT INTO outbox(outbound_id, conversation_id, status, body) VALUES($1, $2, $3, $4) "
     "ON CONFLICT(outbound_id) DO UPDATE SET conversation_id = $2, status = $3, body = $4"},
    {"upsert_agent", "INSERT INTO agents(id, body) VALUES($1, $2) ON CONFLICT(id) DO UPDATE SET body = $2"},
    {"upsert_queue", "INSERT INTO queues(id, body) VALUES($1, $2) ON CONFLICT(id) DO UPDATE SET body = $2"},
    {"upsert_merge",
     "INSERT INTO merges(id, target_id, source_id, body) VALUES($1, $2, $3, $4) "
     "ON CONFLICT(id) DO UPDATE SET target_id = $2, source_id = $3, body = $4"},
    // EXCLUDED.arrival is the proposed row's default: a re-answered key counts as new.
    {"upsert_seen",
     "INSERT INTO inbound_seen(channel, external_id, contact_id, conversation_id, body) VALUES($1, $2, $3, $4, $5) "
     "ON CONFLICT(channel, external_id) DO UPDATE SET contact_id = $3, conversation_id = $4, body = $5, "
     "arrival = EXCLUDED.arrival"},
    {"raise_head", "UPDATE meta SET value = GREATEST(value, $1) WHERE key = 'head'"},
    {"notify", "NOTIFY switchboard_events"},
}};

// Tailing without skipping. events.xid is the transaction that wrote each row. A
// transaction id below the oldest one still in flight (the snapshot's xmin) belongs
// to a transaction that has ended, so every row it wrote is visible now or never
// will be; a row at or above xmin may be committed while another, still in flight,
// holds a lower cursor. So events_after returns only rows below xmin: a reader that
// moves its cursor past what it got never passes a row that is yet to commit. The
// price is a short delay: a committed row shows once every transaction older than it
// has ended. This is exact while cursors grow with transaction ids, which one writer
// per database gives (it commits its batches in cursor order); nodes sharing a
// database must keep that (take cursors in transaction order) or tail by (xid, cursor).
constexpr const char* kEventsAfter =
    "SELECT body FROM events WHERE cursor > $1 AND xid < pg_snapshot_xmin(pg_current_snapshot()) "
    "ORDER BY cursor LIMIT $2";
constexpr const char* kTimeline =
    "SELECT body FROM (SELECT seq, body FROM events WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2) last "
    "ORDER BY seq";
constexpr const char* kHead = "SELECT value FROM meta WHERE key = 'head'";

// The name kWrites gives each row statement.
const char* row_statement(RowWrite which) {
  switch (which) {
    case RowWrite::kInsertEvent:
      return "insert_event";
    case RowWrite::kUpsertContact:
      return "upsert_contact";
    case RowWrite::kUpsertConversation:
      return "upsert_conversation";
    case RowWrite::kUpsertOutbox:
      return "upsert_outbox";
    case RowWrite::kUpsertAgent:
      return "upsert_agent";
    case RowWrite::kUpsertQueue:
      return "upsert_queue";
    case RowWrite::kUpsertMerge:
      return "upsert_merge";
    case RowWrite::kUpsertSeen:
      return "upsert_seen";
  }
  return "";  // not reached: every RowWrite is above
}

std::string erase_statement(Erasure which, std::size_t i) {
  return (which == Erasure::kConversation ? "erase_conversation_" : "erase_contact_") + std::to_string(i);
}

std::string_view text(const pqxx::field& field) { return {field.c_str(), field.size()}; }

Result<std::unique_ptr<pqxx::connection>> connect(const std::string& uri) {
  try {
    return std::make_unique<pqxx::connection>(uri);
  } catch (const std::exception& e) {
    Error error = postgres_error(e);
    error.code = ErrorCode::kUnavailable;
    error.message = "postgresql: cannot connect: " + error.message.substr(std::string_view("postgresql: ").size());
    return error;
  }
}

// The exclusive store's lock (PostgresOptions::exclusive). Session-level: it outlives
// the statement's transaction and goes with the connection, so a writer that lost its
// connection must take it again on the next one.
constexpr const char* kTakeLock = "SELECT pg_try_advisory_lock($1)";
constexpr const char* kReleaseLock = "SELECT pg_advisory_unlock($1)";
constexpr const char* kLockHeld =
    "postgresql: another switchboardd is using this database; several nodes on one database come later";

// OK once `db` holds the lock; kFailedPrecondition kLockHeld while another session
// holds it.
Status take_exclusive_lock(pqxx::connection& db) {
  try {
    pqxx::nontransaction tx(db);
    if (tx.exec_params1(kTakeLock, kPostgresExclusiveLockKey)[0].as<bool>()) return ok_status();
    return failed_precondition(kLockHeld);
  } catch (const std::exception& e) {
    return postgres_error(e);
  }
}

// A predecessor killed a moment ago (a restart after kill -9) still holds the lock
// until its server process notices the closed socket and exits, which takes a moment:
// open waits that long before calling the database taken. Reconnects do not wait: the
// batch fails and the next one tries again.
constexpr auto kLockGrace = std::chrono::seconds(2);
constexpr auto kLockRetry = std::chrono::milliseconds(100);

Status take_exclusive_lock_at_open(pqxx::connection& db) {
  const auto give_up = std::chrono::steady_clock::now() + kLockGrace;
  for (;;) {
    Status locked = take_exclusive_lock(db);
    if (locked || locked.error().code != ErrorCode::kFailedPrecondition ||
        std::chrono::steady_clock::now() >= give_up) {
      return locked;
    }
    std::this_thread::sleep_for(kLockRetry);
  }
}

// Prepared statements belong to their connection: each new one prepares them.
Status prepare_writes(pqxx::connection& db) {
  try {
    for (auto [name, sql] : kWrites) db.prepare(name, sql);
    for (std::size_t i = 0; i < kEraseConversation.size(); ++i) {
      db.prepare(erase_statement(Erasure::kConversation, i), kEraseConversation[i]);
    }
    for (std::size_t i = 0; i < kEraseContact.size(); ++i) {
      db.prepare(erase_statement(Erasure::kContact, i), kEraseContact[i]);
    }
    return ok_status();
  } catch (const std::exception& e) {
    return postgres_error(e);
  }
}

// Rows that do not decode are skipped rather than thrown: these reads have no error
// channel, and only a damaged table (or a bug) holds such rows; load() reports them.
std::vector<Event> decode_events(const pqxx::result& rows) {
  std::vector<Event> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    if (auto event = decode<Event>(text(row[0]))) out.push_back(std::move(*event));
  }
  return out;
}

// Reads (key, body) rows into records; a body that does not decode names its row.
template <typename T>
Status decode_rows(std::string_view table, const pqxx::result& rows, std::vector<T>& out) {
  out.clear();
  for (const auto& row : rows) {
    auto record = decode<T>(text(row[1]));
    if (!record) {
      return failed_precondition("postgresql: cannot decode " + std::string(table) + " '" + row[0].c_str() +
                                 "': " + record.error().message);
    }
    out.push_back(std::move(*record));
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const PostgresOptions& options) {
  auto writer = connect(options.uri);
  if (!writer) return writer.error();
  // Before the schema: a second process must not migrate under the first either.
  if (options.exclusive) {
    if (auto locked = take_exclusive_lock_at_open(**writer); !locked) return locked.error();
  }
  if (auto migrated = migrate_postgres(**writer); !migrated) return migrated.error();
  auto reader = connect(options.uri);
  if (!reader) return reader.error();
  uint64_t head = 0;
  try {
    ReadTransaction tx(**reader);
    head = tx.exec1(kHead)[0].as<uint64_t>();
    tx.commit();
  } catch (const std::exception& e) {
    return postgres_error(e);
  }
  if (auto prepared = prepare_writes(**writer); !prepared) return prepared.error();
  std::unique_ptr<PostgresStore> store(new PostgresStore(options, std::move(*writer), std::move(*reader), head));
  store->writer_thread_ = std::thread([s = store.get()] { s->write_loop(); });
  return store;
}

PostgresStore::PostgresStore(PostgresOptions options, Connection writer, Connection reader, uint64_t head)
    : options_(std::move(options)),
      writer_(std::move(writer)),
      reader_(std::move(reader)),
      queue_(options_.max_batch_events),
      head_(head) {}

PostgresStore::~PostgresStore() {
  queue_.stop();
  if (writer_thread_.joinable()) writer_thread_.join();
  // Closing the connection would release the lock too, but only once the server has
  // ended the session, after this returns: unlocking first lets a store opened right
  // after this one (a restart in the same process) take it.
  if (options_.exclusive && writer_ && writer_->is_open()) {
    try {
      pqxx::nontransaction tx(*writer_);
      tx.exec_params(kReleaseLock, kPostgresExclusiveLockKey);
    } catch (const std::exception&) {
      // The connection closes below, and the session's locks go with it.
    }
  }
}

void PostgresStore::append(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) {
  queue_.push(EncodedCommit::encode(std::move(commit), std::move(done)));
}

void PostgresStore::write_loop() {
  const auto write = [this](std::span<const EncodedCommit> batch) { return write_transaction(batch); };
  for (;;) {
    std::vector<EncodedCommit> batch = queue_.take();
    if (batch.empty()) return;  // stopping, and everything appended is done
    commit_in_group(batch, write);
  }
}

// Keeps the connection while it works; replaces a lost one (the server restarted, the
// network failed), since libpqxx does not reconnect a connection by itself here.
Status PostgresStore::connect_writer() {
  if (writer_ && writer_->is_open()) return ok_status();
  auto connected = connect(options_.uri);
  if (!connected) return connected.error();
  if (options_.exclusive) {
    // Without the lock this store could write beside another switchboardd: the batch
    // fails instead, and the next one tries again on a new connection. The old
    // session's lock may still be held until the server notices it is gone.
    if (auto locked = take_exclusive_lock(**connected); !locked) {
      Error error = locked.error();
      error.code = ErrorCode::kUnavailable;
      return error;
    }
  }
  if (auto prepared = prepare_writes(**connected); !prepared) return prepared;
  writer_ = std::move(*connected);
  std::lock_guard lock(stats_mutex_);
  ++stats_.connects;
  return ok_status();
}

Status PostgresStore::write_transaction(std::span<const EncodedCommit> batch) {
  Status connected = connect_writer();
  uint64_t head = 0;
  std::size_t events = 0;
  for (const auto& pending : batch) {
    for (const auto& event : pending.commit->events) head = std::max(head, event.cursor);
    events += pending.commit->events.size();
  }
  if (connected) {
    try {
      pqxx::work tx(*writer_);
      for (const auto& pending : batch) write_commit(tx, pending);
      if (head != 0) tx.exec_prepared0("raise_head", head);
      // A wake-up for other nodes, once per transaction: NOTIFY takes a database-wide
      // lock at commit, which per event would serialise every writer.
      if (events != 0) tx.exec_prepared0("notify");
      tx.commit();
    } catch (const std::exception& e) {
      if (connection_lost(e) || !writer_->is_open()) writer_.reset();
      connected = postgres_error(e);
    }
  }
  if (!connected) {
    std::lock_guard lock(stats_mutex_);
    ++stats_.failed_transactions;
    return connected;
  }
  head_.store(std::max(head, head_.load(std::memory_order_relaxed)), std::memory_order_release);
  std::lock_guard lock(stats_mutex_);
  ++stats_.transactions;
  stats_.commits += batch.size();
  stats_.events += events;
  stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, batch.size());
  if (events != 0) ++stats_.notifications;
  return ok_status();
}

// What it writes, and in what order, is every SQL store's (sql_store_common.h).
void PostgresStore::write_commit(pqxx::work& tx, const EncodedCommit& p) {
  for_each_write(
      p, [&](RowWrite which, const auto&... args) { tx.exec_prepared0(row_statement(which), args...); },
      [&](Erasure which, const std::string& id) {
        const std::size_t statements =
            which == Erasure::kConversation ? kEraseConversation.size() : kEraseContact.size();
        for (std::size_t i = 0; i < statements; ++i) tx.exec_prepared0(erase_statement(which, i), id);
      });
}

Status PostgresStore::read(const std::function<void(pqxx::dbtransaction&)>& read) const {
  std::lock_guard lock(read_mutex_);
  for (int attempt = 0;; ++attempt) {
    try {
      if (!reader_) reader_ = std::make_unique<pqxx::connection>(options_.uri);
      ReadTransaction tx(*reader_);
      read(tx);
      tx.commit();
      return ok_status();
    } catch (const std::exception& e) {
      const bool lost = connection_lost(e) || (reader_ && !reader_->is_open());
      if (lost) reader_.reset();
      if (!lost || attempt > 0) return postgres_error(e);
    }
  }
}

std::vector<Event> PostgresStore::events_after(uint64_t after, std::size_t limit) const {
  std::vector<Event> events;
  (void)read(
      [&](pqxx::dbtransaction& tx) { events = decode_events(tx.exec_params(kEventsAfter, after, sql_limit(limit))); });
  return events;
}

std::vector<Event> PostgresStore::timeline(const std::string& conversation_id, std::size_t limit) const {
  std::vector<Event> events;
  (void)read([&](pqxx::dbtransaction& tx) {
    events = decode_events(tx.exec_params(kTimeline, conversation_id, sql_limit(limit)));
  });
  return events;
}

PostgresStats PostgresStore::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

Result<StoredState> PostgresStore::load(std::size_t inbound_seen_limit) {
  StoredState state;
  Status decoded = ok_status();
  const Status read_all = read([&](pqxx::dbtransaction& tx) {
    const auto rows = [&](std::string_view table, const char* sql, auto& out) {
      if (decoded) decoded = decode_rows(table, tx.exec(sql), out);
    };
    for_each_loaded_table(state, rows);
    if (decoded) {
      decoded = decode_rows("inbound_seen",
                            tx.exec_params("SELECT channel || ':' || external_id, body FROM "
                                           "(SELECT channel, external_id, body, arrival FROM inbound_seen "
                                           "ORDER BY arrival DESC LIMIT $1) newest ORDER BY arrival",
                                           sql_limit(inbound_seen_limit)),
                            state.inbound_seen);
    }
    state.head = tx.exec1(kHead)[0].as<uint64_t>();
  });
  if (!read_all) return read_all.error();
  if (!decoded) return decoded.error();
  return state;
}

}  // namespace store

Result<std::unique_ptr<Store>> open_postgres_store(const PostgresOptions& options) {
  auto store = store::PostgresStore::open(options);
  if (!store) return store.error();
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace switchboard::router
