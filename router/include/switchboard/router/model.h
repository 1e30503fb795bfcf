#pragma once

// The customer-service vocabulary of Switchboard: contacts and their identities,
// conversations, messages and the events of a conversation's timeline. Plain data,
// no behaviour; the Desk (desk.h) owns and changes them.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <absl/container/inlined_vector.h>

namespace switchboard::router {

using Clock = std::chrono::system_clock;
using Timestamp = Clock::time_point;
using Attributes = std::map<std::string, std::string>;

// A time that may be unset, in 8 bytes where std::optional<Timestamp> takes 16: a
// conversation carries a dozen, and a million idle conversations stay in memory. It
// reads and converts like std::optional<Timestamp>; unset is Timestamp::min(), which
// no event, deadline or clock of ours ever holds.
class OptionalTime {
 public:
  constexpr OptionalTime() = default;
  constexpr OptionalTime(std::nullopt_t) {}
  constexpr OptionalTime(Timestamp at) : at_(at) {}
  constexpr OptionalTime(const std::optional<Timestamp>& at) : at_(at.value_or(kUnset)) {}
  constexpr operator std::optional<Timestamp>() const {
    return has_value() ? std::optional<Timestamp>(at_) : std::nullopt;
  }

  constexpr bool has_value() const { return at_ != kUnset; }
  constexpr explicit operator bool() const { return has_value(); }
  constexpr const Timestamp& operator*() const { return at_; }
  constexpr Timestamp& operator*() { return at_; }
  constexpr const Timestamp* operator->() const { return &at_; }
  const Timestamp& value() const {
    if (!has_value()) throw std::bad_optional_access();
    return at_;
  }
  constexpr Timestamp value_or(Timestamp otherwise) const { return has_value() ? at_ : otherwise; }
  constexpr void reset() { at_ = kUnset; }
  constexpr Timestamp& emplace(Timestamp at = {}) { return at_ = at; }

  friend constexpr bool operator==(const OptionalTime&, const OptionalTime&) = default;

 private:
  static constexpr Timestamp kUnset = Timestamp::min();
  Timestamp at_ = kUnset;
};

// A T kept on the heap only once something in it is set, and copied deeply with its
// owner, so the owner stays a plain value type: a copy has its own T, equal to the
// original. For fields most records never set, which would otherwise take room in
// every one of a million records held in memory. Reading an empty one gives a
// default-constructed T; edit() allocates the T on first use and never frees it.
template <typename T>
class OutOfLine {
 public:
  OutOfLine() = default;
  OutOfLine(const OutOfLine& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  OutOfLine(OutOfLine&&) noexcept = default;
  OutOfLine& operator=(const OutOfLine& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  OutOfLine& operator=(OutOfLine&&) noexcept = default;
  ~OutOfLine() = default;

  const T& operator*() const { return value_ ? *value_ : defaults(); }
  const T* operator->() const { return &**this; }
  T& edit() {
    if (!value_) value_ = std::make_unique<T>();
    return *value_;
  }
  // Sets one field back to its value in a default-constructed T (nps: -1, not 0),
  // allocating nothing when there is no T: clearing what was never set stays free.
  template <typename Field>
  void reset(Field T::*field) {
    if (value_) (*value_).*field = defaults().*field;
  }
  // Whether a T was allocated: for tests and memory accounting, not for meaning.
  bool allocated() const { return value_ != nullptr; }

 private:
  static const T& defaults() {
    static const T kDefaults{};
    return kDefaults;
  }
  std::unique_ptr<T> value_;
};

// A customer's address on one channel. `address` is normalised (identity.h).
struct Identity {
  std::string channel;
  std::string address;
  bool verified = false;

  std::string key() const { return channel + ':' + address; }
  friend bool operator==(const Identity& a, const Identity& b) {
    return a.channel == b.channel && a.address == b.address;
  }
};

// What few contacts hold, out of line (Contact::extras) like ConversationExtras.
struct ContactExtras {
  Attributes attributes;
  std::string merged_into;  // set while folded into another contact
};

struct Contact {
  std::string id;
  std::string display_name;
  // Almost every contact has one identity, kept in the record like a conversation's
  // leg: a block of its own cost about 32 bytes more per contact.
  absl::InlinedVector<Identity, 1> identities;
  Timestamp created_at;
  // Read with `extras->attributes`, set with `extras.edit().attributes = ...`.
  OutOfLine<ContactExtras> extras;
};

// Enumerators named by a table indexed by their value: one vocabulary for stored
// records (the record codec stores these names, so they must not change: append new
// enumerators and names at the end), events, logs and the API's texts.
template <typename Enum, std::size_t N>
constexpr const char* name_in(const std::array<const char*, N>& names, Enum value) {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : "?";
}

enum class ConversationState : uint8_t { kNew, kBot, kQueued, kAssigned, kSnoozed, kResolved, kClosed };
const char* to_string(ConversationState state);

struct ChannelLeg {
  std::string channel;
  std::string address;
  Timestamp first_at;
  Timestamp last_at;
};

enum class Direction : uint8_t { kInbound, kOutbound, kNote };
enum class DeliveryStatus : uint8_t { kNone, kPending, kSent, kDelivered, kRead, kFailed };
inline constexpr std::array<const char*, 6> kDeliveryStatusNames = {"none",      "pending", "sent",
                                                                    "delivered", "read",    "failed"};
constexpr const char* to_string(DeliveryStatus status) { return name_in(kDeliveryStatusNames, status); }

struct AttachmentRef {
  std::string url;
  std::string content_type;
  std::string filename;
  uint64_t size_bytes = 0;
};

struct Message {
  Direction direction = Direction::kInbound;
  std::string channel;
  std::string address;
  std::string text;
  std::vector<AttachmentRef> attachments;
  std::string external_id;
  DeliveryStatus status = DeliveryStatus::kNone;
  std::string author_id;
  std::map<std::string, std::string> metadata;
};

// Event bodies, one per kind of timeline entry (events.proto mirrors them).
struct StateChanged {
  ConversationState from;
  ConversationState to;
  std::string trigger;
};
struct ChannelSwitched {
  std::string from_channel;
  std::string to_channel;
};
struct Assigned {
  std::string agent_id;
};
struct Unassigned {
  std::string agent_id;
  std::string reason;
};
struct Transferred {
  std::string from_agent_id;
  std::string to_agent_id;
  std::string to_queue;
  std::string reason;
  uint32_t transfer_count = 0;
};
struct HandedOff {
  std::string reason;
  std::string queue;
};
struct Snoozed {
  Timestamp until;
};
struct Woke {};
struct Resolved {
  std::string by;
};
struct Reopened {
  uint32_t reopen_count = 0;
};
struct Closed {};
struct ConversationOpened {
  std::string contact_id;
  std::string queue;
  std::string previous_conversation_id;
};
struct AttributesChanged {
  Attributes set;
  std::vector<std::string> removed;
};
struct LabelsChanged {
  std::vector<std::string> labels;
};
struct PriorityChanged {
  int32_t priority = 0;
};
struct DeliveryUpdated {
  uint64_t message_seq = 0;
  DeliveryStatus status = DeliveryStatus::kNone;
  std::string reason;
};
// A provider's word on one of our messages, naming it by the provider's id.
struct DeliveryReceipt {
  std::string channel;
  std::string external_id;  // as given to AdapterHost::report_sent
  DeliveryStatus status = DeliveryStatus::kDelivered;
  std::string reason;  // the provider's code and text, for failed
};

struct ContactChanged {
  std::string contact_id;
  std::string change;  // linked, unlinked, merged, unmerged, updated
  std::string other_contact_id;
};
// An SLA clock ("frt", "nrt", "rt") reached its warning point, or its target.
struct SlaWarning {
  std::string metric;
  Timestamp due_at;
};
struct SlaBreached {
  std::string metric;
  Timestamp due_at;
};
// The customer answered the survey sent on resolve ("csat" 1-5, "nps" 0-10).
struct SurveyAnswered {
  std::string survey;  // csat or nps ("kind" names the event kind in stored records)
  int32_t score = 0;
};
// Waited past its queue's overflow_after: moved to the overflow queue (not a transfer).
struct Overflowed {
  std::string from_queue;
  std::string to_queue;
};

// A phone call's state (the per-call machine: router/src/call_machine.h).
enum class CallState : uint8_t { kRinging, kInProgress, kOnHold, kEnded, kMissed };
inline constexpr std::array<const char*, 5> kCallStateNames = {"ringing", "in_progress", "on_hold", "ended", "missed"};
constexpr const char* to_string(CallState state) { return name_in(kCallStateNames, state); }

// A phone call reached a new state: turned into the conversation's timeline.
struct CallEvent {
  std::string call_id;  // the SIP Call-ID or the provider's CallSid
  std::string channel;  // "phone"
  std::string address;  // the caller, E.164
  CallState state = CallState::kRinging;
  std::string agent_id;              // who it was routed to, if anyone
  std::chrono::seconds duration{0};  // on Ended
  std::string reason;                // on Missed: busy, no-answer, canceled, failed, nobody-available
};

// New alternatives go at the end: events.proto's EventKind numbers follow this order.
using EventBody =
    std::variant<Message, StateChanged, ChannelSwitched, Assigned, Unassigned, Transferred, HandedOff, Snoozed, Woke,
                 Resolved, Reopened, Closed, ConversationOpened, AttributesChanged, LabelsChanged, PriorityChanged,
                 DeliveryUpdated, ContactChanged, SlaWarning, SlaBreached, SurveyAnswered, Overflowed, CallEvent>;

// One entry of a conversation's timeline.
struct Event {
  uint64_t cursor = 0;  // position in the whole log, assigned when appended
  std::string conversation_id;
  uint64_t seq = 0;  // per conversation, 1, 2, 3, ... without gaps
  Timestamp at;
  std::string actor;
  std::string queue;        // the conversation's queue right after the event
  std::string assignee_id;  // and its assignee
  EventBody body;
};

// One running or paused SLA clock of a conversation (docs/routing.md). Time counts
// only inside the queue's business hours; `used` is what earlier running stretches
// consumed, so pausing and resuming never loses or double-counts time.
enum class SlaMetric : uint8_t { kFirstResponse, kNextResponse, kResolution };
// "frt", "nrt", "rt": a metric's one name, in events, measures, the API and stored
// records alike.
inline constexpr std::array<const char*, 3> kSlaMetricNames = {"frt", "nrt", "rt"};
constexpr const char* to_string(SlaMetric metric) { return name_in(kSlaMetricNames, metric); }

struct SlaClock {
  SlaMetric metric = SlaMetric::kFirstResponse;
  // The flags sit beside the metric: a million conversations hold two clocks each.
  bool warned = false;
  bool breached = false;
  Timestamp started_at;
  std::chrono::seconds used{0};
  OptionalTime running_since;  // unset while paused
  OptionalTime warning_at;     // while running: when the warning / breach falls due
  OptionalTime due_at;
};

// Where a waiting conversation stands in its queue: 1 is served next.
struct QueuePlace {
  uint32_t position = 0;
  std::chrono::seconds expected_wait{0};  // from the queue's recent handle times and the agents online
};

// A call the conversation knows, kept on its record: where its next update goes and
// the answer a repeated call id gets, across restarts and nodes.
struct Call {
  std::string call_id;
  std::string channel;
  CallState state = CallState::kRinging;
  std::string agent_id;  // the routing answer
  std::string agent_sip_uri;
  std::string reason;     // why nobody took it
  uint64_t seq = 0;       // the Ringing event
  uint64_t last_seq = 0;  // the latest event of the call
  Timestamp started_at;
};

// What most conversations never set, or set only late in their life: kept out of
// line (Conversation::extras) so that a million idle conversations do not each carry
// room for them. Same fields and meaning as when they were members of Conversation.
struct ConversationExtras {
  std::vector<std::string> labels;
  Attributes attributes;
  uint32_t transfer_count = 0;
  uint32_t reopen_count = 0;
  std::string previous_conversation_id;
  OptionalTime snoozed_until;
  OptionalTime overflow_at;      // moves to the queue's overflow queue then, if still waiting
  OptionalTime auto_replied_at;  // the last out-of-hours reply
  std::string survey_kind;       // csat or nps, while a survey awaits its answer
  OptionalTime survey_until;
  int32_t csat = 0;  // 1-5; 0: no answer
  int32_t nps = -1;  // 0-10; -1: no answer
  // The last wait update sent to the customer while Queued (Queue::wait_updates).
  OptionalTime wait_update_at;
  uint32_t wait_update_position = 0;
  std::chrono::seconds wait_update_expected{0};
  std::vector<Call> calls;  // the latest Limits::max_calls_per_conversation, oldest first
};

struct Conversation {
  std::string id;
  std::string contact_id;
  ConversationState state = ConversationState::kNew;
  int32_t priority = 0;
  std::string active_channel;
  // Almost every conversation has one leg and up to two SLA clocks, kept in the record
  // itself: in blocks of their own (96 and 112 bytes from malloc) they cost about 64
  // bytes more per conversation, with a million idle conversations held.
  absl::InlinedVector<ChannelLeg, 1> legs;
  std::string assignee_id;
  std::string queue;
  Timestamp created_at;
  Timestamp updated_at;
  uint64_t last_seq = 0;
  OptionalTime resolved_at;
  OptionalTime last_inbound_at;
  // Routing and measures (docs/routing.md).
  OptionalTime queued_since;  // waiting in its queue since: orders the queue
  OptionalTime first_assigned_at;
  OptionalTime first_response_at;
  absl::InlinedVector<SlaClock, 2> sla;  // inline, like `legs`
  // Read with `extras->csat`, set with `extras.edit().csat = 5` (allocates them once),
  // cleared with `extras.reset(&ConversationExtras::csat)`.
  OutOfLine<ConversationExtras> extras;

  bool open() const { return state != ConversationState::kResolved && state != ConversationState::kClosed; }
  const ChannelLeg* leg(const std::string& channel) const;
};

// A message from a customer, as an adapter hands it to the router.
struct InboundMessage {
  std::string channel;
  std::string address;
  std::string external_id;
  std::string text;
  std::string display_name;
  std::optional<Timestamp> sent_at;
  std::map<std::string, std::string> metadata;
  bool verified = false;
  std::string queue;
  std::vector<AttachmentRef> attachments;
  // Threading proof from the channel (an email's signed reply token): the message
  // belongs to this conversation's contact and joins its current conversation, even
  // when the sender's own address is unknown or another contact's (a colleague the
  // customer forwarded our mail to). Such a sender is neither created nor linked, and
  // the conversation's legs keep the customer's address. Unknown ids are ignored.
  std::string conversation_id;
  // Set by a channel that must not let a sender's address alone (a forgeable email
  // From) join an existing conversation: without a matching conversation_id, an
  // inbound for a contact whose current conversation is not Closed is refused
  // (FAILED_PRECONDITION). A contact with none gets a new conversation as usual.
  bool require_conversation_id = false;
  // An auto-reply or bounce: recorded on the contact's current (else latest)
  // conversation without firing the lifecycle, so it never reopens, routes or opens
  // anything. FAILED_PRECONDITION when the contact has no conversation to record it on.
  bool automatic = false;
};

struct IngestResult {
  std::string contact_id;
  std::string conversation_id;
  uint64_t seq = 0;
  bool duplicate = false;
};

// What a channel can carry, as its adapter declares it.
struct ChannelCapabilities {
  std::string channel;
  bool synchronous = false;  // the customer waits for the answer (chat, phone)
  bool rich_text = false;
  uint32_t max_text_length = 0;          // 0: no limit
  std::chrono::seconds reply_window{0};  // 0: no window (Meta's is 24 h)
};

enum class AgentStatus : uint8_t { kOnline, kAway, kOffline };
inline constexpr std::array<const char*, 3> kAgentStatusNames = {"online", "away", "offline"};
constexpr const char* to_string(AgentStatus status) { return name_in(kAgentStatusNames, status); }

struct Agent {
  std::string id;
  std::string name;
  AgentStatus status = AgentStatus::kOffline;
  std::vector<std::string> skills;
  std::map<std::string, uint32_t> capacity;  // per channel kind: {"voice": 1, "chat": 3}
  std::chrono::seconds wrap_up{0};
  std::string sip_uri;  // where calls routed to this agent go: sip:alice@pbx.example, or tel:+1...
  Timestamp status_since;
  // Kept by the Desk, not by UpsertAgent: no offers before wrap_up_until; longest_idle
  // picks the smallest idle_since (the last assignment or resolve).
  std::optional<Timestamp> wrap_up_until;
  Timestamp idle_since;

  bool available() const { return status == AgentStatus::kOnline; }
};

// Weekly opening hours in local time: weekday 0 = Sunday .. 6 = Saturday, minutes
// after local midnight, close up to 1440.
struct OpenHours {
  uint32_t weekday = 0;
  uint32_t open_minute = 0;
  uint32_t close_minute = 0;
};

struct BusinessHours {
  std::string time_zone;  // IANA name ("Europe/Berlin"); empty: always open
  std::vector<OpenHours> weekly;
  std::vector<std::string> holidays;  // local dates "YYYY-MM-DD", closed all day
};

// Elapsed business time at which an SLA clock warns, and its target; 0 target: none.
struct SlaTarget {
  std::chrono::seconds target{0};
  std::chrono::seconds warning{0};
};

struct SlaPolicy {
  SlaTarget first_response;
  SlaTarget next_response;
  SlaTarget resolution;
  // The resolution clock stops while the last word was the agent's.
  bool pause_while_waiting_on_customer = false;
};

struct Survey {
  std::string kind;  // csat (1-5) or nps (0-10); empty: none
  std::string text;
  std::chrono::seconds window{0};  // answers count this long after resolve (0: one day)
};

// Messages that tell a waiting customer their place in line and the expected wait:
// one soon after they join the queue, then again at most every `interval` when the
// expected wait moved by a quarter and at least a minute (docs/routing.md). "{position}"
// and "{wait}" in `text` are replaced; empty: a default text.
struct WaitUpdates {
  bool enabled = false;
  std::chrono::seconds interval{120};
  std::string text;
};

// Picks the queue of a new conversation: every non-empty field must match. `address`
// may end in '*' (a prefix) or start with '*' (a suffix, "*@example.org"). Rules are
// tried by `order`, then queue name; the first match wins.
struct QueueRule {
  int32_t order = 0;
  std::string channel;
  std::string address;
  std::string label;
  std::string attribute;  // key=value on the message's metadata or the conversation's attributes
};

struct Queue {
  std::string name;
  std::string strategy = "round_robin";
  std::vector<std::string> required_skills;
  std::string bot_id;  // conversations start with this bot when set
  std::string overflow_queue;
  std::chrono::seconds overflow_after{0};
  BusinessHours business_hours;
  SlaPolicy sla;
  // Sent on the customer's channel when they write while the queue is closed;
  // "{next_open}" becomes when it opens. Empty: a default text (when business_hours set).
  std::string out_of_hours_reply;
  Survey survey;
  WaitUpdates wait_updates;
  std::vector<QueueRule> rules;
  std::string last_assigned_agent;  // round_robin: where it left off (kept by the Desk)
  // The config definition last applied to this queue (a digest), so a restart applies
  // the config's queues only when they changed, not over what the API changed since.
  std::string config_digest;
};

// What a merge moved, so that unmerge puts back just that.
struct Merge {
  std::string id;
  std::string target_id;
  std::string source_id;
  std::vector<Identity> moved_identities;
  std::vector<std::string> moved_conversations;
  bool took_display_name = false;
  bool undone = false;
};

// The answer given to a (channel, external_id), kept so a redelivery gets it again.
struct SeenInbound {
  std::string channel;
  std::string external_id;
  IngestResult result;
};

}  // namespace switchboard::router
