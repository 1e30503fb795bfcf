#include <switchboard/router/router.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace switchboard::router {
namespace {

using namespace std::chrono_literals;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kEmail[] = "email";
constexpr char kAnaEmail[] = "ana@example.org";

// What a FakeAdapter saw; it outlives the adapter, which the Router owns.
struct AdapterLog {
  int starts = 0;
  int stops = 0;
  std::vector<OutboundDelivery> delivered;
};

class FakeAdapter final : public Adapter {
 public:
  FakeAdapter(std::string channel, AdapterLog& log) : channel_(std::move(channel)), log_(log) {}

  std::vector<ChannelCapabilities> capabilities() const override { return {{.channel = channel_}}; }
  Status start() override {
    ++log_.starts;
    return ok_status();
  }
  void stop() override { ++log_.stops; }
  void deliver(OutboundDelivery delivery) override { log_.delivered.push_back(std::move(delivery)); }

 private:
  std::string channel_;
  AdapterLog& log_;
};

template <typename Body>
std::vector<Body> bodies(const std::vector<Event>& events) {
  std::vector<Body> out;
  for (const Event& e : events) {
    if (const auto* body = std::get_if<Body>(&e.body)) out.push_back(*body);
  }
  return out;
}

std::vector<uint64_t> cursors(const std::vector<Event>& events) {
  std::vector<uint64_t> out;
  for (const Event& e : events) out.push_back(e.cursor);
  return out;
}

InboundMessage email_from(std::string address, std::string text = "hello") {
  return {.channel = kEmail, .address = std::move(address), .text = std::move(text)};
}

// The memory store with a fault switch: while `failing`, appends store nothing and
// report the error a full disk would (a fault injector, as Beast's test::stream).
// A memory store whose appends a test stands between; reads go straight to it.
class MemoryStoreBehind : public Store {
 public:
  std::vector<Event> events_after(uint64_t after, std::size_t limit) const override {
    return inner_->events_after(after, limit);
  }
  std::vector<Event> timeline(const std::string& id, std::size_t limit) const override {
    return inner_->timeline(id, limit);
  }
  uint64_t head() const override { return inner_->head(); }
  Result<StoredState> load(std::size_t limit) override { return inner_->load(limit); }

 protected:
  std::unique_ptr<Store> inner_ = make_memory_store();
};

class FlakyStore final : public MemoryStoreBehind {
 public:
  explicit FlakyStore(bool& failing) : failing_(failing) {}
  void append(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) override {
    if (failing_) return done(Error{ErrorCode::kUnavailable, {}, "disk full"});
    inner_->append(std::move(commit), std::move(done));
  }

 private:
  bool& failing_;
};

// A Router on an io_context that the test thread runs, with a fake clock.
class RouterTest : public ::testing::Test {
 protected:
  RouterOptions options() {
    RouterOptions o;
    o.now = [this] { return now_; };
    o.recovery_interval = 1ms;
    o.desk.limits.first_retry_delay = 1ms;
    return o;
  }

  // Runs the io_context until `done` holds or nothing is left to run; bounded so a
  // lost callback fails the test instead of hanging it.
  void run_until(const std::function<bool()>& done) {
    io_.restart();
    while (!done() && io_.run_one_for(5s) > 0) {
    }
    EXPECT_TRUE(done()) << "the router never got there";
  }

  // Runs whatever is ready now.
  void drain() {
    io_.restart();
    io_.poll();
  }

  // Starts an asynchronous call and waits for its answer.
  template <typename T>
  Result<T> await(const std::function<void(Callback<T>)>& start) {
    std::optional<Result<T>> answer;
    start([&](Result<T> r) { answer.emplace(std::move(r)); });
    run_until([&] { return answer.has_value(); });
    if (!answer) return Error{ErrorCode::kUnavailable, {}, "no answer"};
    return std::move(*answer);
  }

  Result<IngestResult> ingest(InboundMessage m) {
    return await<IngestResult>([&](auto done) { router_.ingest(std::move(m), std::move(done)); });
  }

  Result<SendMessageResult> send(const std::string& conversation_id, std::string text) {
    return await<SendMessageResult>([&](auto done) {
      router_.send_message({.conversation_id = conversation_id, .text = std::move(text)}, "agent-1", std::move(done));
    });
  }

  std::vector<Event> stored() const { return router_.store().events_after(0, 1000); }

  AdapterLog& add_adapter(const std::string& channel) {
    router_.add_adapter(std::make_unique<FakeAdapter>(channel, adapter_log_));
    return adapter_log_;
  }

  Timestamp now_ = Clock::from_time_t(1'700'000'000);
  boost::asio::io_context io_;
  AdapterLog adapter_log_;
  bool store_failing_ = false;
  Router router_{io_, std::make_unique<FlakyStore>(store_failing_), options()};
};

TEST_F(RouterTest, IngestAnswersAfterTheCommit) {
  std::optional<Result<IngestResult>> answer;
  std::vector<Event> durable_when_answered;
  router_.ingest(email_from(kAnaEmail, "is my parcel lost?"), [&](Result<IngestResult> r) {
    durable_when_answered = router_.store().events_after(0, 1000);
    answer.emplace(std::move(r));
  });
  run_until([&] { return answer.has_value(); });
  ASSERT_TRUE(answer && answer->ok()) << (answer ? answer->error().describe() : "no answer");

  const IngestResult& r = answer->value();
  bool message_found = false;
  for (const Event& e : durable_when_answered) {
    if (e.conversation_id != r.conversation_id || e.seq != r.seq) continue;
    const auto* message = std::get_if<Message>(&e.body);
    ASSERT_NE(message, nullptr);
    EXPECT_EQ(message->text, "is my parcel lost?");
    message_found = true;
  }
  EXPECT_TRUE(message_found) << "the answer came before its message was stored";
}

TEST_F(RouterTest, PublishesWhatItCommits) {
  int wakeups = 0;
  auto sub = router_.events().subscribe({}, std::nullopt, [&] { ++wakeups; });
  ASSERT_TRUE(ingest(email_from(kAnaEmail)).ok());
  ASSERT_TRUE(ingest(email_from(kAnaEmail, "again")).ok());

  std::vector<Event> published;
  while (auto e = sub->next()) published.push_back(std::move(*e));
  EXPECT_GE(wakeups, 1);
  EXPECT_THAT(published, SizeIs(stored().size()));
  EXPECT_EQ(cursors(published), cursors(stored()));
  EXPECT_THAT(bodies<Message>(published), SizeIs(2));
}

TEST_F(RouterTest, BadIngestAnswersTheErrorAndStoresNothing) {
  auto sub = router_.events().subscribe({}, std::nullopt, [] {});
  const Result<IngestResult> r = ingest(email_from("not-an-address"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(stored(), IsEmpty());
  EXPECT_EQ(sub->next(), nullptr);
}

TEST_F(RouterTest, ContextByIdentityHasTheContactConversationAndTimeline) {
  const IngestResult first = ingest(email_from(kAnaEmail, "first")).value();
  const IngestResult second = ingest(email_from(kAnaEmail, "second")).value();
  const auto context = [&](std::size_t last_events) {
    return await<ConversationContext>([&](auto done) {
      router_.get_context({}, Identity{.channel = kEmail, .address = kAnaEmail}, last_events, std::move(done));
    });
  };

  const Result<ConversationContext> all = context(100);
  ASSERT_TRUE(all.ok()) << all.error().describe();
  EXPECT_EQ(all->contact.id, first.contact_id);
  EXPECT_EQ(all->conversation.id, first.conversation_id);
  ASSERT_THAT(all->events, SizeIs(all->conversation.last_seq));
  for (std::size_t i = 0; i < all->events.size(); ++i) EXPECT_EQ(all->events[i].seq, i + 1);
  const auto messages = bodies<Message>(all->events);
  ASSERT_THAT(messages, SizeIs(2));
  EXPECT_EQ(messages[1].text, "second");

  const Result<ConversationContext> tail = context(1);
  ASSERT_TRUE(tail.ok());
  ASSERT_THAT(tail->events, SizeIs(1));
  EXPECT_EQ(tail->events[0].seq, all->conversation.last_seq);
  EXPECT_GE(tail->events[0].seq, second.seq);
}

TEST_F(RouterTest, AnswersInTheOrderRequestsArrived) {
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) {
    router_.ingest(email_from("customer" + std::to_string(i) + "@example.org"), [&order, i](Result<IngestResult> r) {
      EXPECT_TRUE(r.ok());
      order.push_back(i);
    });
  }
  run_until([&] { return order.size() == 5; });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(RouterTest, AContextRequestSeesWhatTheRequestsQueuedBeforeItWrote) {
  // Both reach the strand in one go: the context reads the store, so the ingest's
  // commit must be appended before it runs, not share a commit with it.
  std::optional<Result<IngestResult>> ingested;
  std::optional<Result<ConversationContext>> context;
  router_.ingest(email_from(kAnaEmail, "first"), [&](Result<IngestResult> r) { ingested.emplace(std::move(r)); });
  router_.get_context({}, Identity{.channel = kEmail, .address = kAnaEmail}, 10,
                      [&](Result<ConversationContext> r) { context.emplace(std::move(r)); });
  run_until([&] { return ingested && context; });
  ASSERT_TRUE(ingested->ok() && context->ok());
  const auto messages = bodies<Message>(context->value().events);
  ASSERT_THAT(messages, SizeIs(1));
  EXPECT_EQ(messages[0].text, "first");
}

TEST_F(RouterTest, IngestHereOnAnIdleRouterRunsAndAnswersOnTheCallersThread) {
  std::optional<Result<IngestResult>> answer;
  router_.ingest_here(email_from(kAnaEmail, "first"), [&](Result<IngestResult> r) { answer.emplace(std::move(r)); });
  // The memory store answers at once, and no router thread was needed.
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->error().describe();
  EXPECT_THAT(bodies<Message>(stored()), SizeIs(1));
}

TEST_F(RouterTest, IngestHereWhileTheStrandIsTakenWaitsItsTurn) {
  // The first answer runs on the strand and asks again from there: the second must not
  // run inside it, but after it, in order.
  std::vector<std::string> order;
  bool inside_first = false;
  router_.ingest_here(email_from(kAnaEmail, "first"), [&](Result<IngestResult> r) {
    ASSERT_TRUE(r.ok());
    inside_first = true;
    router_.ingest_here(email_from(kAnaEmail, "second"), [&](Result<IngestResult> again) {
      EXPECT_TRUE(again.ok());
      EXPECT_FALSE(inside_first) << "ran nested inside a step that held the strand";
      order.push_back("second");
    });
    order.push_back("first");
    inside_first = false;
  });
  run_until([&] { return order.size() == 2; });
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second"}));
}

// The memory store behind a gate: every append waits, in order, until the test opens
// the gate (each commit stored and answered) or fails what is held. So a test sees
// what a caller was told before its commit was durable.
class GatedStore final : public MemoryStoreBehind {
 public:
  void append(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) override {
    held_.push_back({std::move(commit), std::move(done)});
  }

  std::vector<std::shared_ptr<const Commit>> held() const {
    std::vector<std::shared_ptr<const Commit>> out;
    for (const auto& h : held_) out.push_back(h.commit);
    return out;
  }
  void open() {
    for (auto& h : std::exchange(held_, {})) inner_->append(std::move(h.commit), std::move(h.done));
  }
  void fail_held() {
    for (auto& h : std::exchange(held_, {})) h.done(Error{ErrorCode::kUnavailable, {}, "disk full"});
  }

 private:
  struct Held {
    std::shared_ptr<const Commit> commit;
    std::function<void(Status)> done;
  };
  std::vector<Held> held_;
};

// Requests that reach the strand together, on a store the test holds back.
class RouterBatchTest : public ::testing::Test {
 protected:
  // Queues `n` ingests from different customers; each answer is kept with the events
  // stored at the moment it came.
  void queue_ingests(int n) {
    for (int i = 0; i < n; ++i) {
      router_.ingest(email_from("customer" + std::to_string(i) + "@example.org", "message " + std::to_string(i)),
                     [this](Result<IngestResult> r) {
                       answers_.push_back(std::move(r));
                       stored_when_answered_.push_back(store_.events_after(0, 1000));
                     });
    }
  }
  // Runs what the strand has to do now.
  void drain() {
    io_.restart();
    io_.poll();
  }

  boost::asio::io_context io_;
  std::unique_ptr<GatedStore> owned_store_ = std::make_unique<GatedStore>();
  GatedStore& store_ = *owned_store_;
  Router router_{io_, std::move(owned_store_)};
  std::vector<Result<IngestResult>> answers_;
  std::vector<std::vector<Event>> stored_when_answered_;
};

TEST_F(RouterBatchTest, QueuedIngestsShareOneCommitAndAreAnsweredOnlyOnceItIsStored) {
  queue_ingests(5);
  drain();
  ASSERT_THAT(store_.held(), SizeIs(1)) << "one commit for the five";
  EXPECT_THAT(bodies<Message>(store_.held()[0]->events), SizeIs(5));
  EXPECT_THAT(answers_, IsEmpty()) << "answered before the store held it";

  store_.open();
  ASSERT_THAT(answers_, SizeIs(5));
  for (std::size_t i = 0; i < answers_.size(); ++i) {
    ASSERT_TRUE(answers_[i].ok()) << answers_[i].error().describe();
    const IngestResult& r = answers_[i].value();
    const auto& stored = stored_when_answered_[i];
    auto message = std::find_if(stored.begin(), stored.end(), [&](const Event& e) {
      return e.conversation_id == r.conversation_id && e.seq == r.seq;
    });
    ASSERT_NE(message, stored.end()) << "answer " << i << " came before its message was stored";
    // Each caller gets its own answer, in the order they asked.
    EXPECT_EQ(std::get<Message>(message->body).text, "message " + std::to_string(i));
  }
  EXPECT_TRUE(router_.healthy());
}

TEST_F(RouterBatchTest, AFailedCommitAnswersEveryRequestOfItsBatchUnavailable) {
  queue_ingests(3);
  drain();
  ASSERT_THAT(store_.held(), SizeIs(1));
  store_.fail_held();
  ASSERT_THAT(answers_, SizeIs(3));
  for (const auto& answer : answers_) {
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().code, ErrorCode::kUnavailable);
  }
  EXPECT_FALSE(router_.healthy());
  EXPECT_THAT(store_.events_after(0, 1000), IsEmpty());
}

TEST_F(RouterBatchTest, ALongQueueIsAppendedInCommitsOfAtMostTheBound) {
  const int n = static_cast<int>(Router::kMaxStepsPerCommit) + 1;
  queue_ingests(n);
  drain();
  const auto held = store_.held();
  ASSERT_THAT(held, SizeIs(2));
  EXPECT_THAT(bodies<Message>(held[0]->events), SizeIs(Router::kMaxStepsPerCommit));
  EXPECT_THAT(bodies<Message>(held[1]->events), SizeIs(1));
  store_.open();
  ASSERT_THAT(answers_, SizeIs(n));
  for (const auto& answer : answers_) EXPECT_TRUE(answer.ok());
}

TEST_F(RouterTest, HandsARepliesToTheAdapterOfItsChannel) {
  AdapterLog& log = add_adapter(kEmail);
  ASSERT_TRUE(router_.start_adapters().ok());
  EXPECT_EQ(log.starts, 1);

  const IngestResult in = ingest(email_from(kAnaEmail)).value();
  const Result<SendMessageResult> sent = send(in.conversation_id, "we found it");
  ASSERT_TRUE(sent.ok()) << sent.error().describe();
  EXPECT_EQ(sent->channel, kEmail);
  EXPECT_TRUE(sent->adapter_running);
  EXPECT_EQ(sent->status, DeliveryStatus::kPending);

  run_until([&] { return !log.delivered.empty(); });
  ASSERT_THAT(log.delivered, SizeIs(1));
  const OutboundDelivery& d = log.delivered[0];
  EXPECT_EQ(d.outbound_id, sent->outbound_id);
  EXPECT_EQ(d.conversation_id, in.conversation_id);
  EXPECT_EQ(d.seq, sent->seq);
  EXPECT_EQ(d.address, kAnaEmail);
  EXPECT_EQ(d.text, "we found it");
}

TEST_F(RouterTest, ReportedDeliveryIsWrittenToTheTimeline) {
  AdapterLog& log = add_adapter(kEmail);
  ASSERT_TRUE(router_.start_adapters().ok());
  const IngestResult in = ingest(email_from(kAnaEmail)).value();
  const SendMessageResult sent = send(in.conversation_id, "we found it").value();
  run_until([&] { return !log.delivered.empty(); });

  router_.report_delivery(log.delivered[0].outbound_id, DeliveryStatus::kDelivered, "");
  run_until([&] { return !bodies<DeliveryUpdated>(stored()).empty(); });
  const auto updates = bodies<DeliveryUpdated>(stored());
  ASSERT_THAT(updates, SizeIs(1));
  EXPECT_EQ(updates[0].message_seq, sent.seq);
  EXPECT_EQ(updates[0].status, DeliveryStatus::kDelivered);
}

TEST_F(RouterTest, ReplyOnAChannelWithoutAdapterStaysPending) {
  AdapterLog& log = add_adapter("sms");
  const IngestResult in = ingest(email_from(kAnaEmail)).value();
  const Result<SendMessageResult> sent = send(in.conversation_id, "noted");
  ASSERT_TRUE(sent.ok()) << sent.error().describe();
  EXPECT_EQ(sent->channel, kEmail);
  EXPECT_FALSE(sent->adapter_running);
  EXPECT_FALSE(sent->detail.empty());
  drain();
  EXPECT_THAT(log.delivered, IsEmpty());
}

TEST_F(RouterTest, NothingIsDeliveredBeforeStartAndWhatWaitedGoesOutOnStart) {
  AdapterLog& log = add_adapter(kEmail);
  const IngestResult in = ingest(email_from(kAnaEmail)).value();
  ASSERT_TRUE(send(in.conversation_id, "written before the adapters started").ok());
  drain();
  EXPECT_THAT(log.delivered, IsEmpty());

  ASSERT_TRUE(router_.start_adapters().ok());
  drain();
  ASSERT_THAT(log.delivered, SizeIs(1));
  EXPECT_EQ(log.delivered[0].text, "written before the adapters started");
}

TEST_F(RouterTest, StopStopsEveryAdapterOnce) {
  AdapterLog& log = add_adapter(kEmail);
  ASSERT_TRUE(router_.start_adapters().ok());
  router_.stop();
  drain();
  EXPECT_EQ(log.stops, 1);
}

}  // namespace
}  // namespace switchboard::router

namespace switchboard::router {
namespace {

TEST_F(RouterTest, AFailedCommitIsNeverAcknowledgedAndTheRouterRecovers) {
  auto first = ingest(email_from(kAnaEmail, "first"));
  ASSERT_TRUE(first.ok());

  store_failing_ = true;
  auto lost = ingest(email_from(kAnaEmail, "lost"));
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(router_.healthy());

  store_failing_ = false;
  run_until([&] { return router_.healthy(); });
  auto after = ingest(email_from(kAnaEmail, "after"));
  ASSERT_TRUE(after.ok()) << after.error().describe();
  EXPECT_EQ(after->conversation_id, first->conversation_id);

  // The timeline holds what was acknowledged, without a gap where the lost one was.
  std::vector<std::string> texts;
  uint64_t expected_seq = 1;
  for (const Event& e : stored()) {
    EXPECT_EQ(e.seq, expected_seq++);
    if (const auto* m = std::get_if<Message>(&e.body)) texts.push_back(m->text);
  }
  EXPECT_THAT(texts, ::testing::ElementsAre("first", "after"));
}

TEST_F(RouterTest, NothingIsAcceptedWhileTheStoreIsDown) {
  store_failing_ = true;
  ASSERT_FALSE(ingest(email_from(kAnaEmail, "one")).ok());
  auto refused = ingest(email_from("bo@example.org", "two"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(stored(), IsEmpty());
}

}  // namespace
}  // namespace switchboard::router

namespace switchboard::router {
namespace {

TEST_F(RouterTest, ARetryableFailureIsDeliveredAgainAfterTheBackoff) {
  AdapterLog& log = add_adapter(kEmail);
  ASSERT_TRUE(router_.start_adapters().ok());
  auto in = ingest(email_from(kAnaEmail));
  ASSERT_TRUE(in.ok());
  auto sent = send(in->conversation_id, "your parcel is on its way");
  ASSERT_TRUE(sent.ok());
  run_until([&] { return log.delivered.size() == 1; });

  router_.report_retryable_failure(log.delivered[0].outbound_id, "503 from the relay");
  run_until([&] { return !bodies<DeliveryUpdated>(stored()).empty(); });
  now_ += 1s;  // past the backoff on the router's clock
  run_until([&] { return log.delivered.size() == 2; });
  EXPECT_EQ(log.delivered[1].outbound_id, log.delivered[0].outbound_id);
  EXPECT_EQ(log.delivered[1].text, "your parcel is on its way");
}

// An adapter that connects while the router runs (AdapterService): it gets what waited
// for its channel at once, with the first outbound ids, and nothing after it left.
TEST_F(RouterTest, AttachedAdapterTakesWhatWaitedAndDetachedOneNothingMore) {
  ASSERT_TRUE(router_.start_adapters().ok());
  const IngestResult in = ingest(email_from(kAnaEmail)).value();
  const SendMessageResult waited = send(in.conversation_id, "first").value();
  EXPECT_FALSE(waited.adapter_running);
  const SendMessageResult waited_too = send(in.conversation_id, "second").value();

  AdapterLog log;
  auto adapter = std::make_shared<FakeAdapter>(kEmail, log);
  auto attached = await<Done>([&](auto done) { router_.attach_adapter(adapter, std::move(done)); });
  ASSERT_TRUE(attached.ok()) << attached.error().describe();
  run_until([&] { return log.delivered.size() == 2; });
  EXPECT_EQ(log.delivered[0].outbound_id, waited.outbound_id);
  EXPECT_EQ(log.delivered[1].outbound_id, waited_too.outbound_id);
  EXPECT_EQ(log.starts, 0) << "an attached adapter is started by whoever attached it";

  const SendMessageResult now = send(in.conversation_id, "third").value();
  EXPECT_TRUE(now.adapter_running);
  run_until([&] { return log.delivered.size() == 3; });

  bool detached = false;
  router_.detach_adapter(adapter, [&] { detached = true; });
  run_until([&] { return detached; });
  const SendMessageResult after = send(in.conversation_id, "fourth").value();
  EXPECT_FALSE(after.adapter_running);
  drain();
  EXPECT_THAT(log.delivered, SizeIs(3));

  // Whoever comes next for the channel gets what is still pending: all four, since no
  // delivery was reported.
  AdapterLog next_log;
  auto next = std::make_shared<FakeAdapter>(kEmail, next_log);
  ASSERT_TRUE(await<Done>([&](auto done) { router_.attach_adapter(next, std::move(done)); }).ok());
  run_until([&] { return next_log.delivered.size() == 4; });
  EXPECT_EQ(next_log.delivered[0].outbound_id, waited.outbound_id);
  EXPECT_EQ(next_log.delivered[3].outbound_id, after.outbound_id);
}

TEST_F(RouterTest, AttachRefusesAChannelAnotherAdapterCarries) {
  add_adapter(kEmail);
  ASSERT_TRUE(router_.start_adapters().ok());
  AdapterLog log;
  auto second = std::make_shared<FakeAdapter>(kEmail, log);
  auto refused = await<Done>([&](auto done) { router_.attach_adapter(second, std::move(done)); });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kAlreadyExists);

  // The first one still carries the channel; a detach of the refused one changes nothing.
  router_.detach_adapter(second);
  const IngestResult in = ingest(email_from(kAnaEmail)).value();
  ASSERT_TRUE(send(in.conversation_id, "hi").ok());
  run_until([&] { return adapter_log_.delivered.size() == 1; });
  EXPECT_THAT(log.delivered, IsEmpty());

  auto other = std::make_shared<FakeAdapter>("kiosk", log);
  EXPECT_TRUE(await<Done>([&](auto done) { router_.attach_adapter(other, std::move(done)); }).ok());
}

TEST_F(RouterTest, DeliveryReportWithACallbackAnswersOnceStored) {
  AdapterLog& log = add_adapter(kEmail);
  ASSERT_TRUE(router_.start_adapters().ok());
  const IngestResult in = ingest(email_from(kAnaEmail)).value();
  ASSERT_TRUE(send(in.conversation_id, "hi").ok());
  run_until([&] { return log.delivered.size() == 1; });

  std::vector<Event> durable_when_answered;
  auto reported = await<Done>([&](auto done) {
    router_.report_delivery(log.delivered[0].outbound_id, DeliveryStatus::kDelivered, "",
                            [&, done = std::move(done)](Status s) {
                              durable_when_answered = stored();
                              done(std::move(s));
                            });
  });
  ASSERT_TRUE(reported.ok()) << reported.error().describe();
  EXPECT_THAT(bodies<DeliveryUpdated>(durable_when_answered), SizeIs(1));

  auto unknown = await<Done>(
      [&](auto done) { router_.report_delivery("ob_unknown", DeliveryStatus::kDelivered, "", std::move(done)); });
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  auto final_one = await<Done>(
      [&](auto done) { router_.report_retryable_failure(log.delivered[0].outbound_id, "late", std::move(done)); });
  ASSERT_FALSE(final_one.ok());
  EXPECT_EQ(final_one.error().code, ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace switchboard::router
