// The payload parsers alone, on the fixtures written from the providers' docs.

#include "social/webhook_payload.h"

#include <gtest/gtest.h>

#include "harness.h"

namespace switchboard::adapters::social {
namespace {

using testing::fixture;

PayloadOptions options() {
  PayloadOptions o;
  o.graph_base_url = "https://graph.example/v19.0";
  return o;
}

TEST(WebhookPayloadTest, WhatsAppStatusesBecomeReceiptsWithTheProvidersError) {
  auto items = parse_meta_webhook(fixture("whatsapp_status_failed.json"), options());
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  const auto& r = std::get<router::DeliveryReceipt>(items->front());
  EXPECT_EQ(r.channel, "whatsapp");
  EXPECT_EQ(r.external_id, "wamid.OUTBOUND0002");
  EXPECT_EQ(r.status, router::DeliveryStatus::kFailed);
  EXPECT_EQ(r.reason,
            "131047: Re-engagement message (Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number.)");
}

TEST(WebhookPayloadTest, MessengerDeliveryGivesReceiptsAndAWatermark) {
  auto items = parse_meta_webhook(fixture("messenger_delivery.json"), options());
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ(std::get<router::DeliveryReceipt>((*items)[0]).external_id, "m_OUTBOUND0001");
  const auto& w = std::get<Watermark>((*items)[1]);
  EXPECT_EQ(w.address, "106331012345678/5487611111111111");
  EXPECT_EQ(w.up_to, router::Timestamp(std::chrono::milliseconds(1700000019000)));
  EXPECT_EQ(w.status, router::DeliveryStatus::kDelivered);
}

TEST(WebhookPayloadTest, EchoesOfOurOwnMessagesAreNotCustomerMessages) {
  const std::string echo = R"({"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"1"},
      "recipient":{"id":"9"},"timestamp":1,"message":{"mid":"m1","text":"ours","is_echo":true,"app_id":5}}]}]})";
  auto items = parse_meta_webhook(echo, options());
  ASSERT_TRUE(items.ok());
  EXPECT_TRUE(items->empty());
}

TEST(WebhookPayloadTest, TelegramGroupMessagesAreIgnoredAndUpdateIdIsRequired) {
  auto group = parse_telegram_update(R"({"update_id":5,"message":{"message_id":1,"from":{"id":7},
      "chat":{"id":-100,"type":"group"},"date":1,"text":"hi all"}})",
                                     "bot", options());
  ASSERT_TRUE(group.ok());
  EXPECT_TRUE(group->empty());
  EXPECT_FALSE(parse_telegram_update(R"({"message":{}})", "bot", options()).ok());
}

TEST(WebhookPayloadTest, LongTextIsCutAtACharacterBoundary) {
  EXPECT_EQ(cut_text("h\xC3\xA9llo", 2), "h");
  EXPECT_EQ(cut_text("h\xC3\xA9llo", 3), "h\xC3\xA9");
  EXPECT_EQ(cut_text("short", 100), "short");
}

}  // namespace
}  // namespace switchboard::adapters::social
