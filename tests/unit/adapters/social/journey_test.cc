// The journey of issue 8, in process with a fake clock: a customer who called from
// +1 650 555 1234 writes on WhatsApp from that number. One contact, one conversation
// with both legs; the agent's reply goes out on WhatsApp inside the 24-hour window
// and is refused outside it.

#include <gmock/gmock.h>

#include <atomic>

#include "harness.h"

namespace switchboard::adapters::social::testing {
namespace {

using ::testing::HasSubstr;

class SocialJourneyTest : public SocialHarness {
 protected:
  void SetUp() override {
    sr::RouterOptions options;
    options.now = [this] { return sr::Timestamp(std::chrono::seconds(now_.load())); };
    start(settings(), options);
  }

  void advance(std::chrono::seconds by) { now_ += by.count(); }

  sr::Result<sr::IngestResult> ingest(const std::string& channel, const std::string& address, bool verified,
                                      const std::string& text, const std::string& id) {
    sr::InboundMessage m;
    m.channel = channel;
    m.address = address;
    m.verified = verified;
    m.text = text;
    m.external_id = id;
    return await<sr::IngestResult>([&](auto d) { router_->ingest(m, d); });
  }

  std::atomic<int64_t> now_{1'800'000'000};
};

TEST_F(SocialJourneyTest, ACallerWhoWritesOnWhatsAppIsOneContactWithOneConversation) {
  // What the phone adapter hands the router for a missed call (caller id, not verified).
  auto call = ingest("phone", "+1 (650) 555-1234", false, "Missed call", "call-1");
  ASSERT_TRUE(call.ok()) << call.error().describe();
  advance(std::chrono::minutes(10));

  ASSERT_EQ(post_meta(fixture("whatsapp_text.json")).status, 200);
  auto c = context_of("whatsapp", "+16505551234");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->contact.id, call->contact_id);
  EXPECT_EQ(c->conversation.id, call->conversation_id);
  std::vector<std::string> legs;
  for (const auto& leg : c->conversation.legs) legs.push_back(leg.channel + ":" + leg.address);
  EXPECT_THAT(legs, ::testing::UnorderedElementsAre("phone:+16505551234", "whatsapp:+16505551234"));
  EXPECT_EQ(c->conversation.active_channel, "whatsapp");
  EXPECT_EQ(c->contact.display_name, "Sheena Nelson");
  EXPECT_EQ(conversations(), 1u);

  // Inside the window: the reply goes back on WhatsApp.
  advance(std::chrono::hours(23));
  auto inside = reply(c->conversation.id, "We called you back, no answer. How can we help?");
  ASSERT_TRUE(inside.ok()) << inside.error().describe();
  EXPECT_EQ(inside->channel, "whatsapp");
  EXPECT_TRUE(eventually([&] { return capture_.requests().size() == 1; }));
  EXPECT_EQ(capture_.requests()[0].target, "/v19.0/106540352242922/messages");

  // Our own reply does not reopen the window: it counts from the customer's last message.
  advance(std::chrono::hours(2));
  auto outside = reply(c->conversation.id, "Are you still there?", "whatsapp");
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code, sr::ErrorCode::kFailedPrecondition);
  EXPECT_THAT(outside.error().message, HasSubstr("whatsapp: outside its 86400s reply window"));

  // The customer writes again: the window opens again.
  ASSERT_EQ(post_meta(fixture("whatsapp_image.json")).status, 200);
  EXPECT_TRUE(reply(c->conversation.id, "Thanks for the photo.", "whatsapp").ok());
}

TEST_F(SocialJourneyTest, AnUnverifiedNumberIsNotLinkedByItself) {
  auto call = ingest("phone", "+16505551234", false, "Missed call", "call-1");
  ASSERT_TRUE(call.ok());
  // The same number on SMS proves nothing: a sender id can be forged.
  auto sms = ingest("sms", "+16505551234", false, "hi", "sms-1");
  ASSERT_TRUE(sms.ok());
  EXPECT_NE(sms->contact_id, call->contact_id);
  // WhatsApp's number is verified by Meta: it joins the first contact that had it.
  auto wa = ingest("whatsapp", "+16505551234", true, "hello", "wamid.x");
  ASSERT_TRUE(wa.ok());
  EXPECT_EQ(wa->contact_id, call->contact_id);
}

}  // namespace
}  // namespace switchboard::adapters::social::testing
