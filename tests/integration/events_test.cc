// EventService.Subscribe: order, resume from a cursor, filters, bad cursors.

#include <numeric>

#include "fixture.h"

namespace switchboard::testing {
namespace {

using EventsTest = SwitchboarddTest;

// Every event the daemon holds: the sum of the conversations' last_seq.
std::size_t total_events(const Client& admin) {
  auto all = admin.list_conversations();
  EXPECT_OK(all);
  return std::accumulate(all->conversations().begin(), all->conversations().end(), std::size_t{0},
                         [](std::size_t sum, const v1::Conversation& c) { return sum + c.last_seq(); });
}

std::vector<v1::Event> read(EventStream& stream, std::size_t count) {
  std::vector<v1::Event> events;
  while (events.size() < count) {
    auto event = stream.next();
    if (!event) break;
    events.push_back(std::move(*event));
  }
  return events;
}

uint64_t cursor_of(const v1::Event& event) { return std::stoull(event.cursor()); }

TEST_F(EventsTest, EventsComeInOrderAndResumeMissesNothingAndRepeatsNothing) {
  ASSERT_OK(admin_->ingest("chat", "visitor-a", "one"));
  ASSERT_OK(admin_->ingest("chat", "visitor-b", "two"));
  ASSERT_OK(admin_->ingest("chat", "visitor-a", "three"));
  const std::size_t total = total_events(*admin_);
  ASSERT_GE(total, 3u);

  v1::SubscribeRequest everything;
  everything.set_from_beginning(true);
  auto stream = admin_->subscribe(everything);
  const auto first_read = read(*stream, total);
  ASSERT_EQ(first_read.size(), total) << describe(stream->finish());
  std::map<std::string, uint64_t> last_seq;
  for (std::size_t i = 0; i < first_read.size(); ++i) {
    if (i > 0) EXPECT_GT(cursor_of(first_read[i]), cursor_of(first_read[i - 1]));
    EXPECT_EQ(first_read[i].seq(), ++last_seq[first_read[i].conversation_id()]) << "per-conversation order";
  }

  // Resume after an event in the middle: the rest, exactly once, then live ones.
  const std::size_t resume_after = total / 2;
  v1::SubscribeRequest resume;
  resume.set_cursor(first_read[resume_after].cursor());
  auto resumed = admin_->subscribe(resume);
  const auto rest = read(*resumed, total - resume_after - 1);
  ASSERT_EQ(rest.size(), total - resume_after - 1) << describe(resumed->finish());
  for (std::size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i].cursor(), first_read[resume_after + 1 + i].cursor());

  ASSERT_OK(admin_->ingest("email", "live@example.org", "four"));
  auto live = resumed->next_of(v1::Event::kMessage);
  ASSERT_TRUE(live.has_value()) << describe(resumed->finish());
  EXPECT_EQ(live->message().text(), "four");
  EXPECT_GT(cursor_of(*live), cursor_of(first_read.back()));
}

// Once caught up, a stream starts each next write from the last one's completion:
// a run of live events still arrives whole and in cursor order.
TEST_F(EventsTest, ARunOfLiveEventsArrivesWholeAndInOrder) {
  ASSERT_OK(admin_->ingest("chat", "visitor-live", "before"));
  v1::SubscribeRequest everything;
  everything.set_from_beginning(true);
  auto stream = admin_->subscribe(everything);
  const std::size_t stored = total_events(*admin_);
  const auto history = read(*stream, stored);
  ASSERT_EQ(history.size(), stored) << describe(stream->finish());

  for (int i = 0; i < 30; ++i) ASSERT_OK(admin_->ingest("chat", "visitor-live" + std::to_string(i % 3), "live"));
  const auto live = read(*stream, total_events(*admin_) - stored);
  ASSERT_EQ(live.size(), total_events(*admin_) - stored) << describe(stream->finish());
  uint64_t last = cursor_of(history.back());
  for (const auto& event : live) {
    EXPECT_EQ(cursor_of(event), last + 1) << "no gap, no repeat";
    last = cursor_of(event);
  }
}

TEST_F(EventsTest, FilterByConversationShowsOnlyThatConversation) {
  auto mine = admin_->ingest("chat", "visitor-c", "mine");
  ASSERT_OK(mine);
  ASSERT_OK(admin_->ingest("chat", "visitor-d", "other"));

  v1::SubscribeRequest only_mine;
  only_mine.add_conversation_ids(mine->conversation_id());
  only_mine.set_from_beginning(true);
  auto stream = admin_->subscribe(only_mine);
  auto conversation = admin_->get_conversation(mine->conversation_id());
  ASSERT_OK(conversation);
  const auto history = read(*stream, conversation->last_seq());
  ASSERT_EQ(history.size(), conversation->last_seq());
  for (const auto& event : history) EXPECT_EQ(event.conversation_id(), mine->conversation_id());

  ASSERT_OK(admin_->ingest("chat", "visitor-d", "other again"));
  ASSERT_OK(admin_->ingest("chat", "visitor-c", "mine again"));
  auto next = stream->next_of(v1::Event::kMessage);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->conversation_id(), mine->conversation_id());
  EXPECT_EQ(next->message().text(), "mine again");
}

TEST_F(EventsTest, BadCursorsAreInvalidArgument) {
  ASSERT_OK(admin_->ingest("chat", "visitor-e", "hi"));
  for (const std::string cursor : {"not-a-number", "-1", "99999999"}) {
    v1::SubscribeRequest request;
    request.set_cursor(cursor);
    auto stream = admin_->subscribe(request);
    EXPECT_FALSE(stream->next().has_value());
    const auto status = stream->finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << cursor << ": " << describe(status);
    EXPECT_EQ(status.error_message().rfind("cursor: ", 0), 0u) << status.error_message();
  }
}

TEST_F(EventsTest, ShutdownEndsOpenStreamsInsteadOfWaitingForThem) {
  ASSERT_OK(admin_->ingest("chat", "visitor-h", "hi"));
  v1::SubscribeRequest everything;
  everything.set_from_beginning(true);
  auto stream = admin_->subscribe(everything, std::chrono::seconds(60));
  ASSERT_TRUE(stream->next().has_value()) << describe(stream->finish());

  // A subscriber keeps reading while the daemon drains, as a real one does.
  const auto asked = std::chrono::steady_clock::now();
  daemon_.send_sigterm();
  while (stream->next()) {
  }
  EXPECT_EQ(stream->finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(daemon_.wait_exit(std::chrono::seconds(20)), std::optional<int>(0));
  // The daemon grants unary calls 5 s to finish; an open stream must not use them up.
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(4));
}

// A subscriber allowed to fall behind by one event only.
class TinySubscriberBufferTest : public SwitchboarddTest {
 protected:
  int subscriber_buffer() const override { return 1; }
};

TEST_F(TinySubscriberBufferTest, ASubscriberThatFallsBehindIsCutOffAndResumesFromItsCursor) {
  ASSERT_OK(admin_->ingest("chat", "visitor-f", "first"));
  v1::SubscribeRequest everything;
  everything.set_from_beginning(true);
  auto slow = admin_->subscribe(everything);
  auto first = slow->next();  // the subscription exists: what follows reaches it live
  ASSERT_TRUE(first.has_value()) << describe(slow->finish());

  // Each ingest publishes several events at once; one buffered event is the limit.
  for (int i = 0; i < 20; ++i) ASSERT_OK(admin_->ingest("chat", "visitor-g" + std::to_string(i), "burst"));
  std::vector<v1::Event> got{*first};
  while (auto event = slow->next()) got.push_back(std::move(*event));
  const auto status = slow->finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << describe(status);
  EXPECT_NE(status.error_message().find("resume from your last cursor"), std::string::npos);

  const std::size_t total = total_events(*admin_);
  ASSERT_LT(got.size(), total);
  v1::SubscribeRequest resume;
  resume.set_cursor(got.back().cursor());
  auto resumed = admin_->subscribe(resume);
  const auto rest = read(*resumed, total - got.size());
  ASSERT_EQ(rest.size(), total - got.size()) << describe(resumed->finish());
  EXPECT_GT(cursor_of(rest.front()), cursor_of(got.back()));
  EXPECT_EQ(rest.back().cursor(), std::to_string(cursor_of(got.back()) + rest.size()))
      << "cursors are consecutive: nothing missed";
}

}  // namespace
}  // namespace switchboard::testing
