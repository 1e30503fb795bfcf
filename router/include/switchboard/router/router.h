#pragma once

// The Router is what adapters and the gRPC API talk to. It runs the Desk on one
// strand, so conversation state needs no locks; makes each step's Commit durable in
// the Store; and only then answers the caller, publishes the events and hands
// outbound messages to their adapters (DESIGN.md "Threading and the message path").
//
// Every method is thread-safe and returns at once; `done` runs later on a router or
// store thread and must not block. Answers come in the order requests reached the
// strand.
//
// "The strand" below is the Router's own serial queue: whatever takes it (a router
// thread, or the caller of an `_here` method finding it idle) runs everything queued,
// in order, one at a time; nothing else touches the Desk.
//
// Requests that queue up while the strand is busy run together: one wake-up of the
// strand, one Commit and one store append for all of them (up to
// kMaxStepsPerCommit), answered once that commit is durable; if it fails, every one
// of them answers UNAVAILABLE. On a shared store each request keeps a Commit of its
// own, so that losing a race reruns only the request that lost it.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <switchboard/router/adapter.h>
#include <switchboard/router/desk.h>
#include <switchboard/router/event_bus.h>
#include <switchboard/router/store.h>

namespace switchboard::router {

template <typename T>
using Callback = std::function<void(Result<T>)>;

struct ConversationContext {
  Contact contact;
  Conversation conversation;
  std::vector<Event> events;
  std::vector<Conversation> earlier_conversations;
};

struct RouterOptions {
  DeskOptions desk;
  // How often to try reloading from the store after a failed commit.
  std::chrono::milliseconds recovery_interval{1000};
  // Told when healthy() changes (health checks, logs); from any router or store thread.
  std::function<void(bool healthy)> on_health_change;
  std::function<Timestamp()> now = [] { return Clock::now(); };
  // A shared store (Store::shared()): how often to look for what other nodes wrote
  // (their records into the Desk, every node's events to subscribers).
  std::chrono::milliseconds tail_interval{100};
  // A step that loses a race to another node runs again, up to this many times in
  // all, then answers ABORTED.
  int max_attempts = 8;
  // A shared store: another node silent this long (no heartbeat, sent about once a
  // second) has its pending deliveries taken over by the first living node to notice.
  // 0: never.
  std::chrono::seconds delivery_takeover_after{30};
};

class Router final : public AdapterHost {
 public:
  // The io_context runs the router's strand and timers; the caller runs it on as
  // many threads as it likes.
  Router(boost::asio::io_context& io, std::unique_ptr<Store> store, RouterOptions options = {});
  ~Router() override;

  // Loads what the store kept and picks up from it: contacts, conversations with
  // their states, deadlines, redelivery answers, and outbound messages still pending
  // (handed to their adapters again). Call once, before serving; reads the store on
  // the router's strand, which nothing else uses yet.
  void recover(Callback<Done> done);
  // Starts the adapters that were added (each start() must not block), then hands
  // them the outbound messages still pending. Until then nothing is delivered.
  Status start_adapters();
  // False once a commit failed: from then on nothing is acknowledged (every request
  // answers UNAVAILABLE) until the Desk is reloaded from what the store holds. The
  // router retries that by itself, every RouterOptions::recovery_interval.
  bool healthy() const { return healthy_.load(); }
  // Stops adapters and timers; what was acknowledged stays acknowledged.
  void stop();
  // Takes an adapter into service; its channels become reply targets. Start-up only:
  // before recover(), from the thread that built the Router.
  void add_adapter(std::unique_ptr<Adapter> adapter);
  // Takes an adapter into service while running (an out-of-process adapter that
  // connected). On the strand: refuses with ALREADY_EXISTS, changing nothing, when
  // another adapter carries one of its channels; else its channels become reply
  // targets, `done` runs, and then it is handed every outbound message still pending
  // on its channels (oldest first per conversation, with their first outbound ids).
  // The Router keeps `adapter` until detach_adapter(); it never calls start()/stop().
  void attach_adapter(std::shared_ptr<Adapter> adapter, Callback<Done> done);
  // Takes an attached adapter out of service: its channels have no adapter from then
  // on (replies to them stay pending). Once `done` runs (on the strand) the Router
  // never calls the adapter again. Harmless for an adapter that is not attached.
  void detach_adapter(std::shared_ptr<Adapter> adapter, std::function<void()> done = {});

  // AdapterHost
  void ingest(InboundMessage message, Callback<IngestResult> done) override;
  // The same, but when the strand is idle this thread takes it and runs the step (and
  // whatever else is queued by then) before returning, sparing the hand-over to a
  // router thread and back; with a store that answers at once (memory:) `done` runs
  // before this returns too. Only for callers that hold no lock `done` takes and
  // whose thread may spend the time: a gRPC handler.
  void ingest_here(InboundMessage message, Callback<IngestResult> done);
  void report_delivery(std::string outbound_id, DeliveryStatus status, std::string reason) override;
  void report_retryable_failure(std::string outbound_id, std::string reason) override;
  void report_sent(std::string outbound_id, std::string external_id, Callback<Done> done) override;
  void report_receipt(DeliveryReceipt receipt, Callback<Done> done) override;
  void report_receipts_up_to(std::string channel, std::string address, Timestamp up_to, DeliveryStatus status,
                             Callback<Done> done) override;
  void route_call(InboundCall call, Callback<CallRouting> done) override;
  void update_call(CallUpdate update, Callback<IngestResult> done) override;
  // The same, and `done` once the new status is durable, or with the error that
  // refused it (NOT_FOUND for an unknown outbound id, INVALID_ARGUMENT for a status
  // that is not sent, delivered, read or failed, FAILED_PRECONDITION to retry a final one).
  void report_delivery(std::string outbound_id, DeliveryStatus status, std::string reason, Callback<Done> done);
  void report_retryable_failure(std::string outbound_id, std::string reason, Callback<Done> done);

  void send_message(SendMessageCommand command, std::string actor, Callback<SendMessageResult> done);
  void add_note(std::string conversation_id, std::string text, std::string actor, Callback<ConversationUpdate> done);
  void assign(std::string conversation_id, std::string agent_id, std::string actor, Callback<ConversationUpdate> done);
  void transfer(TransferCommand command, std::string actor, Callback<ConversationUpdate> done);
  void handoff(std::string conversation_id, std::string reason, std::string queue, std::string actor,
               Callback<ConversationUpdate> done);
  void snooze(std::string conversation_id, Timestamp until, std::string actor, Callback<ConversationUpdate> done);
  void resolve(std::string conversation_id, std::string actor, Callback<ConversationUpdate> done);
  void reopen(std::string conversation_id, std::string actor, Callback<ConversationUpdate> done);
  void set_attributes(std::string conversation_id, Attributes set, std::vector<std::string> remove, std::string actor,
                      Callback<ConversationUpdate> done);
  void set_labels(std::string conversation_id, std::vector<std::string> labels, std::string actor,
                  Callback<ConversationUpdate> done);
  void set_priority(std::string conversation_id, int32_t priority, std::string actor,
                    Callback<ConversationUpdate> done);

  void get_conversation(std::string conversation_id, Callback<Conversation> done);
  // With its place in line while Queued (GetConversation).
  void view_conversation(std::string conversation_id, Callback<ConversationView> done);
  void list_conversations(ConversationFilter filter, std::size_t page_size, std::string page_token,
                          Callback<ConversationPage> done);
  // By conversation id, or by identity (the contact's open or latest conversation).
  void get_context(std::string conversation_id, std::optional<Identity> identity, std::size_t last_events,
                   Callback<ConversationContext> done);

  void get_contact(std::string contact_id, Callback<Contact> done);
  void find_contact(Identity identity, Callback<Contact> done);
  void update_contact(std::string contact_id, ContactUpdate update, Callback<Contact> done);
  void link_identity(std::string contact_id, Identity identity, std::string actor, Callback<Contact> done);
  void unlink_identity(std::string contact_id, Identity identity, std::string actor, Callback<Contact> done);
  void merge_contacts(std::string target_id, std::string source_id, std::string actor, Callback<MergeResult> done);
  void unmerge_contact(std::string merge_id, std::string actor, Callback<UnmergeResult> done);
  void delete_contact(std::string contact_id, Callback<EraseResult> done);

  void upsert_agent(Agent agent, Callback<Agent> done);
  void set_agent_status(std::string agent_id, AgentStatus status, std::string actor, Callback<Agent> done);
  void list_agents(Callback<std::vector<AgentView>> done);
  void upsert_queue(Queue queue, Callback<Queue> done);
  void list_queues(Callback<std::vector<Queue>> done);
  void queue_stats(std::string queue, Callback<QueueStats> done);
  // Every measure in the Prometheus text format (Desk::prometheus_metrics).
  void metrics(Callback<std::string> done);

  // The most requests one Commit carries: a longer queue is appended in several.
  static constexpr std::size_t kMaxStepsPerCommit = 64;

  EventBus& events() { return bus_; }
  const Store& store() const { return *store_; }
  const Limits& limits() const { return options_.desk.limits; }

 private:
  class Channels;

  // A request waiting for the strand, its Desk step with its answer (router.cc).
  class Step;
  template <typename T, typename Fn>
  class StepOf;
  using Steps = std::vector<std::unique_ptr<Step>>;
  // What the strand runs: a step, or a task (timers, adapters, recovery).
  struct Work {
    std::unique_ptr<Step> step;
    std::function<void()> task;
  };
  struct RunOptions {
    // The step reads the store, so it must see every commit appended before it (it
    // starts a Commit of its own).
    bool reads_store = false;
    // The calling thread takes the strand if it is idle (ingest_here).
    bool here = false;
  };

  // Queues `fn` for the strand; there it writes into a Commit, shared with the steps
  // queued beside it; once the store holds the commit, `done` gets fn's result and
  // the events are published. A step that lost a race to another node runs again
  // once the Desk has caught up.
  // `fn` is forwarded, not taken by value: it may carry a whole request (an ingest's
  // message), and every by-value hop moved it once more.
  template <typename T, typename Fn>
  void run(Fn&& fn, Callback<T> done, RunOptions how = {});
  // Runs `task` on the strand, in order with the steps around it.
  void serially(std::function<void()> task);
  void enqueue(Work work, bool here);
  // On the strand: runs what is queued until nothing is; `here` (a caller's thread)
  // runs one round, then hands what came meanwhile to a router thread.
  void run_queued(bool here);
  void post_run_queued();  // under queue_->mutex
  void run_all(std::vector<Work>& work);
  // One Commit with the steps that wrote it (one allocation for both).
  struct Batch {
    Commit commit;
    Steps steps;
  };
  void append(std::shared_ptr<Batch> batch);  // on the strand
  // The store's answer for the batch's commit: on a store thread.
  void settle(std::shared_ptr<Batch> batch, Status stored);
  void after_commit(const std::shared_ptr<Batch>& batch);
  void deliver(const OutboxEntry& entry);  // on the strand, like every read of channels_
  // On the strand: every pending outbox entry to its adapter; with `only`, just those
  // on the channels `only` carries.
  void deliver_pending(const Adapter* only = nullptr);
  void arm_timer();
  void lose_store();  // a commit failed: keep trying to reload from the store
  Status reload();

  // Several nodes on one store. On the strand: take in what the others changed since
  // synced_, and after a conflict also what the failed commit wrote (as stored).
  void take_in(Changes changes);
  Status catch_up();
  Status recover_from_conflict(const Commit& failed);
  // Its own thread: feeds the Desk other nodes' changes and subscribers every node's
  // events, every RouterOptions::tail_interval.
  void tail_loop();
  void watch_other_nodes();  // on the tailer's thread
  void start_tailing();
  void ask_tailer_to_stop();  // it ends after its current round; the destructor joins it

  boost::asio::io_context& io_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer recovery_timer_;
  std::unique_ptr<Store> store_;
  RouterOptions options_;
  std::unique_ptr<Desk> desk_;  // replaced whole by recover()
  EventBus bus_;
  std::unique_ptr<Channels> channels_;
  std::vector<std::unique_ptr<Adapter>> adapters_;
  std::optional<Timestamp> armed_for_;  // the deadline timer_ waits for
  std::atomic<bool> healthy_{true};
  bool stopped_ = false;
  bool adapters_started_ = false;  // on the strand

  // The strand's queue. A posted run_queued() holds it too, so that one running after
  // the Router is gone finds that out instead of touching it; the destructor waits
  // for one that is running.
  struct StrandQueue {
    std::mutex mutex;
    std::condition_variable left;  // a thread left run_queued()
    std::vector<Work> work;        // waiting for run_queued()
    bool taken = false;            // a run_queued() is running or posted
    bool running = false;          // a thread is inside run_queued()
    bool gone = false;             // the Router is being destroyed
  };
  std::shared_ptr<StrandQueue> queue_;  // made in router.cc, where Step is complete

  std::atomic<uint64_t> synced_{0};  // Changes::position the Desk has taken in; set on the strand
  std::thread tailer_;
  std::mutex tail_mutex_;
  std::condition_variable tail_wakeup_;
  bool tail_stopping_ = false;                            // under tail_mutex_
  std::chrono::steady_clock::time_point last_heartbeat_;  // the tailer's
  std::set<std::string> silent_nodes_;                    // the tailer's: taken over already
};

}  // namespace switchboard::router
