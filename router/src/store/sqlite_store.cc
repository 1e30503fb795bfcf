#include "sqlite_store.h"

#include <switchboard/router/thread_name.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <utility>

#include "decode_rows.h"
#include "record_codec.h"
#include "sql_store_common.h"
#include "sqlite_process_config.h"

namespace switchboard::router {
namespace store {
namespace {

// Schema migrations, oldest first; the database's PRAGMA user_version counts how many
// it has. Append new ones, never edit one that has shipped.
constexpr std::array<const char*, 4> kMigrations = {
    // 1: records as JSON bodies (record_codec.h), keyed by what the reads and the
    // erasures look them up by.
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES('head', 0);
CREATE TABLE events(
  cursor INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
  UNIQUE(conversation_id, seq));
CREATE TABLE contacts(id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE conversations(id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX conversations_by_contact ON conversations(contact_id);
CREATE TABLE outbox(
  outbound_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX outbox_by_conversation ON outbox(conversation_id);
CREATE INDEX outbox_unfinished ON outbox(outbound_id) WHERE status IN ('none', 'pending');
CREATE TABLE agents(id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE queues(id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE merges(id TEXT PRIMARY KEY, target_id TEXT NOT NULL, source_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX merges_by_target ON merges(target_id);
CREATE INDEX merges_by_source ON merges(source_id);
-- The rowid orders answers by arrival: REPLACE gives a re-answered key a new one.
CREATE TABLE inbound_seen(
  channel TEXT NOT NULL, external_id TEXT NOT NULL, contact_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY(channel, external_id));
CREATE INDEX inbound_seen_by_conversation ON inbound_seen(conversation_id);
CREATE INDEX inbound_seen_by_contact ON inbound_seen(contact_id);
)sql",
    // 2: every answer wrote three random index pages and pruning deleted three more;
    // the two indexes served only erasure, which now scans the bounded table instead.
    R"sql(
DROP INDEX inbound_seen_by_conversation;
DROP INDEX inbound_seen_by_contact;
)sql",
    // 3: answers are appended, never replaced: the key's index put a random page in the
    // WAL with every answer. A re-answered key has a newer row, which load() reads after
    // the older one, and pruning by rowid ages out both alike.
    R"sql(
CREATE TABLE inbound_seen_log(
  channel TEXT NOT NULL, external_id TEXT NOT NULL, contact_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
  body TEXT NOT NULL);
INSERT INTO inbound_seen_log(channel, external_id, contact_id, conversation_id, body)
  SELECT channel, external_id, contact_id, conversation_id, body FROM inbound_seen ORDER BY rowid;
DROP TABLE inbound_seen;
ALTER TABLE inbound_seen_log RENAME TO inbound_seen;
)sql",
    // 4: the UNIQUE(conversation_id, seq) index put a random page in the WAL with every
    // call, and slowed the writer by a fifth. Instead each event names the one before
    // it in its conversation (`previous`), and event_heads holds each conversation's
    // newest: timelines and erasure walk that chain back through the cursors' B-tree.
    // The writer keeps what the index enforced: a conversation's seq only goes up.
    R"sql(
CREATE TABLE events_chained(
  cursor INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, previous INTEGER,
  body TEXT NOT NULL);
INSERT INTO events_chained(cursor, conversation_id, seq, previous, body)
  SELECT cursor, conversation_id, seq, lag(cursor) OVER (PARTITION BY conversation_id ORDER BY cursor), body
  FROM events ORDER BY cursor;
CREATE TABLE event_heads(conversation_id TEXT PRIMARY KEY, cursor INTEGER NOT NULL, seq INTEGER NOT NULL)
  WITHOUT ROWID;
INSERT INTO event_heads(conversation_id, cursor, seq)
  SELECT conversation_id, cursor, seq FROM (
    SELECT conversation_id, cursor, seq,
           row_number() OVER (PARTITION BY conversation_id ORDER BY cursor DESC) AS newest FROM events)
  WHERE newest = 1;
DROP TABLE events;
ALTER TABLE events_chained RENAME TO events;
)sql",
};

// Deletes the events of the conversations whose heads `heads` selects: the recursive
// rows chain(cursor) walk from each head back along `previous` (`previous < cursor`
// ends a walk even on a damaged file). SQLite text, with an id as $1.
#define SB_DELETE_CHAINS(heads)                                                             \
  "WITH RECURSIVE chain(cursor) AS (SELECT cursor FROM event_heads WHERE " heads            \
  " UNION ALL SELECT e.previous FROM chain JOIN events e ON e.cursor = chain.cursor WHERE " \
  "e.previous < e.cursor) DELETE FROM events WHERE cursor IN (SELECT cursor FROM chain)"
#define SB_OF_CONTACT "conversation_id IN (SELECT id FROM conversations WHERE contact_id = $1)"

// Each event goes with its chain, then its conversation's head; the rows every store
// erases alike follow.
constexpr auto kConversationErasure = events_first(
    std::array{SB_DELETE_CHAINS("conversation_id = $1"), "DELETE FROM event_heads WHERE conversation_id = $1"},
    kEraseConversation);
constexpr auto kContactErasure = events_first(
    std::array{SB_DELETE_CHAINS(SB_OF_CONTACT), "DELETE FROM event_heads WHERE " SB_OF_CONTACT}, kEraseContact);
#undef SB_OF_CONTACT
#undef SB_DELETE_CHAINS

constexpr int kSchemaVersion = static_cast<int>(kMigrations.size());

// The head is the newest cursor ever handed out: the events' newest, unless erasures
// took it with them. Only a transaction that erases writes it to `meta`, so the others
// put one page fewer in the WAL.
constexpr const char* kHeadQuery =
    "SELECT max((SELECT value FROM meta WHERE key = 'head'), coalesce((SELECT max(cursor) FROM events), 0))";

Status migrate(Connection& db) {
  if (auto begun = db.exec("BEGIN IMMEDIATE"); !begun) return begun;
  auto version = db.query_value("PRAGMA user_version");
  if (!version) return version.error();
  const int found = std::stoi(*version);
  if (found > kSchemaVersion) {
    db.exec("ROLLBACK");
    return failed_precondition("sqlite: the database's schema version " + *version +
                               " is newer than this binary knows (" + std::to_string(kSchemaVersion) +
                               "); run a newer switchboardd");
  }
  for (int v = found; v < kSchemaVersion; ++v) {
    if (auto applied = db.exec(kMigrations[v]); !applied) {
      db.exec("ROLLBACK");
      return applied;
    }
  }
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  if (auto set = db.exec(set_version.c_str()); !set) {
    db.exec("ROLLBACK");
    return set;
  }
  return db.exec("COMMIT");
}

// WAL, durability and size cap on the write connection, then the schema.
Status configure_writer(Connection& db, const SqliteOptions& options) {
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return Error{ErrorCode::kUnavailable, {}, "sqlite: '" + options.path + "' is read-only"};
  }
  auto mode = db.query_value("PRAGMA journal_mode = WAL");  // the first read: "not a database" shows here
  if (!mode) return mode.error();
  if (*mode != "wal")
    return Error{ErrorCode::kUnavailable, {}, "sqlite: WAL mode refused (journal_mode " + *mode + ")"};
  const char* synchronous =
      options.synchronous == SqliteOptions::kFull ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
  if (auto set = db.exec(synchronous); !set) return set;
  const std::string cache =
      "PRAGMA cache_size = -" + std::to_string(std::max<uint64_t>(1, options.writer_cache_bytes >> 10));
  if (auto set = db.exec(cache.c_str()); !set) return set;
  if (auto migrated = migrate(db); !migrated) return migrated;
  if (options.max_size_bytes == 0) return ok_status();
  auto page_size = db.query_value("PRAGMA page_size");
  if (!page_size) return page_size.error();
  // SQLite never goes below the current size; the cap only stops growth.
  const std::string cap = "PRAGMA max_page_count = " +
                          std::to_string(std::max<uint64_t>(1, options.max_size_bytes / std::stoull(*page_size)));
  if (auto set = db.query_value(cap.c_str()); !set) return set.error();
  return ok_status();
}

}  // namespace

struct SqliteStore::Writes {
  Statement begin, commit, insert_event, insert_chained_event, advance_head, upsert_contact, upsert_conversation,
      rewrite_conversation, upsert_outbox, upsert_agent, upsert_queue, upsert_merge, append_seen, raise_head,
      prune_seen;
  std::vector<Statement> erase_conversation, erase_contact;

  Statement& row(RowWrite which) {
    switch (which) {
      case RowWrite::kInsertEvent:
        return insert_event;
      case RowWrite::kUpsertContact:
        return upsert_contact;
      case RowWrite::kUpsertConversation:
        return upsert_conversation;
      case RowWrite::kUpsertOutbox:
        return upsert_outbox;
      case RowWrite::kUpsertAgent:
        return upsert_agent;
      case RowWrite::kUpsertQueue:
        return upsert_queue;
      case RowWrite::kUpsertMerge:
        return upsert_merge;
      case RowWrite::kUpsertSeen:
        return append_seen;
    }
    return insert_event;  // not reached: every RowWrite is above
  }
};

struct SqliteStore::Reads {
  Statement events_after, timeline;
};

namespace {

// Prepares each SQL text into its statement, stopping at the first error.
Status prepare_all(Connection& db, std::initializer_list<std::pair<Statement*, const char*>> statements) {
  for (auto [statement, sql] : statements) {
    auto prepared = db.prepare(sql);
    if (!prepared) return prepared.error();
    *statement = std::move(*prepared);
  }
  return ok_status();
}

template <std::size_t N>
Status prepare_all(Connection& db, const std::array<const char*, N>& sql, std::vector<Statement>& out) {
  out.resize(N);
  for (std::size_t i = 0; i < N; ++i) {
    if (auto s = prepare_all(db, {{&out[i], sql[i]}}); !s) return s;
  }
  return ok_status();
}

// Runs `statement` unless an earlier one in the transaction failed; keeps the first
// failure in `rc`, so a transaction is written straight through and checked once.
template <typename... Args>
void run(int& rc, Statement& statement, const Args&... args) {
  if (rc == SQLITE_DONE) rc = statement.run(args...);
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const SqliteOptions& options) {
  // Also links sqlite_process_config.cc, whose settings are made before main.
  static_cast<void>(sqlite_configured());
  auto writer = Connection::open(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options.busy_timeout);
  if (!writer) return writer.error();
  if (auto configured = configure_writer(*writer, options); !configured) return configured.error();
  auto reader = Connection::open(options.path, SQLITE_OPEN_READONLY, options.busy_timeout);
  if (!reader) return reader.error();
  auto checkpoints = Connection::open(options.path, SQLITE_OPEN_READWRITE, options.busy_timeout);
  if (!checkpoints) return checkpoints.error();
  // A first read opens the WAL on this connection; its checkpoints are no-ops before.
  if (auto mode = checkpoints->query_value("PRAGMA journal_mode"); !mode) return mode.error();
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, std::move(*writer), std::move(*reader)));
  if (auto prepared = store->prepare(); !prepared) return prepared.error();
  store->checkpointer_ =
      std::make_unique<Checkpointer>(store->writer_, std::move(*checkpoints), options.writeback_chunk_bytes);
  store->writer_thread_ = std::thread([s = store.get()] { s->write_loop(); });
  return store;
}

SqliteStore::SqliteStore(SqliteOptions options, Connection writer, Connection reader)
    : options_(std::move(options)),
      writer_(std::move(writer)),
      writes_(std::make_unique<Writes>()),
      reader_(std::move(reader)),
      reads_(std::make_unique<Reads>()),
      queue_(options_.max_batch_events) {}

Status SqliteStore::prepare() {
  Writes& w = *writes_;
  auto prepared = prepare_all(
      writer_,
      {
          {&w.begin, "BEGIN IMMEDIATE"},
          {&w.commit, "COMMIT"},
          {&w.insert_event,
           "INSERT INTO events(cursor, conversation_id, seq, body, previous) VALUES(?1, ?2, ?3, ?4, "
           "(SELECT cursor FROM event_heads WHERE conversation_id = ?2))"},
          {&w.insert_chained_event,
           "INSERT INTO events(cursor, conversation_id, seq, body, previous) VALUES(?1, ?2, ?3, ?4, ?5)"},
          {&w.advance_head,
           "INSERT INTO event_heads(conversation_id, cursor, seq) VALUES(?2, ?1, ?3) ON CONFLICT(conversation_id) "
           "DO UPDATE SET cursor = excluded.cursor, seq = excluded.seq WHERE ?4 > event_heads.seq"},
          // Upserts update in place: REPLACE would delete the row and insert it again
          // under a new rowid, dirtying its old page, a new one and every index.
          {&w.upsert_contact,
           "INSERT INTO contacts(id, body) VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE SET body = excluded.body"},
          {&w.upsert_conversation,
           "INSERT INTO conversations(id, contact_id, body) VALUES(?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET "
           "contact_id = excluded.contact_id, body = excluded.body"},
          {&w.upsert_outbox,
           "INSERT INTO outbox(outbound_id, conversation_id, status, body) VALUES(?1, ?2, ?3, ?4) "
           "ON CONFLICT(outbound_id) DO UPDATE SET conversation_id = excluded.conversation_id, "
           "status = excluded.status, body = excluded.body"},
          {&w.upsert_agent,
           "INSERT INTO agents(id, body) VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE SET body = excluded.body"},
          {&w.upsert_queue,
           "INSERT INTO queues(id, body) VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE SET body = excluded.body"},
          {&w.upsert_merge,
           "INSERT INTO merges(id, target_id, source_id, body) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET "
           "target_id = excluded.target_id, source_id = excluded.source_id, body = excluded.body"},
          // An upsert that sets contact_id rewrites its index entry even when it is the
          // same: one more random WAL page per conversation. Most commits keep the contact.
          {&w.rewrite_conversation, "UPDATE conversations SET body = ?3 WHERE id = ?1 AND contact_id = ?2"},
          {&w.append_seen,
           "INSERT INTO inbound_seen(channel, external_id, contact_id, conversation_id, body) "
           "VALUES(?1, ?2, ?3, ?4, ?5)"},
          {&w.raise_head, "UPDATE meta SET value = max(value, ?1) WHERE key = 'head'"},
          // Rowids order arrival; a re-answered key's older row goes with its age.
          {&w.prune_seen, "DELETE FROM inbound_seen WHERE rowid <= (SELECT max(rowid) FROM inbound_seen) - ?1"},
      });
  if (!prepared) return prepared;
  if (auto s = prepare_all(writer_, kConversationErasure, w.erase_conversation); !s) return s;
  if (auto s = prepare_all(writer_, kContactErasure, w.erase_contact); !s) return s;

  if (auto s = prepare_all(reader_, {{&reads_->events_after,
                                      "SELECT cursor, body FROM events WHERE cursor > ?1 ORDER BY cursor LIMIT ?2"},
                                     // The newest ?2 along the chain, oldest first.
                                     {&reads_->timeline,
                                      "WITH RECURSIVE chain(cursor, n) AS (SELECT cursor, 1 FROM event_heads "
                                      "WHERE conversation_id = ?1 AND ?2 > 0 UNION ALL SELECT e.previous, chain.n + 1 "
                                      "FROM chain JOIN events e ON e.cursor = chain.cursor "
                                      "WHERE e.previous < e.cursor AND chain.n < ?2) "
                                      "SELECT e.cursor, e.body FROM chain JOIN events e ON e.cursor = chain.cursor "
                                      "ORDER BY e.seq"}});
      !s) {
    return s;
  }
  auto head = reader_.query_value(kHeadQuery);
  if (!head) return head.error();
  head_ = std::stoull(*head);
  return ok_status();
}

SqliteStore::~SqliteStore() {
  queue_.stop();
  if (writer_thread_.joinable()) writer_thread_.join();
}

void SqliteStore::append(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) {
  queue_.push(EncodedCommit::encode(std::move(commit), std::move(done)));
}

void SqliteStore::write_loop() {
  name_this_thread("sb-store-write");
  const auto write = [this](std::span<const EncodedCommit> batch) { return write_transaction(batch); };
  for (;;) {
    std::vector<EncodedCommit> batch = queue_.take();
    if (batch.empty()) return;  // stopping, and everything appended is done
    const auto start = std::chrono::steady_clock::now();
    std::vector<Status> outcomes = commit_in_group(batch, write);
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    {
      std::lock_guard lock(stats_mutex_);
      stats_.writing_us += static_cast<uint64_t>(took.count());
    }
    completions_.answer(std::move(batch), std::move(outcomes), !queue_.empty());
    checkpointer_->after_commit();  // the callers are answered meanwhile: they need not wait for it
  }
}

Status SqliteStore::write_transaction(std::span<const EncodedCommit> batch) {
  Writes& w = *writes_;
  heads_.clear();
  refused_.clear();
  int rc = w.begin.run();
  uint64_t head = 0;
  std::size_t events = 0;
  bool erases = false;
  for (const auto& pending : batch) {
    write_commit(pending, rc);
    for (const auto& event : pending.commit->events) head = std::max(head, event.cursor);
    events += pending.commit->events.size();
    answers_since_prune_ += pending.commit->inbound_seen.size();
    erases = erases || !pending.commit->erased_conversations.empty() || !pending.commit->erased_contacts.empty();
  }
  write_heads(rc);
  if (erases) run(rc, w.raise_head, std::max(head, head_.load(std::memory_order_relaxed)));
  const bool prune = prune_due(answers_since_prune_, options_.redelivery_prune_step, options_.keep_redelivery_answers);
  if (prune) run(rc, w.prune_seen, sql_limit(options_.keep_redelivery_answers));
  run(rc, w.commit);
  if (rc != SQLITE_DONE) {
    Error error = refused_.empty() ? writer_.error(rc) : Error{ErrorCode::kAlreadyExists, {}, refused_};
    // Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back; the rest still must.
    if (!sqlite3_get_autocommit(writer_.get())) writer_.exec("ROLLBACK");
    std::lock_guard lock(stats_mutex_);
    ++stats_.failed_transactions;
    return error;
  }
  head_.store(std::max(head, head_.load(std::memory_order_relaxed)), std::memory_order_release);
  if (prune) answers_since_prune_ = 0;  // a rolled-back prune is tried again with the next batch
  // The WAL hook ran in COMMIT; a smaller WAL than before started over.
  const auto wal_pages = static_cast<uint64_t>(checkpointer_->wal_pages());
  const uint64_t frames = wal_pages >= wal_pages_ ? wal_pages - wal_pages_ : wal_pages;
  wal_pages_ = wal_pages;
  std::lock_guard lock(stats_mutex_);
  stats_.wal_frames += frames;
  ++stats_.transactions;
  stats_.commits += batch.size();
  stats_.events += events;
  stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, batch.size());
  return ok_status();
}

// The body alone when the conversation is stored under the same contact, else the upsert.
void SqliteStore::write_conversation(int& rc, const std::string& id, const std::string& contact_id,
                                     const std::string& body) {
  Writes& w = *writes_;
  run(rc, w.rewrite_conversation, id, contact_id, body);
  if (rc == SQLITE_DONE && sqlite3_changes(writer_.get()) == 0) run(rc, w.upsert_conversation, id, contact_id, body);
}

// The event, chained to its conversation's newest: the stored head for the first of
// the transaction, then the one before it.
void SqliteStore::write_event(int& rc, uint64_t cursor, const std::string& conversation_id, uint64_t seq,
                              const std::string& body) {
  Writes& w = *writes_;
  auto [newest, first] = heads_.try_emplace(conversation_id, Head{cursor, seq, seq});
  if (first) return run(rc, w.insert_event, cursor, conversation_id, seq, body);
  if (seq <= newest->second.seq) return refuse_seq(rc, conversation_id, seq);
  run(rc, w.insert_chained_event, cursor, conversation_id, seq, body, newest->second.cursor);
  newest->second.cursor = cursor;
  newest->second.seq = seq;
}

// The transaction's newest event of each conversation becomes its head, unless the
// transaction's first event of it does not go above the stored head's seq.
void SqliteStore::write_heads(int& rc) {
  for (const auto& [conversation_id, head] : heads_) {
    run(rc, writes_->advance_head, head.cursor, conversation_id, head.seq, head.first_seq);
    if (rc == SQLITE_DONE && sqlite3_changes(writer_.get()) == 0) refuse_seq(rc, conversation_id, head.first_seq);
  }
  heads_.clear();
}

// What UNIQUE(conversation_id, seq) refused; the transaction fails with this message
// (commit_in_group then fails only the commit that holds the event).
void SqliteStore::refuse_seq(int& rc, const std::string& conversation_id, uint64_t seq) {
  refused_ =
      "sqlite: conversation " + conversation_id + " already has an event with seq " + std::to_string(seq) + " or later";
  rc = SQLITE_CONSTRAINT;
}

// What it writes, and in what order, is every SQL store's (sql_store_common.h).
void SqliteStore::write_commit(const EncodedCommit& p, int& rc) {
  Writes& w = *writes_;
  for_each_write(
      p,
      [&](RowWrite which, const auto&... args) {
        if constexpr (sizeof...(args) == 3) {
          if (which == RowWrite::kUpsertConversation) return write_conversation(rc, args...);
        }
        if constexpr (requires { write_event(rc, args...); }) {
          if (which == RowWrite::kInsertEvent) return write_event(rc, args...);
        }
        run(rc, w.row(which), args...);
      },
      [&](Erasure which, const std::string& id) {
        write_heads(rc);  // the erasure walks the chains from their heads
        for (auto& statement : which == Erasure::kConversation ? w.erase_conversation : w.erase_contact) {
          run(rc, statement, id);
        }
      });
}

// Rows that do not decode are skipped rather than thrown: these reads have no error
// channel, and only a damaged file (or a bug) holds such rows; load() reports them.
std::vector<Event> SqliteStore::read_events(Statement& query) const {
  std::vector<Event> out;
  while (query.step() == SQLITE_ROW) {
    if (auto event = decode<Event>(query.text(1))) out.push_back(std::move(*event));
  }
  query.reset();
  return out;
}

std::vector<Event> SqliteStore::events_after(uint64_t after, std::size_t limit) const {
  std::lock_guard lock(read_mutex_);
  reads_->events_after.bind(after, sql_limit(limit));
  return read_events(reads_->events_after);
}

std::vector<Event> SqliteStore::timeline(const std::string& conversation_id, std::size_t limit) const {
  std::lock_guard lock(read_mutex_);
  reads_->timeline.bind(std::string_view(conversation_id), sql_limit(limit));
  return read_events(reads_->timeline);
}

SqliteStats SqliteStore::stats() const {
  std::lock_guard lock(stats_mutex_);
  SqliteStats stats = stats_;
  const auto checkpoints = checkpointer_->checkpoints();
  stats.checkpoints = checkpoints.background;
  stats.writer_finishes = checkpoints.finished_by_writer;
  stats.writer_checkpoints = checkpoints.by_writer;
  stats.writer_checkpoint_us = static_cast<uint64_t>(checkpoints.writer_held.count());
  stats.database_syncs = checkpoints.database_syncs;
  stats.database_writebacks = checkpoints.database_writebacks;
  stats.wal_pages = static_cast<uint64_t>(checkpointer_->wal_pages());
  return stats;
}

namespace {

// Reads (key, body) rows into records; a body that does not decode names its row.
// After each row, `read_one` may hand the part holding `out` over.
template <typename T>
Status load_rows(Connection& db, std::string_view table, const std::string& sql, std::vector<T>& out,
                 const std::function<void()>& read_one, int64_t limit = -1) {
  auto query = db.prepare(sql);
  if (!query) return query.error();
  if (limit >= 0) query->bind(limit);
  const std::string what = "sqlite: cannot decode " + std::string(table);
  int rc;
  while ((rc = query->step()) == SQLITE_ROW) {
    if (auto decoded = decode_row(what, query->text(0), query->text(1), out); !decoded) return decoded;
    read_one();
  }
  if (rc != SQLITE_DONE) return db.error(rc);
  return ok_status();
}

}  // namespace

Result<StoredState> SqliteStore::load(std::size_t inbound_seen_limit) {
  StoredState whole;
  auto read = read_records(inbound_seen_limit, std::numeric_limits<std::size_t>::max(),
                           [&whole](StoredState part) { whole = std::move(part); });
  if (!read) return read.error();
  return whole;
}

Status SqliteStore::load_in_parts(std::size_t inbound_seen_limit, const std::function<void(StoredState)>& take) {
  const std::size_t rows = options_.rows_per_load_part;
  return read_records(inbound_seen_limit, rows == 0 ? std::numeric_limits<std::size_t>::max() : rows, take);
}

Status SqliteStore::read_records(std::size_t inbound_seen_limit, std::size_t rows_per_part,
                                 const std::function<void(StoredState)>& take) {
  std::lock_guard lock(read_mutex_);
  StoredState part;
  std::size_t rows = 0;
  const std::function<void()> read_one = [&] {
    if (++rows < rows_per_part) return;
    take(std::move(part));
    part = StoredState{};
    rows = 0;
  };
  // One read transaction: every table as of the same commit.
  if (auto begun = reader_.exec("BEGIN"); !begun) return begun.error();
  Status loaded = ok_status();
  for_each_loaded_table(part, [&](std::string_view table, const char* sql, auto& out) {
    if (loaded) loaded = load_rows(reader_, table, sql, out, read_one);
  });
  if (loaded) {
    loaded = load_rows(reader_, "inbound_seen",
                       "SELECT channel || ':' || external_id, body FROM "
                       "(SELECT rowid, channel, external_id, body FROM inbound_seen ORDER BY rowid DESC LIMIT ?1) "
                       "ORDER BY rowid",
                       part.inbound_seen, read_one, sql_limit(inbound_seen_limit));
  }
  if (loaded) {
    auto head = reader_.query_value(kHeadQuery);
    if (head) {
      part.head = std::stoull(*head);
    } else {
      loaded = head.error();
    }
  }
  reader_.exec("COMMIT");
  if (!loaded) return loaded.error();
  take(std::move(part));
  return ok_status();
}

}  // namespace store

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  auto store = store::SqliteStore::open(options);
  if (!store) return store.error();
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace switchboard::router
