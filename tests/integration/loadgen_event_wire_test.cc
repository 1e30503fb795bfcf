// The load generator reads two fields of each v1.Event straight from its bytes
// (bench/loadgen/event_wire.h); they must agree with what protobuf wrote.

#include <gtest/gtest.h>

#include <string>

#include "event_wire.h"
#include "switchboard/v1/events.pb.h"

namespace switchboard::loadgen {
namespace {

v1::Event full_message_event() {
  v1::Event event;
  event.set_cursor("123456");
  event.set_conversation_id("c-1");
  event.set_seq(7);
  event.mutable_at()->set_seconds(1'795'000'000);
  event.mutable_at()->set_nanos(987'654'321);
  event.set_actor("customer");
  event.set_queue("support");
  auto& message = *event.mutable_message();
  message.set_channel("chat");
  message.set_address("visitor-1");
  message.set_text(std::string(300, 'x'));  // past one byte of length
  message.set_external_id("lg-1-probe-3");
  (*message.mutable_metadata())["k"] = "v";
  message.add_attachments()->set_url("https://example.org/a.png");
  return event;
}

TEST(EventWireTest, ReadsTheTimestampAndExternalIdThatProtobufWrote) {
  const auto event = full_message_event();
  const auto stamp = read_event_stamp(event.SerializeAsString());
  ASSERT_TRUE(stamp.has_value());
  EXPECT_EQ(stamp->seconds, 1'795'000'000);
  EXPECT_EQ(stamp->nanos, 987'654'321);
  EXPECT_EQ(stamp->external_id, "lg-1-probe-3");
}

TEST(EventWireTest, OtherKindsHaveNoExternalId) {
  v1::Event event;
  event.mutable_at()->set_seconds(5);
  event.mutable_channel_switched()->set_to_channel("email");
  const auto stamp = read_event_stamp(event.SerializeAsString());
  ASSERT_TRUE(stamp.has_value());
  EXPECT_EQ(stamp->seconds, 5);
  EXPECT_EQ(stamp->nanos, 0);
  EXPECT_TRUE(stamp->external_id.empty());
}

TEST(EventWireTest, TruncatedBytesAreRefused) {
  const std::string bytes = full_message_event().SerializeAsString();
  for (std::size_t cut : {std::size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_FALSE(read_event_stamp(std::string_view(bytes).substr(0, cut)).has_value()) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace switchboard::loadgen
