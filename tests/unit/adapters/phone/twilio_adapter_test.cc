// The Twilio adapter against a real Router (memory store), real HTTP both ways, and
// signatures computed here as Twilio computes them: inbound SMS, outbound SMS through
// a local server standing in for api.twilio.com, status callbacks, refusals.

#include "phone/twilio_adapter.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include <switchboard/router/router.h>

#include "../common/async_wait.h"
#include "common/hmac.h"
#include "twilio_test_support.h"

namespace switchboard::adapters::twilio {
namespace {

namespace sr = switchboard::router;
using testing::Form;
using testing::post_form;
using testing::sign_as_twilio;

constexpr char kPublicBase[] = "https://support.example.test";
constexpr char kAccount[] = "AC00000000000000000000000000000001";
constexpr char kToken[] = "twilio-test-auth-token";
constexpr char kOurNumber[] = "+14155550199";
constexpr char kCustomer[] = "+14155550100";

using switchboard::testing::await;
using switchboard::testing::eventually;  // for what happens after an answer (outbox deliveries on the adapter's workers)

// Stands in for api.twilio.com: records each request to the Messages resource and
// answers with the next scripted answer (201 and a new sid when none is left).
class FakeTwilioApi {
 public:
  struct Answer {
    int status;
    std::string body;
  };

  FakeTwilioApi() : server_(http::HttpServerOptions{}) {
    server_.route(
        http::Verb::post, std::string("/2010-04-01/Accounts/") + kAccount + "/Messages.json",
        [this](http::Request req, const http::Peer&, http::Respond respond) {
          std::lock_guard lock(mutex_);
          requests_.push_back(req);
          Answer a{201, R"({"sid":"SM)" + std::to_string(requests_.size()) + R"(","status":"queued"})"};
          if (!script_.empty()) {
            a = script_.front();
            script_.pop_front();
          }
          respond(http::make_response(static_cast<http::beast_http::status>(a.status), a.body, "application/json"));
        });
    EXPECT_TRUE(server_.start().ok());
  }
  std::string base_url() const { return "http://" + server_.local_address(); }
  void script(Answer a) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(a));
  }
  std::vector<http::Request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  std::mutex mutex_;
  std::vector<http::Request> requests_;
  std::deque<Answer> script_;
  http::HttpServer server_;  // last: stopped first
};

class TwilioAdapterTest : public ::testing::Test {
 protected:
  void SetUp() {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    sr::RouterOptions options;
    options.desk.default_queue = "support";
    options.desk.default_phone_region = "US";
    options.desk.limits.first_retry_delay = std::chrono::milliseconds(20);
    router_ = std::make_unique<sr::Router>(io_, sr::make_memory_store(), options);
    settings_.listen = "127.0.0.1:0";
    settings_.public_base_url = kPublicBase;
    settings_.account_sid = kAccount;
    settings_.auth_token = kToken;
    settings_.api_base_url = api_.base_url();
    settings_.numbers = {kOurNumber};
    settings_.api_timeout = std::chrono::milliseconds(2000);
    auto adapter = std::make_unique<TwilioAdapter>(settings_, *router_);
    twilio_ = adapter.get();
    router_->add_adapter(std::move(adapter));
    ASSERT_TRUE(await<sr::Done>([&](auto d) { router_->recover(d); }).ok());
    ASSERT_TRUE(await<sr::Queue>([&](auto d) { router_->upsert_queue(sr::Queue{"support"}, d); }).ok());
    ASSERT_TRUE(router_->start_adapters().ok());
    ASSERT_NE(twilio_->local_port(), 0);
  }

  void TearDown() override {
    router_->stop();
    router_.reset();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  // As Twilio would: signed for the public URL of `target`.
  switchboard::testing::HttpTestReply twilio_posts(const std::string& target, const Form& form) {
    return post_form(twilio_->local_port(), target, form, sign_as_twilio(kToken, kPublicBase + target, form));
  }

  Form incoming_sms(const std::string& sid, const std::string& body) {
    return {{"ToCountry", "US"},       {"SmsMessageSid", sid},   {"NumMedia", "0"},   {"SmsSid", sid},
            {"SmsStatus", "received"}, {"Body", body},           {"To", kOurNumber},  {"NumSegments", "1"},
            {"MessageSid", sid},       {"AccountSid", kAccount}, {"From", kCustomer}, {"ApiVersion", "2010-04-01"}};
  }

  sr::Result<sr::ConversationContext> context_of(const std::string& channel, const std::string& address) {
    return await<sr::ConversationContext>([&](auto d) {
      router_->get_context("", sr::Identity{channel, address}, 200, d);
    });
  }

  // The messages of the customer's conversation, in order.
  std::vector<sr::Message> messages(const std::string& channel = "sms", const std::string& address = kCustomer) {
    std::vector<sr::Message> out;
    auto ctx = context_of(channel, address);
    if (!ctx) return out;
    for (const auto& e : ctx->events) {
      if (auto* m = std::get_if<sr::Message>(&e.body)) out.push_back(*m);
    }
    return out;
  }

  // The latest delivery status of the message at `seq`, with its reason.
  std::pair<sr::DeliveryStatus, std::string> delivery_of(const std::string& conversation_id, uint64_t seq) {
    auto ctx =
        await<sr::ConversationContext>([&](auto d) { router_->get_context(conversation_id, std::nullopt, 200, d); });
    std::pair<sr::DeliveryStatus, std::string> latest{sr::DeliveryStatus::kPending, ""};
    if (!ctx) return latest;
    for (const auto& e : ctx->events) {
      if (auto* u = std::get_if<sr::DeliveryUpdated>(&e.body); u && u->message_seq == seq) {
        latest = {u->status, u->reason};
      }
    }
    return latest;
  }

  // The customer wrote; an agent answers by SMS.
  sr::SendMessageResult agent_replies(const std::string& text) {
    EXPECT_EQ(twilio_posts("/twilio/sms", incoming_sms("SMcustomer1", "hello")).status, 200);
    auto ctx = context_of("sms", kCustomer);
    EXPECT_TRUE(ctx.ok());
    conversation_ = ctx ? ctx->conversation.id : "";
    sr::SendMessageCommand command;
    command.conversation_id = conversation_;
    command.text = text;
    command.author_id = "agent-a";
    auto sent = await<sr::SendMessageResult>([&](auto d) { router_->send_message(command, "agent-a", d); });
    EXPECT_TRUE(sent.ok()) << sent.error().describe();
    EXPECT_EQ(sent->channel, "sms");
    return sent.ok() ? sent.value() : sr::SendMessageResult{};
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
  FakeTwilioApi api_;
  TwilioSettings settings_;
  std::unique_ptr<sr::Router> router_;
  TwilioAdapter* twilio_ = nullptr;
  std::string conversation_;
};

TEST_F(TwilioAdapterTest, AnIncomingSmsIsStoredThenAnsweredWithEmptyTwiml) {
  Form form = incoming_sms("SM11111111111111111111111111111111", "My order never came");
  form.emplace_back("FromCity", "SAN FRANCISCO");
  const auto reply = twilio_posts("/twilio/sms", form);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
  EXPECT_EQ(reply.response[http::beast_http::field::content_type], "text/xml; charset=utf-8");

  const auto stored = messages();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].channel, "sms");
  EXPECT_EQ(stored[0].address, kCustomer);
  EXPECT_EQ(stored[0].text, "My order never came");
  EXPECT_EQ(stored[0].external_id, "SM11111111111111111111111111111111");
  EXPECT_EQ(stored[0].metadata.at("to"), kOurNumber);
  EXPECT_EQ(stored[0].metadata.at("FromCity"), "SAN FRANCISCO");
  EXPECT_EQ(twilio_->counters().sms_in, 1u);
}

TEST_F(TwilioAdapterTest, ARedeliveredSmsAddsNothing) {
  const Form form = incoming_sms("SM22222222222222222222222222222222", "hi");
  EXPECT_EQ(twilio_posts("/twilio/sms", form).status, 200);
  EXPECT_EQ(twilio_posts("/twilio/sms", form).status, 200);
  EXPECT_EQ(messages().size(), 1u);
}

TEST_F(TwilioAdapterTest, MmsMediaBecomeAttachments) {
  Form form = incoming_sms("MM33333333333333333333333333333333", "");
  form[2].second = "2";  // NumMedia
  form.emplace_back("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM3/Media/ME1");
  form.emplace_back("MediaContentType0", "image/jpeg");
  form.emplace_back("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM3/Media/ME2");
  form.emplace_back("MediaContentType1", "application/pdf");
  EXPECT_EQ(twilio_posts("/twilio/sms", form).status, 200);
  const auto stored = messages();
  ASSERT_EQ(stored.size(), 1u);
  ASSERT_EQ(stored[0].attachments.size(), 2u);
  EXPECT_EQ(stored[0].attachments[0].content_type, "image/jpeg");
  EXPECT_TRUE(stored[0].attachments[1].url.ends_with("/Media/ME2"));
}

TEST_F(TwilioAdapterTest, UnsignedTamperedAndMisaddressedRequestsAreRefusedAndNothingIsStored) {
  const Form form = incoming_sms("SM44444444444444444444444444444444", "let me in");
  const uint16_t port = twilio_->local_port();
  EXPECT_EQ(post_form(port, "/twilio/sms", form, std::nullopt).status, 403);
  Form tampered = form;
  tampered[5].second = "changed on the way";  // Body
  EXPECT_EQ(
      post_form(port, "/twilio/sms", tampered, sign_as_twilio(kToken, std::string(kPublicBase) + "/twilio/sms", form))
          .status,
      403);
  // Signed with another account's token, or for another URL (what the adapter sees, not what Twilio called).
  EXPECT_EQ(
      post_form(port, "/twilio/sms", form, sign_as_twilio("other", std::string(kPublicBase) + "/twilio/sms", form))
          .status,
      403);
  EXPECT_EQ(post_form(port, "/twilio/sms", form,
                      sign_as_twilio(kToken, "http://127.0.0.1:" + std::to_string(port) + "/twilio/sms", form))
                .status,
            403);
  EXPECT_EQ(twilio_->counters().unsigned_refused, 1u);
  EXPECT_EQ(twilio_->counters().forged_refused, 3u);
  EXPECT_FALSE(context_of("sms", kCustomer).ok());  // no contact, no conversation
}

TEST_F(TwilioAdapterTest, ASignedQueryStringIsPartOfTheUrl) {
  const Form form = incoming_sms("SM55555555555555555555555555555555", "with a query");
  const std::string target = "/twilio/sms?tenant=eu&x=%2F";
  EXPECT_EQ(twilio_posts(target, form).status, 200);
  EXPECT_EQ(post_form(twilio_->local_port(), target, form,
                      sign_as_twilio(kToken, std::string(kPublicBase) + "/twilio/sms", form))
                .status,
            403);
}

TEST_F(TwilioAdapterTest, ABadFormIsRefused) {
  const std::string body = "From=%zz";
  auto reply = switchboard::testing::http_request(
      twilio_->local_port(), boost::beast::http::verb::post, "/twilio/sms", body,
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", "x"}});
  EXPECT_EQ(reply.status, 400);
  const Form no_sid = {{"From", kCustomer}, {"Body", "hi"}};
  EXPECT_EQ(twilio_posts("/twilio/sms", no_sid).status, 400);
  const Form not_a_number = {{"From", "not a number"}, {"Body", "hi"}, {"MessageSid", "SM6"}};
  EXPECT_EQ(twilio_posts("/twilio/sms", not_a_number).status, 400);
  const Form too_big = {
      {"From", kCustomer}, {"Body", std::string(settings_.max_body_bytes, 'x')}, {"MessageSid", "SM7"}};
  EXPECT_EQ(twilio_posts("/twilio/sms", too_big).status, 413);
  EXPECT_EQ(twilio_->http_counters().body_too_large, 1u);
  EXPECT_EQ(twilio_->counters().bad_requests, 2u);  // the bad form, no MessageSid
  EXPECT_FALSE(context_of("sms", kCustomer).ok());
}

TEST_F(TwilioAdapterTest, AReplyIsPostedToTheMessagesApiAndReportedSentWithTwilioSid) {
  const auto sent = agent_replies("We are on it");
  ASSERT_TRUE(eventually([&] { return delivery_of(conversation_, sent.seq).first == sr::DeliveryStatus::kSent; }));
  const auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& req = requests[0];
  EXPECT_EQ(req.target(), std::string("/2010-04-01/Accounts/") + kAccount + "/Messages.json");
  EXPECT_EQ(req[http::beast_http::field::content_type], "application/x-www-form-urlencoded");
  EXPECT_EQ(req[http::beast_http::field::authorization], "Basic " + to_base64(std::string(kAccount) + ":" + kToken));
  const auto form = http::parse_form(req.body());
  ASSERT_TRUE(form.has_value());
  const http::Fields expected = {{"To", kCustomer},
                                 {"Body", "We are on it"},
                                 {"From", kOurNumber},
                                 {"StatusCallback", std::string(kPublicBase) + "/twilio/sms/status"}};
  EXPECT_EQ(*form, expected);
  EXPECT_EQ(twilio_->counters().sms_sent, 1u);
}

TEST_F(TwilioAdapterTest, StatusCallbacksMoveTheReplyToDeliveredAndRepeatsChangeNothing) {
  const auto sent = agent_replies("Delivered soon");
  ASSERT_TRUE(eventually([&] { return delivery_of(conversation_, sent.seq).first == sr::DeliveryStatus::kSent; }));
  auto callback = [&](const std::string& status) {
    const Form form = {{"SmsSid", "SM1"},    {"SmsStatus", status},       {"MessageStatus", status},
                       {"To", kCustomer},    {"MessageSid", "SM1"},       {"AccountSid", kAccount},
                       {"From", kOurNumber}, {"ApiVersion", "2010-04-01"}};
    return twilio_posts("/twilio/sms/status", form).status;
  };
  EXPECT_EQ(callback("sending"), 200);  // not a step the outbox keeps
  EXPECT_EQ(callback("delivered"), 200);
  EXPECT_EQ(delivery_of(conversation_, sent.seq).first, sr::DeliveryStatus::kDelivered);
  auto before = context_of("sms", kCustomer);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(callback("delivered"), 200);
  EXPECT_EQ(callback("sent"), 200);  // late: a receipt only moves forward
  auto after = context_of("sms", kCustomer);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->conversation.last_seq, before->conversation.last_seq);
  EXPECT_EQ(delivery_of(conversation_, sent.seq).first, sr::DeliveryStatus::kDelivered);
  // Not one of ours: Twilio is told OK all the same.
  const Form stranger = {{"MessageSid", "SMnot-ours"}, {"MessageStatus", "delivered"}};
  EXPECT_EQ(twilio_posts("/twilio/sms/status", stranger).status, 200);
}

TEST_F(TwilioAdapterTest, AnUndeliveredCallbackFailsTheReplyWithTwilioErrorCode) {
  const auto sent = agent_replies("Will not arrive");
  ASSERT_TRUE(eventually([&] { return delivery_of(conversation_, sent.seq).first == sr::DeliveryStatus::kSent; }));
  const Form form = {{"MessageSid", "SM1"}, {"MessageStatus", "undelivered"}, {"ErrorCode", "30003"}};
  EXPECT_EQ(twilio_posts("/twilio/sms/status", form).status, 200);
  const auto [status, reason] = delivery_of(conversation_, sent.seq);
  EXPECT_EQ(status, sr::DeliveryStatus::kFailed);
  EXPECT_NE(reason.find("30003"), std::string::npos) << reason;
}

TEST_F(TwilioAdapterTest, A5xxIsRetriedAndThenSent) {
  api_.script({503, R"({"code":20503,"message":"Service unavailable","status":503})"});
  const auto sent = agent_replies("Second time lucky");
  ASSERT_TRUE(eventually([&] { return delivery_of(conversation_, sent.seq).first == sr::DeliveryStatus::kSent; }));
  EXPECT_EQ(api_.requests().size(), 2u);
  EXPECT_EQ(twilio_->counters().sms_retried, 1u);
  EXPECT_EQ(twilio_->counters().sms_sent, 1u);
}

TEST_F(TwilioAdapterTest, A4xxFailsTheReplyWithTwilioCodeAndMessage) {
  api_.script({400, R"({"code":21211,"message":"The 'To' number +14155550100 is not a valid phone number.",)"
                    R"("more_info":"https://www.twilio.com/docs/errors/21211","status":400})"});
  const auto sent = agent_replies("Nobody will read this");
  ASSERT_TRUE(eventually([&] { return delivery_of(conversation_, sent.seq).first == sr::DeliveryStatus::kFailed; }));
  const auto reason = delivery_of(conversation_, sent.seq).second;
  EXPECT_NE(reason.find("21211"), std::string::npos) << reason;
  EXPECT_NE(reason.find("is not a valid phone number"), std::string::npos) << reason;
  EXPECT_EQ(api_.requests().size(), 1u);  // not retried
  EXPECT_EQ(twilio_->counters().sms_failed, 1u);
}

// --- voice ---------------------------------------------------------------------------

constexpr char kCallSid[] = "CA5a1e2f0c3d4b5a6978695a4b3c2d1e0f";

Form call_webhook(const std::string& status, const std::string& from = kCustomer) {
  return {{"AccountSid", kAccount}, {"ApiVersion", "2010-04-01"},
          {"CallSid", kCallSid},    {"CallStatus", status},
          {"Called", kOurNumber},   {"Caller", from},
          {"Direction", "inbound"}, {"From", from},
          {"To", kOurNumber}};
}

// The value of an attribute in a TwiML document, entities undone.
std::string attribute_of(const std::string& twiml, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const auto at = twiml.find(key);
  if (at == std::string::npos) return {};
  std::string value = twiml.substr(at + key.size(), twiml.find('"', at + key.size()) - at - key.size());
  for (std::size_t amp; (amp = value.find("&amp;")) != std::string::npos;) value.replace(amp, 5, "&");
  return value;
}

class TwilioVoiceTest : public TwilioAdapterTest {
 protected:
  void agent_online(const std::string& id, const std::string& sip_uri) {
    sr::Agent agent;
    agent.id = id;
    agent.name = id;
    agent.capacity = {{"voice", 1}};
    agent.sip_uri = sip_uri;
    ASSERT_TRUE(await<sr::Agent>([&](auto d) { router_->upsert_agent(agent, d); }).ok());
    ASSERT_TRUE(
        await<sr::Agent>([&](auto d) { router_->set_agent_status(id, sr::AgentStatus::kOnline, "admin", d); }).ok());
  }

  std::vector<sr::CallEvent> call_events() {
    std::vector<sr::CallEvent> out;
    auto ctx = context_of("phone", kCustomer);
    if (!ctx) return out;
    for (const auto& e : ctx->events) {
      if (auto* c = std::get_if<sr::CallEvent>(&e.body)) out.push_back(*c);
    }
    return out;
  }

  std::vector<sr::CallState> call_states() {
    std::vector<sr::CallState> out;
    for (const auto& c : call_events()) out.push_back(c.state);
    return out;
  }

  uint64_t last_seq() {
    auto ctx = context_of("phone", kCustomer);
    return ctx ? ctx->conversation.last_seq : 0;
  }

  // Twilio posts to a URL of ours that our TwiML named.
  switchboard::testing::HttpTestReply twilio_posts_to(const std::string& url, const Form& form) {
    EXPECT_TRUE(url.starts_with(kPublicBase)) << url;
    return twilio_posts(url.substr(std::string(kPublicBase).size()), form);
  }
};

using State = sr::CallState;
constexpr char kProlog[] = R"(<?xml version="1.0" encoding="UTF-8"?>)";

TEST_F(TwilioVoiceTest, ACallIsDialledToAFreeAgentAndItsWholeLifeLandsOnTheTimeline) {
  agent_online("alice", "sip:alice@pbx.example.test");
  const auto reply = twilio_posts("/twilio/voice", call_webhook("ringing"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, std::string(kProlog) +
                            R"(<Response><Dial action="https://support.example.test/twilio/voice/dial" timeout="20">)"
                            R"(<Sip>sip:alice@pbx.example.test</Sip></Dial></Response>)");
  auto ctx = context_of("phone", kCustomer);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->conversation.assignee_id, "alice");

  // Twilio asks again (a timeout on its side): the same answer, nothing added.
  const uint64_t seq = last_seq();
  EXPECT_EQ(twilio_posts("/twilio/voice", call_webhook("ringing")).body, reply.body);
  EXPECT_EQ(last_seq(), seq);

  EXPECT_EQ(twilio_posts("/twilio/voice/status", call_webhook("in-progress")).status, 200);
  EXPECT_EQ(twilio_posts("/twilio/voice/status", call_webhook("in-progress")).status, 200);  // repeated
  Form completed = call_webhook("completed");
  completed.emplace_back("CallDuration", "42");
  EXPECT_EQ(twilio_posts("/twilio/voice/status", completed).status, 200);
  EXPECT_EQ(twilio_posts("/twilio/voice/status", completed).status, 200);  // repeated

  EXPECT_EQ(call_states(), (std::vector<State>{State::kRinging, State::kInProgress, State::kEnded}));
  const auto events = call_events();
  EXPECT_EQ(events.back().duration, std::chrono::seconds(42));
  EXPECT_EQ(events.back().call_id, kCallSid);
  EXPECT_EQ(events.front().agent_id, "alice");
}

TEST_F(TwilioVoiceTest, ACompletedCallbackAloneStillEndsAnAnsweredCall) {
  agent_online("alice", "tel:+14155550123");
  const auto reply = twilio_posts("/twilio/voice", call_webhook("ringing"));
  EXPECT_NE(reply.body.find("<Number>+14155550123</Number>"), std::string::npos) << reply.body;
  Form completed = call_webhook("completed");
  completed.emplace_back("CallDuration", "30");
  EXPECT_EQ(twilio_posts("/twilio/voice/status", completed).status, 200);
  EXPECT_EQ(call_states(), (std::vector<State>{State::kRinging, State::kInProgress, State::kEnded}));
}

TEST_F(TwilioVoiceTest, NobodyFreeMeansAMissedCallAVoicemailAndItsTranscriptOnTheConversation) {
  const auto reply = twilio_posts("/twilio/voice", call_webhook("ringing"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("<Say>All of our agents are busy"), std::string::npos) << reply.body;
  EXPECT_EQ(call_states(), (std::vector<State>{State::kRinging, State::kMissed}));
  auto ctx = context_of("phone", kCustomer);
  ASSERT_TRUE(ctx.ok());
  const std::string conversation = ctx->conversation.id;

  const std::string recording_url = attribute_of(reply.body, "recordingStatusCallback");
  EXPECT_EQ(recording_url,
            std::string(kPublicBase) + "/twilio/voice/recording?caller=%2B14155550100&conversation=" + conversation);
  EXPECT_EQ(attribute_of(reply.body, "action"), std::string(kPublicBase) + "/twilio/voice/hangup");
  EXPECT_EQ(twilio_posts_to(attribute_of(reply.body, "action"), {{"CallSid", kCallSid}, {"RecordingUrl", "x"}}).body,
            std::string(kProlog) + "<Response><Hangup/></Response>");

  const Form recording = {
      {"AccountSid", kAccount},
      {"CallSid", kCallSid},
      {"RecordingSid", "RE0123456789abcdef0123456789abcdef"},
      {"RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE0123456789abcdef0123456789abcdef"},
      {"RecordingStatus", "completed"},
      {"RecordingDuration", "17"},
      {"RecordingChannels", "1"},
      {"RecordingSource", "RecordVerb"},
      {"RecordingStartTime", "Tue, 24 Nov 2026 04:00:00 +0000"}};
  EXPECT_EQ(twilio_posts_to(recording_url, recording).status, 200);
  EXPECT_EQ(twilio_posts_to(recording_url, recording).status, 200);  // repeated: nothing added

  const std::string transcription_url = attribute_of(reply.body, "transcribeCallback");
  const Form transcription = {{"AccountSid", kAccount},
                              {"CallSid", kCallSid},
                              {"From", kCustomer},
                              {"To", kOurNumber},
                              {"RecordingSid", "RE0123456789abcdef0123456789abcdef"},
                              {"RecordingUrl", "https://api.twilio.com/x"},
                              {"TranscriptionSid", "TR0123456789abcdef0123456789abcdef"},
                              {"TranscriptionText", "Hi, it is Ana, my parcel is lost. Call me back please."},
                              {"TranscriptionStatus", "completed"},
                              {"TranscriptionUrl", "https://api.twilio.com/y"}};
  EXPECT_EQ(twilio_posts_to(transcription_url, transcription).status, 200);
  EXPECT_EQ(twilio_posts_to(transcription_url, transcription).status, 200);

  const auto stored = messages("phone", kCustomer);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].external_id, "RE0123456789abcdef0123456789abcdef");
  EXPECT_EQ(stored[0].text, "Voicemail (17 s)");
  ASSERT_EQ(stored[0].attachments.size(), 1u);
  EXPECT_TRUE(stored[0].attachments[0].url.ends_with("/Recordings/RE0123456789abcdef0123456789abcdef"));
  EXPECT_EQ(stored[1].external_id, "TR0123456789abcdef0123456789abcdef");
  EXPECT_EQ(stored[1].text, "Hi, it is Ana, my parcel is lost. Call me back please.");
  EXPECT_EQ(stored[1].metadata.at("call_sid"), kCallSid);
  ctx = context_of("phone", kCustomer);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->conversation.id, conversation);  // one conversation for all of it
}

TEST_F(TwilioVoiceTest, AnAgentWhoDoesNotAnswerMakesAMissedCallAndOffersVoicemail) {
  agent_online("alice", "sip:alice@pbx.example.test");
  EXPECT_EQ(twilio_posts("/twilio/voice", call_webhook("ringing")).status, 200);
  Form dial = call_webhook("in-progress");
  dial.emplace_back("DialCallSid", "CAchild");
  dial.emplace_back("DialCallStatus", "no-answer");
  const auto reply = twilio_posts("/twilio/voice/dial", dial);
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("<Record"), std::string::npos) << reply.body;
  const auto events = call_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].state, State::kMissed);
  EXPECT_EQ(events[1].reason, "no-answer");
  // The caller hangs up after the message: Missed is final, Twilio still gets 200.
  Form completed = call_webhook("completed");
  completed.emplace_back("CallDuration", "35");
  EXPECT_EQ(twilio_posts("/twilio/voice/status", completed).status, 200);
  EXPECT_EQ(call_events().size(), 2u);
}

TEST_F(TwilioVoiceTest, UnsignedAndTamperedCallWebhooksAreRefusedAndNothingIsStored) {
  agent_online("alice", "sip:alice@pbx.example.test");
  const Form form = call_webhook("ringing");
  EXPECT_EQ(post_form(twilio_->local_port(), "/twilio/voice", form, std::nullopt).status, 403);
  Form tampered = form;
  tampered[5].second = "+14155550111";  // Caller
  EXPECT_EQ(post_form(twilio_->local_port(), "/twilio/voice", tampered,
                      sign_as_twilio(kToken, std::string(kPublicBase) + "/twilio/voice", form))
                .status,
            403);
  EXPECT_EQ(post_form(twilio_->local_port(), "/twilio/voice/status", call_webhook("completed"), "bm90IGEgc2lnbmF0dXJl")
                .status,
            403);
  EXPECT_FALSE(context_of("phone", kCustomer).ok());
  EXPECT_FALSE(context_of("phone", "+14155550111").ok());
}

TEST_F(TwilioVoiceTest, AWithheldNumberHearsThatWeCannotTakeTheCall) {
  const auto reply = twilio_posts("/twilio/voice", call_webhook("ringing", "anonymous"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("cannot take your call"), std::string::npos) << reply.body;
  EXPECT_EQ(reply.body.find("<Record"), std::string::npos);
}

TEST(TwilioFactory, IsNamedTwilioAndRefusesBadSettingsNamingTheField) {
  class NoHost final : public sr::AdapterHost {
    void ingest(sr::InboundMessage, std::function<void(sr::Result<sr::IngestResult>)>) override {}
    void report_delivery(std::string, sr::DeliveryStatus, std::string) override {}
    void report_retryable_failure(std::string, std::string) override {}
    void report_sent(std::string, std::string, std::function<void(sr::Status)>) override {}
    void report_receipt(sr::DeliveryReceipt, std::function<void(sr::Status)>) override {}
    void report_receipts_up_to(std::string, std::string, sr::Timestamp, sr::DeliveryStatus,
                               std::function<void(sr::Status)>) override {}
    void route_call(sr::InboundCall, std::function<void(sr::Result<sr::CallRouting>)>) override {}
    void update_call(sr::CallUpdate, std::function<void(sr::Result<sr::IngestResult>)>) override {}
  } host;
  auto factory = make_factory();
  EXPECT_EQ(factory->name(), "twilio");
  auto bad = factory->create(R"({"public_base_url":"https://x","account_sid":"AC1","numbers":["+1415"]})", host);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "auth_token");
}

}  // namespace
}  // namespace switchboard::adapters::twilio
