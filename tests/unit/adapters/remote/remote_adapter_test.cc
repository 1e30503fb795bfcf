#include <remote/remote_adapter.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::adapters::remote {
namespace {

using ::testing::ElementsAre;

router::OutboundDelivery delivery(std::string id) {
  return {.outbound_id = std::move(id), .conversation_id = "cv_1", .channel = "kiosk", .text = "hi"};
}

class RemoteAdapterTest : public ::testing::Test {
 protected:
  RemoteAdapter adapter_{{.channel = "kiosk", .synchronous = true}, 2, [this](router::OutboundDelivery&& d) {
                           sent_.push_back(d.outbound_id);
                         }};
  std::vector<std::string> sent_;
};

TEST_F(RemoteAdapterTest, HoldsBackWhatExceedsTheBoundAndReleasesOnePerAnswer) {
  for (auto id : {"ob_1", "ob_2", "ob_3", "ob_4"}) adapter_.deliver(delivery(id));
  EXPECT_THAT(sent_, ElementsAre("ob_1", "ob_2"));
  EXPECT_EQ(adapter_.in_flight(), 2u);
  EXPECT_EQ(adapter_.waiting(), 2u);

  adapter_.answered("ob_2");
  EXPECT_THAT(sent_, ElementsAre("ob_1", "ob_2", "ob_3"));
  adapter_.answered("ob_2");  // a second report for the same message frees nothing
  EXPECT_EQ(sent_.size(), 3u);
  adapter_.answered("ob_1");
  adapter_.answered("ob_3");
  EXPECT_THAT(sent_, ElementsAre("ob_1", "ob_2", "ob_3", "ob_4"));
  EXPECT_EQ(adapter_.in_flight(), 1u);
  EXPECT_EQ(adapter_.waiting(), 0u);
}

TEST_F(RemoteAdapterTest, DropsAMessageHandedOverAgainWhileInFlightOrWaiting) {
  for (auto id : {"ob_1", "ob_2", "ob_3", "ob_1", "ob_3"}) adapter_.deliver(delivery(id));
  EXPECT_THAT(sent_, ElementsAre("ob_1", "ob_2"));
  EXPECT_EQ(adapter_.waiting(), 1u);
  // Once answered, the same id may come again (a retry after a retryable failure).
  adapter_.answered("ob_1");
  adapter_.deliver(delivery("ob_1"));
  EXPECT_THAT(sent_, ElementsAre("ob_1", "ob_2", "ob_3"));
  EXPECT_EQ(adapter_.waiting(), 1u);
}

TEST_F(RemoteAdapterTest, AnAnswerForAWaitingMessageTakesItOutOfTheQueue) {
  for (auto id : {"ob_1", "ob_2", "ob_3"}) adapter_.deliver(delivery(id));
  adapter_.answered("ob_3");
  EXPECT_EQ(adapter_.waiting(), 0u);
  adapter_.answered("ob_1");
  EXPECT_THAT(sent_, ElementsAre("ob_1", "ob_2"));
}

TEST_F(RemoteAdapterTest, SendsNothingOnceClosed) {
  adapter_.deliver(delivery("ob_1"));
  adapter_.close();
  adapter_.deliver(delivery("ob_2"));
  adapter_.answered("ob_1");
  EXPECT_THAT(sent_, ElementsAre("ob_1"));
  EXPECT_EQ(adapter_.in_flight(), 0u);
}

TEST_F(RemoteAdapterTest, LiveSessionsAreWhatTheAdapterSaid) {
  EXPECT_FALSE(adapter_.has_live_session("kiosk", "lobby-1"));
  adapter_.set_live_session("lobby-1", true);
  EXPECT_TRUE(adapter_.has_live_session("kiosk", "lobby-1"));
  EXPECT_FALSE(adapter_.has_live_session("chat", "lobby-1"));
  adapter_.set_live_session("lobby-1", false);
  EXPECT_FALSE(adapter_.has_live_session("kiosk", "lobby-1"));
}

TEST(RemoteAdapter, ABoundOfZeroStillLetsOneThrough) {
  std::vector<std::string> sent;
  RemoteAdapter adapter({.channel = "kiosk"}, 0, [&](router::OutboundDelivery&& d) { sent.push_back(d.outbound_id); });
  adapter.deliver(delivery("ob_1"));
  adapter.deliver(delivery("ob_2"));
  EXPECT_THAT(sent, ElementsAre("ob_1"));
  EXPECT_THAT(adapter.capabilities(), ::testing::SizeIs(1));
}

}  // namespace
}  // namespace switchboard::adapters::remote
