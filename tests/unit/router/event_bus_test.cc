#include <switchboard/router/event_bus.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <switchboard/router/store.h>

namespace switchboard::router {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr std::size_t kBuffer = 8;

// An index into EventBody, for EventFilter::kinds.
template <typename Body>
constexpr std::size_t kind_of() {
  return EventBody(Body{}).index();
}

std::vector<uint64_t> range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t c = first; c <= last; ++c) out.push_back(c);
  return out;
}

// What one test event looks like; cursor and seq are assigned on commit.
struct Spec {
  std::string conversation_id = "conv-1";
  std::string queue = "support";
  std::string assignee_id;
  EventBody body = Message{};
};

class EventBusTest : public ::testing::Test {
 protected:
  // Commits one event to the store (cursor = head + 1), without publishing it.
  Event commit(Spec spec = {}) {
    Event event{.cursor = store_->head() + 1,
                .conversation_id = spec.conversation_id,
                .seq = ++seq_[spec.conversation_id],
                .queue = spec.queue,
                .assignee_id = spec.assignee_id,
                .body = std::move(spec.body)};
    Commit c;
    c.events.push_back(event);
    bool durable = false;
    store_->append(std::make_shared<const Commit>(std::move(c)), [&](Status status) { durable = status.ok(); });
    EXPECT_TRUE(durable);
    return event;
  }

  // What the router does: commit, then publish.
  std::vector<Event> commit_and_publish(std::size_t count, Spec spec = {}) {
    std::vector<Event> events;
    for (std::size_t i = 0; i < count; ++i) events.push_back(commit(spec));
    bus_.publish(events);
    return events;
  }

  static std::vector<uint64_t> drain(Subscription& sub) {
    std::vector<uint64_t> cursors;
    while (auto event = sub.next()) cursors.push_back(event->cursor);
    return cursors;
  }

  std::shared_ptr<Subscription> subscribe(std::optional<uint64_t> after, EventFilter filter = {}) {
    return bus_.subscribe(std::move(filter), after, [this] { ++wakeups_; });
  }

  std::unique_ptr<Store> store_ = make_memory_store();
  EventBus bus_{*store_, kBuffer};
  std::map<std::string, uint64_t> seq_;
  int wakeups_ = 0;
};

TEST_F(EventBusTest, GivesStoredEventsThenLiveOnes) {
  commit_and_publish(3);
  auto sub = subscribe(0);
  EXPECT_THAT(drain(*sub), ElementsAre(1, 2, 3));
  commit_and_publish(2);
  EXPECT_THAT(drain(*sub), ElementsAre(4, 5));
  EXPECT_EQ(sub->next(), nullptr);
}

TEST_F(EventBusTest, StartsAfterTheGivenCursor) {
  commit_and_publish(5);
  auto sub = subscribe(3);
  commit_and_publish(1);
  EXPECT_THAT(drain(*sub), ElementsAre(4, 5, 6));
}

TEST_F(EventBusTest, FromNowGivesOnlyNewEvents) {
  commit_and_publish(4);
  auto sub = subscribe(std::nullopt);
  EXPECT_THAT(drain(*sub), IsEmpty());
  commit_and_publish(2);
  EXPECT_THAT(drain(*sub), ElementsAre(5, 6));
}

// An event committed before the subscription but published after it reaches the
// subscriber from the store and again live: it must be handed out once.
TEST_F(EventBusTest, GivesAnEventCommittedBeforeAndPublishedAfterSubscribingOnce) {
  std::vector<Event> pending = {commit(), commit()};
  auto sub = subscribe(0);
  bus_.publish(pending);
  commit_and_publish(1);
  EXPECT_THAT(drain(*sub), ElementsAre(1, 2, 3));
}

TEST_F(EventBusTest, InterleavedReadsKeepOrderWithoutRepeats) {
  commit_and_publish(3);
  auto sub = subscribe(0);
  std::vector<uint64_t> got;
  for (int round = 0; round < 4; ++round) {
    if (auto event = sub->next()) got.push_back(event->cursor);
    commit_and_publish(1);
  }
  for (uint64_t c : drain(*sub)) got.push_back(c);
  EXPECT_THAT(got, ElementsAreArray(range(1, 7)));
}

TEST_F(EventBusTest, WakesTheSubscriberOnPublish) {
  auto sub = subscribe(std::nullopt);
  commit_and_publish(1);
  EXPECT_GE(wakeups_, 1);
}

TEST_F(EventBusTest, FiltersStoredAndLiveEvents) {
  commit_and_publish(1, {.conversation_id = "a"});
  commit_and_publish(1, {.conversation_id = "b"});
  auto sub = subscribe(0, {.conversation_ids = {"b"}});
  commit_and_publish(1, {.conversation_id = "a"});
  commit_and_publish(1, {.conversation_id = "b"});
  EXPECT_THAT(drain(*sub), ElementsAre(2, 4));
}

TEST_F(EventBusTest, FilterMatchesEveryFieldAndEmptyMeansAll) {
  const Event event{.cursor = 1,
                    .conversation_id = "conv-1",
                    .queue = "billing",
                    .assignee_id = "agent-7",
                    .body = Assigned{.agent_id = "agent-7"}};
  struct Case {
    std::string name;
    EventFilter filter;
    bool matches;
  };
  const std::vector<Case> cases = {
      {"empty", {}, true},
      {"queue", {.queues = {"billing"}}, true},
      {"other queue", {.queues = {"sales"}}, false},
      {"agent", {.agent_ids = {"agent-7", "agent-8"}}, true},
      {"other agent", {.agent_ids = {"agent-8"}}, false},
      {"conversation", {.conversation_ids = {"conv-1"}}, true},
      {"other conversation", {.conversation_ids = {"conv-2"}}, false},
      {"kind", {.kinds = {kind_of<Assigned>()}}, true},
      {"other kind", {.kinds = {kind_of<Message>()}}, false},
      {"all fields", {{"billing"}, {"agent-7"}, {"conv-1"}, {kind_of<Assigned>()}}, true},
      {"all but one", {{"billing"}, {"agent-7"}, {"conv-1"}, {kind_of<Resolved>()}}, false},
  };
  for (const Case& c : cases) EXPECT_EQ(c.filter.matches(event), c.matches) << c.name;
}

TEST_F(EventBusTest, FiltersByKindQueueAndAgent) {
  auto by_kind = subscribe(std::nullopt, {.kinds = {kind_of<Resolved>()}});
  auto by_queue = subscribe(std::nullopt, {.queues = {"billing"}});
  auto by_agent = subscribe(std::nullopt, {.agent_ids = {"agent-1"}});
  commit_and_publish(1, {.queue = "billing"});                            // 1
  commit_and_publish(1, {.assignee_id = "agent-1", .body = Resolved{}});  // 2
  commit_and_publish(1, {.queue = "billing", .assignee_id = "agent-1"});  // 3
  EXPECT_THAT(drain(*by_kind), ElementsAre(2));
  EXPECT_THAT(drain(*by_queue), ElementsAre(1, 3));
  EXPECT_THAT(drain(*by_agent), ElementsAre(2, 3));
}

TEST_F(EventBusTest, SubscriberThatFallsBehindOverflowsWithoutBlockingPublish) {
  auto slow = subscribe(std::nullopt);
  auto fast = subscribe(std::nullopt);
  std::vector<uint64_t> fast_got;
  for (std::size_t i = 0; i < 3 * kBuffer; ++i) {
    commit_and_publish(1);  // returns although `slow` never reads
    for (uint64_t c : drain(*fast)) fast_got.push_back(c);
  }
  EXPECT_TRUE(slow->overflowed());
  EXPECT_FALSE(fast->overflowed());
  EXPECT_THAT(fast_got, ElementsAreArray(range(1, 3 * kBuffer)));
}

TEST_F(EventBusTest, DoesNotOverflowWithinTheBuffer) {
  auto sub = subscribe(std::nullopt);
  commit_and_publish(kBuffer);
  EXPECT_FALSE(sub->overflowed());
  EXPECT_THAT(drain(*sub), ElementsAreArray(range(1, kBuffer)));
}

TEST_F(EventBusTest, ResumingAfterOverflowFromTheLastCursorMissesNothing) {
  auto sub = subscribe(0);
  commit_and_publish(2);
  std::vector<uint64_t> got = drain(*sub);
  commit_and_publish(2 * kBuffer);
  ASSERT_TRUE(sub->overflowed());
  // Whatever it still hands out before it is cut off counts as received.
  for (uint64_t c : drain(*sub)) got.push_back(c);
  const uint64_t last = got.empty() ? 0 : got.back();
  sub.reset();

  auto resumed = subscribe(last);
  commit_and_publish(3);
  for (uint64_t c : drain(*resumed)) got.push_back(c);
  EXPECT_FALSE(resumed->overflowed());
  EXPECT_THAT(got, ElementsAreArray(range(1, 2 + 2 * kBuffer + 3)));
}

TEST_F(EventBusTest, CancelledSubscriptionGetsNothingLive) {
  auto sub = subscribe(std::nullopt);
  sub->cancel();
  commit_and_publish(2);
  EXPECT_THAT(drain(*sub), IsEmpty());
  EXPECT_EQ(wakeups_, 0);
}

TEST_F(EventBusTest, ForgetsDroppedSubscriptions) {
  auto kept = subscribe(std::nullopt);
  auto dropped = subscribe(std::nullopt);
  EXPECT_EQ(bus_.subscriber_count(), 2u);
  dropped.reset();
  commit_and_publish(1);
  EXPECT_EQ(bus_.subscriber_count(), 1u);
  EXPECT_THAT(drain(*kept), ElementsAre(1));
}

}  // namespace
}  // namespace switchboard::router
