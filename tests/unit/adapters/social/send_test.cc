// Replies through the providers' send APIs, against a capture server standing in for
// graph.facebook.com and api.telegram.org: exact path, JSON and Authorization per
// provider; receipts and statuses move our messages on; 5xx is tried again; a 4xx
// fails with the provider's code and text.

#include <gmock/gmock.h>

#include "harness.h"

namespace switchboard::adapters::social::testing {
namespace {

class SocialSendTest : public SocialHarness {
 protected:
  void SetUp() override { start(settings()); }

  // The customer writes first (the reply window opens), the agent answers.
  sr::SendMessageResult customer_then_reply(const std::string& fixture_name, const std::string& channel,
                                            const std::string& address, const std::string& text) {
    const std::string body = fixture(fixture_name);
    const auto in = channel == "telegram" ? post_telegram(body) : post_meta(body);
    EXPECT_EQ(in.status, 200) << in.body;
    auto c = context_of(channel, address);
    EXPECT_TRUE(c.ok());
    auto sent = reply(c->conversation.id, text);
    EXPECT_TRUE(sent.ok()) << sent.error().describe();
    EXPECT_EQ(sent->channel, channel);
    return sent.value();
  }

  Captured only_request() {
    EXPECT_TRUE(eventually([&] { return !capture_.requests().empty(); }));
    auto all = capture_.requests();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? Captured{} : all.front();
  }
};

TEST_F(SocialSendTest, MessengerReplyIsPostedToThePageWithItsToken) {
  const std::string address = std::string(kPage) + "/5487611111111111";
  auto sent = customer_then_reply("messenger_text.json", "messenger", address, "Your order ships today.");
  const Captured r = only_request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v19.0/106331012345678/messages");
  EXPECT_EQ(r.authorization, "Bearer EAAPageToken123");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"recipient":{"id":"5487611111111111"},
      "messaging_type":"RESPONSE","message":{"text":"Your order ships today."}})"));
  EXPECT_TRUE(eventually([&] { return status_of("messenger", address, sent.seq) == sr::DeliveryStatus::kSent; }));

  // The delivery receipt names our mid; the read receipt is a watermark.
  ASSERT_EQ(post_meta(fixture("messenger_delivery.json")).status, 200);
  EXPECT_EQ(status_of("messenger", address, sent.seq), sr::DeliveryStatus::kDelivered);
  ASSERT_EQ(post_meta(fixture("messenger_read.json")).status, 200);
  EXPECT_EQ(status_of("messenger", address, sent.seq), sr::DeliveryStatus::kRead);
}

TEST_F(SocialSendTest, InstagramReplyIsPostedToTheAccount) {
  customer_then_reply("instagram_text.json", "instagram", "17841400000000001/1111222233334444", "Yes, in blue.");
  const Captured r = only_request();
  EXPECT_EQ(r.target, "/v19.0/17841400000000001/messages");
  EXPECT_EQ(r.authorization, "Bearer IGAAToken456");
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"recipient":{"id":"1111222233334444"},"message":{"text":"Yes, in blue."}})"));
}

TEST_F(SocialSendTest, WhatsAppReplyGoesFromTheNumberTheCustomerWroteTo) {
  auto sent = customer_then_reply("whatsapp_text.json", "whatsapp", "+16505551234", "It comes in red too.");
  const Captured r = only_request();
  EXPECT_EQ(r.target, "/v19.0/106540352242922/messages");
  EXPECT_EQ(r.authorization, "Bearer EAAWhatsAppToken789");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual",
      "to":"16505551234","type":"text","text":{"preview_url":false,"body":"It comes in red too."}})"));
  EXPECT_TRUE(eventually([&] { return status_of("whatsapp", "+16505551234", sent.seq) == sr::DeliveryStatus::kSent; }));
  // statuses name our wamid: delivered, then read.
  ASSERT_EQ(post_meta(fixture("whatsapp_statuses.json")).status, 200);
  EXPECT_EQ(status_of("whatsapp", "+16505551234", sent.seq), sr::DeliveryStatus::kRead);
}

TEST_F(SocialSendTest, WhatsAppFailedStatusCarriesTheProvidersError) {
  capture_.then_answer(200, R"({"messaging_product":"whatsapp","messages":[{"id":"wamid.OUTBOUND0002"}]})");
  auto sent = customer_then_reply("whatsapp_text.json", "whatsapp", "+16505551234", "Hello again");
  EXPECT_TRUE(eventually([&] { return status_of("whatsapp", "+16505551234", sent.seq) == sr::DeliveryStatus::kSent; }));
  ASSERT_EQ(post_meta(fixture("whatsapp_status_failed.json")).status, 200);
  EXPECT_EQ(status_of("whatsapp", "+16505551234", sent.seq), sr::DeliveryStatus::kFailed);
  EXPECT_THAT(failure_reason("whatsapp", "+16505551234", sent.seq),
              ::testing::StartsWith("131047: Re-engagement message"));
}

TEST_F(SocialSendTest, TelegramReplyUsesSendMessageWithTheTokenInThePath) {
  auto sent = customer_then_reply("telegram_text.json", "telegram", "supportbot/1111111", "Welcome!");
  const Captured r = only_request();
  EXPECT_EQ(r.target, std::string("/bot") + kBotToken + "/sendMessage");
  EXPECT_EQ(r.authorization, "");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"chat_id":1111111,"text":"Welcome!"})"));
  EXPECT_TRUE(
      eventually([&] { return status_of("telegram", "supportbot/1111111", sent.seq) == sr::DeliveryStatus::kSent; }));
}

TEST_F(SocialSendTest, A5xxIsTriedAgainUntilTheProviderTakesIt) {
  capture_.then_answer(503,
                       R"({"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":2}})");
  capture_.then_answer(500, "oops");
  const std::string address = std::string(kPage) + "/5487611111111111";
  auto sent = customer_then_reply("messenger_text.json", "messenger", address, "Retry me");
  EXPECT_TRUE(eventually([&] { return status_of("messenger", address, sent.seq) == sr::DeliveryStatus::kSent; }));
  EXPECT_EQ(capture_.requests().size(), 3u);
}

TEST_F(SocialSendTest, A4xxFailsWithTheProvidersCodeAndText) {
  capture_.then_answer(400, R"({"error":{"message":"(#100) No matching user found","type":"OAuthException",
      "code":100,"error_subcode":2018001,"fbtrace_id":"AbCdEf"}})");
  const std::string address = std::string(kPage) + "/5487611111111111";
  auto sent = customer_then_reply("messenger_text.json", "messenger", address, "Nobody home");
  EXPECT_TRUE(eventually([&] { return status_of("messenger", address, sent.seq) == sr::DeliveryStatus::kFailed; }));
  EXPECT_EQ(failure_reason("messenger", address, sent.seq), "100: (#100) No matching user found");
  EXPECT_EQ(capture_.requests().size(), 1u);
}

TEST_F(SocialSendTest, ATelegram4xxFailsWithItsDescription) {
  capture_.then_answer(403, R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})");
  auto sent = customer_then_reply("telegram_text.json", "telegram", "supportbot/1111111", "Hello?");
  EXPECT_TRUE(
      eventually([&] { return status_of("telegram", "supportbot/1111111", sent.seq) == sr::DeliveryStatus::kFailed; }));
  EXPECT_EQ(failure_reason("telegram", "supportbot/1111111", sent.seq), "403: Forbidden: bot was blocked by the user");
}

}  // namespace
}  // namespace switchboard::adapters::social::testing
