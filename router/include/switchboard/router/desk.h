#pragma once

// The Desk is Switchboard's core, synchronous and single-threaded: it holds every
// contact, identity and conversation, runs the lifecycle machine, and turns each
// request into the events and records to store (a Commit). It does no I/O and never
// blocks; the Router (router.h) runs it on one executor, makes its commits durable,
// then answers. A request that fails leaves the Desk and the Commit untouched.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <switchboard/router/adapter.h>
#include <switchboard/router/error.h>
#include <switchboard/router/identity.h>
#include <switchboard/router/lifecycle.h>
#include <switchboard/router/limits.h>
#include <switchboard/router/model.h>
#include <switchboard/router/store.h>

namespace switchboard::router {

// What the Desk may ask about the running channels when it picks a reply channel.
class ChannelDirectory {
 public:
  virtual ~ChannelDirectory() = default;
  // Capabilities of a channel whose adapter runs, nothing when none runs.
  virtual std::optional<ChannelCapabilities> capabilities(const std::string& channel) const = 0;
  virtual bool has_live_session(const std::string& channel, const std::string& address) const = 0;
};

struct SendMessageCommand {
  std::string conversation_id;
  std::string text;
  std::string channel;  // empty: the router picks
  std::string request_id;
  std::string author_id;
  std::vector<AttachmentRef> attachments;
  bool from_bot = false;
};

struct SendMessageResult {
  uint64_t seq = 0;
  std::string channel;
  std::string address;
  std::string outbound_id;
  DeliveryStatus status = DeliveryStatus::kPending;
  std::string detail;
  bool duplicate = false;
  bool adapter_running = false;
};

struct TransferCommand {
  std::string conversation_id;
  std::string agent_id;  // exactly one of agent_id and queue
  std::string queue;
  std::string reason;
};

struct ConversationFilter {
  std::set<ConversationState> states;
  std::string queue;
  std::string assignee_id;
  std::string channel;
  std::string label;
  std::string contact_id;
};

struct ConversationPage {
  std::vector<Conversation> conversations;
  std::string next_page_token;
};

// A conversation after a command, with the events the command wrote.
struct ConversationUpdate {
  Conversation conversation;
  std::vector<Event> events;
};

struct ContactUpdate {
  std::string display_name;  // empty: unchanged
  Attributes set_attributes;
  std::vector<std::string> remove_attributes;
};

struct MergeResult {
  Contact contact;
  std::string merge_id;
};

struct UnmergeResult {
  Contact target;
  Contact restored;
};

struct EraseResult {
  uint32_t conversations = 0;
  uint32_t events = 0;
};

// One waiting conversation's place in line.
// An agent as ListAgents shows it: the record and the conversations it holds now,
// per capacity kind (worked out when asked, never stored).
struct AgentView {
  Agent agent;
  std::map<std::string, uint32_t> load;
};

// A conversation as GetConversation shows it: the record and, while Queued, its place.
struct ConversationView {
  Conversation conversation;
  std::optional<QueuePlace> place;
};

struct WaitingConversation {
  std::string conversation_id;
  uint32_t position = 0;  // 1: next to be served
  std::chrono::seconds waited{0};
  std::chrono::seconds expected_wait{0};
};

// A queue now and its measures since the process started (docs/routing.md).
struct QueueStats {
  std::string queue;
  std::map<std::string, uint32_t> conversations_by_state;
  uint32_t agents_online = 0;  // online and with the queue's required skills
  uint32_t waiting = 0;
  std::chrono::seconds longest_wait{0};
  std::chrono::seconds expected_wait{0};          // for a conversation joining now
  bool open_now = true;                           // inside business hours
  std::vector<WaitingConversation> next_waiting;  // the first 20, in the order they are served
  uint64_t resolved = 0;
  uint64_t first_contact_resolutions = 0;
  uint64_t transfers = 0;
  uint64_t reopens = 0;
  uint64_t overflowed = 0;
  uint64_t sla_warnings = 0;
  uint64_t sla_breaches = 0;
  std::chrono::seconds average_first_response{0};
  std::chrono::seconds average_next_response{0};
  std::chrono::seconds average_resolution{0};
  std::chrono::seconds average_queue_wait{0};
  std::chrono::seconds average_handle{0};
  double csat_average = 0;  // 1-5
  uint64_t csat_responses = 0;
  double nps = 0;  // -100 .. 100
  uint64_t nps_responses = 0;
};

struct DeskOptions {
  Limits limits;
  std::string default_queue = "default";
  std::string default_phone_region = "US";
  // Seeds the random part of ids; 0 takes one from std::random_device. Tests fix it.
  uint64_t random_seed = 0;
  // This node's name in a shared store (Store::node_id()): outbound messages it
  // writes are its own to deliver (OutboxEntry::claimed_by).
  std::string node_id;
};

class Desk {
 public:
  using Now = std::function<Timestamp()>;

  Desk(DeskOptions options, Now now);
  ~Desk();

  // Picks up from what a Store loaded: every record, the lifecycle states, the
  // pending deadlines (snooze wake-ups, reopen windows) and the id counters. Call
  // once, before the first request.
  void restore(StoredState state);
  // The same in parts, as Store::load_in_parts gives them: each part taken in as it
  // comes, then finish_restore() once, which rebuilds routing (queues, loads, SLA and
  // overflow deadlines) over everything.
  void restore_part(StoredState part);
  void finish_restore();
  // Takes in records as the store has them now, each replacing this Desk's copy
  // whole: what other nodes sharing the store changed (Store::changes_since), or what
  // a step that lost a race to one of them had changed here (Store::load_records).
  // `gone` names records the store does not have (erased, or never stored).
  void absorb(StoredState records, const RecordKeys& gone);
  // Outbound messages of this node (DeskOptions::node_id) no adapter has taken yet,
  // to hand out again after a restart.
  std::vector<OutboxEntry> pending_deliveries() const;
  Desk(const Desk&) = delete;
  Desk& operator=(const Desk&) = delete;

  // --- the message path ---------------------------------------------------------
  // Finds or creates the contact for the message's identity, joins its open
  // conversation (or opens one), records a channel switch, fires Inbound. A repeat of
  // (channel, external_id) answers the first result with duplicate = true.
  Result<IngestResult> ingest(const InboundMessage& message, Commit& out);
  Result<SendMessageResult> send_message(const SendMessageCommand& command, const ChannelDirectory& channels,
                                         const std::string& actor, Commit& out);
  // The outcome of an outbound delivery, reported by its adapter.
  Status report_delivery(const std::string& outbound_id, DeliveryStatus status, const std::string& reason, Commit& out);
  // A failed attempt worth repeating: schedules the next one with backoff, or gives up
  // (status failed) after Limits::max_delivery_attempts.
  Status report_retryable_failure(const std::string& outbound_id, const std::string& reason, Commit& out);
  // Several nodes: the pending deliveries of nodes that fell silent become this
  // node's (DeskOptions::node_id), to deliver now. Their adapters may have sent some
  // already: adapters drop repeats by outbound id. Answers how many.
  Result<std::size_t> take_over_deliveries(const std::set<std::string>& silent_nodes, Commit& out);
  // Receipts that name our messages by the provider's ids (AdapterHost, desk_outbox.cc).
  Status report_sent(const std::string& outbound_id, const std::string& external_id, Commit& out);
  Status report_receipt(const DeliveryReceipt& receipt, Commit& out);
  Status report_receipts_up_to(const std::string& channel, const std::string& address, Timestamp up_to,
                               DeliveryStatus status, Commit& out);

  // --- phone calls (desk_calls.cc; AdapterHost::route_call and update_call) --------
  // The caller's conversation gets a Ringing CallEvent; routing picks an agent with
  // voice room now (the assignee first), else a Missed CallEvent and the conversation
  // waits in its queue for a call back. A known call id answers its first routing.
  Result<CallRouting> route_call(const InboundCall& call, Commit& out);
  // Moves a known call along the per-call machine (call_machine.h).
  Result<IngestResult> update_call(const CallUpdate& update, Commit& out);

  // --- conversation commands; each answers the conversation and the new events --
  Result<ConversationUpdate> add_note(const std::string& conversation_id, const std::string& text,
                                      const std::string& actor, Commit& out);
  Result<ConversationUpdate> assign(const std::string& conversation_id, const std::string& agent_id,
                                    const std::string& actor, Commit& out);
  Result<ConversationUpdate> transfer(const TransferCommand& command, const std::string& actor, Commit& out);
  Result<ConversationUpdate> handoff(const std::string& conversation_id, const std::string& reason,
                                     const std::string& queue, const std::string& actor, Commit& out);
  Result<ConversationUpdate> snooze(const std::string& conversation_id, Timestamp until, const std::string& actor,
                                    Commit& out);
  Result<ConversationUpdate> resolve(const std::string& conversation_id, const std::string& actor, Commit& out);
  Result<ConversationUpdate> reopen(const std::string& conversation_id, const std::string& actor, Commit& out);
  Result<ConversationUpdate> set_attributes(const std::string& conversation_id, const Attributes& set,
                                            const std::vector<std::string>& remove, const std::string& actor,
                                            Commit& out);
  Result<ConversationUpdate> set_labels(const std::string& conversation_id, const std::vector<std::string>& labels,
                                        const std::string& actor, Commit& out);
  Result<ConversationUpdate> set_priority(const std::string& conversation_id, int32_t priority,
                                          const std::string& actor, Commit& out);

  // Wakes snoozed conversations and closes resolved ones whose reopen window ended,
  // for every deadline up to now. Returns the earliest deadline still pending.
  std::optional<Timestamp> run_due_timers(Commit& out);
  std::optional<Timestamp> next_deadline() const;

  // --- queries ------------------------------------------------------------------
  Result<Conversation> conversation(const std::string& conversation_id) const;
  Result<ConversationView> conversation_view(const std::string& conversation_id) const;
  Result<ConversationPage> list_conversations(const ConversationFilter& filter, std::size_t page_size,
                                              const std::string& page_token) const;
  // The contact's open conversation, else its latest one.
  Result<Conversation> current_conversation(const Identity& identity) const;
  // The contact's other conversations, newest first.
  std::vector<Conversation> earlier_conversations(const Conversation& conversation) const;

  // --- contacts -----------------------------------------------------------------
  Result<Contact> contact(const std::string& contact_id) const;
  Result<Contact> find_contact(const Identity& identity) const;
  Result<Contact> update_contact(const std::string& contact_id, const ContactUpdate& update, Commit& out);
  Result<Contact> link_identity(const std::string& contact_id, const Identity& identity, const std::string& actor,
                                Commit& out);
  Result<Contact> unlink_identity(const std::string& contact_id, const Identity& identity, const std::string& actor,
                                  Commit& out);
  Result<MergeResult> merge_contacts(const std::string& target_id, const std::string& source_id,
                                     const std::string& actor, Commit& out);
  Result<UnmergeResult> unmerge_contact(const std::string& merge_id, const std::string& actor, Commit& out);
  Result<EraseResult> delete_contact(const std::string& contact_id, Commit& out);

  // --- agents and queues (docs/routing.md) ---------------------------------------
  // Creates or replaces an agent; status, wrap-up and idle time stay as the Desk keeps
  // them. INVALID_ARGUMENT names the field (agent.capacity[kind], ...).
  Result<Agent> upsert_agent(const Agent& agent, Commit& out);
  Result<Agent> set_agent_status(const std::string& agent_id, AgentStatus status, const std::string& actor,
                                 Commit& out);
  std::vector<Agent> agents() const;
  std::vector<AgentView> agent_views() const;
  // Conversations assigned to the agent now, by capacity kind (docs/routing.md).
  std::map<std::string, uint32_t> agent_load(const std::string& agent_id) const;
  // Creates or replaces a queue (its round-robin position stays). INVALID_ARGUMENT
  // names the field: queue.strategy, queue.business_hours.time_zone, queue.sla..., and
  // NOT_FOUND queue.overflow_queue; nothing changes then.
  Result<Queue> upsert_queue(const Queue& queue, Commit& out);
  std::vector<Queue> queues() const;
  Result<QueueStats> queue_stats(const std::string& queue) const;
  // Every measure and gauge in the Prometheus text format (docs/routing.md).
  std::string prometheus_metrics() const;

  const IdentityNormalizer& normalizer() const { return normalizer_; }
  const Limits& limits() const { return options_.limits; }
  std::size_t conversation_count() const;
  std::size_t contact_count() const;

  struct State;  // opaque: defined and used only inside the library

 private:
  IdentityNormalizer normalizer_;
  DeskOptions options_;
  Now now_;
  std::unique_ptr<State> state_;
};

// Start-up: restores `desk` (fresh) from `store`. The store reads and decodes on a
// thread of its own (sb-load) while the calling thread puts each part into the Desk
// a few parts behind, so this takes about the longer of the two rather than their
// sum. The shared store's position of what was read, or the store's error (the Desk
// is then half-filled: drop it).
Result<uint64_t> restore_from(Store& store, Desk& desk, std::size_t inbound_seen_limit);

}  // namespace switchboard::router
