#include "postgres_store.h"

#include <switchboard/router/thread_name.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <map>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include <pqxx/pqxx>

#include "decode_rows.h"
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

// A write transaction's rows go in one statement, write_rows: one part per table, in
// RowWrite's order, each inserting from its arrays ($1.. of the part, PostgreSQL array
// literals: libpqxx 6 binds no arrays) and stamping $W and $B, the transaction's
// position and node. A round trip per row, then per table, was most of the store's
// time. Records are upserted as the newest per key (RecordRows): ON CONFLICT DO UPDATE
// may not touch a row twice in one statement.
struct RowPart {
  const char* sql;
  std::size_t columns;      // arrays
  std::size_t key_columns;  // the leading columns that make a row's key
};
constexpr std::array<RowPart, 8> kRowParts = {{
    {"INSERT INTO events(cursor, conversation_id, seq, body, written_at, written_by) "
     "SELECT cursor, conversation_id, seq, body, $W, $B "
     "FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]) AS e(cursor, conversation_id, seq, body)",
     4, 0},
    {"INSERT INTO contacts(id, body, written_at, written_by) SELECT id, body, $W, $B "
     "FROM unnest($1::text[], $2::text[]) AS r(id, body) "
     "ON CONFLICT(id) DO UPDATE SET body = EXCLUDED.body, written_at = $W, written_by = $B",
     2, 1},
    {"INSERT INTO conversations(id, contact_id, body, written_at, written_by) SELECT id, contact_id, body, $W, $B "
     "FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, contact_id, body) "
     "ON CONFLICT(id) DO UPDATE SET contact_id = EXCLUDED.contact_id, body = EXCLUDED.body, written_at = $W, "
     "written_by = $B",
     3, 1},
    {"INSERT INTO outbox(outbound_id, conversation_id, status, body, written_at, written_by) "
     "SELECT outbound_id, conversation_id, status, body, $W, $B "
     "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS r(outbound_id, conversation_id, status, body) "
     "ON CONFLICT(outbound_id) DO UPDATE SET conversation_id = EXCLUDED.conversation_id, status = EXCLUDED.status, "
     "body = EXCLUDED.body, written_at = $W, written_by = $B",
     4, 1},
    {"INSERT INTO agents(id, body, written_at, written_by) SELECT id, body, $W, $B "
     "FROM unnest($1::text[], $2::text[]) AS r(id, body) "
     "ON CONFLICT(id) DO UPDATE SET body = EXCLUDED.body, written_at = $W, written_by = $B",
     2, 1},
    {"INSERT INTO queues(id, body, written_at, written_by) SELECT id, body, $W, $B "
     "FROM unnest($1::text[], $2::text[]) AS r(id, body) "
     "ON CONFLICT(id) DO UPDATE SET body = EXCLUDED.body, written_at = $W, written_by = $B",
     2, 1},
    {"INSERT INTO merges(id, target_id, source_id, body, written_at, written_by) "
     "SELECT id, target_id, source_id, body, $W, $B "
     "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS r(id, target_id, source_id, body) "
     "ON CONFLICT(id) DO UPDATE SET target_id = EXCLUDED.target_id, source_id = EXCLUDED.source_id, "
     "body = EXCLUDED.body, written_at = $W, written_by = $B",
     4, 1},
    // EXCLUDED.arrival is the proposed row's default: a re-answered key counts as new.
    // WITH ORDINALITY keeps the batch's order in the arrivals the prune goes by.
    {"INSERT INTO inbound_seen(channel, external_id, contact_id, conversation_id, body, written_at, written_by) "
     "SELECT channel, external_id, contact_id, conversation_id, body, $W, $B "
     "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY "
     "AS r(channel, external_id, contact_id, conversation_id, body, n) ORDER BY n "
     "ON CONFLICT(channel, external_id) DO UPDATE SET contact_id = EXCLUDED.contact_id, "
     "conversation_id = EXCLUDED.conversation_id, body = EXCLUDED.body, arrival = EXCLUDED.arrival, "
     "written_at = $W, written_by = $B",
     5, 2},
}};

// write_rows: every part as a data-modifying WITH query (each runs once, whatever the
// main query reads), its parameters numbered after the parts before it.
std::string write_rows_statement() {
  std::string sql = "WITH ";
  std::size_t first = 0, total = 0;
  for (const auto& part : kRowParts) total += part.columns;
  for (std::size_t i = 0; i < kRowParts.size(); ++i) {
    const std::string_view text = kRowParts[i].sql;
    sql += (i == 0 ? "" : ", ") + ("t" + std::to_string(i)) + " AS (";
    for (std::size_t at = 0; at < text.size(); ++at) {
      if (text[at] != '$') {
        sql += text[at];
      } else if (text[at + 1] == 'W' || text[at + 1] == 'B') {
        sql += '$' + std::to_string(total + (text[++at] == 'W' ? 1 : 2));
      } else {
        std::size_t digits = 0;
        const std::size_t n = std::stoul(std::string(text.substr(at + 1)), &digits);
        sql += '$' + std::to_string(first + n);
        at += digits;
      }
    }
    sql += ')';
    first += kRowParts[i].columns;
  }
  return sql + " SELECT 1";
}

// The writer's prepared statements, (name, SQL); prepared again on every connection.
// Every row statement ends with (written_at, written_by): the write transaction's
// position and the node (migration 2), which the nodes sharing a database read
// each other's changes by.
constexpr std::array<std::pair<const char*, const char*>, 7> kWrites = {{
    // Taken first by every write transaction, and held to its commit: write
    // transactions commit one after another, so cursors and positions grow in commit
    // order and a reader never passes one still to come.
    {"lock_position", "SELECT key, value FROM meta WHERE key IN ('head', 'position') FOR UPDATE"},
    // With $3, also a wake-up for other nodes, once per transaction (NOTIFY takes a
    // database-wide lock at commit, which per event would serialise every writer; the
    // two rows' identical notifications are delivered as one).
    {"set_position",
     "UPDATE meta SET value = CASE key WHEN 'head' THEN GREATEST(value, $1) ELSE $2 END "
     "WHERE key IN ('head', 'position') RETURNING CASE WHEN $3 THEN pg_notify('switchboard_events', '') END"},
    // Contacts' identities, rewritten whole with the contacts (the primary key keeps
    // an identity to one contact across nodes): $1 the contacts, then (key, contact).
    {"forget_identities", "DELETE FROM identities WHERE contact_id = ANY($1::text[])"},
    {"claim_identities",
     "INSERT INTO identities(key, contact_id) SELECT key, contact_id "
     "FROM unnest($1::text[], $2::text[]) AS i(key, contact_id)"},
    {"prune_seen", "DELETE FROM inbound_seen WHERE arrival <= (SELECT max(arrival) FROM inbound_seen) - $1"},
    {"log_erasure", "INSERT INTO erasures(written_at, written_by, kind, id) VALUES($1, $2, $3, $4)"},
    // What another node wrote, after the position a commit was based on, that the
    // commit would overwrite or contradict; at most one row, naming it. Arrays come as
    // PostgreSQL array literals (libpqxx 6 binds no arrays): $1 node, $2 based_on,
    // $3 contacts, $4 conversations, $5 outbox, $6 agents, $7 queues, $8 merges,
    // $9/$10 redelivery (channel, external_id) pairs, $11 identity keys.
    {"find_conflict",
     "SELECT what FROM ("
     " SELECT 'contact ' || id AS what FROM contacts"
     "  WHERE id = ANY($3::text[]) AND written_by <> $1 AND written_at > $2"
     " UNION ALL SELECT 'conversation ' || id FROM conversations"
     "  WHERE id = ANY($4::text[]) AND written_by <> $1 AND written_at > $2"
     " UNION ALL SELECT 'outbound message ' || outbound_id FROM outbox"
     "  WHERE outbound_id = ANY($5::text[]) AND written_by <> $1 AND written_at > $2"
     " UNION ALL SELECT 'agent ' || id FROM agents WHERE id = ANY($6::text[]) AND written_by <> $1 AND written_at > $2"
     " UNION ALL SELECT 'queue ' || id FROM queues WHERE id = ANY($7::text[]) AND written_by <> $1 AND written_at > $2"
     " UNION ALL SELECT 'merge ' || id FROM merges WHERE id = ANY($8::text[]) AND written_by <> $1 AND written_at > $2"
     " UNION ALL SELECT 'redelivered message ' || s.channel || ':' || s.external_id FROM inbound_seen s"
     "  JOIN unnest($9::text[], $10::text[]) AS k(channel, external_id) USING (channel, external_id)"
     "  WHERE s.written_by <> $1 AND s.written_at > $2"
     " UNION ALL SELECT 'identity ' || key || ' of contact ' || contact_id FROM identities"
     "  WHERE key = ANY($11::text[]) AND NOT (contact_id = ANY($3::text[]))"
     " UNION ALL SELECT kind || ' ' || id || ' erased' FROM erasures"
     "  WHERE written_by <> $1 AND written_at > $2 AND (id = ANY($3::text[]) OR id = ANY($4::text[]))"
     ") found LIMIT 1"},
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
    "SELECT cursor, body FROM events WHERE cursor > $1 AND xid < pg_snapshot_xmin(pg_current_snapshot()) "
    "ORDER BY cursor LIMIT $2";
// Several nodes: write transactions take the meta rows first and hold them to their
// commit (lock_position), so cursors are handed out in commit order and a snapshot
// holds every event up to its newest: no row can commit below one already seen.
constexpr const char* kEventsAfterShared = "SELECT cursor, body FROM events WHERE cursor > $1 ORDER BY cursor LIMIT $2";
constexpr const char* kTimeline =
    "SELECT cursor, body FROM (SELECT seq, cursor, body FROM events WHERE conversation_id = $1 "
    "ORDER BY seq DESC LIMIT $2) last ORDER BY seq";
constexpr const char* kHead = "SELECT value FROM meta WHERE key = 'head'";
constexpr const char* kPosition = "SELECT value FROM meta WHERE key = 'position'";

// The events go by their (conversation_id, seq) index.
constexpr auto kConversationErasure =
    events_first(std::array{"DELETE FROM events WHERE conversation_id = $1"}, kEraseConversation);
constexpr auto kContactErasure = events_first(
    std::array{"DELETE FROM events WHERE conversation_id IN (SELECT id FROM conversations WHERE contact_id = $1)"},
    kEraseContact);

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
constexpr const char* kLockHeld = "postgresql: another switchboardd is using this database (exclusive store)";

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
    static const std::string write_rows = write_rows_statement();
    db.prepare("write_rows", write_rows);
    for (std::size_t i = 0; i < kConversationErasure.size(); ++i) {
      db.prepare(erase_statement(Erasure::kConversation, i), kConversationErasure[i]);
    }
    for (std::size_t i = 0; i < kContactErasure.size(); ++i) {
      db.prepare(erase_statement(Erasure::kContact, i), kContactErasure[i]);
    }
    return ok_status();
  } catch (const std::exception& e) {
    return postgres_error(e);
  }
}

// Rows that do not decode are skipped rather than thrown: these reads have no error
// channel, and only a damaged table (or a bug) holds such rows; load() reports them.
// (cursor, body) rows: a shared store gives events their cursors as it writes them,
// so the column, not the body, has the cursor.
std::vector<Event> decode_events(const pqxx::result& rows) {
  std::vector<Event> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    if (auto event = decode<Event>(text(row[1]))) {
      event->cursor = row[0].as<uint64_t>();
      out.push_back(std::move(*event));
    }
  }
  return out;
}

// Reads (key, body) rows into records; a body that does not decode names its row.
template <typename T>
Status decode_result(std::string_view table, const pqxx::result& rows, std::vector<T>& out) {
  out.clear();
  const std::string what = "postgresql: cannot decode " + std::string(table);
  for (const auto& row : rows) {
    if (auto decoded = decode_row(what, text(row[0]), text(row[1]), out); !decoded) return decoded;
  }
  return ok_status();
}

// "kind/key" for every key: one set holds every kind of record.
template <typename Each>
void for_each_record_key(const RecordKeys& keys, Each&& each) {
  const auto all = [&](const char* kind, const std::vector<std::string>& of) {
    for (const auto& key : of) each(std::string(kind) + '/' + key);
  };
  all("contact", keys.contacts);
  all("conversation", keys.conversations);
  all("outbox", keys.outbox);
  all("agent", keys.agents);
  all("queue", keys.queues);
  all("merge", keys.merges);
  all("identity", keys.identities);
  all("seen", keys.inbound_seen);
}

// Adds `from`'s keys of every kind to `into`'s.
void append_keys(RecordKeys& into, const RecordKeys& from) {
  const auto append = [](std::vector<std::string>& to, const std::vector<std::string>& keys) {
    to.insert(to.end(), keys.begin(), keys.end());
  };
  append(into.contacts, from.contacts);
  append(into.conversations, from.conversations);
  append(into.outbox, from.outbox);
  append(into.agents, from.agents);
  append(into.queues, from.queues);
  append(into.merges, from.merges);
  append(into.identities, from.identities);
  append(into.inbound_seen, from.inbound_seen);
}

// One element of a PostgreSQL array literal of text: "b\"c".
void append_text_element(std::string& out, std::string_view item) {
  out += '"';
  for (char c : item) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// A PostgreSQL array literal of text, {"a","b\"c"}: libpqxx 6 binds no arrays.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    append_text_element(out, item);
  }
  return out + '}';
}

}  // namespace

namespace {

// The events of a write transaction, as array literals for write_rows.
class EventRows {
 public:
  void add(uint64_t cursor, const std::string& conversation_id, uint64_t seq, const std::string& body) {
    const char* comma = count_ == 0 ? "" : ",";
    cursors_ += comma + std::to_string(cursor);
    seqs_ += comma + std::to_string(seq);
    conversations_ += comma;
    append_text_element(conversations_, conversation_id);
    bodies_ += comma;
    append_text_element(bodies_, body);
    ++count_;
  }

  bool empty() const { return count_ == 0; }

  // Appends its arrays (kRowParts[0]'s columns) to `out`, and starts over.
  void take(std::vector<std::string>& out) {
    for (auto* array : {&cursors_, &conversations_, &seqs_, &bodies_}) out.push_back(std::move(*array) + '}');
    *this = EventRows();
  }

 private:
  std::string cursors_ = "{", conversations_ = "{", seqs_ = "{", bodies_ = "{";
  std::size_t count_ = 0;
};

// One table's records of a write transaction, the newest per key (a later commit of
// the batch wrote the record whole again), as array literals for write_rows.
class RecordRows {
 public:
  explicit RecordRows(const RowPart& part) : part_(&part) {}

  void add(std::initializer_list<std::string_view> columns) {
    std::string key;
    for (std::size_t i = 0; i < part_->key_columns; ++i) key.append(columns.begin()[i]).push_back('\0');
    auto [at, added] = row_of_key_.try_emplace(std::move(key), rows_.size());
    if (added) rows_.emplace_back();
    rows_[at->second].assign(columns.begin(), columns.end());
  }

  bool empty() const { return rows_.empty(); }

  // Appends its arrays (its part's columns; empty ones when it has no rows) to `out`,
  // and starts over.
  void take(std::vector<std::string>& out) {
    const std::size_t first = out.size();
    out.resize(first + part_->columns, "{");
    for (const auto& row : rows_) {
      for (std::size_t c = 0; c < row.size(); ++c) {
        std::string& array = out[first + c];
        if (array.size() > 1) array += ',';
        append_text_element(array, row[c]);
      }
    }
    for (std::size_t c = 0; c < part_->columns; ++c) out[first + c] += '}';
    rows_.clear();
    row_of_key_.clear();
  }

 private:
  const RowPart* part_;
  std::vector<std::vector<std::string>> rows_;
  std::unordered_map<std::string, std::size_t> row_of_key_;
};

// The identities the contacts of a write transaction claim, as of each contact's
// newest version: its old ones are forgotten, then these claimed.
class IdentityClaims {
 public:
  void add(const Contact& contact) {
    auto& keys = keys_of_contact_[contact.id];
    keys.clear();
    for (const auto& identity : contact.identities) keys.push_back(identity.key());
  }

  void flush(pqxx::work& tx) {
    if (keys_of_contact_.empty()) return;
    std::vector<std::string> contacts, keys, owners;
    for (const auto& [contact, claimed] : keys_of_contact_) {
      contacts.push_back(contact);
      keys.insert(keys.end(), claimed.begin(), claimed.end());
      owners.insert(owners.end(), claimed.size(), contact);
    }
    tx.exec_prepared0("forget_identities", text_array(contacts));
    if (!keys.empty()) tx.exec_prepared0("claim_identities", text_array(keys), text_array(owners));
    keys_of_contact_.clear();
  }

 private:
  std::map<std::string, std::vector<std::string>> keys_of_contact_;
};

}  // namespace

// What a write transaction writes, gathered and sent in one statement (write_rows),
// then the claims of its contacts' identities. Sent before each erasure, so the
// erasure finds (and deletes) what came before it, and at the end.
class PostgresStore::TransactionRows {
 public:
  TransactionRows() : records_(each_record_table(std::make_index_sequence<kRecordTables>())) {}

  EventRows events;
  IdentityClaims claims;  // shared stores only
  RecordRows& records(RowWrite which) { return records_[static_cast<std::size_t>(which) - 1]; }

  void flush(pqxx::work& tx, uint64_t position, const std::string& node_id) {
    const bool rows = !events.empty() || std::any_of(records_.begin(), records_.end(),
                                                     [](const RecordRows& table) { return !table.empty(); });
    if (rows) {
      std::vector<std::string> arrays;
      events.take(arrays);
      for (auto& table : records_) table.take(arrays);
      tx.exec_prepared("write_rows", pqxx::prepare::make_dynamic_params(arrays), position, node_id);
    }
    claims.flush(tx);
  }

 private:
  // Every RowWrite after kInsertEvent is a kind of record, kUpsertSeen the last; each
  // has its part of write_rows at its own index.
  static constexpr std::size_t kRecordTables = static_cast<std::size_t>(RowWrite::kUpsertSeen);
  static_assert(kRowParts.size() == kRecordTables + 1);
  template <std::size_t... I>
  static std::array<RecordRows, kRecordTables> each_record_table(std::index_sequence<I...>) {
    return {RecordRows(kRowParts[I + 1])...};
  }

  std::array<RecordRows, kRecordTables> records_;  // in RowWrite's order
};

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
  name_this_thread("sb-store-write");
  const auto write = [this](std::span<const EncodedCommit> batch) { return write_transaction(batch); };
  for (;;) {
    std::vector<EncodedCommit> batch = queue_.take();
    if (batch.empty()) return;  // stopping, and everything appended is done
    std::vector<Status> outcomes = commit_in_group(batch, write);
    completions_.answer(std::move(batch), std::move(outcomes), !queue_.empty());
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
  std::size_t events = 0;
  for (const auto& pending : batch) {
    events += pending.commit->events.size();
    answers_since_prune_ += pending.commit->inbound_seen.size();
  }
  const bool prune = prune_due(answers_since_prune_, options_.redelivery_prune_step, options_.keep_redelivery_answers);
  uint64_t head = 0;
  if (connected) {
    try {
      pqxx::work tx(*writer_);
      const Position was = lock_position(tx);
      const uint64_t position = was.position + 1;
      uint64_t next_cursor = was.head + 1;
      head = was.head;
      if (shared()) check_conflicts(tx, batch);
      TransactionRows rows;
      for (const auto& pending : batch) {
        write_commit(tx, pending, position, shared() ? next_cursor : 0, rows);
        next_cursor += pending.commit->events.size();
        for (const auto& event : pending.commit->events) head = std::max(head, event.cursor);
      }
      rows.flush(tx, position, options_.node_id);
      if (shared()) head = next_cursor - 1;
      tx.exec_prepared("set_position", head, position, events != 0);
      if (prune) tx.exec_prepared0("prune_seen", sql_limit(options_.keep_redelivery_answers));
      tx.commit();
    } catch (const Conflict& e) {
      connected = Error{ErrorCode::kAborted, {}, e.what()};
    } catch (const std::exception& e) {
      if (connection_lost(e) || !writer_->is_open()) writer_.reset();
      connected = postgres_error(e);
      // Another node took the (conversation, seq) or the identity, or two commits of
      // the batch claim one identity: a race, retried commit by commit, not a bug.
      if (shared() && connected.error().code == ErrorCode::kAlreadyExists) {
        connected = Error{ErrorCode::kAborted, {}, "conflict: " + connected.error().message};
      }
    }
  }
  if (!connected) {
    // Alone in its transaction, a commit that lost a race is final: what comes after it
    // and writes the same records was built on it, so that is refused too (taint).
    if (batch.size() == 1 && connected.error().code == ErrorCode::kAborted) taint(*batch.front().commit);
    std::lock_guard lock(stats_mutex_);
    ++stats_.failed_transactions;
    return connected;
  }
  head_.store(std::max(head, head_.load(std::memory_order_relaxed)), std::memory_order_release);
  if (prune) answers_since_prune_ = 0;  // a rolled-back prune is tried again with the next batch
  std::lock_guard lock(stats_mutex_);
  ++stats_.transactions;
  stats_.commits += batch.size();
  stats_.events += events;
  stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, batch.size());
  if (events != 0) ++stats_.notifications;
  return ok_status();
}

PostgresStore::Position PostgresStore::lock_position(pqxx::work& tx) {
  Position at;
  for (const auto& row : tx.exec_prepared("lock_position")) {
    (std::string_view(row[0].c_str()) == "head" ? at.head : at.position) = row[1].as<uint64_t>();
  }
  return at;
}

void PostgresStore::taint(const Commit& commit) {
  for_each_record_key(keys_of(commit), [this](std::string key) { tainted_.insert(std::move(key)); });
}

// Throws Conflict naming what another node changed under a commit of the batch, or
// the earlier failed commit of this node that one builds on. One query for the whole
// batch, from its oldest position: what it finds fails the batch, and each commit is
// then tried alone (commit_in_group), so a commit another node did not touch still
// lands.
void PostgresStore::check_conflicts(pqxx::work& tx, std::span<const EncodedCommit> batch) {
  RecordKeys keys;
  std::vector<std::string> seen_channels, seen_ids;
  uint64_t based_on = std::numeric_limits<uint64_t>::max();
  for (const auto& pending : batch) {
    const Commit& commit = *pending.commit;
    for_each_record_key(commit.reloaded, [this](const std::string& key) { tainted_.erase(key); });
    const RecordKeys own = keys_of(commit);
    if (own.empty()) continue;
    for_each_record_key(own, [this](const std::string& key) {
      if (tainted_.contains(key)) throw Conflict("conflict: " + key + " was written by a step that failed; retry");
    });
    append_keys(keys, own);
    for (const auto& seen : commit.inbound_seen) {
      seen_channels.push_back(seen.channel);
      seen_ids.push_back(seen.external_id);
    }
    based_on = std::min(based_on, commit.based_on);
  }
  if (keys.empty()) return;
  const pqxx::result found = tx.exec_prepared(
      "find_conflict", options_.node_id, based_on, text_array(keys.contacts), text_array(keys.conversations),
      text_array(keys.outbox), text_array(keys.agents), text_array(keys.queues), text_array(keys.merges),
      text_array(seen_channels), text_array(seen_ids), text_array(keys.identities));
  if (!found.empty()) throw Conflict(std::string("conflict: another node changed ") + found[0][0].c_str());
}

// What it writes, and in what order, is every SQL store's (sql_store_common.h), plus
// what only several nodes need: identities claimed, erasures logged.
void PostgresStore::write_commit(pqxx::work& tx, const EncodedCommit& p, uint64_t position, uint64_t first_cursor,
                                 TransactionRows& rows) {
  // Only nodes sharing the database need the identities table to agree with them.
  // Claimed before the commit's erasures, which forget an erased contact's.
  if (shared()) {
    for (const auto& contact : p.commit->contacts) rows.claims.add(contact);
  }
  for_each_write(
      p,
      [&](RowWrite which, const auto&... args) {
        if constexpr (requires { rows.events.add(args...); }) {
          rows.events.add(args...);  // only kInsertEvent's arguments are these
        } else {
          rows.records(which).add({std::string_view(args)...});
        }
      },
      [&](Erasure which, const std::string& id) {
        rows.flush(tx, position, options_.node_id);  // what the erasure deletes must be there first
        const std::size_t statements =
            which == Erasure::kConversation ? kConversationErasure.size() : kContactErasure.size();
        for (std::size_t i = 0; i < statements; ++i) tx.exec_prepared0(erase_statement(which, i), id);
        if (which == Erasure::kContact) tx.exec_prepared0("forget_identities", text_array({id}));
        tx.exec_prepared0("log_erasure", position, options_.node_id,
                          which == Erasure::kContact ? "contact" : "conversation", id);
      },
      first_cursor);
}

Status PostgresStore::read(const std::function<void(pqxx::dbtransaction&)>& read) const {
  return with_reader([&](pqxx::connection& connection) {
    ReadTransaction tx(connection);
    read(tx);
    tx.commit();
  });
}

Result<std::vector<std::string>> PostgresStore::heartbeat(std::chrono::seconds silent_for) {
  std::vector<std::string> silent;
  const Status beat = with_reader([&](pqxx::connection& connection) {
    silent.clear();
    pqxx::work tx(connection);
    tx.exec_params0("INSERT INTO nodes VALUES($1, now()) ON CONFLICT (node_id) DO UPDATE SET seen_at = now()",
                    options_.node_id);
    for (const auto& row :
         tx.exec_params("SELECT node_id FROM nodes WHERE node_id <> $1 AND seen_at < now() - make_interval(secs => $2)",
                        options_.node_id, static_cast<double>(silent_for.count()))) {
      silent.emplace_back(row[0].c_str());
    }
    tx.commit();
  });
  if (!beat) return beat.error();
  return silent;
}

Status PostgresStore::with_reader(const std::function<void(pqxx::connection&)>& use) const {
  std::lock_guard lock(read_mutex_);
  for (int attempt = 0;; ++attempt) {
    try {
      if (!reader_) reader_ = std::make_unique<pqxx::connection>(options_.uri);
      use(*reader_);
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
  (void)read([&](pqxx::dbtransaction& tx) {
    events = decode_events(tx.exec_params(shared() ? kEventsAfterShared : kEventsAfter, after, sql_limit(limit)));
  });
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
      if (decoded) decoded = decode_result(table, tx.exec(sql), out);
    };
    for_each_loaded_table(state, rows);
    if (decoded) {
      decoded = decode_result("inbound_seen",
                              tx.exec_params("SELECT channel || ':' || external_id, body FROM "
                                             "(SELECT channel, external_id, body, arrival FROM inbound_seen "
                                             "ORDER BY arrival DESC LIMIT $1) newest ORDER BY arrival",
                                             sql_limit(inbound_seen_limit)),
                              state.inbound_seen);
    }
    state.head = tx.exec1(kHead)[0].as<uint64_t>();
    state.position = tx.exec1(kPosition)[0].as<uint64_t>();
  });
  if (!read_all) return read_all.error();
  if (!decoded) return decoded.error();
  return state;
}

Result<Changes> PostgresStore::changes_since(uint64_t position) const {
  Changes changes;
  Status decoded = ok_status();
  const Status read_all = read([&](pqxx::dbtransaction& tx) {
    changes.position = tx.exec1(kPosition)[0].as<uint64_t>();
    if (changes.position <= position) return;
    const auto rows = [&](std::string_view table, const char* sql, auto& out) {
      if (decoded) decoded = decode_result(table, tx.exec_params(sql, position, options_.node_id), out);
    };
    auto& r = changes.records;
    rows("contacts", "SELECT id, body FROM contacts WHERE written_at > $1 AND written_by <> $2", r.contacts);
    rows("conversations", "SELECT id, body FROM conversations WHERE written_at > $1 AND written_by <> $2 ORDER BY id",
         r.conversations);
    rows("outbox", "SELECT outbound_id, body FROM outbox WHERE written_at > $1 AND written_by <> $2", r.outbox);
    rows("agents", "SELECT id, body FROM agents WHERE written_at > $1 AND written_by <> $2", r.agents);
    rows("queues", "SELECT id, body FROM queues WHERE written_at > $1 AND written_by <> $2", r.queues);
    rows("merges", "SELECT id, body FROM merges WHERE written_at > $1 AND written_by <> $2", r.merges);
    rows("inbound_seen",
         "SELECT channel || ':' || external_id, body FROM inbound_seen WHERE written_at > $1 AND written_by <> $2 "
         "ORDER BY arrival",
         r.inbound_seen);
    for (const auto& row : tx.exec_params("SELECT kind, id FROM erasures WHERE written_at > $1 AND written_by <> $2",
                                          position, options_.node_id)) {
      (std::string_view(row[0].c_str()) == "contact" ? changes.erased_contacts : changes.erased_conversations)
          .push_back(row[1].c_str());
    }
  });
  if (!read_all) return read_all.error();
  if (!decoded) return decoded.error();
  return changes;
}

Result<StoredState> PostgresStore::load_records(const RecordKeys& keys) const {
  StoredState state;
  Status decoded = ok_status();
  std::vector<std::string> seen_channels, seen_ids;
  for (const auto& key : keys.inbound_seen) {
    const auto split = key.find('\0');
    seen_channels.push_back(key.substr(0, split));
    seen_ids.push_back(split == std::string::npos ? std::string() : key.substr(split + 1));
  }
  const Status read_all = read([&](pqxx::dbtransaction& tx) {
    const auto rows = [&](std::string_view table, const char* sql, auto& out, const auto&... args) {
      if (decoded) decoded = decode_result(table, tx.exec_params(sql, args...), out);
    };
    rows("contacts",
         "SELECT id, body FROM contacts WHERE id = ANY($1::text[]) "
         "OR id IN (SELECT contact_id FROM identities WHERE key = ANY($2::text[]))",
         state.contacts, text_array(keys.contacts), text_array(keys.identities));
    std::vector<std::string> contact_ids;
    for (const auto& contact : state.contacts) contact_ids.push_back(contact.id);
    rows("conversations",
         "SELECT id, body FROM conversations WHERE id = ANY($1::text[]) OR contact_id = ANY($2::text[]) ORDER BY id",
         state.conversations, text_array(keys.conversations), text_array(contact_ids));
    std::vector<std::string> conversation_ids;
    for (const auto& conversation : state.conversations) conversation_ids.push_back(conversation.id);
    rows("outbox",
         "SELECT outbound_id, body FROM outbox WHERE outbound_id = ANY($1::text[]) "
         "OR conversation_id = ANY($2::text[])",
         state.outbox, text_array(keys.outbox), text_array(conversation_ids));
    rows("agents", "SELECT id, body FROM agents WHERE id = ANY($1::text[])", state.agents, text_array(keys.agents));
    rows("queues", "SELECT id, body FROM queues WHERE id = ANY($1::text[])", state.queues, text_array(keys.queues));
    rows("merges", "SELECT id, body FROM merges WHERE id = ANY($1::text[])", state.merges, text_array(keys.merges));
    rows("inbound_seen",
         "SELECT s.channel || ':' || s.external_id, s.body FROM inbound_seen s "
         "JOIN unnest($1::text[], $2::text[]) AS k(channel, external_id) USING (channel, external_id)",
         state.inbound_seen, text_array(seen_channels), text_array(seen_ids));
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
