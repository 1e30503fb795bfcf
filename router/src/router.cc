#include <switchboard/router/router.h>

#include <boost/asio/post.hpp>

namespace switchboard::router {

// The running adapters, by the channels they carry, as the Desk sees them.
class Router::Channels final : public ChannelDirectory {
 public:
  void add(Adapter& adapter) {
    for (auto& caps : adapter.capabilities()) by_channel_[caps.channel] = {caps, &adapter};
  }
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
  };
  std::map<std::string, Entry> by_channel_;
};

Router::Router(boost::asio::io_context& io, std::unique_ptr<Store> store, RouterOptions options)
    : io_(io),
      strand_(boost::asio::make_strand(io)),
      timer_(strand_),
      recovery_timer_(strand_),
      store_(std::move(store)),
      options_(std::move(options)),
      desk_(std::make_unique<Desk>(options_.desk, options_.now)),
      bus_(*store_, options_.desk.limits.subscriber_buffer),
      channels_(std::make_unique<Channels>()) {}

Router::~Router() = default;

void Router::recover(Callback<Done> done) {
  boost::asio::post(strand_, [this, done = std::move(done)] {
    auto reloaded = reload();
    done(reloaded ? Result<Done>(Done{}) : Result<Done>(reloaded.error()));
  });
}

// On the strand: a fresh Desk from what the store holds, then carry on.
Status Router::reload() {
  auto stored = store_->load(options_.desk.limits.dedupe_entries);
  if (!stored) return stored.error();
  auto desk = std::make_unique<Desk>(options_.desk, options_.now);
  desk->restore(std::move(stored.value()));
  desk_ = std::move(desk);
  if (!healthy_.exchange(true) && options_.on_health_change) options_.on_health_change(true);
  armed_for_.reset();
  arm_timer();
  if (adapters_started_) deliver_pending();
  return ok_status();
}

void Router::deliver_pending() {
  for (const auto& entry : desk_->pending_deliveries()) deliver(entry);
}

// A commit failed. After a pause, wait until every commit already handed to the store
// has answered (an empty commit is a barrier), then reload on the strand; again
// until it works.
void Router::lose_store() {
  recovery_timer_.expires_after(options_.recovery_interval);
  recovery_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    store_->append(std::make_shared<Commit>(), [this](Status) {
      boost::asio::post(strand_, [this] {
        if (stopped_) return;
        if (!reload()) lose_store();
      });
    });
  });
}

void Router::add_adapter(std::unique_ptr<Adapter> adapter) {
  channels_->add(*adapter);
  adapters_.push_back(std::move(adapter));
}

Status Router::start_adapters() {
  for (auto& adapter : adapters_) {
    if (auto ok = adapter->start(); !ok) return ok;
  }
  // What was pending when the store was loaded goes out now that someone carries it.
  boost::asio::post(strand_, [this] {
    adapters_started_ = true;
    deliver_pending();
  });
  return ok_status();
}

void Router::stop() {
  for (auto& adapter : adapters_) adapter->stop();
  boost::asio::post(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
    recovery_timer_.cancel();
  });
}

template <typename T, typename Step>
void Router::run(Step step, Callback<T> done) {
  boost::asio::post(strand_, [this, step = std::move(step), done = std::move(done)]() mutable {
    if (!healthy_) {
      done(Error{ErrorCode::kUnavailable, {}, "the store failed; nothing is accepted until it recovers"});
      return;
    }
    auto commit = std::make_shared<Commit>();
    commit->with_records = store_->keeps_records();
    commit->events.reserve(4);  // an ingest writes one to three; spares the regrowth
    auto result = std::make_shared<Result<T>>(step(*desk_, *commit));
    // Answer only once the store holds what the step wrote (acknowledged = durable).
    store_->append(commit, [this, commit, result, done = std::move(done)](Status stored) {
      if (!stored || !healthy_) {
        // The Desk now holds changes the store does not: stop acknowledging anything,
        // including steps built on the lost one, until recover() reloads the Desk.
        if (healthy_.exchange(false)) {
          if (options_.on_health_change) options_.on_health_change(false);
          boost::asio::post(strand_, [this] { lose_store(); });
        }
        done(Error{ErrorCode::kUnavailable,
                   {},
                   stored ? "an earlier change was not stored; retry once the server recovers"
                          : "not stored: " + stored.error().describe()});
        return;
      }
      after_commit(*commit);
      done(std::move(*result));
    });
    arm_timer();
  });
}

void Router::after_commit(const Commit& commit) {
  bus_.publish(commit.events);
  for (const auto& entry : commit.deliveries) deliver(entry);
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
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // operation_aborted: re-armed or stopping
    armed_for_.reset();
    run<Done>(
        [](Desk& desk, Commit& out) -> Result<Done> {
          desk.run_due_timers(out);
          return Done{};
        },
        [](Result<Done>) {});
  });
}

// --- the API, one line each: which Desk call, under which answer type -------------------

void Router::ingest(InboundMessage message, Callback<IngestResult> done) {
  run<IngestResult>([m = std::move(message)](Desk& d, Commit& out) { return d.ingest(m, out); }, std::move(done));
}

void Router::report_delivery(std::string outbound_id, DeliveryStatus status, std::string reason) {
  run<Done>([=](Desk& d, Commit& out) { return d.report_delivery(outbound_id, status, reason, out); }, [](Status) {});
}

void Router::report_retryable_failure(std::string outbound_id, std::string reason) {
  run<Done>([=](Desk& d, Commit& out) { return d.report_retryable_failure(outbound_id, reason, out); }, [](Status) {});
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
      std::move(done));
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

void Router::list_agents(Callback<std::vector<Agent>> done) {
  run<std::vector<Agent>>([](Desk& d, Commit&) { return Result<std::vector<Agent>>(d.agents()); }, std::move(done));
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
