#include "record_codec.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include "record_equal.h"
#include "samples.h"

namespace switchboard::router::testing {
namespace {

using store::decode;
using store::encode;

template <typename T>
void expect_round_trip(const T& record) {
  ASSERT_TRUE(every_field_set(record)) << "the sample leaves a field at its default: " << encode(record);
  auto decoded = decode<T>(encode(record));
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_TRUE(same(record, *decoded)) << "stored: " << encode(record) << "\nread back: " << encode(*decoded);
}

TEST(RecordCodec, SamplesCoverEveryEventBodyAlternativeInOrder) {
  const auto bodies = every_event_body();
  ASSERT_EQ(bodies.size(), std::variant_size_v<EventBody>);
  for (std::size_t i = 0; i < bodies.size(); ++i) EXPECT_EQ(bodies[i].index(), i);
}

TEST(RecordCodec, EveryEventBodyAlternativeRoundTrips) {
  uint64_t cursor = 0;
  for (const auto& body : every_event_body()) {
    SCOPED_TRACE("alternative " + std::to_string(body.index()));
    expect_round_trip(sample_event(++cursor, "cv-1", cursor, body));
  }
}

// Calls check(record) with a full sample of every record kind but events.
void for_each_record_kind(const auto& check) {
  check(sample_contact("ct-1"));
  check(sample_conversation("cv-1", "ct-1"));
  check(sample_outbox("ob-1", "cv-1"));
  check(sample_agent("agent-7"));
  check(sample_queue("billing"));
  check(sample_merge("mg-1", "ct-1", "ct-2"));
  check(sample_seen("msg-1", "ct-1", "cv-1"));
}

TEST(RecordCodec, EveryRecordKindRoundTrips) {
  for_each_record_kind([](const auto& record) { expect_round_trip(record); });
}

// encode() writes text straight, without Boost.JSON's DOM: it must be the very text
// the DOM gives, for full records, empty ones and every character a string can hold.
template <typename T>
void expect_same_text_as_the_dom(const T& record) {
  EXPECT_EQ(encode(record), boost::json::serialize(boost::json::value_from(record)));
}

TEST(RecordCodec, WritesTheSameTextAsBoostJson) {
  uint64_t cursor = 0;
  for (const auto& body : every_event_body()) {
    expect_same_text_as_the_dom(sample_event(++cursor, "cv-1", cursor, body));
    expect_same_text_as_the_dom(Event{.body = body});
  }
  for_each_record_kind([](const auto& record) { expect_same_text_as_the_dom(record); });
  expect_same_text_as_the_dom(Contact{});
  expect_same_text_as_the_dom(Conversation{});
  expect_same_text_as_the_dom(Queue{});
}

TEST(RecordCodec, EscapesEveryCharacterAsBoostJsonDoes) {
  std::string ascii;
  for (int c = 1; c < 128; ++c) ascii += static_cast<char>(c);
  std::string high_bytes;  // not UTF-8 alone: the router refuses such text, the writer still matches
  for (int c = 128; c < 256; ++c) high_bytes += static_cast<char>(c);
  expect_same_text_as_the_dom(message_event(1, "cv-\"1\"", 1, high_bytes));

  const std::string text = std::string("quote \" backslash \\ nul ") + '\0' + " then " + ascii + " \u00e9\u4e2d";
  expect_same_text_as_the_dom(message_event(1, "cv-\"1\"", 1, text));
  const auto decoded = decode<Event>(encode(message_event(1, "cv-1", 1, text)));
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(std::get<Message>(decoded->body).text, text);
}

TEST(RecordCodec, StoresNamesAndMicroseconds) {
  Event event = sample_event(7, "cv-1", 3, StateChanged{ConversationState::kQueued, ConversationState::kAssigned, "x"});
  event.at = at_micros(1'700'000'000'123'456);
  const auto json = boost::json::parse(encode(event)).as_object();
  EXPECT_EQ(json.at("at").to_number<int64_t>(), 1'700'000'000'123'456);
  EXPECT_EQ(json.at("body").at("kind").as_string(), "state_changed");
  EXPECT_EQ(json.at("body").at("from").as_string(), "queued");
  EXPECT_EQ(store::status_name(DeliveryStatus::kPending), "pending");
}

// Enumerators the codec stores by the model's names (model.h): each stored name reads
// back as its enumerator and each enumerator is written as that name (a default is
// left out), so records written before a rename would still read back.
template <typename Record, typename Enum>
void expect_stored_by_name(Enum Record::*field, const std::string& key,
                           std::initializer_list<std::pair<Enum, std::string>> stored) {
  for (const auto& [value, name] : stored) {
    auto read = decode<Record>("{\"" + key + "\": \"" + name + "\"}");
    ASSERT_TRUE(read.ok()) << read.error().describe();
    EXPECT_EQ((*read).*field, value) << name;
    Record record;
    record.*field = value;
    const auto json = boost::json::parse(encode(record)).as_object();
    if (value != Record{}.*field) EXPECT_EQ(json.at(key).as_string(), name);
  }
}

TEST(RecordCodec, StoresSlaMetricsByTheirNames) {
  expect_stored_by_name(
      &SlaClock::metric, "metric",
      {{SlaMetric::kFirstResponse, "frt"}, {SlaMetric::kNextResponse, "nrt"}, {SlaMetric::kResolution, "rt"}});
}

TEST(RecordCodec, StoresAgentDeliveryAndCallStatesByTheirNames) {
  expect_stored_by_name(
      &Agent::status, "status",
      {{AgentStatus::kOnline, "online"}, {AgentStatus::kAway, "away"}, {AgentStatus::kOffline, "offline"}});
  expect_stored_by_name(&OutboxEntry::status, "status",
                        {{DeliveryStatus::kNone, "none"},
                         {DeliveryStatus::kPending, "pending"},
                         {DeliveryStatus::kSent, "sent"},
                         {DeliveryStatus::kDelivered, "delivered"},
                         {DeliveryStatus::kRead, "read"},
                         {DeliveryStatus::kFailed, "failed"}});
  expect_stored_by_name(&Call::state, "state",
                        {{CallState::kRinging, "ringing"},
                         {CallState::kInProgress, "in_progress"},
                         {CallState::kOnHold, "on_hold"},
                         {CallState::kEnded, "ended"},
                         {CallState::kMissed, "missed"}});
}

TEST(RecordCodec, AbsentFieldsKeepTheirDefaults) {
  auto conversation = decode<Conversation>(R"({"id": "cv-1", "state": "assigned"})");
  ASSERT_TRUE(conversation.ok()) << conversation.error().describe();
  EXPECT_EQ(conversation->id, "cv-1");
  EXPECT_EQ(conversation->state, ConversationState::kAssigned);
  EXPECT_FALSE(conversation->extras->snoozed_until.has_value());
  EXPECT_TRUE(conversation->legs.empty());
}

// A field at its default is not written, and reads back as that default; a value
// that only looks empty (an NPS score of 0, a queue's strategy cleared) is kept.
TEST(RecordCodec, FieldsAtTheirDefaultAreLeftOut) {
  EXPECT_EQ(encode(Conversation{}), "{}");
  EXPECT_EQ(encode(Queue{}), "{}");
  Conversation answered{.id = "cv-1"};
  answered.extras.edit().nps = 0;  // the default, -1, is "no answer"
  EXPECT_EQ(encode(answered), R"({"id":"cv-1","nps":0})");
  EXPECT_EQ(decode<Conversation>(encode(answered))->extras->nps, 0);
  EXPECT_EQ(decode<Conversation>(encode(Conversation{.id = "cv-1"}))->extras->nps, -1);
  EXPECT_EQ(decode<Queue>(encode(Queue{.strategy = ""}))->strategy, "");
  EXPECT_EQ(encode(Event{.seq = 2, .body = Woke{}}), R"({"seq":2,"body":{"kind":"woke"}})");
}

// The rarely-set fields live out of line (Conversation::extras): a record holding
// none of them reads back without allocating them, and one holding any reads back
// with them, whichever one it is.
TEST(RecordCodec, ConversationExtrasAreAllocatedOnlyForRecordsThatHoldThem) {
  Conversation plain = sample_conversation("cv-1", "ct-1");
  plain.extras = {};
  auto decoded = decode<Conversation>(encode(plain));
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->extras.allocated()) << encode(plain);

  for (const char* text : {R"({"id":"cv-1","reopen_count":1})", R"({"id":"cv-1","nps":0})",
                           R"({"id":"cv-1","calls":[{"call_id":"CA1"}]})"}) {
    decoded = decode<Conversation>(text);
    ASSERT_TRUE(decoded.ok()) << text;
    EXPECT_TRUE(decoded->extras.allocated()) << text;
    EXPECT_EQ(encode(*decoded), text);
  }
}

TEST(RecordCodec, ContactExtrasAreAllocatedOnlyForRecordsThatHoldThem) {
  auto decoded = decode<Contact>(R"({"id":"ct-1","identities":[{"channel":"email","address":"a@example.org"}]})");
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->extras.allocated());
  for (const char* text : {R"({"id":"ct-1","attributes":{"plan":"pro"}})", R"({"id":"ct-1","merged_into":"ct-2"})"}) {
    decoded = decode<Contact>(text);
    ASSERT_TRUE(decoded.ok()) << text;
    EXPECT_TRUE(decoded->extras.allocated()) << text;
    EXPECT_EQ(encode(*decoded), text);
  }
}

// Text in another order than ours, or with a field this binary does not know, is
// still read whole (by name).
TEST(RecordCodec, FieldsInAnotherOrderAreReadByName) {
  for (const char* text : {R"({"state": "assigned", "legs": [{"address": "a", "channel": "chat"}], "id": "cv-1"})",
                           R"({"id": "cv-1", "from_a_newer_binary": 1, "state": "assigned",
                               "legs": [{"channel": "chat", "address": "a"}]})"}) {
    SCOPED_TRACE(text);
    auto conversation = decode<Conversation>(text);
    ASSERT_TRUE(conversation.ok()) << conversation.error().describe();
    EXPECT_EQ(conversation->id, "cv-1");
    EXPECT_EQ(conversation->state, ConversationState::kAssigned);
    ASSERT_EQ(conversation->legs.size(), 1u);
    EXPECT_EQ(conversation->legs[0].channel, "chat");
    EXPECT_EQ(conversation->legs[0].address, "a");
  }
  auto event = decode<Event>(R"({"body": {"kind": "message", "text": "hi", "channel": "chat"}, "seq": 4})");
  ASSERT_TRUE(event.ok()) << event.error().describe();
  EXPECT_EQ(event->seq, 4u);
  EXPECT_EQ(std::get<Message>(event->body).text, "hi");
  EXPECT_EQ(std::get<Message>(event->body).channel, "chat");
}

TEST(RecordCodec, NullTimestampIsNoTimestamp) {
  Conversation conversation = sample_conversation("cv-1", "ct-1");
  conversation.resolved_at.reset();
  auto decoded = decode<Conversation>(encode(conversation));
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->resolved_at.has_value());
  EXPECT_TRUE(decoded->extras->snoozed_until.has_value());
}

TEST(RecordCodec, BadDataIsAnErrorNotAnException) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "not JSON"},
      {"[1, 2]", "object"},
      {R"({"id": 5})", ""},
      {R"({"state": "dancing"})", "unknown name 'dancing'"},
  };
  for (const auto& [text, says] : cases) {
    auto decoded = decode<Conversation>(text);
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_EQ(decoded.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(decoded.error().message.find(says), std::string::npos) << decoded.error().message;
  }
  auto event = decode<Event>(R"({"cursor": 1, "body": {"kind": "telepathy"}})");
  ASSERT_FALSE(event.ok());
  EXPECT_NE(event.error().message.find("unknown event kind 'telepathy'"), std::string::npos);
}

}  // namespace
}  // namespace switchboard::router::testing
