#pragma once

// The Desk's private state and the small steps every Desk operation is built from.
// Only desk*.cc include this.

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/container/inlined_vector.h>
#include <absl/container/node_hash_set.h>
#include <absl/hash/hash.h>

#include <switchboard/router/desk.h>

#include "answer_cache.h"
#include "compact_key.h"
#include "desk_routing.h"
#include "text_hash.h"

namespace switchboard::router {

// A conversation as the Desk holds it. Its lifecycle machine is made from `data.state`
// at each step (State::fire) rather than kept: beside the record (520 bytes then, 288
// since its rarely-set fields went out of line), the one-byte machine cost 16 bytes
// per conversation after padding and malloc's rounding.
//
// Where it waits (Routing::Waiting) is kept here too, for the same reason: a map from
// each waiting conversation's id cost more (desk_routing.h). Only routing sets it
// (track); a slot that goes must leave its lane first (leave_lane).
struct ConversationSlot {
  Conversation data;
  Routing::Waiting waiting;
};

// Orders conversation slots by id, and finds one by its id alone: the set of slots
// then needs no copy of each id as a map key would (32 bytes per conversation).
struct ConversationOrder {
  using is_transparent = void;
  static std::string_view id_of(const ConversationSlot& slot) { return slot.data.id; }
  static std::string_view id_of(std::string_view id) { return id; }
  bool operator()(const auto& a, const auto& b) const { return id_of(a) < id_of(b); }
};
using ConversationSet = std::set<ConversationSlot, ConversationOrder>;

// A contact with what the Desk knows of its conversations, in one node: three maps
// keyed by the contact id (the record, its current conversation, its list) cost about
// 150 bytes more per contact.
struct ContactSlot {
  Contact data;  // data.id is the slot's key, also before its record came
  // Its conversation that is not Closed, or null. Points into `conversations`, whose
  // nodes stay put; one of this contact's own, so whatever takes a conversation off
  // the list below sets this again (recompute_current).
  ConversationSlot* current = nullptr;
  // Oldest first. Almost every contact has one conversation, which then needs no
  // block of its own; its id as a CompactKey (16 bytes where std::string takes 32)
  // brings the slot's node from 176 to 160 bytes.
  absl::InlinedVector<CompactKey, 1> conversations;
  // False while only conversations name the contact: a store may hand those over
  // before the contact's record.
  bool has_record = false;
};

// Finds a contact's slot by the id in its record: a node then needs no copy of the id
// as a map key would (32 bytes per contact).
struct ContactId {
  static std::string_view key_of(const ContactSlot& slot) { return slot.data.id; }
  static std::string_view key_of(std::string_view id) { return id; }
};
using ContactById = ByText<ContactId>;
// Node-based: a ContactSlot is large, and an open-addressing table right after it
// grew holds twice as many slots as contacts (436 bytes per contact at a million).
// Slots stay put while others come and go.
using ContactSet = absl::node_hash_set<ContactSlot, ContactById, ContactById>;

// Which contact holds each identity, without a copy of the identity: an entry is the
// holder's slot and the identity's hash, and a lookup takes, among the entries of its
// hash, one whose contact lists the identity. 16 bytes per identity, where a key
// (Identity::key(), a CompactKey) and a pointer took 24 and most keys, "email:" and an
// address, also a heap block of their own: about 60 bytes per identity in all.
// Two identities of one contact with the same hash have two equal entries, either of
// which answers for both; this stays exact as long as an entry's contact lists its
// identity whenever the entry is looked for, hence the order of changes: set() while
// the current holder (if any) still lists the identity, and `owner` lists it before
// the next lookup; erase() before the holder takes it off its list.
class IdentityOwners {
 public:
  ContactSlot* find(std::string_view channel, std::string_view address) const;
  ContactSlot* find(const Identity& identity) const { return find(identity.channel, identity.address); }
  // `owner` holds `identity` from now on: a new entry, or the one found changes hands.
  void set(const Identity& identity, ContactSlot* owner);
  // Forgets who holds `identity`; with `only_from`, only if that contact holds it.
  void erase(const Identity& identity, const ContactSlot* only_from = nullptr);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Name {
    std::string_view channel;
    std::string_view address;
    std::size_t hash;
  };
  static Name name_of(const Identity& identity);
  struct Entry {
    mutable ContactSlot* owner;  // not part of the hash: changes in place
    std::size_t hash;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(const Name& name) const { return name.hash; }
    std::size_t operator()(const Entry& entry) const { return entry.hash; }
  };
  struct Same {
    using is_transparent = void;
    static bool holds(const Entry& entry, const Name& name);
    bool operator()(const Entry& a, const Entry& b) const { return a.owner == b.owner && a.hash == b.hash; }
    bool operator()(const Name& name, const Entry& entry) const { return holds(entry, name); }
    bool operator()(const Entry& entry, const Name& name) const { return holds(entry, name); }
  };
  absl::flat_hash_set<Entry, Hash, Same> entries_;
};

// Sets hand out their elements const, since changing an element's key would lose it.
// A slot's key (data.id) never changes once it is in; the rest of it changes in place.
inline ConversationSlot& held(const ConversationSlot& slot) { return const_cast<ConversationSlot&>(slot); }
inline ContactSlot& held(const ContactSlot& slot) { return const_cast<ContactSlot&>(slot); }

// kSla, kOverflow and kWrapUpEnd belong to routing (desk_routing.cc, desk_sla.cc).
enum class DeadlineKind : uint8_t { kWake, kClose, kRetryDelivery, kSla, kOverflow, kWrapUpEnd, kWaitUpdates };
struct Deadline {
  std::string conversation_id;
  DeadlineKind kind;
  std::string outbound_id;  // kRetryDelivery only
  std::string agent_id;     // kWrapUpEnd only
  std::string queue;        // kWaitUpdates only
};

// Ids that sort by creation time and never repeat, across restarts and nodes, with
// no counter to keep (the ULID idea): prefix, then 12 digits of a sorted base-64
// alphabet spelling 42 bits of milliseconds since 1970 (until 2109) and a 30-bit tail
// that starts at 28 random bits and only counts up within one millisecond. "cv_" and
// 12 digits make 15 characters, which std::string keeps inline: an id is copied into
// about a dozen indexes per conversation, and a heap block for each cost about 480
// bytes per conversation. Ids of the earlier form (20 hex digits) stay valid and sort
// before these. An erased contact's id is never handed to someone else.
class IdSource {
 public:
  explicit IdSource(uint64_t seed);
  std::string next(const char* prefix, Timestamp at);

 private:
  static constexpr int kMillisecondBits = 42;
  static constexpr int kTailBits = 30;
  static constexpr int kRandomBits = 28;  // room to count up 3 * 2^28 ids in one millisecond
  static constexpr std::size_t kDigitCount = (kMillisecondBits + kTailBits) / 6;
  std::mt19937_64 random_;
  int64_t last_ms_ = -1;
  uint32_t last_tail_ = 0;
};

struct Desk::State {
  State(const Limits& limits, uint64_t seed)
      : ids(seed), inbound_seen(limits.dedupe_entries), requests_seen(limits.dedupe_entries) {}

  uint64_t next_cursor = 1;
  IdSource ids;

  ContactSet contacts;
  // Identity -> its contact's slot in `contacts`, whose nodes stay put. A contact lists
  // every identity that points to it, and takes them out of here before it goes.
  IdentityOwners identity_owner;
  ConversationSet conversations;                 // ordered by id: stable paging
  AnswerCache<IngestResult> inbound_seen;        // channel '\0' external_id
  AnswerCache<SendMessageResult> requests_seen;  // conversation '\0' request_id
  std::unordered_map<std::string, Agent> agents;
  std::map<std::string, Queue> queues;
  std::map<std::string, Merge> merges;
  std::unordered_map<std::string, OutboxEntry> outbox;
  // Over the outbox, for provider receipts (desk_outbox.cc): channel '\0' external
  // id -> outbound id; channel '\0' address -> our sent messages not yet read there.
  absl::flat_hash_map<std::string, std::string> outbound_by_external_id;
  absl::flat_hash_map<std::string, std::set<std::string>> unread_outbound;
  std::multimap<Timestamp, Deadline> deadlines;
  std::map<std::string, Timestamp> next_wait_update;          // queue -> its armed wait-update tick
  absl::flat_hash_map<std::string, std::string> calls_by_id;  // channel '\0' call id -> conversation id
  Routing routing;                                            // indexes over the records above, rebuilt on restore

  // NOT_FOUND naming `field` when there is no such conversation.
  Result<ConversationSlot*> find_conversation(const std::string& id, const char* field = "conversation_id");
  ConversationSlot* find_slot(std::string_view id);  // nullptr when there is none
  ConversationSlot& slot_at(std::string_view id);    // one that is there (std::out_of_range otherwise)
  Result<Contact*> find_contact(const std::string& id, const char* field = "contact_id");
  ContactSlot* find_contact_slot(std::string_view id);  // nullptr when there is none, with a record or not
  ContactSlot& contact_at(std::string_view id);         // one that is there (std::out_of_range otherwise)
  ContactSlot& contact_slot(std::string_view id);       // made without a record when there is none
  bool agent_available(const std::string& agent_id) const;
  TriggerFacts facts_for(const Conversation& c) const;

  // Appends one event to the conversation's timeline and to the commit.
  const Event& append(Conversation& c, EventBody body, const std::string& actor, Timestamp at, Commit& out);
  // Fires `trigger`; on success carries out the effects and writes the events
  // (StateChanged, Reopened); a refusal is FAILED_PRECONDITION and changes nothing.
  Result<Step> fire(ConversationSlot& slot, Trigger trigger, const TriggerFacts& facts, const std::string& actor,
                    Timestamp at, std::chrono::seconds reopen_window, Commit& out);
  Status record_delivery(OutboxEntry& entry, DeliveryStatus status, std::string reason, Timestamp at,
                         std::size_t max_reason_bytes, Commit& out);
  // Resolved -> Closed once its reopen window ended; the contact's next message opens a new one.
  void close(ConversationSlot& slot, Timestamp at, Commit& out);
  // Records the conversation's new state in the commit, and keeps the routing
  // indexes (who waits where, who holds what) in step with it.
  void save(ConversationSlot& slot, Commit& out) {
    track(slot, slot.data, out);
    if (out.with_records) out.conversations.push_back(slot.data);
  }
  // The same for a record alone: its slot is found by its id (track).
  void save(Conversation& c, Commit& out) {
    track(c, out);
    if (out.with_records) out.conversations.push_back(c);
  }
  void save(const Contact& c, Commit& out) const {
    if (out.with_records) out.contacts.push_back(c);
  }
  // Records as a store holds them, replacing what is here, with every index and
  // deadline that follows from them (restore and absorb).
  void put(Contact contact);
  void put(Conversation conversation, std::chrono::seconds reopen_window);
  void drop_contact(const std::string& id);
  void drop_conversation(std::string_view id);
  // Every record of `stored` put, every one in `gone` dropped; routing not told.
  void put_all(StoredState stored, const RecordKeys& gone, std::chrono::seconds reopen_window);
  // Keeps the receipt indexes in step with an outbox entry's new state.
  void index_receipts(const OutboxEntry& entry);
  // A conversation taken in from the store joins the routing indexes and deadlines
  // (restore_routing does this for all of them at start-up).
  void follow(const Conversation& c, Timestamp now);

  // The conversation a customer reaching us as `identity` joins: `current` (the
  // contact's current one) unless its reopen window ended, else a new one in `queue`.
  // A null `contact` is created first; one without a name takes `display_name`.
  ConversationSlot& join(Contact*& contact, ConversationSlot* current, bool own_identity, const Identity& identity,
                         const std::string& display_name, const std::string& queue, Timestamp at,
                         std::chrono::seconds reopen_window, Commit& out);
  // The customer is on `identity`'s channel now: ChannelSwitched, the leg touched.
  void arrive(Conversation& c, const Identity& identity, Timestamp at, Commit& out);

  // --- phone calls (desk_calls.cc) -------------------------------------------------
  // Keeps `calls_by_id` in step with the calls a conversation record carries.
  void index_calls(const Conversation& c);
  void unindex_calls(const Conversation& c);
  // The agent a ringing call goes to, or none and why ("busy", "nobody-available").
  std::pair<std::string, std::string> call_agent_for(const Conversation& c, Timestamp at);
  bool has_voice_room(const Agent& agent, const Conversation& c, Timestamp at) const;
  // The conversation follows the call to `agent_id` (assigned, or transferred).
  void put_call_through(ConversationSlot& slot, const std::string& agent_id, Timestamp at, Commit& out);
  // Adds `call` to the conversation's record, forgetting the oldest beyond `keep`.
  void remember_call(Conversation& c, Call call, std::size_t keep);

  // The contact's latest conversation, open or not (nullptr when none).
  ConversationSlot* latest_of(const std::string& contact_id);
  // The contact's conversation that is not Closed (nullptr when none).
  ConversationSlot* current_of(const std::string& contact_id);
  void recompute_current(const std::string& contact_id);
  // The conversation no longer counts as the contact's; a slot left with neither a
  // record nor conversations goes.
  void detach(const std::string& contact_id, const std::string& conversation_id);

  // --- routing, SLA and measures (desk_routing.cc, desk_sla.cc) --------------------
  // `c` is the record of a conversation that has a slot, or a copy of one (follow);
  // track finds the slot by its id. One that has none (erased) waits nowhere.
  void track(Conversation& c, Commit& out);
  void track(ConversationSlot& slot, const Conversation& c, Commit& out);
  // Takes the conversation out of its lane, if it waits in one.
  void leave_lane(ConversationSlot& slot);
  void forget(std::string_view conversation_id, Timestamp now);  // an erased conversation
  // After a lifecycle step: queue order, overflow, SLA clocks, measures.
  void on_step(Conversation& c, const Step& step, Trigger trigger, Timestamp at, Commit& out);
  // After the conversation moved to another queue: its overflow and SLA deadlines.
  void on_queue_changed(Conversation& c, Timestamp at);
  // Offers waiting conversations to agents with room, by each queue's strategy.
  void dispatch(Timestamp at, Commit& out);
  // The agent a lane offers next: the front of its order; round_robin after where it
  // left off. The lane has free agents.
  const std::string& next_agent(const Lane& l, const Queue& queue) const;
  // Queued -> Assigned to `agent_id` by routing (round_robin remembers the agent; the
  // caller saves the queue record).
  void assign_by_routing(ConversationSlot& slot, const std::string& agent_id, Queue& queue, Timestamp at, Commit& out);
  void refresh_agent(const Agent& agent, Timestamp now);
  void rebuild_routing(Timestamp now);
  void restore_routing(Timestamp now);
  void arm_routing_deadlines(const Conversation& c);  // SLA clocks, overflow
  Lane& lane(const std::string& queue, const std::string& kind, Timestamp now);
  // A deadline of kind kSla, kOverflow or kWrapUpEnd fell due.
  void run_routing_deadline(const Deadline& d, Timestamp at, Commit& out);
  // Wrap-up for the agent, the survey on the last channel, resolution measures.
  void after_resolve(Conversation& c, Timestamp at, Commit& out);
  // True when `text` answers the conversation's open survey: recorded, no reopen.
  bool record_survey_answer(Conversation& c, const std::string& text, Timestamp at, Commit& out);
  // Tells a customer who writes while the queue is closed when it opens.
  void reply_if_closed(Conversation& c, const Identity& to, Timestamp at, Commit& out);
  // The queue whose rules match first, else `fallback`.
  std::string select_queue(const std::string& channel, const std::string& address, const Attributes& attributes,
                           const std::vector<std::string>& labels, const std::string& fallback) const;
  // An outbound message from Switchboard itself, through the outbox like any reply.
  void send_system_message(Conversation& c, const std::string& channel, const std::string& address,
                           const std::string& text, Timestamp at, Commit& out);
  // Where conversations wait and how long for (desk_routing.cc), and the wait updates
  // that tell customers (desk_waiting.cc).
  uint32_t agents_serving(const Queue& queue) const;  // online, with the queue's skills
  WaitEstimate wait_estimate(const Queue& queue) const;
  // In the order served; valid until the routing indexes next change.
  std::vector<const WaitKey*> waiting_line(const std::string& queue) const;
  std::optional<QueuePlace> place_of(const Conversation& c) const;
  void arm_wait_updates(const Conversation& c, Timestamp at);
  // The queue's wait-update tick that fell `due`; a superseded tick does nothing.
  void send_wait_updates(const std::string& queue, Timestamp due, Timestamp at, Commit& out);
  const BusinessCalendar& calendar(const std::string& queue) const;
  const Queue& queue_of(const std::string& name) const;
  // SLA clocks (desk_sla.cc).
  void sla_customer_waiting(Conversation& c, Timestamp at, Commit& out);
  void sla_agent_replied(Conversation& c, Timestamp at, Commit& out);
  void sla_pause_all(Conversation& c, Timestamp at);
  void sla_resume_all(Conversation& c, Timestamp at, Commit& out);
  void sla_stop_all(Conversation& c, Timestamp at);
  void sla_check(Conversation& c, Timestamp at, Commit& out);
  void sla_schedule(Conversation& c, SlaClock& clock, Timestamp at);
};

bool valid_utf8(std::string_view text);
// A message template filled in: every `what` in `text` becomes `with`.
std::string replace_all(std::string text, const std::string& what, const std::string& with);
// A message or note body: present when `required`, within max_text_bytes, UTF-8.
// `field` is a view: callers name it with a literal, made a string only for an error.
Status check_text(const std::string& text, bool required, const Limits& limits, std::string_view field);
// `current` with `remove` taken out and `set` put in, within the limits on attributes;
// INVALID_ARGUMENT naming `field` otherwise.
Result<Attributes> apply_attributes(const Attributes& current, const Attributes& set,
                                    const std::vector<std::string>& remove, const Limits& limits,
                                    const std::string& field);

}  // namespace switchboard::router
