// The conversation lifecycle over the API: transfers, reopen and close, snooze, bots,
// and refused transitions (DESIGN.md "The conversation state machine").

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "fixture.h"

namespace switchboard::testing {
namespace {

using google::protobuf::util::TimeUtil;
using LifecycleTest = SwitchboarddTest;

// A reopen window short enough to watch it end.
class ShortReopenWindowTest : public SwitchboarddTest {
 protected:
  int reopen_window_seconds() const override { return 1; }
};

v1::Event::KindCase kind_of(const v1::Event& event) { return event.kind_case(); }

bool has_event(const v1::ConversationUpdate& update, v1::Event::KindCase kind) {
  return std::any_of(update.events().begin(), update.events().end(),
                     [&](const v1::Event& e) { return kind_of(e) == kind; });
}

TEST_F(LifecycleTest, TransfersKeepTheWholeHistory) {
  ASSERT_OK(admin_->online_agent("agent-a"));
  ASSERT_OK(admin_->online_agent("agent-b"));
  auto in = admin_->ingest("chat", "visitor-1", "Where is my parcel?");
  ASSERT_OK(in);
  const std::string id = in->conversation_id();

  v1::AssignRequest assign;
  assign.set_conversation_id(id);
  assign.set_agent_id("agent-a");
  auto assigned = admin_->call(&v1::ConversationService::Stub::Assign, assign);
  ASSERT_OK(assigned);
  EXPECT_EQ(assigned->conversation().state(), v1::ASSIGNED);
  EXPECT_EQ(assigned->conversation().assignee_id(), "agent-a");

  v1::TransferRequest to_b;
  to_b.set_conversation_id(id);
  to_b.set_agent_id("agent-b");
  to_b.set_reason("billing question");
  auto transferred = admin_->call(&v1::ConversationService::Stub::Transfer, to_b);
  ASSERT_OK(transferred);
  EXPECT_EQ(transferred->conversation().state(), v1::ASSIGNED);
  EXPECT_EQ(transferred->conversation().assignee_id(), "agent-b");
  EXPECT_EQ(transferred->conversation().transfer_count(), 1u);
  EXPECT_TRUE(has_event(*transferred, v1::Event::kTransferred));

  v1::TransferRequest to_queue;
  to_queue.set_conversation_id(id);
  to_queue.set_queue("support");
  auto queued = admin_->call(&v1::ConversationService::Stub::Transfer, to_queue);
  ASSERT_OK(queued);
  EXPECT_EQ(queued->conversation().state(), v1::QUEUED);
  EXPECT_EQ(queued->conversation().assignee_id(), "");
  EXPECT_EQ(queued->conversation().transfer_count(), 2u);

  auto context = admin_->get_context(id);
  ASSERT_OK(context);
  ASSERT_GT(context->events_size(), 0);
  EXPECT_EQ(context->events(0).seq(), 1u) << "the history starts at the beginning";
  std::vector<v1::Event::KindCase> kinds;
  for (const auto& event : context->events()) kinds.push_back(kind_of(event));
  auto message = std::find(kinds.begin(), kinds.end(), v1::Event::kMessage);
  ASSERT_NE(message, kinds.end());
  EXPECT_EQ(context->events(message - kinds.begin()).message().text(), "Where is my parcel?");
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), v1::Event::kAssigned), 1);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), v1::Event::kTransferred), 2);
}

TEST_F(LifecycleTest, ResolvedConversationReopensOnANewMessageInsideTheWindow) {
  auto first = admin_->ingest("chat", "visitor-2", "Password reset please");
  ASSERT_OK(first);
  auto resolved = admin_->resolve(first->conversation_id());
  ASSERT_OK(resolved);
  EXPECT_EQ(resolved->conversation().state(), v1::RESOLVED);

  auto again = admin_->ingest("chat", "visitor-2", "It did not work");
  ASSERT_OK(again);
  EXPECT_EQ(again->conversation_id(), first->conversation_id());
  auto reopened = admin_->get_conversation(first->conversation_id());
  ASSERT_OK(reopened);
  EXPECT_EQ(reopened->reopen_count(), 1u);
  EXPECT_EQ(reopened->state(), v1::QUEUED);
}

TEST_F(ShortReopenWindowTest, AfterTheWindowClosesANewLinkedConversationOpens) {
  auto first = admin_->ingest("chat", "visitor-3", "Thanks, all good");
  ASSERT_OK(first);
  ASSERT_OK(admin_->resolve(first->conversation_id()));
  ASSERT_TRUE(wait_for_state(first->conversation_id(), v1::CLOSED)) << "the router closes after the window";

  auto next = admin_->ingest("chat", "visitor-3", "New problem today");
  ASSERT_OK(next);
  EXPECT_NE(next->conversation_id(), first->conversation_id());
  EXPECT_EQ(next->contact_id(), first->contact_id());
  auto opened = admin_->get_conversation(next->conversation_id());
  ASSERT_OK(opened);
  EXPECT_EQ(opened->previous_conversation_id(), first->conversation_id());
  EXPECT_EQ(opened->reopen_count(), 0u);

  auto context = admin_->get_context(next->conversation_id());
  ASSERT_OK(context);
  ASSERT_EQ(context->earlier_conversations_size(), 1);
  EXPECT_EQ(context->earlier_conversations(0).id(), first->conversation_id());
  EXPECT_EQ(context->earlier_conversations(0).state(), v1::CLOSED);
}

TEST_F(LifecycleTest, InboundMessageWakesASnoozedConversation) {
  auto in = admin_->ingest("email", "sam@example.org", "Remind me next week");
  ASSERT_OK(in);
  v1::SnoozeRequest snooze;
  snooze.set_conversation_id(in->conversation_id());
  *snooze.mutable_until() = TimeUtil::GetCurrentTime() + TimeUtil::SecondsToDuration(3600);
  auto snoozed = admin_->call(&v1::ConversationService::Stub::Snooze, snooze);
  ASSERT_OK(snoozed);
  EXPECT_EQ(snoozed->conversation().state(), v1::SNOOZED);

  ASSERT_OK(admin_->ingest("email", "sam@example.org", "Actually, now please"));
  auto woke = admin_->get_conversation(in->conversation_id());
  ASSERT_OK(woke);
  EXPECT_EQ(woke->state(), v1::QUEUED);
  EXPECT_FALSE(woke->has_snoozed_until());
}

TEST_F(LifecycleTest, RefusedTransitionsAreFailedPreconditionNamingStateAndEvent) {
  auto in = admin_->ingest("chat", "visitor-4", "hello");
  ASSERT_OK(in);

  v1::HandoffRequest handoff;
  handoff.set_conversation_id(in->conversation_id());
  handoff.set_reason("not a bot conversation");
  auto refused = admin_->call(&v1::ConversationService::Stub::Handoff, handoff);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(refused.status);
  EXPECT_NE(refused.status.error_message().find("Queued"), std::string::npos) << refused.status.error_message();
  EXPECT_NE(refused.status.error_message().find("Handoff"), std::string::npos) << refused.status.error_message();

  v1::ReopenRequest reopen;
  reopen.set_conversation_id(in->conversation_id());
  auto not_closed = admin_->call(&v1::ConversationService::Stub::Reopen, reopen);
  EXPECT_EQ(not_closed.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(not_closed.status);
  EXPECT_NE(not_closed.status.error_message().find("Reopen"), std::string::npos);

  auto unchanged = admin_->get_conversation(in->conversation_id());
  ASSERT_OK(unchanged);
  EXPECT_EQ(unchanged->state(), v1::QUEUED);
}

TEST_F(LifecycleTest, BotAnswersThenHandsOffToPeopleWithAReason) {
  const Client bot = client(kBotKey);
  v1::IngestRequest ingest;
  ingest.mutable_message()->set_channel("chat");
  ingest.mutable_message()->set_address("visitor-5");
  ingest.mutable_message()->set_text("What are your opening hours?");
  ingest.mutable_message()->set_queue("bots");
  auto in = admin_->call(&v1::IngestService::Stub::Ingest, ingest);
  ASSERT_OK(in);
  auto conversation = admin_->get_conversation(in->conversation_id());
  ASSERT_OK(conversation);
  EXPECT_EQ(conversation->state(), v1::BOT);

  v1::SubscribeRequest watch;
  watch.add_queues("bots");
  watch.set_from_beginning(true);
  auto stream = bot.subscribe(watch);
  auto seen = stream->next_of(v1::Event::kMessage);
  ASSERT_TRUE(seen.has_value()) << describe(stream->finish());
  EXPECT_EQ(seen->conversation_id(), in->conversation_id());
  EXPECT_EQ(seen->message().text(), "What are your opening hours?");

  v1::SendMessageRequest answer;
  answer.set_conversation_id(in->conversation_id());
  answer.set_text("We are open 9 to 5.");
  auto sent = bot.call(&v1::ConversationService::Stub::SendMessage, answer);
  ASSERT_OK(sent);
  EXPECT_EQ(sent->status(), v1::PENDING);
  EXPECT_EQ(sent->channel(), "chat");
  EXPECT_NE(sent->detail().find("no adapter"), std::string::npos) << sent->detail();

  v1::HandoffRequest handoff;
  handoff.set_conversation_id(in->conversation_id());
  handoff.set_reason("customer asked for a person");
  auto handed = bot.call(&v1::ConversationService::Stub::Handoff, handoff);
  ASSERT_OK(handed);
  EXPECT_EQ(handed->conversation().state(), v1::QUEUED);

  auto on_stream = stream->next_of(v1::Event::kHandedOff);
  ASSERT_TRUE(on_stream.has_value()) << describe(stream->finish());
  EXPECT_EQ(on_stream->handed_off().reason(), "customer asked for a person");
  EXPECT_EQ(on_stream->actor(), kBotId);
}

TEST_F(ShortReopenWindowTest, MergeJoinsTheTargetsConversationAndUnmergeRestores) {
  // The source's conversation must be closed first: a merge never joins two open ones.
  auto source_in = admin_->ingest("email", "kim@example.org", "old question");
  ASSERT_OK(source_in);
  ASSERT_OK(admin_->resolve(source_in->conversation_id()));
  ASSERT_TRUE(wait_for_state(source_in->conversation_id(), v1::CLOSED));
  auto target_in = admin_->ingest("chat", "visitor-6", "new question on chat");
  ASSERT_OK(target_in);
  const std::string target = target_in->contact_id();
  const std::string source = source_in->contact_id();
  ASSERT_NE(target, source);

  v1::MergeContactsRequest merge;
  merge.set_target_contact_id(target);
  merge.set_source_contact_id(source);
  auto merged = admin_->call(&v1::ContactService::Stub::MergeContacts, merge);
  ASSERT_OK(merged);
  EXPECT_EQ(merged->contact().identities_size(), 2);

  auto joined = admin_->ingest("email", "kim@example.org", "same person, by email");
  ASSERT_OK(joined);
  EXPECT_EQ(joined->contact_id(), target);
  EXPECT_EQ(joined->conversation_id(), target_in->conversation_id());

  v1::UnmergeContactRequest unmerge;
  unmerge.set_merge_id(merged->merge_id());
  auto restored = admin_->call(&v1::ContactService::Stub::UnmergeContact, unmerge);
  ASSERT_OK(restored);
  ASSERT_EQ(restored->target().identities_size(), 1);
  EXPECT_EQ(restored->target().identities(0).channel(), "chat");
  ASSERT_EQ(restored->restored().identities_size(), 1);
  EXPECT_EQ(restored->restored().identities(0).address(), "kim@example.org");
  EXPECT_EQ(restored->restored().merged_into(), "");

  v1::FindContactRequest find;
  find.mutable_identity()->set_channel("email");
  find.mutable_identity()->set_address("kim@example.org");
  auto owner = admin_->call(&v1::ContactService::Stub::FindContact, find);
  ASSERT_OK(owner);
  EXPECT_EQ(owner->id(), source);
}

}  // namespace
}  // namespace switchboard::testing
