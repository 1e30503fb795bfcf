// Webhooks over real HTTP into a real Router: the providers' documented payloads,
// signatures computed in the test, and every refusal leaves the store untouched.

#include <gmock/gmock.h>

#include "harness.h"

namespace switchboard::adapters::social::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kPsid[] = "5487611111111111";

std::string messenger_address(const std::string& psid = kPsid) { return std::string(kPage) + "/" + psid; }

class SocialWebhookTest : public SocialHarness {
 protected:
  void SetUp() override { start(settings()); }
};

TEST_F(SocialWebhookTest, MetaHandshakeEchoesTheChallengeOnlyForOurToken) {
  auto ok = request("GET", "/meta?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444", "");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "1158201444");
  auto wrong = request("GET", "/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444", "");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_THAT(wrong.body, ::testing::Not(HasSubstr("1158201444")));
  EXPECT_EQ(request("GET", "/meta?hub.verify_token=verify-me-please&hub.challenge=1", "").status, 400);
}

TEST_F(SocialWebhookTest, MessengerTextIsStoredBeforeThe200) {
  auto answer = post_meta(fixture("messenger_text.json"));
  ASSERT_EQ(answer.status, 200) << answer.body;
  // Answered means durable: the message is there the moment the 200 arrived.
  auto c = context_of("messenger", messenger_address());
  ASSERT_TRUE(c.ok()) << c.error().describe();
  auto in = messages(*c, sr::Direction::kInbound);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].text, "hello, world!");
  EXPECT_EQ(in[0].external_id,
            "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P");
  EXPECT_EQ(in[0].metadata.at("quick_reply_payload"), "ORDER_STATUS");
  ASSERT_EQ(c->contact.identities.size(), 1u);
  EXPECT_EQ(c->contact.identities[0].key(), "messenger:106331012345678/5487611111111111");
}

TEST_F(SocialWebhookTest, ARedeliveredPayloadAddsNothing) {
  const std::string body = fixture("messenger_batched.json");
  ASSERT_EQ(post_meta(body).status, 200);
  auto first = context_of("messenger", messenger_address());
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(post_meta(body).status, 200);
  ASSERT_EQ(post_meta(body).status, 200);
  auto again = context_of("messenger", messenger_address());
  EXPECT_EQ(again->events.size(), first->events.size());
  EXPECT_EQ(conversations(), 3u);
}

TEST_F(SocialWebhookTest, BatchedEntriesAreHandledOneByOne) {
  ASSERT_EQ(post_meta(fixture("messenger_batched.json")).status, 200);
  EXPECT_EQ(conversations(), 3u);
  auto postback = context_of("messenger", messenger_address("5487622222222222"));
  ASSERT_TRUE(postback.ok());
  auto in = messages(*postback, sr::Direction::kInbound);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].text, "Talk to a person");
  EXPECT_EQ(in[0].metadata.at("postback_payload"), "HUMAN_AGENT");
  EXPECT_EQ(in[0].external_id, "m_batch_0002");
  auto third = context_of("messenger", messenger_address("5487633333333333"));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(messages(*third, sr::Direction::kInbound)[0].text, "third");
}

TEST_F(SocialWebhookTest, MediaBecomesAReferenceToTheProvidersUrl) {
  ASSERT_EQ(post_meta(fixture("messenger_media.json")).status, 200);
  auto c = context_of("messenger", messenger_address());
  ASSERT_TRUE(c.ok());
  auto in = messages(*c, sr::Direction::kInbound);
  ASSERT_EQ(in.size(), 1u);
  ASSERT_EQ(in[0].attachments.size(), 1u);
  EXPECT_EQ(in[0].attachments[0].url, "https://scontent.xx.fbcdn.net/v/t1.15752-9/receipt.jpg?_nc_cat=1");
  EXPECT_EQ(in[0].attachments[0].content_type, "image");
}

TEST_F(SocialWebhookTest, UnknownFieldsAndEventsAreIgnored) {
  ASSERT_EQ(post_meta(fixture("messenger_unknown_fields.json")).status, 200);
  auto c = context_of("messenger", messenger_address());
  ASSERT_TRUE(c.ok());
  auto in = messages(*c, sr::Direction::kInbound);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].text, "still here");
}

TEST_F(SocialWebhookTest, InstagramUsesTheAccountScopedIdentity) {
  ASSERT_EQ(post_meta(fixture("instagram_text.json")).status, 200);
  auto c = context_of("instagram", "17841400000000001/1111222233334444");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(messages(*c, sr::Direction::kInbound)[0].text, "is this in stock?");
}

TEST_F(SocialWebhookTest, WhatsAppTextAndMediaWithTheProfileName) {
  ASSERT_EQ(post_meta(fixture("whatsapp_text.json")).status, 200);
  ASSERT_EQ(post_meta(fixture("whatsapp_image.json")).status, 200);
  auto c = context_of("whatsapp", "+16505551234");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->contact.display_name, "Sheena Nelson");
  auto in = messages(*c, sr::Direction::kInbound);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].text, "Does it come in another color?");
  EXPECT_EQ(in[0].external_id, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
  EXPECT_EQ(in[1].text, "the broken part");
  ASSERT_EQ(in[1].attachments.size(), 1u);
  EXPECT_THAT(in[1].attachments[0].url, ::testing::EndsWith("/v19.0/1003383421387256"));
  EXPECT_EQ(in[1].attachments[0].content_type, "image/jpeg");
}

TEST_F(SocialWebhookTest, TamperedUnsignedOrWronglySignedBodiesAreRefusedAndNothingIsStored) {
  const std::string body = fixture("messenger_text.json");
  std::string tampered = body;
  tampered.replace(tampered.find("hello, world!"), 5, "HELLO");
  const std::string signature = meta_signature(kAppSecret, body);

  EXPECT_EQ(request("POST", "/meta", tampered, {{"X-Hub-Signature-256", signature}}).status, 403);
  EXPECT_EQ(post_meta(body, "another-apps-secret").status, 403);
  EXPECT_EQ(request("POST", "/meta", body).status, 401);
  EXPECT_EQ(request("POST", "/meta", body, {{"X-Hub-Signature-256", "sha1=abc"}}).status, 403);
  EXPECT_EQ(request("POST", "/meta", body, {{"X-Hub-Signature-256", signature.substr(0, 20)}}).status, 403);
  EXPECT_EQ(conversations(), 0u);
  EXPECT_FALSE(context_of("messenger", messenger_address()).ok());
}

TEST_F(SocialWebhookTest, SignedButMalformedBodiesAreRefused) {
  EXPECT_EQ(post_meta("{not json").status, 400);
  EXPECT_EQ(post_meta(R"({"object":"page"})").status, 400);
  EXPECT_EQ(post_meta("[]").status, 400);
  EXPECT_EQ(conversations(), 0u);
}

TEST_F(SocialWebhookTest, TelegramChecksItsSecretTokenAndDropsRepeatedUpdates) {
  const std::string body = fixture("telegram_text.json");
  EXPECT_EQ(request("POST", "/telegram/supportbot", body).status, 401);
  EXPECT_EQ(post_telegram(body, "not-the-secret").status, 403);
  EXPECT_EQ(conversations(), 0u);

  ASSERT_EQ(post_telegram(body).status, 200);
  ASSERT_EQ(post_telegram(body).status, 200);
  ASSERT_EQ(post_telegram(fixture("telegram_photo_caption.json")).status, 200);
  auto c = context_of("telegram", "supportbot/1111111");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->contact.display_name, "Test Lastname");
  auto in = messages(*c, sr::Direction::kInbound);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].text, "/start");
  EXPECT_EQ(in[0].external_id, "supportbot:10000");
  EXPECT_EQ(in[1].text, "my receipt");
}

class SocialLimitsTest : public SocialHarness {};

TEST_F(SocialLimitsTest, BodiesOverTheLimitAreRefusedUnread) {
  auto s = settings();
  s.max_body_bytes = 1024;
  start(s);
  std::string body = fixture("messenger_text.json");
  body.insert(body.find("\"entry\""), "\"padding\": \"" + std::string(2000, 'x') + "\", ");
  EXPECT_EQ(post_meta(body).status, 413);
  EXPECT_EQ(conversations(), 0u);
}

TEST_F(SocialLimitsTest, TooManyMessagesInOneRequestAreRefused) {
  auto s = settings();
  s.max_messages_per_request = 2;
  start(s);
  EXPECT_EQ(post_meta(fixture("messenger_batched.json")).status, 400);
  EXPECT_EQ(conversations(), 0u);
}

}  // namespace
}  // namespace switchboard::adapters::social::testing
