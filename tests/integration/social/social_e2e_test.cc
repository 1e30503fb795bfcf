// The journey of issue 8 against the real switchboardd (memory store): a customer
// who called from +1 650 555 1234 writes on WhatsApp from that number; one contact,
// one conversation with both legs, and the agent's reply goes out on WhatsApp to the
// capture server standing in for graph.facebook.com. (The reply window's end needs a
// clock we can move: that half is in tests/unit/adapters/social/journey_test.cc.)

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapter_daemon.h"
#include "harness.h"

namespace switchboard::testing {
namespace {

namespace social = adapters::social::testing;

constexpr char kAdminKey[] = "admin-key-for-social-tests";

class SocialE2eTest : public AdapterDaemonTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AdapterDaemonTest::SetUp());
    const std::string settings =
        R"({"listen":"127.0.0.1:0","listening_file":")" + (dir_ / "http.addr").string() + R"(","graph_base_url":")" +
        capture_.base_url() + R"(/v19.0",)" + R"("meta_apps":[{"path":"/meta","app_secret":")" + social::kAppSecret +
        R"(","verify_token":")" + social::kVerifyToken + R"(","whatsapp_numbers":[{"id":")" + social::kWhatsAppNumber +
        R"(","access_token":")" + social::kWhatsAppToken + R"("}]}]})";
    ASSERT_NO_FATAL_FAILURE(start_daemon(R"({"default_queue":"support","queues":[{"name":"support"}],)"
                                         R"("adapters":[{"name":"social","settings":)" +
                                             settings + "}]}",
                                         kAdminKey, "switchboardd.json"));
    http_address_ = listening_address("http.addr");
    ASSERT_FALSE(http_address_.empty());
  }

  long post_meta(const std::string& body) {
    adapters::http::ClientRequest r;
    r.url = "http://" + http_address_ + "/meta";
    r.body = body;
    r.headers = {{"X-Hub-Signature-256", social::meta_signature(social::kAppSecret, body)}};
    return adapters::http::send_request(r).status;
  }

  social::CaptureServer capture_;
  std::string http_address_;
};

TEST_F(SocialE2eTest, ACallerWritingOnWhatsAppIsOneConversationAndTheReplyGoesBackOnWhatsApp) {
  auto call = admin_->ingest("phone", "+1 650-555-1234", "Missed call", "call-1");
  ASSERT_TRUE(call.ok()) << describe(call.status);

  ASSERT_EQ(post_meta(social::fixture("whatsapp_text.json")), 200);
  auto context = admin_->get_context("whatsapp", "+16505551234");
  ASSERT_TRUE(context.ok()) << describe(context.status);
  EXPECT_EQ(context->contact().id(), call->contact_id());
  EXPECT_EQ(context->conversation().id(), call->conversation_id());
  EXPECT_EQ(context->contact().display_name(), "Sheena Nelson");
  std::vector<std::string> legs;
  for (const auto& leg : context->conversation().legs()) legs.push_back(leg.channel() + ":" + leg.address());
  EXPECT_THAT(legs, ::testing::UnorderedElementsAre("phone:+16505551234", "whatsapp:+16505551234"));
  EXPECT_EQ(admin_->list_conversations()->conversations_size(), 1);

  v1::SendMessageRequest reply;
  reply.set_conversation_id(call->conversation_id());
  reply.set_text("Sorry we missed you. How can we help?");
  auto sent = admin_->call(&v1::ConversationService::Stub::SendMessage, reply);
  ASSERT_TRUE(sent.ok()) << describe(sent.status);
  EXPECT_EQ(sent->channel(), "whatsapp");
  ASSERT_TRUE(social::eventually([&] { return capture_.requests().size() == 1; }));
  const auto request = capture_.requests()[0];
  EXPECT_EQ(request.target, "/v19.0/106540352242922/messages");
  EXPECT_EQ(request.authorization, std::string("Bearer ") + social::kWhatsAppToken);
  EXPECT_EQ(boost::json::parse(request.body).as_object().at("to").as_string(), "16505551234");
}

TEST_F(SocialE2eTest, TheHandshakeAndAnUnsignedPostAreAnsweredByTheDaemon) {
  adapters::http::ClientRequest get;
  get.method = "GET";
  get.url = "http://" + http_address_ + "/meta?hub.mode=subscribe&hub.verify_token=" + social::kVerifyToken +
            "&hub.challenge=42";
  const auto answer = adapters::http::send_request(get);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "42");
  adapters::http::ClientRequest unsigned_post;
  unsigned_post.url = "http://" + http_address_ + "/meta";
  unsigned_post.body = social::fixture("whatsapp_text.json");
  EXPECT_EQ(adapters::http::send_request(unsigned_post).status, 401);
  EXPECT_EQ(admin_->list_conversations()->conversations_size(), 0);
}

}  // namespace
}  // namespace switchboard::testing
