#pragma once

// The Desk's private state and the small steps every Desk operation is built from.
// Only desk*.cc include this.

#include <deque>
#include <map>
#include <random>
#include <string>
#include <unordered_map>

#include <absl/container/flat_hash_map.h>
#include <vector>

#include <switchboard/router/desk.h>

namespace switchboard::router {

// A conversation and its lifecycle machine; `data.state` mirrors the machine.
struct ConversationSlot {
  Conversation data;
  Lifecycle lifecycle;
};

// Remembers the answers to the last `capacity` keys, forgetting the oldest first, so
// redeliveries are answered alike without growing forever.
// Open addressing (absl::flat_hash_map): at a million remembered answers a node-based
// map spends the message path's time in cache misses.
template <typename Value>
class AnswerCache {
 public:
  explicit AnswerCache(std::size_t capacity) : capacity_(capacity) {}
  const Value* find(const std::string& key) const {
    auto it = answers_.find(key);
    return it == answers_.end() ? nullptr : &it->second;
  }
  void forget(const std::string& key) { answers_.erase(key); }  // its place in order_ ages out
  void remember(std::string key, Value value) {
    if (capacity_ == 0) return;
    if (auto it = answers_.find(key); it != answers_.end()) {
      it->second = std::move(value);
      return;
    }
    if (answers_.size() >= capacity_) {
      answers_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(key);
    answers_.emplace(std::move(key), std::move(value));
  }

 private:
  std::size_t capacity_;
  absl::flat_hash_map<std::string, Value> answers_;
  std::deque<std::string> order_;
};

enum class DeadlineKind : uint8_t { kWake, kClose, kRetryDelivery };
struct Deadline {
  std::string conversation_id;
  DeadlineKind kind;
  std::string outbound_id;  // kRetryDelivery only
};

// Ids that sort by creation time and never repeat, across restarts and nodes, with
// no counter to keep: prefix, 12 hex digits of milliseconds, 8 of randomness that
// only counts up within one millisecond (the ULID idea). An erased contact's id is
// never handed to someone else.
class IdSource {
 public:
  explicit IdSource(uint64_t seed);
  std::string next(const char* prefix, Timestamp at);

 private:
  std::mt19937_64 random_;
  int64_t last_ms_ = -1;
  uint32_t last_tail_ = 0;
};

struct Desk::State {
  State(const Limits& limits, uint64_t seed)
      : ids(seed), inbound_seen(limits.dedupe_entries), requests_seen(limits.dedupe_entries) {}

  uint64_t next_cursor = 1;
  IdSource ids;

  absl::flat_hash_map<std::string, Contact> contacts;
  absl::flat_hash_map<std::string, std::string> identity_owner;                 // Identity::key() -> contact id
  std::map<std::string, ConversationSlot> conversations;                        // ordered by id: stable paging
  absl::flat_hash_map<std::string, std::vector<std::string>> conversations_of;  // contact -> ids, oldest first
  absl::flat_hash_map<std::string, std::string> current;  // contact -> its conversation that is not Closed
  AnswerCache<IngestResult> inbound_seen;                 // channel '\0' external_id
  AnswerCache<SendMessageResult> requests_seen;           // conversation '\0' request_id
  std::unordered_map<std::string, Agent> agents;
  std::map<std::string, Queue> queues;
  std::map<std::string, Merge> merges;
  std::unordered_map<std::string, OutboxEntry> outbox;
  std::multimap<Timestamp, Deadline> deadlines;

  // NOT_FOUND naming `field` when there is no such conversation.
  Result<ConversationSlot*> find_conversation(const std::string& id, const char* field = "conversation_id");
  Result<Contact*> find_contact(const std::string& id, const char* field = "contact_id");
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
  // Records the conversation's new state in the commit.
  void save(const Conversation& c, Commit& out) const {
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
  void drop_conversation(const std::string& id);

  // The contact's latest conversation, open or not (nullptr when none).
  ConversationSlot* latest_of(const std::string& contact_id);
  void recompute_current(const std::string& contact_id);
};

bool valid_utf8(std::string_view text);
// A message or note body: present when `required`, within max_text_bytes, UTF-8.
Status check_text(const std::string& text, bool required, const Limits& limits, const std::string& field);
// `current` with `remove` taken out and `set` put in, within the limits on attributes;
// INVALID_ARGUMENT naming `field` otherwise.
Result<Attributes> apply_attributes(const Attributes& current, const Attributes& set,
                                    const std::vector<std::string>& remove, const Limits& limits,
                                    const std::string& field);

}  // namespace switchboard::router
