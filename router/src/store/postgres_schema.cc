#include "postgres_schema.h"

#include <array>
#include <string>

#include <pqxx/transaction>

#include "postgres_error.h"

namespace switchboard::router::store {
namespace {

// Schema migrations, oldest first; schema_version holds how many the database has.
// Append new ones, never edit one that has shipped. The tables mirror the SQLite
// store's (sqlite_store.cc); bodies are record_codec.h's JSON text.
constexpr std::array<const char*, 3> kMigrations = {
    // 1: records as JSON bodies, keyed by what the reads and the erasures look them up
    // by. events.xid is the writing transaction, for the tailing rule (events_after).
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO meta VALUES('head', 0);
CREATE TABLE events(
  cursor BIGINT PRIMARY KEY, conversation_id TEXT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
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
-- arrival orders answers: an upsert takes the new row's default, a fresh number.
CREATE TABLE inbound_seen(
  channel TEXT NOT NULL, external_id TEXT NOT NULL, contact_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
  body TEXT NOT NULL, arrival BIGSERIAL NOT NULL, PRIMARY KEY(channel, external_id));
CREATE INDEX inbound_seen_by_arrival ON inbound_seen(arrival);
CREATE INDEX inbound_seen_by_conversation ON inbound_seen(conversation_id);
CREATE INDEX inbound_seen_by_contact ON inbound_seen(contact_id);
)sql",
    // 2: several nodes on one database (postgres_store.cc, "Shared"). meta.position
    // counts write transactions; each record row says which one wrote it last and for
    // which node, so a node can read what the others changed since it last looked and
    // check a commit against it. identities makes "one contact per identity" a
    // constraint all nodes meet; erasures tells the other nodes what went.
    R"sql(
INSERT INTO meta VALUES('position', 0);
ALTER TABLE events ADD COLUMN written_at BIGINT NOT NULL DEFAULT 0, ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN written_at BIGINT NOT NULL DEFAULT 0, ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN written_at BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN written_at BIGINT NOT NULL DEFAULT 0, ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN written_at BIGINT NOT NULL DEFAULT 0, ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN written_at BIGINT NOT NULL DEFAULT 0, ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
ALTER TABLE merges ADD COLUMN written_at BIGINT NOT NULL DEFAULT 0, ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
ALTER TABLE inbound_seen ADD COLUMN written_at BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
CREATE INDEX contacts_by_write ON contacts(written_at);
CREATE INDEX conversations_by_write ON conversations(written_at);
CREATE INDEX outbox_by_write ON outbox(written_at);
CREATE INDEX agents_by_write ON agents(written_at);
CREATE INDEX queues_by_write ON queues(written_at);
CREATE INDEX merges_by_write ON merges(written_at);
CREATE INDEX inbound_seen_by_write ON inbound_seen(written_at);
CREATE TABLE identities(key TEXT PRIMARY KEY, contact_id TEXT NOT NULL);
CREATE INDEX identities_by_contact ON identities(contact_id);
INSERT INTO identities
  SELECT (i->>'channel') || ':' || (i->>'address'), c.id
  FROM contacts c, jsonb_array_elements(c.body::jsonb->'identities') i
  ON CONFLICT DO NOTHING;
CREATE TABLE erasures(written_at BIGINT NOT NULL, written_by TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL);
CREATE INDEX erasures_by_write ON erasures(written_at);
)sql",
    // 3: when each node was last heard from (the database's clock, so the nodes'
    // clocks need not agree): a silent node's pending deliveries are taken over.
    R"sql(
CREATE TABLE nodes(node_id TEXT PRIMARY KEY, seen_at TIMESTAMPTZ NOT NULL);
)sql",
};

constexpr int kSchemaVersion = static_cast<int>(kMigrations.size());

// Any fixed number: the key of the advisory lock that serialises migrations.
constexpr long kMigrationLock = 0x5377'6263'6864;  // "Swbchd"

// The version found, 0 for a fresh database.
int read_version(pqxx::work& tx) {
  tx.exec0("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
  const pqxx::result rows = tx.exec("SELECT version FROM schema_version");
  if (rows.empty()) {
    tx.exec0("INSERT INTO schema_version VALUES(0)");
    return 0;
  }
  return rows[0][0].as<int>();
}

}  // namespace

int postgres_schema_version() { return kSchemaVersion; }

Status migrate_postgres(pqxx::connection& db) {
  try {
    pqxx::work tx(db);
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    const int found = read_version(tx);
    if (found > kSchemaVersion) {
      return failed_precondition("postgresql: the database's schema version " + std::to_string(found) +
                                 " is newer than this binary knows (" + std::to_string(kSchemaVersion) +
                                 "); run a newer switchboardd");
    }
    for (int v = found; v < kSchemaVersion; ++v) tx.exec0(kMigrations[v]);
    tx.exec_params0("UPDATE schema_version SET version = $1", kSchemaVersion);
    tx.commit();
    return ok_status();
  } catch (const std::exception& e) {
    return postgres_error(e);
  }
}

}  // namespace switchboard::router::store
