#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <switchboard/router/error.h>
#include <switchboard/router/model.h>

namespace switchboard::router {

// An outbound message waiting for, or done with, its adapter.
struct OutboxEntry {
  std::string outbound_id;
  std::string conversation_id;
  uint64_t seq = 0;  // the outbound message event
  std::string channel;
  std::string address;
  std::string text;
  std::vector<AttachmentRef> attachments;
  DeliveryStatus status = DeliveryStatus::kPending;
  uint32_t attempts = 0;  // failed attempts so far
  // The node whose adapters deliver it (a shared store's node id; empty: this one).
  // Another node's entry is known, for its status, but never delivered here.
  std::string claimed_by;
  // The channel's own id for the message once sent (AdapterHost::report_sent), and
  // when it was sent: receipts name the message by the one or up to the other.
  std::string external_id;
  std::optional<Timestamp> sent_at;
};

// The records one commit wrote, by key: what a node reloads after a conflict.
struct RecordKeys {
  std::vector<std::string> contacts, conversations, outbox, agents, queues, merges;
  std::vector<std::string> identities;    // Identity::key()
  std::vector<std::string> inbound_seen;  // channel '\0' external_id
  bool empty() const;
};

// Everything one router step changed, made durable together or not at all.
struct Commit {
  // False when the store keeps only events (a memory store that is never reloaded):
  // the Desk then skips copying whole records into the commit.
  bool with_records = true;
  std::vector<Event> events;                 // cursors assigned, in order
  std::vector<Contact> contacts;             // upserted, whole
  std::vector<Conversation> conversations;   // upserted, whole
  std::vector<OutboxEntry> outbox;           // upserted
  std::vector<std::string> erased_contacts;  // with all their conversations and events
  std::vector<std::string> erased_conversations;
  std::vector<Agent> agents;              // upserted, whole
  std::vector<Queue> queues;              // upserted, whole
  std::vector<Merge> merges;              // upserted, whole
  std::vector<SeenInbound> inbound_seen;  // new (channel, external_id) answers
  // Not stored: outbound messages to hand to their adapters once this commit is durable.
  std::vector<OutboxEntry> deliveries;

  // A shared store (Store::shared()) only: the other nodes' changes the step saw, as
  // a Changes::position; the commit conflicts with any record another node wrote
  // after it.
  uint64_t based_on = 0;
  // A shared store only: after a conflict the router reloaded these records, so
  // commits appended from now on may write them again (see Store::shared()).
  RecordKeys reloaded;

  bool empty() const {
    return events.empty() && contacts.empty() && conversations.empty() && outbox.empty() && erased_contacts.empty() &&
           erased_conversations.empty() && agents.empty() && queues.empty() && merges.empty() && inbound_seen.empty();
  }
};

// Everything the Desk needs to pick up where it left off (Desk::restore).
struct StoredState {
  std::vector<Contact> contacts;
  std::vector<Conversation> conversations;  // with their lifecycle state
  std::vector<OutboxEntry> outbox;          // entries not yet sent, delivered, read or failed
  std::vector<Agent> agents;
  std::vector<Queue> queues;
  std::vector<Merge> merges;
  std::vector<SeenInbound> inbound_seen;  // the newest ones, oldest first
  uint64_t head = 0;                      // the newest event's cursor
  uint64_t position = 0;                  // a shared store's Changes::position
};

// What other nodes sharing a store changed: their records, whole, and what they erased.
struct Changes {
  StoredState records;
  std::vector<std::string> erased_contacts, erased_conversations;
  uint64_t position = 0;  // pass to the next changes_since; Commit::based_on
};

// Which records `commit` writes (contacts with their identities, conversations,
// outbox entries, agents, queues, merges, redelivery answers).
RecordKeys keys_of(const Commit& commit);

// Where acknowledged work lives. The router appends commits in order; `done` runs
// once the commit is durable (or has failed), in the order commits were appended,
// on a thread of the store's choosing. Everything here is thread-safe.
class Store {
 public:
  virtual ~Store() = default;

  // Makes `commit` durable, then calls `done`. An empty commit still waits for the
  // commits before it, so it can order an answer after them. The router keeps its
  // own reference to publish the events once done runs.
  virtual void append(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) = 0;

  // Events with a cursor above `after`, oldest first, at most `limit`.
  virtual std::vector<Event> events_after(uint64_t after, std::size_t limit) const = 0;
  // The last `limit` events of one conversation, oldest first.
  virtual std::vector<Event> timeline(const std::string& conversation_id, std::size_t limit) const = 0;
  // The cursor of the newest durable event (0 when there is none).
  virtual uint64_t head() const = 0;

  // Reads back what earlier commits stored, for start-up. At most `inbound_seen_limit`
  // redelivery answers, the newest, oldest first; a key answered again may come twice,
  // the newer answer later, so remembering them in order keeps the newer. Call before
  // the first append.
  virtual Result<StoredState> load(std::size_t inbound_seen_limit) = 0;
  // The same records in parts, each given to `take` as soon as it is read, in the
  // order load() has them (contacts, conversations by id, outbox, agents, queues,
  // merges, redelivery answers); `head` and `position` are set on the last part. So
  // start-up can build the Desk from one part while the next is read. By default one
  // part, from load(); an error from the store comes after the parts already given.
  virtual Status load_in_parts(std::size_t inbound_seen_limit, const std::function<void(StoredState)>& take) {
    auto whole = load(inbound_seen_limit);
    if (!whole) return whole.error();
    take(std::move(*whole));
    return ok_status();
  }

  // Whether load() gives back records, so commits must carry them.
  virtual bool keeps_records() const { return true; }
  // Whether the store may keep a commit it is given, unchanged, for as long as it
  // lives, and read its events from there (the memory store's log keeps large ones):
  // the router then hands subscribers those same events rather than copies, and leaves
  // little spare room in a commit's events. The caller must not change a commit's
  // events once appended.
  virtual bool keeps_commits() const { return false; }

  // --- Several nodes on one store (PostgreSQL) ----------------------------------------
  // A shared store is written by other nodes too. Each node's Desk is then a copy
  // kept fresh by changes_since(), and a commit is checked, optimistically, against
  // what others wrote after its Commit::based_on: a record another node wrote since,
  // an identity another contact holds, a (conversation, seq) already taken, fail it
  // with kAborted "conflict: ...", writing nothing. A commit that writes a record an
  // earlier commit of this node failed on fails too, until a commit carrying
  // Commit::reloaded for it: steps built on a failed one are refused with it. The
  // router then catches up, reloads, and runs the step again.
  virtual bool shared() const { return false; }
  // This node's name in the store (events and rows say who wrote them).
  virtual std::string node_id() const { return {}; }
  // What other nodes changed after `position` (records as they are now).
  virtual Result<Changes> changes_since(uint64_t /*position*/) const { return Changes{}; }
  // The stored records behind `keys`, plus the contacts holding `keys.identities` and
  // the conversations of every contact returned. What is missing is not stored.
  virtual Result<StoredState> load_records(const RecordKeys& /*keys*/) const { return StoredState{}; }
  // Marks this node alive (by the store's clock) and answers the other nodes it has
  // not heard from for `silent_for`: their pending deliveries are for the living to
  // take over.
  virtual Result<std::vector<std::string>> heartbeat(std::chrono::seconds /*silent_for*/) {
    return std::vector<std::string>{};
  }
};

// Keeps everything in memory: tests, benchmarks, and switchboardd's `memory:` store.
// Lost on exit.
struct MemoryStoreOptions {
  // Keep every record so load() can give them back (tests of the store contract and
  // of recovery). switchboardd's `memory:` keeps only the event log: nothing ever
  // reloads it, and copying records would cost the message path for nothing.
  bool keep_records = true;
};
std::unique_ptr<Store> make_memory_store(MemoryStoreOptions options = {});

}  // namespace switchboard::router
