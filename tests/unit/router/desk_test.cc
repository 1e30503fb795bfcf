#include <switchboard/router/desk.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <source_location>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::router {
namespace {

using namespace std::chrono_literals;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;
using S = ConversationState;

// The value of a result a test relies on; an error fails the test where it is used
// (value() then throws, which GoogleTest reports as a failure too).
template <typename T>
T must(Result<T> result, std::source_location where = std::source_location::current()) {
  if (!result.ok()) ADD_FAILURE_AT(where.file_name(), where.line()) << result.error().describe();
  return std::move(result).value();
}

template <typename Body>
std::vector<Body> bodies(const Commit& commit) {
  std::vector<Body> out;
  for (const Event& e : commit.events) {
    if (const auto* body = std::get_if<Body>(&e.body)) out.push_back(*body);
  }
  return out;
}

std::set<std::string> identity_keys(const Contact& contact) {
  std::set<std::string> keys;
  for (const Identity& id : contact.identities) keys.insert(id.key());
  return keys;
}

// The channels whose adapters "run", and which customers have a live session.
class FakeChannels final : public ChannelDirectory {
 public:
  FakeChannels& run(ChannelCapabilities caps) {
    caps_[caps.channel] = caps;
    return *this;
  }
  void connect(const std::string& channel, const std::string& address) { live_.insert({channel, address}); }

  std::optional<ChannelCapabilities> capabilities(const std::string& channel) const override {
    auto it = caps_.find(channel);
    if (it == caps_.end()) return std::nullopt;
    return it->second;
  }
  bool has_live_session(const std::string& channel, const std::string& address) const override {
    return live_.contains({channel, address});
  }

 private:
  std::map<std::string, ChannelCapabilities> caps_;
  std::set<std::pair<std::string, std::string>> live_;
};

ChannelCapabilities async_channel(std::string name) { return {.channel = std::move(name)}; }
ChannelCapabilities sync_channel(std::string name) { return {.channel = std::move(name), .synchronous = true}; }

constexpr char kChat[] = "chat";
constexpr char kEmail[] = "email";
constexpr char kVisitor[] = "visitor-1";
constexpr char kAnaEmail[] = "ana@example.org";
constexpr char kAgent[] = "agent-1";
constexpr char kOtherAgent[] = "agent-2";

class DeskTest : public ::testing::Test {
 protected:
  static DeskOptions options() {
    DeskOptions o;
    o.limits.reopen_window = 24h;
    o.random_seed = 42;
    return o;
  }

  // A fresh commit for the next call; tests then look at what that call wrote.
  Commit& fresh() {
    commit_ = Commit{};
    return commit_;
  }

  static InboundMessage message(std::string channel, std::string address, std::string text = "hello",
                                std::string external_id = {}) {
    return {.channel = std::move(channel),
            .address = std::move(address),
            .external_id = std::move(external_id),
            .text = std::move(text)};
  }

  IngestResult say(const InboundMessage& m) { return must(desk_.ingest(m, fresh())); }
  IngestResult say(std::string channel, std::string address, std::string text = "hello") {
    return say(message(std::move(channel), std::move(address), std::move(text)));
  }

  Conversation conversation(const std::string& id) { return must(desk_.conversation(id)); }
  Contact contact(const std::string& id) { return must(desk_.contact(id)); }

  void add_agent(const std::string& id, AgentStatus status = AgentStatus::kOnline) {
    must(desk_.upsert_agent({.id = id, .name = id, .status = status}, fresh()));
  }
  void set_status(const std::string& id, AgentStatus status) {
    must(desk_.set_agent_status(id, status, "admin", fresh()));
  }

  void link(const std::string& contact_id, std::string channel, std::string address) {
    must(desk_.link_identity(contact_id, {.channel = std::move(channel), .address = std::move(address)}, "admin",
                             fresh()));
  }

  // A customer on chat who is also known by email, writing last on `last_channel`.
  IngestResult chat_and_email_customer(const std::string& last_channel = kChat) {
    IngestResult first = say(kChat, kVisitor);
    link(first.contact_id, kEmail, kAnaEmail);
    if (last_channel == kEmail) return say(kEmail, kAnaEmail);
    return first;
  }

  Conversation assigned_conversation(const std::string& agent = kAgent) {
    add_agent(agent);
    const IngestResult r = say(kChat, kVisitor);
    return must(desk_.assign(r.conversation_id, agent, "admin", fresh())).conversation;
  }

  // Resolves the conversation and lets its reopen window run out.
  void close(const std::string& conversation_id) {
    must(desk_.resolve(conversation_id, "agent", fresh()));
    now_ += options().limits.reopen_window + 1s;
    desk_.run_due_timers(fresh());
    ASSERT_EQ(conversation(conversation_id).state, S::kClosed);
  }

  void advance(Clock::duration d) { now_ += d; }

  Timestamp now_ = Clock::from_time_t(1'700'000'000);
  Desk desk_{options(), [this] { return now_; }};
  Commit commit_;
};

// --- the message path ----------------------------------------------------------------

TEST_F(DeskTest, IngestOpensAQueuedConversationForANewContact) {
  const IngestResult r = say(kChat, kVisitor, "where is my order?");
  EXPECT_FALSE(r.contact_id.empty());
  EXPECT_FALSE(r.conversation_id.empty());
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(desk_.contact_count(), 1u);
  EXPECT_EQ(desk_.conversation_count(), 1u);

  const Conversation c = conversation(r.conversation_id);
  EXPECT_EQ(c.state, S::kQueued);
  EXPECT_EQ(c.contact_id, r.contact_id);
  EXPECT_EQ(c.queue, "default");
  EXPECT_EQ(c.active_channel, kChat);
  ASSERT_THAT(c.legs, SizeIs(1));
  EXPECT_EQ(c.legs[0].address, kVisitor);
  EXPECT_EQ(c.last_seq, commit_.events.size());

  ASSERT_GE(commit_.events.size(), r.seq);
  EXPECT_TRUE(std::holds_alternative<Message>(commit_.events[r.seq - 1].body));  // seq names the message
  const auto messages = bodies<Message>(commit_);
  ASSERT_THAT(messages, SizeIs(1));
  EXPECT_EQ(messages[0].text, "where is my order?");
  EXPECT_EQ(messages[0].direction, Direction::kInbound);
  EXPECT_THAT(bodies<ConversationOpened>(commit_), SizeIs(1));
  EXPECT_THAT(commit_.contacts, SizeIs(1));
  EXPECT_THAT(commit_.conversations, SizeIs(1));
  for (std::size_t i = 0; i < commit_.events.size(); ++i) {
    EXPECT_EQ(commit_.events[i].seq, i + 1);
    EXPECT_EQ(commit_.events[i].conversation_id, r.conversation_id);
  }
}

// Ids sort by creation time (stable paging, each contact's conversations oldest
// first), also within one millisecond, and after ids of the earlier, longer form; and
// they are short enough for std::string to keep inline (15 characters).
TEST_F(DeskTest, IdsSortByCreationTimeAndFitInline) {
  std::vector<std::string> conversations;
  std::vector<std::string> contacts;
  for (int i = 0; i < 6; ++i) {
    if (i % 3 == 0) advance(1ms);  // three in each millisecond
    const IngestResult r =
        say({.channel = kEmail, .address = "customer" + std::to_string(i) + "@example.org", .text = "hi"});
    conversations.push_back(r.conversation_id);
    contacts.push_back(r.contact_id);
  }
  advance(std::chrono::hours(24 * 365 * 50));  // 2073
  conversations.push_back(say({.channel = kEmail, .address = "later@example.org", .text = "hi"}).conversation_id);
  for (const auto* ids : {&conversations, &contacts}) {
    EXPECT_TRUE(std::is_sorted(ids->begin(), ids->end())) << ::testing::PrintToString(*ids);
    EXPECT_EQ(std::set<std::string>(ids->begin(), ids->end()).size(), ids->size());
    for (const std::string& id : *ids) EXPECT_EQ(id.size(), 15u) << id;
  }
  EXPECT_THAT(conversations.front(), ::testing::StartsWith("cv_"));
  EXPECT_THAT(contacts.front(), ::testing::StartsWith("ct_"));
  EXPECT_LT("cv_018bcfe568000a1b2c3d", conversations.front());  // an id of the earlier form, made in 2023
}

TEST_F(DeskTest, IngestStartsInBotWhenTheQueueHasABot) {
  must(desk_.upsert_queue({.name = "sales", .bot_id = "bot-1"}, fresh()));
  InboundMessage m = message(kChat, kVisitor);
  m.queue = "sales";
  const IngestResult r = say(m);
  const Conversation c = conversation(r.conversation_id);
  EXPECT_EQ(c.state, S::kBot);
  EXPECT_EQ(c.queue, "sales");
}

TEST_F(DeskTest, SecondMessageFromTheSameIdentityJoinsAndSeqGrows) {
  const Timestamp first_at = now_;
  const IngestResult first = say(kChat, kVisitor);
  advance(5min);
  const IngestResult second = say(kChat, kVisitor, "anyone there?");
  EXPECT_EQ(second.contact_id, first.contact_id);
  EXPECT_EQ(second.conversation_id, first.conversation_id);
  EXPECT_GT(second.seq, first.seq);
  EXPECT_THAT(bodies<ChannelSwitched>(commit_), IsEmpty());
  EXPECT_EQ(desk_.conversation_count(), 1u);
  const Conversation c = conversation(first.conversation_id);
  ASSERT_THAT(c.legs, SizeIs(1));
  EXPECT_EQ(c.legs[0].first_at, first_at);
  EXPECT_EQ(c.legs[0].last_at, now_);
}

// Every command appends to the same timeline: 1, 2, 3, ... with no gap or repeat.
TEST_F(DeskTest, SeqIsContiguousAcrossCommits) {
  add_agent(kAgent);
  const IngestResult r = say(kChat, kVisitor);
  std::vector<uint64_t> seqs;
  const auto collect = [&] {
    for (const Event& e : commit_.events) {
      if (e.conversation_id == r.conversation_id) seqs.push_back(e.seq);
    }
  };
  collect();
  link(r.contact_id, kEmail, kAnaEmail);
  collect();
  say(kEmail, kAnaEmail);
  collect();
  must(desk_.assign(r.conversation_id, kAgent, "admin", fresh()));
  collect();
  must(desk_.add_note(r.conversation_id, "vip", kAgent, fresh()));
  collect();
  must(desk_.resolve(r.conversation_id, kAgent, fresh()));
  collect();
  say(kChat, kVisitor);
  collect();
  std::vector<uint64_t> expected(seqs.size());
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(seqs, expected);
  EXPECT_EQ(conversation(r.conversation_id).last_seq, seqs.size());
}

TEST_F(DeskTest, LinkedIdentityOnAnotherChannelJoinsAndSwitchesChannel) {
  const IngestResult first = say(kChat, kVisitor);
  link(first.contact_id, kEmail, kAnaEmail);
  const IngestResult by_mail = say(kEmail, "Ana@Example.ORG");  // normalised to the linked identity

  EXPECT_EQ(by_mail.contact_id, first.contact_id);
  EXPECT_EQ(by_mail.conversation_id, first.conversation_id);
  const auto switches = bodies<ChannelSwitched>(commit_);
  ASSERT_THAT(switches, SizeIs(1));
  EXPECT_EQ(switches[0].from_channel, kChat);
  EXPECT_EQ(switches[0].to_channel, kEmail);

  const Conversation c = conversation(first.conversation_id);
  EXPECT_EQ(c.active_channel, kEmail);
  ASSERT_THAT(c.legs, SizeIs(2));
  ASSERT_NE(c.leg(kEmail), nullptr);
  EXPECT_EQ(c.leg(kEmail)->address, kAnaEmail);
  EXPECT_EQ(desk_.contact_count(), 1u);
}

// Meta verified a WhatsApp number: it is the caller who had that number, and the link
// is in the commit, so the store keeps it. An unverified number links to nobody.
TEST_F(DeskTest, AVerifiedNumberJoinsTheContactWithThatNumberOnAnotherPhoneChannel) {
  const IngestResult call = say("phone", "+16505551234", "Missed call");
  const IngestResult sms = say("sms", "+1 650 555 1234", "hi");
  EXPECT_NE(sms.contact_id, call.contact_id);

  InboundMessage wa = message("whatsapp", "+16505551234", "hello");
  wa.verified = true;
  const IngestResult joined = say(wa);
  EXPECT_EQ(joined.contact_id, call.contact_id);
  EXPECT_EQ(joined.conversation_id, call.conversation_id);
  EXPECT_EQ(identity_keys(contact(call.contact_id)),
            (std::set<std::string>{"phone:+16505551234", "whatsapp:+16505551234"}));
  ASSERT_FALSE(commit_.contacts.empty());
  EXPECT_EQ(identity_keys(commit_.contacts.back()), identity_keys(contact(call.contact_id)));
}

TEST_F(DeskTest, UnlinkedIdentityIsAnotherContact) {
  const IngestResult chat = say(kChat, kVisitor);
  const IngestResult mail = say(kEmail, kAnaEmail);
  EXPECT_NE(mail.contact_id, chat.contact_id);
  EXPECT_NE(mail.conversation_id, chat.conversation_id);
}

TEST_F(DeskTest, DuplicateExternalIdAnswersTheFirstResultAndWritesNothing) {
  const IngestResult first = say(message(kChat, kVisitor, "hi", "m-1"));
  const uint64_t last_seq = conversation(first.conversation_id).last_seq;
  const IngestResult again = say(message(kChat, kVisitor, "hi", "m-1"));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.contact_id, first.contact_id);
  EXPECT_EQ(again.conversation_id, first.conversation_id);
  EXPECT_EQ(again.seq, first.seq);
  EXPECT_TRUE(commit_.empty());
  EXPECT_EQ(conversation(first.conversation_id).last_seq, last_seq);
}

TEST_F(DeskTest, AConversationTakenInBeforeItsContactJoinsTheContactWhenItComes) {
  say(kChat, kVisitor);
  const Commit written = commit_;
  Desk other(options(), [this] { return now_; });
  other.absorb({.conversations = written.conversations}, {});
  EXPECT_EQ(other.contact_count(), 0u);
  EXPECT_FALSE(other.contact(written.contacts.at(0).id).ok());

  other.absorb({.contacts = written.contacts}, {});
  EXPECT_EQ(other.contact_count(), 1u);
  const Identity visitor{.channel = kChat, .address = kVisitor};
  EXPECT_EQ(must(other.current_conversation(visitor)).id, written.conversations.at(0).id);
  Commit out;
  EXPECT_EQ(must(other.ingest(message(kChat, kVisitor), out)).conversation_id, written.conversations.at(0).id);
}

// A Desk that remembers the answers to two redeliveries.
class DeskRedeliveries : public ::testing::Test {
 protected:
  static DeskOptions two_answers() {
    DeskOptions o;
    o.limits.dedupe_entries = 2;
    return o;
  }
  IngestResult say(const std::string& external_id) {
    return must(desk.ingest({.channel = kChat, .address = kVisitor, .external_id = external_id, .text = "hi"}, out));
  }

  Desk desk{two_answers(), [] { return Clock::from_time_t(1'700'000'000); }};
  Commit out;
};

TEST_F(DeskRedeliveries, TheOldestAnswerIsForgottenBeyondTheLimit) {
  const IngestResult first = say("m-1");
  say("m-2");
  say("m-3");
  EXPECT_TRUE(say("m-3").duplicate);
  EXPECT_TRUE(say("m-2").duplicate);
  const IngestResult again = say("m-1");  // forgotten: taken as a new message
  EXPECT_FALSE(again.duplicate);
  EXPECT_GT(again.seq, first.seq);
  EXPECT_FALSE(say("m-2").duplicate);  // m-1 took the oldest place, m-2's
  EXPECT_TRUE(say("m-1").duplicate);
}

TEST_F(DeskRedeliveries, AnAnswerAnotherNodePrunedIsForgottenAndItsPlaceFreed) {
  say("m-1");
  say("m-2");
  desk.absorb({}, RecordKeys{.inbound_seen = {std::string(kChat) + '\0' + "m-1"}});
  EXPECT_FALSE(say("m-1").duplicate);
  EXPECT_TRUE(say("m-2").duplicate);  // the pruned answer's place held no other
  EXPECT_TRUE(say("m-1").duplicate);
}

TEST_F(DeskTest, SameExternalIdOnAnotherChannelIsNotADuplicate) {
  const IngestResult chat = say(message(kChat, kVisitor, "hi", "m-1"));
  link(chat.contact_id, kEmail, kAnaEmail);
  const IngestResult mail = say(message(kEmail, kAnaEmail, "hi", "m-1"));
  EXPECT_FALSE(mail.duplicate);
  EXPECT_GT(mail.seq, chat.seq);
}

TEST_F(DeskTest, RefusesBadInboundAndChangesNothing) {
  const IngestResult existing = say(kChat, kVisitor);
  const uint64_t last_seq = conversation(existing.conversation_id).last_seq;
  const Limits& limits = desk_.limits();
  std::map<std::string, std::string> metadata;
  for (std::size_t i = 0; i <= limits.max_metadata_entries; ++i) metadata["k" + std::to_string(i)] = "v";

  struct Case {
    std::string name;
    InboundMessage message;
    std::string field;  // the end of the field path
  };
  const auto from_visitor = [&](auto change) {
    InboundMessage m = message(kChat, kVisitor);
    change(m);
    return m;
  };
  const std::vector<Case> cases = {
      {"empty text", from_visitor([](auto& m) { m.text.clear(); }), "text"},
      {"oversized text", from_visitor([&](auto& m) { m.text.assign(limits.max_text_bytes + 1, 'x'); }), "text"},
      {"bad email", message(kEmail, "not-an-address"), "address"},
      {"bad phone", message("phone", "call me"), "address"},
      {"empty address", message(kChat, ""), "address"},
      {"bad channel", message("Bad Channel!", kVisitor), "channel"},
      {"oversized external id",
       from_visitor([&](auto& m) { m.external_id.assign(limits.max_external_id_bytes + 1, 'e'); }), "external_id"},
      {"too much metadata", from_visitor([&](auto& m) { m.metadata = metadata; }), "metadata"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Result<IngestResult> r = desk_.ingest(c.message, fresh());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().field, EndsWith(c.field));
    EXPECT_TRUE(commit_.empty());
    EXPECT_EQ(desk_.contact_count(), 1u);
    EXPECT_EQ(desk_.conversation_count(), 1u);
    EXPECT_EQ(conversation(existing.conversation_id).last_seq, last_seq);
  }
}

// --- replies ---------------------------------------------------------------------------

class ReplyTest : public DeskTest {
 protected:
  Result<SendMessageResult> send(const std::string& conversation_id, std::string text = "on it",
                                 std::string channel = {}, std::string request_id = {}) {
    return desk_.send_message({.conversation_id = conversation_id,
                               .text = std::move(text),
                               .channel = std::move(channel),
                               .request_id = std::move(request_id)},
                              channels_, "agent-1", fresh());
  }

  // Sends and expects the reply to go out on `channel`.
  SendMessageResult expect_reply_on(const std::string& conversation_id, const std::string& channel,
                                    std::string text = "on it", std::string named = {}) {
    const SendMessageResult r = must(send(conversation_id, std::move(text), std::move(named)));
    EXPECT_EQ(r.channel, channel);
    return r;
  }

  FakeChannels channels_;
};

TEST_F(ReplyTest, GoesToTheNamedChannel) {
  channels_.run(async_channel(kEmail)).run(async_channel(kChat));
  const IngestResult r = chat_and_email_customer(kChat);
  const SendMessageResult sent = expect_reply_on(r.conversation_id, kEmail, "by mail", kEmail);
  EXPECT_EQ(sent.address, kAnaEmail);
}

TEST_F(ReplyTest, GoesToTheActiveChannelWhenItCanCarry) {
  channels_.run(async_channel(kEmail)).run(sync_channel(kChat));
  const IngestResult r = chat_and_email_customer(kEmail);
  expect_reply_on(r.conversation_id, kEmail);

  channels_.connect(kChat, kVisitor);
  say(kChat, kVisitor);
  expect_reply_on(r.conversation_id, kChat);
}

TEST_F(ReplyTest, FallsBackWhenTheSynchronousChannelHasNoLiveSession) {
  channels_.run(async_channel(kEmail)).run(sync_channel(kChat));
  const IngestResult r = chat_and_email_customer(kChat);
  const SendMessageResult sent = expect_reply_on(r.conversation_id, kEmail);
  EXPECT_EQ(sent.address, kAnaEmail);
}

TEST_F(ReplyTest, FallsBackOutsideTheReplyWindow) {
  channels_.run(async_channel(kEmail)).run({.channel = "messenger", .reply_window = 24h});
  const IngestResult r = chat_and_email_customer(kEmail);
  link(r.contact_id, "messenger", "page-1/psid-1");
  const IngestResult m = say("messenger", "page-1/psid-1");
  ASSERT_EQ(m.conversation_id, r.conversation_id);

  advance(23h);
  expect_reply_on(r.conversation_id, "messenger");
  advance(2h);
  expect_reply_on(r.conversation_id, kEmail);
}

TEST_F(ReplyTest, FallsBackWhenTheTextIsLongerThanTheChannelTakes) {
  channels_.run(async_channel(kEmail)).run({.channel = "sms", .max_text_length = 160});
  const IngestResult r = say("sms", "(415) 555-0100");
  link(r.contact_id, kEmail, kAnaEmail);
  expect_reply_on(r.conversation_id, "sms", std::string(160, 'a'));
  expect_reply_on(r.conversation_id, kEmail, std::string(161, 'a'));
}

TEST_F(ReplyTest, FailsWhenNoChannelCanCarry) {
  channels_.run(sync_channel(kChat));
  const IngestResult r = say(kChat, kVisitor);
  const uint64_t last_seq = conversation(r.conversation_id).last_seq;
  const Result<SendMessageResult> sent = send(r.conversation_id);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(sent.error().message.empty());
  EXPECT_TRUE(commit_.empty());
  EXPECT_EQ(conversation(r.conversation_id).last_seq, last_seq);
}

TEST_F(ReplyTest, FailsWhenTheNamedChannelCannotCarry) {
  channels_.run(async_channel(kEmail)).run(sync_channel(kChat));
  const IngestResult r = chat_and_email_customer(kEmail);
  const Result<SendMessageResult> sent = send(r.conversation_id, "hi", kChat);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(commit_.empty());
}

TEST_F(ReplyTest, NamingAChannelTheCustomerIsNotOnIsInvalid) {
  channels_.run(async_channel(kEmail)).run(async_channel("sms"));
  const IngestResult r = say(kEmail, kAnaEmail);
  const Result<SendMessageResult> sent = send(r.conversation_id, "hi", "sms");
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(sent.error().field, "channel");
  EXPECT_TRUE(commit_.empty());
}

TEST_F(ReplyTest, WritesAPendingOutboundMessageAndOutboxEntry) {
  channels_.run(async_channel(kEmail));
  const IngestResult r = say(kEmail, kAnaEmail);
  const SendMessageResult sent = expect_reply_on(r.conversation_id, kEmail, "thanks");
  EXPECT_EQ(sent.status, DeliveryStatus::kPending);
  EXPECT_TRUE(sent.adapter_running);
  EXPECT_FALSE(sent.outbound_id.empty());
  EXPECT_GT(sent.seq, r.seq);

  const auto messages = bodies<Message>(commit_);
  ASSERT_THAT(messages, SizeIs(1));
  EXPECT_EQ(messages[0].direction, Direction::kOutbound);
  EXPECT_EQ(messages[0].status, DeliveryStatus::kPending);
  EXPECT_EQ(messages[0].text, "thanks");
  ASSERT_THAT(commit_.outbox, SizeIs(1));
  EXPECT_EQ(commit_.outbox[0].outbound_id, sent.outbound_id);
  EXPECT_EQ(commit_.outbox[0].seq, sent.seq);
  EXPECT_EQ(commit_.outbox[0].address, kAnaEmail);
  EXPECT_EQ(commit_.outbox[0].status, DeliveryStatus::kPending);
}

TEST_F(ReplyTest, ChannelWithoutARunningAdapterStaysPendingAndSaysSo) {
  const IngestResult r = say(kEmail, kAnaEmail);
  const SendMessageResult sent = expect_reply_on(r.conversation_id, kEmail, "thanks", kEmail);
  EXPECT_EQ(sent.status, DeliveryStatus::kPending);
  EXPECT_FALSE(sent.adapter_running);
  EXPECT_FALSE(sent.detail.empty());
  EXPECT_THAT(commit_.outbox, SizeIs(1));
}

TEST_F(ReplyTest, RequestIdMakesSendingIdempotent) {
  channels_.run(async_channel(kEmail));
  const IngestResult r = say(kEmail, kAnaEmail);
  const SendMessageResult first = must(send(r.conversation_id, "once", {}, "req-1"));
  const SendMessageResult again = must(send(r.conversation_id, "once", {}, "req-1"));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.seq, first.seq);
  EXPECT_EQ(again.outbound_id, first.outbound_id);
  EXPECT_TRUE(commit_.empty());
  EXPECT_EQ(conversation(r.conversation_id).last_seq, first.seq);

  const SendMessageResult other = must(send(r.conversation_id, "once", {}, "req-2"));
  EXPECT_FALSE(other.duplicate);
  EXPECT_NE(other.outbound_id, first.outbound_id);
}

TEST_F(ReplyTest, DeliveryReportWritesDeliveryUpdated) {
  channels_.run(async_channel(kEmail));
  const IngestResult r = say(kEmail, kAnaEmail);
  const SendMessageResult sent = must(send(r.conversation_id));
  must(desk_.report_delivery(sent.outbound_id, DeliveryStatus::kDelivered, "", fresh()));
  const auto updates = bodies<DeliveryUpdated>(commit_);
  ASSERT_THAT(updates, SizeIs(1));
  EXPECT_EQ(updates[0].message_seq, sent.seq);
  EXPECT_EQ(updates[0].status, DeliveryStatus::kDelivered);

  EXPECT_EQ(desk_.report_delivery("ob_unknown", DeliveryStatus::kSent, "", fresh()).error().code, ErrorCode::kNotFound);
}

TEST_F(ReplyTest, RetryableFailuresBackOffThenGiveUp) {
  channels_.run(async_channel(kEmail));
  const IngestResult r = say(kEmail, kAnaEmail);
  const SendMessageResult sent = must(send(r.conversation_id));
  const Limits limits = options().limits;

  // Each failure schedules the next attempt, twice as far away as the last.
  auto delay = limits.first_retry_delay;
  for (uint32_t attempt = 1; attempt < limits.max_delivery_attempts; ++attempt) {
    must(desk_.report_retryable_failure(sent.outbound_id, "connection refused", fresh()));
    ASSERT_THAT(bodies<DeliveryUpdated>(commit_), SizeIs(1));
    EXPECT_EQ(bodies<DeliveryUpdated>(commit_)[0].status, DeliveryStatus::kPending);

    advance(delay - 1ms);
    desk_.run_due_timers(fresh());
    EXPECT_THAT(commit_.deliveries, IsEmpty()) << "retried early, attempt " << attempt;
    advance(1ms);
    desk_.run_due_timers(fresh());
    ASSERT_THAT(commit_.deliveries, SizeIs(1)) << "no retry after attempt " << attempt;
    EXPECT_EQ(commit_.deliveries[0].outbound_id, sent.outbound_id);
    delay = std::min(delay * 2, limits.max_retry_delay);
  }

  must(desk_.report_retryable_failure(sent.outbound_id, "connection refused", fresh()));
  const auto last = bodies<DeliveryUpdated>(commit_);
  ASSERT_THAT(last, SizeIs(1));
  EXPECT_EQ(last[0].status, DeliveryStatus::kFailed);
  EXPECT_THAT(last[0].reason, HasSubstr("gave up after"));
  EXPECT_EQ(desk_.report_retryable_failure(sent.outbound_id, "again", fresh()).error().code,
            ErrorCode::kFailedPrecondition);
  EXPECT_THAT(desk_.pending_deliveries(), IsEmpty());
}

TEST_F(ReplyTest, ProviderReceiptsNameTheMessageByItsProviderId) {
  channels_.run(async_channel(kEmail));
  const IngestResult r = say(kEmail, kAnaEmail);
  const SendMessageResult sent = must(send(r.conversation_id));
  must(desk_.report_sent(sent.outbound_id, "SM123", fresh()));
  ASSERT_THAT(bodies<DeliveryUpdated>(commit_), SizeIs(1));
  EXPECT_EQ(bodies<DeliveryUpdated>(commit_)[0].status, DeliveryStatus::kSent);
  ASSERT_THAT(commit_.outbox, SizeIs(1));
  EXPECT_EQ(commit_.outbox[0].external_id, "SM123");
  EXPECT_TRUE(commit_.outbox[0].sent_at.has_value());

  must(desk_.report_sent(sent.outbound_id, "SM123", fresh()));  // a repeat adds nothing
  EXPECT_TRUE(commit_.empty());
  EXPECT_EQ(desk_.report_sent(sent.outbound_id, "SM999", fresh()).error().code, ErrorCode::kFailedPrecondition);

  must(desk_.report_receipt({kEmail, "SM123", DeliveryStatus::kRead, ""}, fresh()));
  ASSERT_THAT(bodies<DeliveryUpdated>(commit_), SizeIs(1));
  EXPECT_EQ(bodies<DeliveryUpdated>(commit_)[0].status, DeliveryStatus::kRead);
  // A late "delivered" after "read", and a "failed" after it, change nothing.
  must(desk_.report_receipt({kEmail, "SM123", DeliveryStatus::kDelivered, ""}, fresh()));
  must(desk_.report_receipt({kEmail, "SM123", DeliveryStatus::kFailed, "30008"}, fresh()));
  EXPECT_TRUE(commit_.empty());

  EXPECT_EQ(desk_.report_receipt({kEmail, "SM-unknown", DeliveryStatus::kRead, ""}, fresh()).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(desk_.report_receipt({"sms", "SM123", DeliveryStatus::kRead, ""}, fresh()).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(desk_.report_sent(sent.outbound_id, "", fresh()).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ReplyTest, FailedReceiptCarriesTheProvidersReason) {
  channels_.run(async_channel(kEmail));
  const IngestResult r = say(kEmail, kAnaEmail);
  const SendMessageResult sent = must(send(r.conversation_id));
  must(desk_.report_sent(sent.outbound_id, "wamid.1", fresh()));
  must(desk_.report_receipt({kEmail, "wamid.1", DeliveryStatus::kFailed, "131047: re-engagement message"}, fresh()));
  const auto updates = bodies<DeliveryUpdated>(commit_);
  ASSERT_THAT(updates, SizeIs(1));
  EXPECT_EQ(updates[0].status, DeliveryStatus::kFailed);
  EXPECT_EQ(updates[0].reason, "131047: re-engagement message");
}

TEST_F(ReplyTest, WatermarkMarksEverythingSentUpToIt) {
  channels_.run(async_channel(kEmail));
  const IngestResult r = say(kEmail, kAnaEmail);
  const SendMessageResult first = must(send(r.conversation_id, "one", {}, "a"));
  const SendMessageResult second = must(send(r.conversation_id, "two", {}, "b"));
  const SendMessageResult third = must(send(r.conversation_id, "three", {}, "c"));
  must(desk_.report_sent(first.outbound_id, "m1", fresh()));
  must(desk_.report_sent(second.outbound_id, "m2", fresh()));
  const Timestamp watermark = now_;
  advance(1s);
  must(desk_.report_sent(third.outbound_id, "m3", fresh()));

  must(desk_.report_receipts_up_to(kEmail, kAnaEmail, watermark, DeliveryStatus::kRead, fresh()));
  const auto updates = bodies<DeliveryUpdated>(commit_);
  ASSERT_THAT(updates, SizeIs(2));
  EXPECT_EQ(updates[0].status, DeliveryStatus::kRead);
  EXPECT_EQ(updates[1].status, DeliveryStatus::kRead);
  EXPECT_THAT((std::vector{updates[0].message_seq, updates[1].message_seq}),
              ::testing::UnorderedElementsAre(first.seq, second.seq));

  must(desk_.report_receipts_up_to(kEmail, kAnaEmail, watermark, DeliveryStatus::kRead, fresh()));
  EXPECT_TRUE(commit_.empty()) << "a repeated watermark moves nothing";
  EXPECT_EQ(desk_.report_receipts_up_to(kEmail, kAnaEmail, watermark, DeliveryStatus::kFailed, fresh()).error().code,
            ErrorCode::kInvalidArgument);
}

// --- conversation commands -----------------------------------------------------------

TEST_F(DeskTest, AssignMakesTheAgentTheOwner) {
  const Conversation c = assigned_conversation();
  EXPECT_EQ(c.state, S::kAssigned);
  EXPECT_EQ(c.assignee_id, kAgent);
  const auto assigned = bodies<Assigned>(commit_);
  ASSERT_THAT(assigned, SizeIs(1));
  EXPECT_EQ(assigned[0].agent_id, kAgent);
  EXPECT_THAT(bodies<StateChanged>(commit_), SizeIs(1));
}

TEST_F(DeskTest, AssignToAnUnknownAgentIsNotFound) {
  const IngestResult r = say(kChat, kVisitor);
  const auto assigned = desk_.assign(r.conversation_id, "nobody", "admin", fresh());
  ASSERT_FALSE(assigned.ok());
  EXPECT_EQ(assigned.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(commit_.empty());
}

TEST_F(DeskTest, TransferToAnAgentKeepsItAssignedAndCounts) {
  const Conversation c = assigned_conversation();
  add_agent(kOtherAgent);
  const ConversationUpdate u =
      must(desk_.transfer({.conversation_id = c.id, .agent_id = kOtherAgent, .reason = "billing"}, "admin", fresh()));
  EXPECT_EQ(u.conversation.state, S::kAssigned);
  EXPECT_EQ(u.conversation.assignee_id, kOtherAgent);
  EXPECT_EQ(u.conversation.extras->transfer_count, 1u);
  const auto transfers = bodies<Transferred>(commit_);
  ASSERT_THAT(transfers, SizeIs(1));
  EXPECT_EQ(transfers[0].from_agent_id, kAgent);
  EXPECT_EQ(transfers[0].to_agent_id, kOtherAgent);
}

TEST_F(DeskTest, TransferToAQueueRequeuesAndKeepsTheHistory) {
  const Conversation c = assigned_conversation();
  must(desk_.upsert_queue({.name = "billing"}, fresh()));
  const ConversationUpdate u = must(desk_.transfer({.conversation_id = c.id, .queue = "billing"}, "admin", fresh()));
  EXPECT_EQ(u.conversation.state, S::kQueued);
  EXPECT_EQ(u.conversation.queue, "billing");
  EXPECT_TRUE(u.conversation.assignee_id.empty());
  EXPECT_EQ(u.conversation.extras->transfer_count, 1u);
  EXPECT_GT(u.conversation.last_seq, c.last_seq);  // appended to, nothing replaced
  EXPECT_EQ(u.conversation.legs.size(), c.legs.size());
}

TEST_F(DeskTest, TransferNeedsExactlyOneTarget) {
  const Conversation c = assigned_conversation();
  must(desk_.upsert_queue({.name = "billing"}, fresh()));
  for (const TransferCommand& cmd :
       {TransferCommand{.conversation_id = c.id},
        TransferCommand{.conversation_id = c.id, .agent_id = kAgent, .queue = "billing"}}) {
    const auto r = desk_.transfer(cmd, "admin", fresh());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(commit_.empty());
  }
}

TEST_F(DeskTest, SnoozeWakesAtItsDeadline) {
  const Conversation c = assigned_conversation();
  const Timestamp until = now_ + 1h;
  const ConversationUpdate u = must(desk_.snooze(c.id, until, kAgent, fresh()));
  EXPECT_EQ(u.conversation.state, S::kSnoozed);
  EXPECT_EQ(u.conversation.extras->snoozed_until, until);
  EXPECT_EQ(desk_.next_deadline(), until);

  advance(59min);
  desk_.run_due_timers(fresh());
  EXPECT_TRUE(commit_.empty());
  EXPECT_EQ(conversation(c.id).state, S::kSnoozed);

  advance(1min);
  desk_.run_due_timers(fresh());
  EXPECT_THAT(bodies<Woke>(commit_), SizeIs(1));
  const Conversation woken = conversation(c.id);
  EXPECT_EQ(woken.state, S::kAssigned);
  EXPECT_EQ(woken.assignee_id, kAgent);
  EXPECT_FALSE(woken.extras->snoozed_until.has_value());
}

TEST_F(DeskTest, SnoozeWakesIntoTheQueueWhenTheAssigneeIsAway) {
  const Conversation c = assigned_conversation();
  must(desk_.snooze(c.id, now_ + 1h, kAgent, fresh()));
  set_status(kAgent, AgentStatus::kOffline);
  advance(1h);
  desk_.run_due_timers(fresh());
  const Conversation woken = conversation(c.id);
  EXPECT_EQ(woken.state, S::kQueued);
  EXPECT_TRUE(woken.assignee_id.empty());
}

TEST_F(DeskTest, InboundWakesASnoozedConversation) {
  const Conversation c = assigned_conversation();
  must(desk_.snooze(c.id, now_ + 1h, kAgent, fresh()));
  const IngestResult r = say(kChat, kVisitor, "hello again");
  EXPECT_EQ(r.conversation_id, c.id);
  EXPECT_EQ(conversation(c.id).state, S::kAssigned);
}

TEST_F(DeskTest, ResolveThenReopenCountsReopens) {
  const Conversation c = assigned_conversation();
  const ConversationUpdate resolved = must(desk_.resolve(c.id, kAgent, fresh()));
  EXPECT_EQ(resolved.conversation.state, S::kResolved);
  EXPECT_TRUE(resolved.conversation.resolved_at.has_value());
  EXPECT_THAT(bodies<Resolved>(commit_), SizeIs(1));

  const ConversationUpdate reopened = must(desk_.reopen(c.id, kAgent, fresh()));
  EXPECT_EQ(reopened.conversation.state, S::kAssigned);
  EXPECT_EQ(reopened.conversation.assignee_id, kAgent);
  EXPECT_EQ(reopened.conversation.extras->reopen_count, 1u);
  EXPECT_THAT(bodies<Reopened>(commit_), SizeIs(1));
}

TEST_F(DeskTest, ReopenQueuesWhenTheAssigneeIsAway) {
  const Conversation c = assigned_conversation();
  must(desk_.resolve(c.id, kAgent, fresh()));
  set_status(kAgent, AgentStatus::kAway);
  const ConversationUpdate reopened = must(desk_.reopen(c.id, "admin", fresh()));
  EXPECT_EQ(reopened.conversation.state, S::kQueued);
  EXPECT_TRUE(reopened.conversation.assignee_id.empty());
}

TEST_F(DeskTest, RefusedTransitionIsFailedPreconditionNamingStateAndTrigger) {
  const Conversation c = assigned_conversation();
  must(desk_.resolve(c.id, kAgent, fresh()));
  const auto assigned = desk_.assign(c.id, kAgent, "admin", fresh());
  ASSERT_FALSE(assigned.ok());
  EXPECT_EQ(assigned.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(assigned.error().message, HasSubstr(to_string(S::kResolved)));
  EXPECT_THAT(assigned.error().message, HasSubstr(to_string(Trigger::kAssign)));
  EXPECT_TRUE(commit_.empty());
  EXPECT_EQ(conversation(c.id).state, S::kResolved);
}

TEST_F(DeskTest, UnknownConversationIsNotFound) {
  const auto resolved = desk_.resolve("cv_missing", "admin", fresh());
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(commit_.empty());
}

TEST_F(DeskTest, InboundInsideTheReopenWindowReopens) {
  const Conversation c = assigned_conversation();
  must(desk_.resolve(c.id, kAgent, fresh()));
  advance(options().limits.reopen_window - 1min);
  const IngestResult r = say(kChat, kVisitor, "it broke again");
  EXPECT_EQ(r.conversation_id, c.id);
  const Conversation reopened = conversation(c.id);
  EXPECT_EQ(reopened.state, S::kAssigned);
  EXPECT_EQ(reopened.extras->reopen_count, 1u);
}

TEST_F(DeskTest, AfterTheReopenWindowItClosesAndTheNextInboundOpensALinkedConversation) {
  const Conversation c = assigned_conversation();
  close(c.id);
  EXPECT_THAT(bodies<Closed>(commit_), SizeIs(1));

  const IngestResult r = say(kChat, kVisitor, "new problem");
  EXPECT_NE(r.conversation_id, c.id);
  EXPECT_EQ(r.contact_id, c.contact_id);
  const Conversation next = conversation(r.conversation_id);
  EXPECT_EQ(next.state, S::kQueued);
  EXPECT_EQ(next.extras->previous_conversation_id, c.id);
  const auto opened = bodies<ConversationOpened>(commit_);
  ASSERT_THAT(opened, SizeIs(1));
  EXPECT_EQ(opened[0].previous_conversation_id, c.id);
  EXPECT_EQ(conversation(c.id).state, S::kClosed);
}

TEST_F(DeskTest, InboundAfterTheWindowOpensANewConversationEvenBeforeTimersRan) {
  const Conversation c = assigned_conversation();
  must(desk_.resolve(c.id, kAgent, fresh()));
  advance(options().limits.reopen_window + 1min);
  const IngestResult r = say(kChat, kVisitor, "new problem");
  EXPECT_NE(r.conversation_id, c.id);
  EXPECT_EQ(conversation(r.conversation_id).extras->previous_conversation_id, c.id);
  EXPECT_EQ(conversation(c.id).state, S::kClosed);
  EXPECT_EQ(conversation(c.id).extras->reopen_count, 0u);
}

TEST_F(DeskTest, SnoozeUntilThePastIsRefused) {
  const Conversation c = assigned_conversation();
  const auto snoozed = desk_.snooze(c.id, now_ - 1s, kAgent, fresh());
  ASSERT_FALSE(snoozed.ok());
  EXPECT_EQ(snoozed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(commit_.empty());
  EXPECT_EQ(conversation(c.id).state, S::kAssigned);
}

class BotTest : public DeskTest {
 protected:
  void SetUp() override {
    must(desk_.upsert_queue({.name = "sales", .bot_id = "bot-1"}, fresh()));
    InboundMessage m = message(kChat, kVisitor);
    m.queue = "sales";
    conversation_id_ = say(m).conversation_id;
    channels_.run(async_channel(kChat));
  }

  Result<SendMessageResult> reply(bool from_bot) {
    return desk_.send_message({.conversation_id = conversation_id_, .text = "hi, I am a bot", .from_bot = from_bot},
                              channels_, from_bot ? "bot-1" : kAgent, fresh());
  }

  std::string conversation_id_;
  FakeChannels channels_;
};

TEST_F(BotTest, BotRepliesKeepTheConversationWithTheBot) {
  ASSERT_TRUE(reply(/*from_bot=*/true).ok());
  EXPECT_EQ(conversation(conversation_id_).state, S::kBot);
}

TEST_F(BotTest, HandoffQueuesForPeopleAndKeepsTheReason) {
  const ConversationUpdate u = must(desk_.handoff(conversation_id_, "asks for a refund", {}, "bot-1", fresh()));
  EXPECT_EQ(u.conversation.state, S::kQueued);
  const auto handoffs = bodies<HandedOff>(commit_);
  ASSERT_THAT(handoffs, SizeIs(1));
  EXPECT_EQ(handoffs[0].reason, "asks for a refund");
}

TEST_F(BotTest, BotResolvesRoutineRequests) {
  EXPECT_EQ(must(desk_.resolve(conversation_id_, "bot-1", fresh())).conversation.state, S::kResolved);
}

TEST_F(BotTest, HandoffOutsideBotIsRefused) {
  must(desk_.handoff(conversation_id_, "human please", {}, "bot-1", fresh()));
  const auto again = desk_.handoff(conversation_id_, "human please", {}, "bot-1", fresh());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(again.error().message, HasSubstr(to_string(Trigger::kHandoff)));
}

// --- contacts --------------------------------------------------------------------------

TEST_F(DeskTest, LinkingAnIdentityOwnedByAnotherContactIsAlreadyExists) {
  const IngestResult chat = say(kChat, kVisitor);
  say(kEmail, kAnaEmail);
  const auto linked = desk_.link_identity(chat.contact_id, {.channel = kEmail, .address = kAnaEmail}, "admin", fresh());
  ASSERT_FALSE(linked.ok());
  EXPECT_EQ(linked.error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(commit_.empty());
  EXPECT_THAT(identity_keys(contact(chat.contact_id)), UnorderedElementsAreArray({"chat:visitor-1"}));
}

TEST_F(DeskTest, UnlinkedIdentityStartsAContactOfItsOwn) {
  const IngestResult r = chat_and_email_customer(kChat);
  must(desk_.unlink_identity(r.contact_id, {.channel = kEmail, .address = kAnaEmail}, "admin", fresh()));
  EXPECT_THAT(identity_keys(contact(r.contact_id)), UnorderedElementsAreArray({"chat:visitor-1"}));
  const IngestResult mail = say(kEmail, kAnaEmail);
  EXPECT_NE(mail.contact_id, r.contact_id);
  EXPECT_NE(mail.conversation_id, r.conversation_id);
}

class MergeTest : public DeskTest {
 protected:
  // Two contacts: `target_` with an open conversation on chat, `source_` whose only
  // conversation (on email) is closed.
  void SetUp() override {
    target_ = say(kChat, kVisitor);
    source_ = say(kEmail, kAnaEmail);
    close(source_.conversation_id);
    target_before_ = contact(target_.contact_id);
    source_before_ = contact(source_.contact_id);
  }

  MergeResult merge() { return must(desk_.merge_contacts(target_.contact_id, source_.contact_id, "admin", fresh())); }

  IngestResult target_;
  IngestResult source_;
  Contact target_before_;
  Contact source_before_;
};

TEST_F(MergeTest, MovesIdentitiesSoTheSourcesMessagesJoinTheTarget) {
  const MergeResult merged = merge();
  EXPECT_FALSE(merged.merge_id.empty());
  EXPECT_THAT(identity_keys(merged.contact), UnorderedElementsAreArray({"chat:visitor-1", "email:ana@example.org"}));
  EXPECT_EQ(contact(source_.contact_id).extras->merged_into, target_.contact_id);
  EXPECT_EQ(must(desk_.find_contact({.channel = kEmail, .address = kAnaEmail})).id, target_.contact_id);

  const IngestResult r = say(kEmail, kAnaEmail, "me again, by mail");
  EXPECT_EQ(r.contact_id, target_.contact_id);
  EXPECT_EQ(r.conversation_id, target_.conversation_id);
  EXPECT_THAT(bodies<ChannelSwitched>(commit_), SizeIs(1));
}

TEST_F(MergeTest, RefusesTwoContactsThatBothHaveAnOpenConversation) {
  const IngestResult other = say("phone", "+14155550100");
  const auto merged = desk_.merge_contacts(target_.contact_id, other.contact_id, "admin", fresh());
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(commit_.empty());
  EXPECT_THAT(identity_keys(contact(other.contact_id)), UnorderedElementsAreArray({"phone:+14155550100"}));
  EXPECT_EQ(identity_keys(contact(target_.contact_id)), identity_keys(target_before_));
}

TEST_F(MergeTest, UnmergeRestoresIdentitiesAndConversationsExactly) {
  const MergeResult merged = merge();
  const UnmergeResult undone = must(desk_.unmerge_contact(merged.merge_id, "admin", fresh()));
  EXPECT_EQ(identity_keys(undone.target), identity_keys(target_before_));
  EXPECT_EQ(identity_keys(undone.restored), identity_keys(source_before_));

  const Contact target = contact(target_.contact_id);
  const Contact source = contact(source_.contact_id);
  EXPECT_EQ(identity_keys(target), identity_keys(target_before_));
  EXPECT_EQ(identity_keys(source), identity_keys(source_before_));
  EXPECT_TRUE(source.extras->merged_into.empty());
  EXPECT_EQ(conversation(source_.conversation_id).contact_id, source_.contact_id);
  EXPECT_EQ(conversation(target_.conversation_id).contact_id, target_.contact_id);
  EXPECT_EQ(must(desk_.find_contact({.channel = kEmail, .address = kAnaEmail})).id, source_.contact_id);

  // The source's identity is its own again: its next message opens its own conversation.
  const IngestResult r = say(kEmail, kAnaEmail);
  EXPECT_EQ(r.contact_id, source_.contact_id);
  EXPECT_NE(r.conversation_id, target_.conversation_id);
  EXPECT_EQ(conversation(r.conversation_id).extras->previous_conversation_id, source_.conversation_id);

  const auto twice = desk_.unmerge_contact(merged.merge_id, "admin", fresh());
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(DeskTest, DeleteContactErasesItsConversationsAndIdentities) {
  const IngestResult r = chat_and_email_customer(kEmail);
  const IngestResult bystander = say("phone", "+14155550100");
  const EraseResult erased = must(desk_.delete_contact(r.contact_id, fresh()));
  EXPECT_EQ(erased.conversations, 1u);
  EXPECT_THAT(commit_.erased_contacts, ::testing::Contains(r.contact_id));
  EXPECT_THAT(commit_.erased_conversations, ::testing::Contains(r.conversation_id));

  EXPECT_EQ(desk_.contact(r.contact_id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(desk_.conversation(r.conversation_id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(desk_.find_contact({.channel = kEmail, .address = kAnaEmail}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(desk_.contact_count(), 1u);
  EXPECT_EQ(desk_.conversation_count(), 1u);
  EXPECT_TRUE(desk_.conversation(bystander.conversation_id).ok());

  const IngestResult again = say(kChat, kVisitor);  // a stranger now
  EXPECT_NE(again.contact_id, r.contact_id);
  EXPECT_TRUE(conversation(again.conversation_id).extras->previous_conversation_id.empty());
}

// --- queries ---------------------------------------------------------------------------

class ListTest : public DeskTest {
 protected:
  static constexpr int kCustomers = 7;

  // Seven customers on chat; the odd ones are assigned, the last also wrote by sms.
  void SetUp() override {
    add_agent(kAgent);
    for (int i = 0; i < kCustomers; ++i) {
      const IngestResult r = say(kChat, "visitor-" + std::to_string(i));
      all_.push_back(r);
      if (i % 2 == 1) {
        must(desk_.assign(r.conversation_id, kAgent, "admin", fresh()));
        assigned_.insert(r.conversation_id);
      }
    }
    link(all_.back().contact_id, "sms", "+14155550100");
    say("sms", "+14155550100");
  }

  std::set<std::string> ids(const ConversationFilter& filter) {
    std::set<std::string> out;
    for (const Conversation& c : must(desk_.list_conversations(filter, 100, {})).conversations) out.insert(c.id);
    return out;
  }

  std::vector<IngestResult> all_;
  std::set<std::string> assigned_;
};

TEST_F(ListTest, Filters) {
  EXPECT_EQ(ids({.states = {S::kAssigned}}), assigned_);
  EXPECT_EQ(ids({.assignee_id = kAgent}), assigned_);
  EXPECT_THAT(ids({.states = {S::kQueued}}), SizeIs(kCustomers - assigned_.size()));
  EXPECT_THAT(ids({.states = {S::kQueued, S::kAssigned}}), SizeIs(kCustomers));
  EXPECT_EQ(ids({.channel = "sms"}), std::set<std::string>{all_.back().conversation_id});
  EXPECT_EQ(ids({.contact_id = all_[2].contact_id}), std::set<std::string>{all_[2].conversation_id});
  EXPECT_THAT(ids({.queue = "default"}), SizeIs(kCustomers));
  EXPECT_THAT(ids({.queue = "nowhere"}), IsEmpty());
}

TEST_F(ListTest, PageTokensCoverEverythingOnce) {
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    const ConversationPage page = must(desk_.list_conversations({}, 3, token));
    EXPECT_LE(page.conversations.size(), 3u);
    for (const Conversation& c : page.conversations) seen.push_back(c.id);
    token = page.next_page_token;
    ASSERT_LT(++pages, 10) << "paging does not end";
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  std::vector<std::string> expected;
  for (const IngestResult& r : all_) expected.push_back(r.conversation_id);
  EXPECT_THAT(seen, UnorderedElementsAreArray(expected));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
}

TEST_F(ListTest, FilteredPagesCoverTheMatchesOnce) {
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    const ConversationPage page = must(desk_.list_conversations({.states = {S::kAssigned}}, 1, token));
    for (const Conversation& c : page.conversations) EXPECT_TRUE(seen.insert(c.id).second) << "repeated " << c.id;
    token = page.next_page_token;
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(seen, assigned_);
}

TEST_F(ListTest, RefusesAForgedPageToken) {
  const auto page = desk_.list_conversations({}, 3, "not-a-token");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, ErrorCode::kInvalidArgument);
}

// --- channel threading hints (InboundMessage.conversation_id, require_conversation_id,
// automatic), used by the email adapter's reply tokens ------------------------------

TEST_F(DeskTest, ConversationIdHintJoinsTheCustomersConversationWithoutLinkingTheSender) {
  const IngestResult ana = say(kEmail, kAnaEmail);
  InboundMessage colleague = message(kEmail, "bob@example.org", "answering for Ana");
  colleague.conversation_id = ana.conversation_id;
  colleague.display_name = "Bob";
  const IngestResult r = say(colleague);
  EXPECT_EQ(r.conversation_id, ana.conversation_id);
  EXPECT_EQ(r.contact_id, ana.contact_id);
  EXPECT_EQ(desk_.contact_count(), 1u);  // Bob is neither created nor linked
  EXPECT_FALSE(desk_.find_contact({.channel = kEmail, .address = "bob@example.org"}).ok());
  const Conversation c = conversation(ana.conversation_id);
  ASSERT_THAT(c.legs, SizeIs(1));
  EXPECT_EQ(c.legs[0].address, kAnaEmail);  // replies still go to Ana
  EXPECT_EQ(contact(ana.contact_id).display_name, "");
  const auto messages = bodies<Message>(commit_);
  ASSERT_THAT(messages, SizeIs(1));
  EXPECT_EQ(messages[0].address, "bob@example.org");
}

TEST_F(DeskTest, UnknownConversationIdHintFallsBackToTheContactRule) {
  InboundMessage m = message(kEmail, kAnaEmail);
  m.conversation_id = "cv_nothere";
  const IngestResult r = say(m);
  EXPECT_NE(r.conversation_id, "cv_nothere");
  EXPECT_EQ(desk_.contact_count(), 1u);
}

TEST_F(DeskTest, RequireConversationIdRefusesTheAddressAloneWhileAConversationIsOpen) {
  const IngestResult ana = say(kEmail, kAnaEmail);
  InboundMessage forged = message(kEmail, kAnaEmail, "forged");
  forged.require_conversation_id = true;
  auto refused = desk_.ingest(forged, fresh());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(commit_.events.empty());

  forged.conversation_id = ana.conversation_id;  // with the proof it joins
  EXPECT_EQ(say(forged).conversation_id, ana.conversation_id);

  InboundMessage stranger = message(kEmail, "new@example.org");  // no conversation: opens one
  stranger.require_conversation_id = true;
  EXPECT_NE(say(stranger).conversation_id, ana.conversation_id);
}

TEST_F(DeskTest, AutomaticMessageIsRecordedWithoutReopening) {
  const IngestResult ana = say(kEmail, kAnaEmail);
  must(desk_.resolve(ana.conversation_id, kAgent, fresh()));
  InboundMessage auto_reply = message(kEmail, kAnaEmail, "I am out of office");
  auto_reply.automatic = true;
  const IngestResult r = say(auto_reply);
  EXPECT_EQ(r.conversation_id, ana.conversation_id);
  EXPECT_EQ(conversation(ana.conversation_id).state, S::kResolved);
  EXPECT_THAT(bodies<StateChanged>(commit_), IsEmpty());
  EXPECT_THAT(bodies<Message>(commit_), SizeIs(1));

  InboundMessage bounce = message(kEmail, "mailer-daemon@example.net", "undeliverable");
  bounce.automatic = true;
  auto none = desk_.ingest(bounce, fresh());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(desk_.conversation_count(), 1u);
  EXPECT_EQ(desk_.contact_count(), 1u);
}

}  // namespace
}  // namespace switchboard::router
