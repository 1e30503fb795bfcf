// Phone calls on the Desk, on a fake clock (docs/phone.md): routing a ringing call to
// an agent with voice room (the assignee first), missed calls queued for a call back,
// the per-call machine, repeats, bad input, and a restart from what was stored.

#include <switchboard/router/desk.h>

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "call_machine.h"  // router/src: the per-call table
#include "desk_records.h"

namespace switchboard::router {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using S = ConversationState;

constexpr char kAna[] = "+14155550100";

class CallsTest : public ::testing::Test {
 protected:
  CallsTest() : desk_(std::make_unique<Desk>(options(), [this] { return now_; })) {}

  DeskOptions options() const {
    DeskOptions o;
    o.default_queue = "support";
    o.random_seed = 11;
    o.limits.max_calls_per_conversation = max_calls_;
    return o;
  }

  template <typename F>
  auto step(F call) {
    last_ = Commit{};
    auto result = call(*desk_, last_);
    records_.absorb(last_);
    return result;
  }
  void restart() {
    now_ += 1ms;
    desk_ = std::make_unique<Desk>(options(), [this] { return now_; });
    desk_->restore(records_.state());
  }

  Agent agent(const std::string& id, std::map<std::string, uint32_t> capacity,
              AgentStatus status = AgentStatus::kOnline) {
    must(step([&](Desk& d, Commit& out) {
      return d.upsert_agent(
          {.id = id, .name = id, .capacity = std::move(capacity), .sip_uri = "sip:" + id + "@pbx.example.org"}, out);
    }));
    return must(step([&](Desk& d, Commit& out) { return d.set_agent_status(id, status, "admin", out); }));
  }
  Result<CallRouting> call(const std::string& call_id, const std::string& from = kAna) {
    return step([&](Desk& d, Commit& out) {
      return d.route_call({.address = from, .call_id = call_id, .display_name = "Ana"}, out);
    });
  }
  Result<IngestResult> update(const std::string& call_id, CallState state, std::chrono::seconds duration = 0s,
                              const std::string& reason = {}) {
    return step([&](Desk& d, Commit& out) {
      return d.update_call({.call_id = call_id, .state = state, .duration = duration, .reason = reason}, out);
    });
  }
  Conversation conversation(const std::string& id) { return must(desk_->conversation(id)); }

  std::vector<CallEvent> call_events() const {
    std::vector<CallEvent> out;
    for (const auto& e : last_.events) {
      if (const auto* body = std::get_if<CallEvent>(&e.body)) out.push_back(*body);
    }
    return out;
  }
  std::vector<CallState> call_states() const {
    std::vector<CallState> out;
    for (const auto& e : call_events()) out.push_back(e.state);
    return out;
  }

  std::size_t max_calls_ = 32;
  Timestamp now_ = utc(2024, 3, 4, 10);
  std::unique_ptr<Desk> desk_;
  Records records_;
  Commit last_;
};

TEST(CallMachine, TheTableAllowsOnlyTheDocumentedSteps) {
  using C = CallState;
  EXPECT_TRUE(call_step_allowed(C::kRinging, C::kInProgress));
  EXPECT_TRUE(call_step_allowed(C::kRinging, C::kMissed));
  EXPECT_TRUE(call_step_allowed(C::kInProgress, C::kOnHold));
  EXPECT_TRUE(call_step_allowed(C::kOnHold, C::kInProgress));
  EXPECT_TRUE(call_step_allowed(C::kInProgress, C::kEnded));
  EXPECT_TRUE(call_step_allowed(C::kOnHold, C::kEnded));
  EXPECT_FALSE(call_step_allowed(C::kRinging, C::kEnded));
  EXPECT_FALSE(call_step_allowed(C::kRinging, C::kOnHold));
  EXPECT_FALSE(call_step_allowed(C::kEnded, C::kInProgress));
  EXPECT_FALSE(call_step_allowed(C::kMissed, C::kInProgress));
  EXPECT_FALSE(call_step_allowed(C::kInProgress, C::kMissed));
  EXPECT_FALSE(call_live(C::kEnded));
  EXPECT_FALSE(call_live(C::kMissed));
  EXPECT_TRUE(call_live(C::kOnHold));
}

TEST_F(CallsTest, ACallGoesToAnAgentWithVoiceRoomAndTheConversationFollows) {
  agent("chat-only", {{"chat", 5}});
  agent("alice", {{"voice", 1}});
  const CallRouting routed = must(call("call-1@pbx"));
  EXPECT_EQ(routed.agent_id, "alice");
  EXPECT_EQ(routed.agent_sip_uri, "sip:alice@pbx.example.org");
  EXPECT_TRUE(routed.reason.empty());
  EXPECT_FALSE(routed.ingest.duplicate);

  const Conversation c = conversation(routed.ingest.conversation_id);
  EXPECT_EQ(c.state, S::kAssigned);
  EXPECT_EQ(c.assignee_id, "alice");
  EXPECT_EQ(c.active_channel, "phone");
  ASSERT_EQ(c.extras->calls.size(), 1u);
  EXPECT_EQ(c.extras->calls[0].state, CallState::kRinging);
  const auto events = call_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].state, CallState::kRinging);
  EXPECT_EQ(events[0].agent_id, "alice");
  EXPECT_EQ(events[0].address, kAna);
  EXPECT_EQ(events[0].call_id, "call-1@pbx");
  const Contact ana = must(desk_->contact(routed.ingest.contact_id));
  EXPECT_EQ(ana.display_name, "Ana");
  EXPECT_EQ(ana.identities.at(0).key(), std::string("phone:") + kAna);
  EXPECT_EQ(desk_->agent_load("alice").at("voice"), 1u);
}

TEST_F(CallsTest, NobodyOnlineIsAMissedCallQueuedForACallBack) {
  agent("alice", {{"voice", 1}}, AgentStatus::kOffline);
  const CallRouting routed = must(call("call-1"));
  EXPECT_TRUE(routed.agent_id.empty());
  EXPECT_EQ(routed.reason, "nobody-available");
  EXPECT_THAT(call_states(), ElementsAre(CallState::kRinging, CallState::kMissed));
  EXPECT_EQ(call_events().back().reason, "nobody-available");
  EXPECT_EQ(conversation(routed.ingest.conversation_id).state, S::kQueued);

  // The call back: the first agent with voice room gets the conversation.
  agent("alice", {{"voice", 1}}, AgentStatus::kOnline);
  EXPECT_EQ(conversation(routed.ingest.conversation_id).assignee_id, "alice");
}

TEST_F(CallsTest, EveryVoiceSlotTakenIsBusy) {
  agent("alice", {{"voice", 1}});
  must(call("call-1", "+14155550101"));
  const CallRouting second = must(call("call-2", "+14155550102"));
  EXPECT_TRUE(second.agent_id.empty());
  EXPECT_EQ(second.reason, "busy");
  EXPECT_THAT(call_states(), ElementsAre(CallState::kRinging, CallState::kMissed));
}

TEST_F(CallsTest, TheAgentWhoOwnsTheConversationTakesTheCallWhenTheyHaveVoiceRoom) {
  agent("bob", {{"voice", 1}});  // round robin after alice would pick bob
  agent("alice", {{"chat", 3}, {"voice", 1}});
  const IngestResult chat = must(step([&](Desk& d, Commit& out) {
    return d.ingest({.channel = "chat", .address = "visitor-1", .text = "hi", .queue = "support"}, out);
  }));
  const std::string first = conversation(chat.conversation_id).assignee_id;
  must(step([&](Desk& d, Commit& out) {
    return d.link_identity(chat.contact_id, {.channel = "phone", .address = kAna}, "admin", out);
  }));
  const CallRouting routed = must(call("call-1"));
  EXPECT_EQ(routed.ingest.conversation_id, chat.conversation_id);  // one conversation
  EXPECT_EQ(routed.agent_id, first);
  EXPECT_EQ(conversation(chat.conversation_id).assignee_id, first);
}

TEST_F(CallsTest, AnOwnerWithoutVoiceRoomHandsTheCallAndTheConversationToSomeoneWhoHasIt) {
  agent("alice", {{"chat", 3}});
  const IngestResult chat = must(step(
      [&](Desk& d, Commit& out) { return d.ingest({.channel = "chat", .address = "visitor-1", .text = "hi"}, out); }));
  ASSERT_EQ(conversation(chat.conversation_id).assignee_id, "alice");
  must(step([&](Desk& d, Commit& out) {
    return d.link_identity(chat.contact_id, {.channel = "phone", .address = kAna}, "admin", out);
  }));
  agent("bob", {{"voice", 1}});
  const CallRouting routed = must(call("call-1"));
  EXPECT_EQ(routed.agent_id, "bob");
  const Conversation c = conversation(chat.conversation_id);
  EXPECT_EQ(c.assignee_id, "bob");
  EXPECT_EQ(c.extras->transfer_count, 1u);
  EXPECT_EQ(desk_->agent_load("alice").count("chat") ? desk_->agent_load("alice").at("chat") : 0u, 0u);
}

TEST_F(CallsTest, ARepeatedCallIdAddsNothingAndAnswersAlike) {
  agent("alice", {{"voice", 2}});
  const CallRouting first = must(call("call-1"));
  const CallRouting again = must(call("call-1"));
  EXPECT_TRUE(last_.events.empty());
  EXPECT_TRUE(again.ingest.duplicate);
  EXPECT_EQ(again.agent_id, first.agent_id);
  EXPECT_EQ(again.agent_sip_uri, first.agent_sip_uri);
  EXPECT_EQ(again.ingest.conversation_id, first.ingest.conversation_id);
  EXPECT_EQ(again.ingest.seq, first.ingest.seq);
}

TEST_F(CallsTest, ACallMovesAlongItsMachine) {
  agent("alice", {{"voice", 1}});
  const CallRouting routed = must(call("call-1"));
  must(update("call-1", CallState::kInProgress));
  EXPECT_THAT(call_states(), ElementsAre(CallState::kInProgress));
  must(update("call-1", CallState::kOnHold));
  must(update("call-1", CallState::kInProgress));
  const IngestResult ended = must(update("call-1", CallState::kEnded, 184s));
  ASSERT_EQ(call_events().size(), 1u);
  EXPECT_EQ(call_events()[0].duration, 184s);
  EXPECT_EQ(call_events()[0].agent_id, "alice");
  EXPECT_EQ(ended.conversation_id, routed.ingest.conversation_id);

  // The same state again: a repeated callback, nothing added.
  const IngestResult repeat = must(update("call-1", CallState::kEnded, 184s));
  EXPECT_TRUE(repeat.duplicate);
  EXPECT_EQ(repeat.seq, ended.seq);
  EXPECT_TRUE(last_.events.empty());

  auto impossible = update("call-1", CallState::kInProgress);
  ASSERT_FALSE(impossible.ok());
  EXPECT_EQ(impossible.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(last_.events.empty());
  auto unknown = update("no-such-call", CallState::kEnded);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(CallsTest, ARingingCallThatIsNotAnsweredIsMissedWithItsReason) {
  agent("alice", {{"voice", 1}});
  must(call("call-1"));
  must(update("call-1", CallState::kMissed, 0s, "canceled"));
  ASSERT_EQ(call_events().size(), 1u);
  EXPECT_EQ(call_events()[0].reason, "canceled");
  EXPECT_EQ(update("call-1", CallState::kEnded).error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(CallsTest, KnownCallsSurviveARestart) {
  agent("alice", {{"voice", 1}});
  const CallRouting routed = must(call("call-1"));
  must(update("call-1", CallState::kInProgress));
  restart();
  const CallRouting again = must(call("call-1"));
  EXPECT_TRUE(again.ingest.duplicate);
  EXPECT_EQ(again.agent_id, "alice");
  EXPECT_EQ(again.ingest.seq, routed.ingest.seq);
  EXPECT_TRUE(must(update("call-1", CallState::kInProgress)).duplicate);
  must(update("call-1", CallState::kEnded, 30s));
  EXPECT_THAT(call_states(), ElementsAre(CallState::kEnded));
}

TEST_F(CallsTest, BadInputIsRefusedNamingTheFieldAndChangesNothing) {
  agent("alice", {{"voice", 1}});
  auto bad_number = call("call-1", "not a number");
  ASSERT_FALSE(bad_number.ok());
  EXPECT_EQ(bad_number.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_number.error().field, "call.address");
  auto no_id = call("", kAna);
  ASSERT_FALSE(no_id.ok());
  EXPECT_EQ(no_id.error().field, "call.call_id");
  auto long_id = call(std::string(300, 'x'), kAna);
  ASSERT_FALSE(long_id.ok());
  EXPECT_EQ(long_id.error().field, "call.call_id");
  EXPECT_EQ(desk_->conversation_count(), 0u);
  EXPECT_TRUE(last_.events.empty());

  auto bad_uri =
      step([&](Desk& d, Commit& out) { return d.upsert_agent({.id = "bob", .sip_uri = "http://pbx/bob"}, out); });
  ASSERT_FALSE(bad_uri.ok());
  EXPECT_EQ(bad_uri.error().field, "agent.sip_uri");
  EXPECT_THAT(bad_uri.error().message, HasSubstr("sip:"));
}

TEST_F(CallsTest, AConversationKeepsOnlyItsLatestCalls) {
  max_calls_ = 2;
  desk_ = std::make_unique<Desk>(options(), [this] { return now_; });
  agent("alice", {{"voice", 5}});
  must(call("call-1"));
  must(call("call-2"));
  must(call("call-3"));
  const Conversation c = conversation(must(call("call-3")).ingest.conversation_id);
  ASSERT_EQ(c.extras->calls.size(), 2u);
  EXPECT_EQ(c.extras->calls[0].call_id, "call-2");
  EXPECT_EQ(update("call-1", CallState::kInProgress).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace switchboard::router
