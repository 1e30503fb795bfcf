#include <switchboard/router/router.h>
#include <switchboard/router/thread_name.h>

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include <sys/mman.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

namespace switchboard::router {

// The running adapters, by the channels they carry, as the Desk sees them. Read and
// changed only on the strand once the router runs (add() before, at start-up).
class Router::Channels final : public ChannelDirectory {
 public:
  // `keep` holds an attached adapter alive while it is here; null for owned ones.
  void add(Adapter& adapter, std::shared_ptr<Adapter> keep = nullptr) {
    for (auto& caps : adapter.capabilities()) by_channel_[caps.channel] = {caps, &adapter, keep};
  }
  // The first of the adapter's channels that another adapter already carries.
  std::optional<std::string> taken(const Adapter& adapter) const {
    for (const auto& caps : adapter.capabilities()) {
      if (by_channel_.contains(caps.channel)) return caps.channel;
    }
    return std::nullopt;
  }
  void remove(const Adapter& adapter) {
    std::erase_if(by_channel_, [&](const auto& item) { return item.second.adapter == &adapter; });
  }
  bool carries(const Adapter& adapter, const std::string& channel) const { return adapter_for(channel) == &adapter; }
  std::optional<ChannelCapabilities> capabilities(const std::string& channel) const override {
    auto it = by_channel_.find(channel);
    if (it == by_channel_.end()) return std::nullopt;
    return it->second.caps;
  }
  bool has_live_session(const std::string& channel, const std::string& address) const override {
    auto it = by_channel_.find(channel);
    return it != by_channel_.end() && it->second.adapter->has_live_session(channel, address);
  }
  Adapter* adapter_for(const std::string& channel) const {
    auto it = by_channel_.find(channel);
    return it == by_channel_.end() ? nullptr : it->second.adapter;
  }

 private:
  struct Entry {
    ChannelCapabilities caps;
    Adapter* adapter;
    std::shared_ptr<Adapter> keep;
  };
  std::map<std::string, Entry> by_channel_;
};

namespace {

// Faults in the whole pages of `events`' spare room in one call, before the Desk
// writes there. A store that keeps commits (keeps_commits) makes each commit's events
// fresh memory; faulted a page at a time amid the Desk's step, BM_RouterIngest/1000/0
// ran about 7 % slower.
void populate_room(const std::vector<Event>& events) {
#ifdef MADV_POPULATE_WRITE
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(events.data() + events.size());
  const auto end = reinterpret_cast<uintptr_t>(events.data() + events.capacity());
  const uintptr_t first = (begin + page - 1) & ~(page - 1);
  const uintptr_t last = end & ~(page - 1);
  // Advice only: a kernel without it (before 5.14) faults them in as they are written.
  if (first < last) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE);
#endif
}

// The Desk writes outbound messages as this node's (OutboxEntry::claimed_by).
RouterOptions for_node(RouterOptions options, const Store& store) {
  options.desk.node_id = store.node_id();
  return options;
}

}  // namespace

Router::Router(boost::asio::io_context& io, std::unique_ptr<Store> store, RouterOptions options)
    : io_(io),
      timer_(io),
      recovery_timer_(io),
      store_(std::move(store)),
      options_(for_node(std::move(options), *store_)),
      desk_(std::make_unique<Desk>(options_.desk, options_.now)),
      bus_(*store_, options_.desk.limits.subscriber_buffer),
      channels_(std::make_unique<Channels>()),
      queue_(std::make_shared<StrandQueue>()) {}

Router::~Router() {
  ask_tailer_to_stop();
  if (tailer_.joinable()) tailer_.join();
  // A round still running on another thread (a task queued just before, as stop()'s
  // may be) ends first; one posted and not yet running finds `gone` and does nothing.
  std::unique_lock lock(queue_->mutex);
  queue_->gone = true;
  queue_->left.wait(lock, [this] { return !queue_->running; });
}

void Router::ask_tailer_to_stop() {
  {
    std::lock_guard lock(tail_mutex_);
    tail_stopping_ = true;
  }
  tail_wakeup_.notify_all();
}

void Router::recover(Callback<Done> done) {
  serially([this, done = std::move(done)] {
    auto reloaded = reload();
    if (reloaded && store_->shared()) start_tailing();
    done(reloaded ? Result<Done>(Done{}) : Result<Done>(reloaded.error()));
  });
}

// On the strand: a fresh Desk from what the store holds, then carry on.
Status Router::reload() {
  auto desk = std::make_unique<Desk>(options_.desk, options_.now);
  auto position = restore_from(*store_, *desk, options_.desk.limits.dedupe_entries);
  if (!position) return position.error();
  desk_ = std::move(desk);
  synced_ = *position;
  if (!healthy_.exchange(true) && options_.on_health_change) options_.on_health_change(true);
  armed_for_.reset();
  arm_timer();
  if (adapters_started_) deliver_pending();
  return ok_status();
}

void Router::deliver_pending(const Adapter* only) {
  auto pending = desk_->pending_deliveries();
  // In the order they were written, per conversation (the outbox is unordered).
  std::sort(pending.begin(), pending.end(), [](const OutboxEntry& a, const OutboxEntry& b) {
    return std::tie(a.conversation_id, a.seq) < std::tie(b.conversation_id, b.seq);
  });
  for (const auto& entry : pending) {
    if (only == nullptr || channels_->carries(*only, entry.channel)) deliver(entry);
  }
}

// A commit failed. After a pause, wait until every commit already handed to the store
// has answered (an empty commit is a barrier), then reload on the strand; again
// until it works.
void Router::lose_store() {
  recovery_timer_.expires_after(options_.recovery_interval);
  recovery_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // operation_aborted: stopping
    serially([this] {
      if (stopped_) return;
      store_->append(std::make_shared<Commit>(), [this](Status) {
        serially([this] {
          if (stopped_) return;
          if (!reload()) lose_store();
        });
      });
    });
  });
}

void Router::add_adapter(std::unique_ptr<Adapter> adapter) {
  channels_->add(*adapter);
  adapters_.push_back(std::move(adapter));
}

void Router::attach_adapter(std::shared_ptr<Adapter> adapter, Callback<Done> done) {
  serially([this, adapter = std::move(adapter), done = std::move(done)] {
    if (auto channel = channels_->taken(*adapter)) {
      done(Error{ErrorCode::kAlreadyExists, "channel", "channel '" + *channel + "' is carried by another adapter"});
      return;
    }
    channels_->add(*adapter, adapter);
    done(Done{});
    // Before start_adapters() ran, it hands these over itself.
    if (adapters_started_) deliver_pending(adapter.get());
  });
}

void Router::detach_adapter(std::shared_ptr<Adapter> adapter, std::function<void()> done) {
  serially([this, adapter = std::move(adapter), done = std::move(done)] {
    channels_->remove(*adapter);
    if (done) done();
  });
}

Status Router::start_adapters() {
  for (auto& adapter : adapters_) {
    if (auto ok = adapter->start(); !ok) return ok;
  }
  // What was pending when the store was loaded goes out now that someone carries it.
  serially([this] {
    adapters_started_ = true;
    deliver_pending();
  });
  return ok_status();
}

void Router::stop() {
  ask_tailer_to_stop();
  for (auto& adapter : adapters_) adapter->stop();
  // On this thread when the strand is idle, so that nothing of it is left queued for a
  // router thread when the caller destroys the Router right after (test harnesses do).
  enqueue({.task =
               [this] {
                 stopped_ = true;
                 timer_.cancel();
                 recovery_timer_.cancel();
               }},
          /*here=*/true);
}

// --- requests on the strand ------------------------------------------------------------

class Router::Step {
 public:
  virtual ~Step() = default;
  // On the strand: runs the Desk step, writing into `out`, and keeps its result.
  virtual void run(Desk& desk, Commit& out) = 0;
  // Once the commit is durable: the kept result.
  virtual void answer() = 0;
  // Instead of the result.
  virtual void fail(Error error) = 0;

  bool reads_store = false;
  int attempt = 0;  // runs that lost a race to another node
};

template <typename T, typename Fn>
class Router::StepOf final : public Router::Step {
 public:
  template <typename F>
  StepOf(F&& fn, Callback<T> done) : fn_(std::forward<F>(fn)), done_(std::move(done)) {}

  void run(Desk& desk, Commit& out) override { result_.emplace(fn_(desk, out)); }
  void answer() override { done_(std::move(*result_)); }
  void fail(Error error) override { done_(std::move(error)); }

 private:
  Fn fn_;
  Callback<T> done_;
  std::optional<Result<T>> result_;
};

template <typename T, typename Fn>
void Router::run(Fn&& fn, Callback<T> done, RunOptions how) {
  auto step = std::make_unique<StepOf<T, std::decay_t<Fn>>>(std::forward<Fn>(fn), std::move(done));
  step->reads_store = how.reads_store;
  enqueue({.step = std::move(step)}, how.here);
}

void Router::serially(std::function<void()> task) { enqueue({.task = std::move(task)}, false); }

// One hand-over per wake-up of the strand, however many requests arrive before it
// runs: under load the strand takes them all at once.
void Router::enqueue(Work work, bool here) {
  {
    std::lock_guard lock(queue_->mutex);
    queue_->work.push_back(std::move(work));
    if (queue_->taken) return;  // whoever holds the strand runs it
    queue_->taken = true;
    if (!here) return post_run_queued();
    queue_->running = true;
  }
  run_queued(true);
}

void Router::post_run_queued() {
  boost::asio::post(io_, [this, queue = queue_] {
    {
      std::lock_guard lock(queue->mutex);
      if (queue->gone) return;
      queue->running = true;
    }
    run_queued(false);
  });
}

void Router::run_queued(bool here) {
  StrandQueue& queue = *queue_;
  for (bool ran = false;; ran = true) {
    std::vector<Work> work;
    {
      std::lock_guard lock(queue.mutex);
      const bool nothing_left = queue.work.empty() || queue.gone;
      // A caller's thread has its own work to go back to after one round: what came
      // meanwhile goes to a router thread.
      if (nothing_left || (here && ran)) {
        queue.running = false;
        queue.left.notify_all();
        if (nothing_left) {
          queue.taken = false;
        } else {
          post_run_queued();
        }
        return;
      }
      work.swap(queue.work);
    }
    run_all(work);
  }
}

void Router::run_all(std::vector<Work>& work) {
  // A shared store checks each commit against the other nodes' writes and fails it
  // whole: one step per commit, so that a lost race reruns only the step that lost.
  const bool share_commits = !store_->shared();
  const bool keeps_commits = store_->keeps_commits();
  for (std::size_t next = 0; next < work.size();) {
    if (work[next].task) {
      work[next++].task();
      continue;
    }
    if (!healthy_) {
      work[next++].step->fail(
          Error{ErrorCode::kUnavailable, {}, "the store failed; nothing is accepted until it recovers"});
      continue;
    }
    auto batch = std::make_shared<Batch>();
    Commit& commit = batch->commit;
    commit.with_records = store_->keeps_records();
    commit.based_on = synced_.load();
    Steps& group = batch->steps;
    group.reserve(share_commits ? std::min(work.size() - next, kMaxStepsPerCommit) : 1);
    // An ingest writes one to three events, most often two. A store that keeps the
    // commit keeps its spare room too (see append()): there only the common case.
    commit.events.reserve((keeps_commits ? 2 : 4) * group.capacity());
    if (keeps_commits) populate_room(commit.events);
    do {
      work[next].step->run(*desk_, commit);
      group.push_back(std::move(work[next++].step));
      // A step reading the store must see what the steps before it wrote: it starts a
      // commit of its own, appended after theirs.
    } while (share_commits && next < work.size() && work[next].step && !work[next].step->reads_store &&
             group.size() < kMaxStepsPerCommit);
    append(std::move(batch));
  }
  arm_timer();
}

// Answers only once the store holds what the steps wrote (acknowledged = durable).
void Router::append(std::shared_ptr<Batch> batch) {
  // A store that keeps the commit keeps the room left for more events, too: more than
  // an eighth spare (more steps wrote three than run_all() made room for) is given back.
  if (std::vector<Event>& events = batch->commit.events;
      store_->keeps_commits() && events.capacity() - events.size() > events.size() / 8) {
    events.shrink_to_fit();
  }
  std::shared_ptr<const Commit> commit(batch, &batch->commit);
  store_->append(std::move(commit), [this, batch = std::move(batch)](Status stored) mutable {
    settle(std::move(batch), std::move(stored));
  });
}

void Router::settle(std::shared_ptr<Batch> batch, Status stored) {
  if (!stored && stored.error().code == ErrorCode::kAborted && healthy_) {
    // Another node changed what the steps read: nothing was stored. Catch up, then run
    // them again on what the store holds now.
    serially([this, batch = std::move(batch), lost = stored.error()] {
      Status caught = stopped_ ? Status(lost) : recover_from_conflict(batch->commit);
      for (auto& step : batch->steps) {
        if (!caught) {
          step->fail(caught.error());
        } else if (++step->attempt >= options_.max_attempts) {
          step->fail(lost);
        } else {
          enqueue({.step = std::move(step)}, false);
        }
      }
    });
    return;
  }
  if (!stored || !healthy_) {
    // The Desk now holds changes the store does not: stop acknowledging anything,
    // including steps built on the lost one, until recover() reloads the Desk.
    if (healthy_.exchange(false)) {
      if (options_.on_health_change) options_.on_health_change(false);
      serially([this] { lose_store(); });
    }
    const Error refused{ErrorCode::kUnavailable,
                        {},
                        stored ? "an earlier change was not stored; retry once the server recovers"
                               : "not stored: " + stored.error().describe()};
    for (auto& step : batch->steps) step->fail(refused);
    return;
  }
  after_commit(batch);
  for (auto& step : batch->steps) step->answer();
  batch->steps = Steps();  // the store may keep the commit (keeps_commits), not the steps
}

// --- several nodes on one store ---------------------------------------------------------

void Router::take_in(Changes changes) {
  if (changes.position <= synced_) return;  // an older read than one already taken in
  RecordKeys gone;
  gone.contacts = std::move(changes.erased_contacts);
  gone.conversations = std::move(changes.erased_conversations);
  desk_->absorb(std::move(changes.records), gone);
  synced_ = changes.position;
  arm_timer();
}

Status Router::catch_up() {
  auto changes = store_->changes_since(synced_);
  if (!changes) return changes.error();
  take_in(std::move(*changes));
  return ok_status();
}

namespace {

// The keys of `asked` that `found` does not have. Queues stay: they come from the
// config, and a queue is never erased.
RecordKeys missing(const RecordKeys& asked, const StoredState& found) {
  RecordKeys gone;
  const auto absent = [](const std::vector<std::string>& keys, const auto& records, auto key_of,
                         std::vector<std::string>& out) {
    for (const auto& key : keys) {
      if (std::none_of(records.begin(), records.end(), [&](const auto& r) { return key_of(r) == key; })) {
        out.push_back(key);
      }
    }
  };
  absent(
      asked.contacts, found.contacts, [](const Contact& c) { return c.id; }, gone.contacts);
  absent(
      asked.conversations, found.conversations, [](const Conversation& c) { return c.id; }, gone.conversations);
  absent(
      asked.outbox, found.outbox, [](const OutboxEntry& e) { return e.outbound_id; }, gone.outbox);
  absent(
      asked.agents, found.agents, [](const Agent& a) { return a.id; }, gone.agents);
  absent(
      asked.merges, found.merges, [](const Merge& m) { return m.id; }, gone.merges);
  absent(
      asked.inbound_seen, found.inbound_seen, [](const SeenInbound& s) { return s.channel + '\0' + s.external_id; },
      gone.inbound_seen);
  return gone;
}

}  // namespace

// On the strand, after `failed` lost a race: the Desk takes in what the other nodes
// did and drops what the failed step changed, as far as the store does not have it;
// then the store may take those records again (Commit::reloaded).
Status Router::recover_from_conflict(const Commit& failed) {
  if (auto caught = catch_up(); !caught) return caught;
  RecordKeys keys = keys_of(failed);
  auto stored = store_->load_records(keys);
  if (!stored) return stored.error();
  RecordKeys gone = missing(keys, *stored);
  desk_->absorb(std::move(*stored), gone);
  auto reloaded = std::make_shared<Commit>();
  reloaded->reloaded = std::move(keys);
  store_->append(std::move(reloaded), [](Status) {});
  arm_timer();
  return ok_status();
}

void Router::start_tailing() {
  if (tailer_.joinable()) return;
  tailer_ = std::thread([this] { tail_loop(); });
}

void Router::tail_loop() {
  name_this_thread("sb-tail");
  constexpr std::size_t kPage = 1000;
  uint64_t published = store_->head();  // what subscribers were given; they read older events from the store
  std::unique_lock lock(tail_mutex_);
  while (!tail_stopping_) {
    lock.unlock();
    for (;;) {
      auto events = store_->events_after(published, kPage);
      if (events.empty()) break;
      published = events.back().cursor;
      bus_.publish(events);
      if (events.size() < kPage) break;
    }
    if (auto changes = store_->changes_since(synced_); changes && changes->position > synced_) {
      serially([this, changes = std::move(*changes)]() mutable { take_in(std::move(changes)); });
    }
    watch_other_nodes();
    lock.lock();
    tail_wakeup_.wait_for(lock, options_.tail_interval, [this] { return tail_stopping_; });
  }
}

// On the tailer's thread. Says this node is alive about once a second; a node that
// newly fell silent for RouterOptions::delivery_takeover_after has its pending
// deliveries taken over (Desk::take_over_deliveries). Two living nodes may both try:
// the commits conflict, and the one that runs again finds nothing left to take.
void Router::watch_other_nodes() {
  if (options_.delivery_takeover_after.count() <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_heartbeat_ < std::chrono::seconds(1)) return;
  last_heartbeat_ = now;
  auto silent = store_->heartbeat(options_.delivery_takeover_after);
  if (!silent) return;  // the store is down: nothing to decide on
  std::set<std::string> newly;
  for (const auto& node : *silent) {
    if (!silent_nodes_.contains(node)) newly.insert(node);
  }
  silent_nodes_ = {silent->begin(), silent->end()};  // one that comes back is watched afresh
  if (newly.empty()) return;
  run<std::size_t>([newly = std::move(newly)](Desk& d, Commit& out) { return d.take_over_deliveries(newly, out); },
                   [](Result<std::size_t>) {});
}

void Router::after_commit(const std::shared_ptr<Batch>& batch) {
  Commit& commit = batch->commit;
  // A shared store hands out cursors as it commits: subscribers get events from the
  // tail, in the store's order, this node's with everyone else's.
  if (store_->keeps_commits()) {
    bus_.publish(std::shared_ptr<const std::vector<Event>>(batch, &commit.events));
  } else if (!store_->shared()) {
    bus_.publish(commit.events);
  }
  if (commit.deliveries.empty()) return;
  // On the strand, where adapters come and go (attach_adapter): not on the store's thread.
  serially([this, deliveries = std::move(commit.deliveries)] {
    for (const auto& entry : deliveries) deliver(entry);
  });
}

void Router::deliver(const OutboxEntry& entry) {
  if (!adapters_started_) return;  // start_adapters() hands over what is pending
  Adapter* adapter = channels_->adapter_for(entry.channel);
  if (!adapter) return;  // stays pending in the outbox until an adapter carries the channel
  adapter->deliver(OutboundDelivery{entry.outbound_id, entry.conversation_id, entry.seq, entry.channel, entry.address,
                                    entry.text, entry.attachments});
}

// One timer, set to the Desk's earliest deadline: no polling.
void Router::arm_timer() {
  auto next = desk_->next_deadline();
  if (!next || stopped_ || next == armed_for_) return;
  armed_for_ = next;
  timer_.expires_after(std::max(*next - options_.now(), Clock::duration::zero()));
  timer_.async_wait([this, next](boost::system::error_code ec) {
    if (ec) return;  // operation_aborted: re-armed or stopping
    serially([this, next] {
      if (armed_for_ == next) armed_for_.reset();  // else re-armed since it fired
      run<Done>(
          [](Desk& desk, Commit& out) -> Result<Done> {
            desk.run_due_timers(out);
            return Done{};
          },
          [](Result<Done>) {});
    });
  });
}

// --- the API, one line each: which Desk call, under which answer type -------------------

namespace {

auto ingest_step(InboundMessage&& message) {
  return [m = std::move(message)](Desk& d, Commit& out) { return d.ingest(m, out); };
}

}  // namespace

void Router::ingest(InboundMessage message, Callback<IngestResult> done) {
  run<IngestResult>(ingest_step(std::move(message)), std::move(done));
}

void Router::ingest_here(InboundMessage message, Callback<IngestResult> done) {
  run<IngestResult>(ingest_step(std::move(message)), std::move(done), {.here = true});
}

void Router::route_call(InboundCall call, Callback<CallRouting> done) {
  run<CallRouting>([c = std::move(call)](Desk& d, Commit& out) { return d.route_call(c, out); }, std::move(done));
}

void Router::update_call(CallUpdate update, Callback<IngestResult> done) {
  run<IngestResult>([u = std::move(update)](Desk& d, Commit& out) { return d.update_call(u, out); }, std::move(done));
}

void Router::report_delivery(std::string outbound_id, DeliveryStatus status, std::string reason) {
  run<Done>([=](Desk& d, Commit& out) { return d.report_delivery(outbound_id, status, reason, out); }, [](Status) {});
}

void Router::report_retryable_failure(std::string outbound_id, std::string reason) {
  run<Done>([=](Desk& d, Commit& out) { return d.report_retryable_failure(outbound_id, reason, out); }, [](Status) {});
}

void Router::report_delivery(std::string outbound_id, DeliveryStatus status, std::string reason, Callback<Done> done) {
  run<Done>([=](Desk& d, Commit& out) { return d.report_delivery(outbound_id, status, reason, out); }, std::move(done));
}

void Router::report_retryable_failure(std::string outbound_id, std::string reason, Callback<Done> done) {
  run<Done>([=](Desk& d, Commit& out) { return d.report_retryable_failure(outbound_id, reason, out); },
            std::move(done));
}

void Router::report_sent(std::string outbound_id, std::string external_id, Callback<Done> done) {
  run<Done>([=](Desk& d, Commit& out) { return d.report_sent(outbound_id, external_id, out); }, std::move(done));
}

void Router::report_receipt(DeliveryReceipt receipt, Callback<Done> done) {
  run<Done>([r = std::move(receipt)](Desk& d, Commit& out) { return d.report_receipt(r, out); }, std::move(done));
}

void Router::report_receipts_up_to(std::string channel, std::string address, Timestamp up_to, DeliveryStatus status,
                                   Callback<Done> done) {
  run<Done>([=](Desk& d, Commit& out) { return d.report_receipts_up_to(channel, address, up_to, status, out); },
            std::move(done));
}

void Router::send_message(SendMessageCommand command, std::string actor, Callback<SendMessageResult> done) {
  run<SendMessageResult>([this, c = std::move(command), actor = std::move(actor)](
                             Desk& d, Commit& out) { return d.send_message(c, *channels_, actor, out); },
                         std::move(done));
}

void Router::add_note(std::string id, std::string text, std::string actor, Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.add_note(id, text, actor, out); }, std::move(done));
}

void Router::assign(std::string id, std::string agent_id, std::string actor, Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.assign(id, agent_id, actor, out); }, std::move(done));
}

void Router::transfer(TransferCommand command, std::string actor, Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.transfer(command, actor, out); }, std::move(done));
}

void Router::handoff(std::string id, std::string reason, std::string queue, std::string actor,
                     Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.handoff(id, reason, queue, actor, out); },
                          std::move(done));
}

void Router::snooze(std::string id, Timestamp until, std::string actor, Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.snooze(id, until, actor, out); }, std::move(done));
}

void Router::resolve(std::string id, std::string actor, Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.resolve(id, actor, out); }, std::move(done));
}

void Router::reopen(std::string id, std::string actor, Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.reopen(id, actor, out); }, std::move(done));
}

void Router::set_attributes(std::string id, Attributes set, std::vector<std::string> remove, std::string actor,
                            Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.set_attributes(id, set, remove, actor, out); },
                          std::move(done));
}

void Router::set_labels(std::string id, std::vector<std::string> labels, std::string actor,
                        Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.set_labels(id, labels, actor, out); }, std::move(done));
}

void Router::set_priority(std::string id, int32_t priority, std::string actor, Callback<ConversationUpdate> done) {
  run<ConversationUpdate>([=](Desk& d, Commit& out) { return d.set_priority(id, priority, actor, out); },
                          std::move(done));
}

void Router::get_conversation(std::string id, Callback<Conversation> done) {
  run<Conversation>([=](Desk& d, Commit&) { return d.conversation(id); }, std::move(done));
}

void Router::view_conversation(std::string id, Callback<ConversationView> done) {
  run<ConversationView>([=](Desk& d, Commit&) { return d.conversation_view(id); }, std::move(done));
}

void Router::list_conversations(ConversationFilter filter, std::size_t page_size, std::string page_token,
                                Callback<ConversationPage> done) {
  run<ConversationPage>([=](Desk& d, Commit&) { return d.list_conversations(filter, page_size, page_token); },
                        std::move(done));
}

void Router::get_context(std::string conversation_id, std::optional<Identity> identity, std::size_t last_events,
                         Callback<ConversationContext> done) {
  run<ConversationContext>(
      [=, this](Desk& d, Commit&) -> Result<ConversationContext> {
        auto conversation = identity ? d.current_conversation(*identity) : d.conversation(conversation_id);
        if (!conversation) return conversation.error();
        auto contact = d.contact(conversation->contact_id);
        if (!contact) return contact.error();
        const std::size_t n = std::min(last_events == 0 ? std::size_t{50} : last_events, d.limits().max_context_events);
        return ConversationContext{std::move(contact.value()), conversation.value(),
                                   store_->timeline(conversation->id, n), d.earlier_conversations(*conversation)};
      },
      std::move(done), {.reads_store = true});
}

void Router::get_contact(std::string id, Callback<Contact> done) {
  run<Contact>([=](Desk& d, Commit&) { return d.contact(id); }, std::move(done));
}

void Router::find_contact(Identity identity, Callback<Contact> done) {
  run<Contact>([=](Desk& d, Commit&) { return d.find_contact(identity); }, std::move(done));
}

void Router::update_contact(std::string id, ContactUpdate update, Callback<Contact> done) {
  run<Contact>([=](Desk& d, Commit& out) { return d.update_contact(id, update, out); }, std::move(done));
}

void Router::link_identity(std::string id, Identity identity, std::string actor, Callback<Contact> done) {
  run<Contact>([=](Desk& d, Commit& out) { return d.link_identity(id, identity, actor, out); }, std::move(done));
}

void Router::unlink_identity(std::string id, Identity identity, std::string actor, Callback<Contact> done) {
  run<Contact>([=](Desk& d, Commit& out) { return d.unlink_identity(id, identity, actor, out); }, std::move(done));
}

void Router::merge_contacts(std::string target_id, std::string source_id, std::string actor,
                            Callback<MergeResult> done) {
  run<MergeResult>([=](Desk& d, Commit& out) { return d.merge_contacts(target_id, source_id, actor, out); },
                   std::move(done));
}

void Router::unmerge_contact(std::string merge_id, std::string actor, Callback<UnmergeResult> done) {
  run<UnmergeResult>([=](Desk& d, Commit& out) { return d.unmerge_contact(merge_id, actor, out); }, std::move(done));
}

void Router::delete_contact(std::string id, Callback<EraseResult> done) {
  run<EraseResult>([=](Desk& d, Commit& out) { return d.delete_contact(id, out); }, std::move(done));
}

void Router::upsert_agent(Agent agent, Callback<Agent> done) {
  run<Agent>([a = std::move(agent)](Desk& d, Commit& out) { return d.upsert_agent(a, out); }, std::move(done));
}

void Router::set_agent_status(std::string id, AgentStatus status, std::string actor, Callback<Agent> done) {
  run<Agent>([=](Desk& d, Commit& out) { return d.set_agent_status(id, status, actor, out); }, std::move(done));
}

void Router::list_agents(Callback<std::vector<AgentView>> done) {
  run<std::vector<AgentView>>([](Desk& d, Commit&) { return Result<std::vector<AgentView>>(d.agent_views()); },
                              std::move(done));
}

void Router::upsert_queue(Queue queue, Callback<Queue> done) {
  run<Queue>([q = std::move(queue)](Desk& d, Commit& out) { return d.upsert_queue(q, out); }, std::move(done));
}

void Router::list_queues(Callback<std::vector<Queue>> done) {
  run<std::vector<Queue>>([](Desk& d, Commit&) { return Result<std::vector<Queue>>(d.queues()); }, std::move(done));
}

void Router::queue_stats(std::string queue, Callback<QueueStats> done) {
  run<QueueStats>([=](Desk& d, Commit&) { return d.queue_stats(queue); }, std::move(done));
}

void Router::metrics(Callback<std::string> done) {
  run<std::string>([](Desk& d, Commit&) { return Result<std::string>(d.prometheus_metrics()); }, std::move(done));
}

}  // namespace switchboard::router
