#pragma once

// What the SQL stores (sqlite_store.cc, postgres_store.cc) do the same way whatever
// their database: which rows a commit writes and in what order, what erasing deletes,
// and which tables load() reads. Each store only says how a statement runs.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "group_commit.h"
#include "record_codec.h"

namespace switchboard::router::store {

// LIMIT takes a signed 64-bit integer; "no limit" (SIZE_MAX) becomes the largest one.
inline int64_t sql_limit(std::size_t limit) {
  return static_cast<int64_t>(std::min<std::size_t>(limit, std::numeric_limits<int64_t>::max()));
}

// Erasing a conversation, then a contact (whose conversations go first). GDPR: no row
// that names them survives. $1 is the id: PostgreSQL's placeholder, and for SQLite a
// named parameter which, the only one in its statement, is bound at index 1. Each
// store erases the events its own way first (SQLite walks their chain, PostgreSQL
// uses its index): events_first() puts those statements before these.
inline constexpr std::array kEraseConversation = {
    "DELETE FROM outbox WHERE conversation_id = $1",
    "DELETE FROM inbound_seen WHERE conversation_id = $1",
    "DELETE FROM conversations WHERE id = $1",
};
inline constexpr std::array kEraseContact = {
    "DELETE FROM outbox WHERE conversation_id IN (SELECT id FROM conversations WHERE contact_id = $1)",
    "DELETE FROM inbound_seen WHERE conversation_id IN (SELECT id FROM conversations WHERE contact_id = $1)",
    "DELETE FROM inbound_seen WHERE contact_id = $1",
    "DELETE FROM conversations WHERE contact_id = $1",
    "DELETE FROM merges WHERE target_id = $1",
    "DELETE FROM merges WHERE source_id = $1",
    "DELETE FROM contacts WHERE id = $1",
};

// A store's erasure of the events, then the rows every store erases alike.
template <std::size_t E, std::size_t N>
constexpr std::array<const char*, E + N> events_first(const std::array<const char*, E>& events,
                                                      const std::array<const char*, N>& rest) {
  std::array<const char*, E + N> all{};
  std::copy(events.begin(), events.end(), all.begin());
  std::copy(rest.begin(), rest.end(), all.begin() + E);
  return all;
}

// Whether a transaction deletes the oldest redelivery answers, `since` answers after
// the last time: in steps (SqliteOptions::redelivery_prune_step says why), at most a
// tenth of those kept.
inline bool prune_due(std::size_t since, std::size_t step, std::size_t keep) {
  return since >= std::max<std::size_t>(1, std::min(step, keep / 10));
}

// The row statements a commit runs; each store has its SQL for each.
enum class RowWrite {
  kInsertEvent,         // (cursor, conversation_id, seq, body)
  kUpsertContact,       // (id, body)
  kUpsertConversation,  // (id, contact_id, body)
  kUpsertOutbox,        // (outbound_id, conversation_id, status, body)
  kUpsertAgent,         // (id, body)
  kUpsertQueue,         // (name, body)
  kUpsertMerge,         // (id, target_id, source_id, body)
  kUpsertSeen,          // (channel, external_id, contact_id, conversation_id, body)
};

// What a commit erases; each runs its statements above, in order.
enum class Erasure { kConversation, kContact };

// Calls row(RowWrite, arguments...) for every record of `p`, then erase(Erasure, id)
// for every erasure. Records and events first, erasures last: nothing of an erased
// contact survives the commit that erases it. With a `first_cursor`, the events get
// cursors from it on instead of their own (a store shared by several nodes hands out
// cursors in commit order).
template <typename Row, typename Erase>
void for_each_write(const EncodedCommit& p, Row&& row, Erase&& erase, uint64_t first_cursor = 0) {
  const Commit& c = *p.commit;
  for (std::size_t i = 0; i < c.events.size(); ++i) {
    const Event& e = c.events[i];
    row(RowWrite::kInsertEvent, first_cursor != 0 ? first_cursor + i : e.cursor, e.conversation_id, e.seq, p.events[i]);
  }
  for (std::size_t i = 0; i < c.contacts.size(); ++i) row(RowWrite::kUpsertContact, c.contacts[i].id, p.contacts[i]);
  for (std::size_t i = 0; i < c.conversations.size(); ++i) {
    row(RowWrite::kUpsertConversation, c.conversations[i].id, c.conversations[i].contact_id, p.conversations[i]);
  }
  for (std::size_t i = 0; i < c.outbox.size(); ++i) {
    const OutboxEntry& e = c.outbox[i];
    row(RowWrite::kUpsertOutbox, e.outbound_id, e.conversation_id, std::string(status_name(e.status)), p.outbox[i]);
  }
  for (std::size_t i = 0; i < c.agents.size(); ++i) row(RowWrite::kUpsertAgent, c.agents[i].id, p.agents[i]);
  for (std::size_t i = 0; i < c.queues.size(); ++i) row(RowWrite::kUpsertQueue, c.queues[i].name, p.queues[i]);
  for (std::size_t i = 0; i < c.merges.size(); ++i) {
    const Merge& m = c.merges[i];
    row(RowWrite::kUpsertMerge, m.id, m.target_id, m.source_id, p.merges[i]);
  }
  for (std::size_t i = 0; i < c.inbound_seen.size(); ++i) {
    const SeenInbound& s = c.inbound_seen[i];
    row(RowWrite::kUpsertSeen, s.channel, s.external_id, s.result.contact_id, s.result.conversation_id,
        p.inbound_seen[i]);
  }
  for (const auto& id : c.erased_conversations) erase(Erasure::kConversation, id);
  for (const auto& id : c.erased_contacts) erase(Erasure::kContact, id);
}

// The tables load() reads whole, in this order: load(table, query, records) for each.
// Every query returns (key, body) rows: the key names a row whose body does not decode.
// inbound_seen (newest first, limited) and the head are each store's own.
template <typename Load>
void for_each_loaded_table(StoredState& state, Load&& load) {
  load("contacts", "SELECT id, body FROM contacts ORDER BY id", state.contacts);
  load("conversations", "SELECT id, body FROM conversations ORDER BY id", state.conversations);
  load("outbox", "SELECT outbound_id, body FROM outbox WHERE status IN ('none', 'pending') ORDER BY outbound_id",
       state.outbox);
  load("agents", "SELECT id, body FROM agents ORDER BY id", state.agents);
  load("queues", "SELECT id, body FROM queues ORDER BY id", state.queues);
  load("merges", "SELECT id, body FROM merges ORDER BY id", state.merges);
}

}  // namespace switchboard::router::store
