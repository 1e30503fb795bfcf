// The chat adapter against a real Router (memory store) and a real WebSocket client:
// the protocol, idempotent re-sends, acks only once durable, resume without loss or
// repeats, verified visitors, and every refusal.

#include "chat/chat_adapter.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <functional>
#include <future>
#include <thread>

#include <switchboard/router/router.h>

#include "../common/async_wait.h"
#include "chat/protocol.h"
#include "chat/visitor_token.h"
#include "ws_test_client.h"

namespace switchboard::adapters::chat {
namespace {

namespace json = boost::json;
namespace sr = switchboard::router;
using testing::http_request;
using testing::WsTestClient;

constexpr char kVisitorSecret[] = "visitor-secret-for-tests";
constexpr char kIdentitySecret[] = "identity-secret-for-tests";

using switchboard::testing::await;
using switchboard::testing::eventually;  // for counters the server bumps just after the client saw the close

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
uint64_t num(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  return v->is_uint64() ? v->as_uint64() : static_cast<uint64_t>(v->as_int64());
}

class ChatAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.listen = "127.0.0.1:0";
    settings_.visitor_secret = kVisitorSecret;
    settings_.identity_secret = kIdentitySecret;
    settings_.hello_timeout = std::chrono::seconds(10);
  }

  void start() {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    sr::RouterOptions options;
    options.desk.default_queue = "support";
    router_ = std::make_unique<sr::Router>(io_, sr::make_memory_store(), options);
    auto adapter = std::make_unique<ChatAdapter>(settings_, *router_, router_.get());
    chat_ = adapter.get();
    router_->add_adapter(std::move(adapter));
    ASSERT_TRUE(await<sr::Done>([&](auto d) { router_->recover(d); }).ok());
    ASSERT_TRUE(await<sr::Queue>([&](auto d) { router_->upsert_queue(sr::Queue{"support"}, d); }).ok());
    ASSERT_TRUE(router_->start_adapters().ok());
    port_ = chat_->local_port();
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    if (router_) router_->stop();
    router_.reset();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  // Connects and says hello; the welcome frame, after which `synced` is read too.
  json::object hello(WsTestClient& client, json::object frame = {}) {
    EXPECT_EQ(client.connect(port_), "");
    frame["type"] = "hello";
    EXPECT_TRUE(client.send_json(frame));
    auto welcome = client.read_type("welcome");
    EXPECT_TRUE(welcome.has_value());
    return welcome.value_or(json::object{});
  }

  sr::Result<sr::SendMessageResult> reply(const std::string& conversation_id, const std::string& text) {
    sr::SendMessageCommand command;
    command.conversation_id = conversation_id;
    command.text = text;
    command.author_id = "agent-a";
    return await<sr::SendMessageResult>([&](auto d) { router_->send_message(command, "agent-a", d); });
  }

  sr::Result<sr::ConversationContext> context(const std::string& conversation_id) {
    return await<sr::ConversationContext>([&](auto d) { router_->get_context(conversation_id, std::nullopt, 100, d); });
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
  ChatSettings settings_;
  std::unique_ptr<sr::Router> router_;
  ChatAdapter* chat_ = nullptr;
  uint16_t port_ = 0;
};

TEST_F(ChatAdapterTest, AnonymousVisitorGetsATokenAndAnAckOnceStored) {
  start();
  WsTestClient client;
  auto welcome = hello(client);
  EXPECT_EQ(str(welcome, "type"), "welcome");
  EXPECT_FALSE(str(welcome, "token").empty());
  EXPECT_TRUE(str(welcome, "visitor").starts_with("v:"));
  EXPECT_EQ(welcome.at("verified").as_bool(), false);
  ASSERT_TRUE(client.read_type("synced"));

  ASSERT_TRUE(client.send_json({{"type", "message"}, {"id", "m1"}, {"text", "hello, anyone?"}}));
  auto ack = client.read_type("ack");
  ASSERT_TRUE(ack);
  EXPECT_EQ(str(*ack, "id"), "m1");
  EXPECT_EQ(ack->at("duplicate").as_bool(), false);
  const std::string conversation = str(*ack, "conversation_id");
  ASSERT_FALSE(conversation.empty());
  // Acknowledged means durable: the router's timeline already holds it at that seq.
  auto ctx = context(conversation);
  ASSERT_TRUE(ctx.ok());
  bool found = false;
  for (const auto& e : ctx->events) {
    if (auto* m = std::get_if<sr::Message>(&e.body); m && e.seq == num(*ack, "seq")) {
      found = m->text == "hello, anyone?" && m->channel == "chat" && m->address == str(welcome, "visitor");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(chat_->counters().messages_in, 1u);
}

TEST_F(ChatAdapterTest, AResentMessageIsAcknowledgedAgainNotStoredTwice) {
  start();
  WsTestClient client;
  hello(client);
  ASSERT_TRUE(client.read_type("synced"));
  client.send_json({{"type", "message"}, {"id", "same"}, {"text", "once"}});
  auto first = client.read_type("ack");
  client.send_json({{"type", "message"}, {"id", "same"}, {"text", "once"}});
  auto second = client.read_type("ack");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(num(*first, "seq"), num(*second, "seq"));
  EXPECT_EQ(second->at("duplicate").as_bool(), true);
  auto ctx = context(str(*first, "conversation_id"));
  ASSERT_TRUE(ctx.ok());
  int messages = 0;
  for (const auto& e : ctx->events) messages += std::holds_alternative<sr::Message>(e.body);
  EXPECT_EQ(messages, 1);
  EXPECT_EQ(chat_->counters().duplicates, 1u);
}

TEST_F(ChatAdapterTest, AgentRepliesArriveLiveWithTheirSeqAndAreMarkedDeliveredThenRead) {
  start();
  WsTestClient client;
  hello(client);
  client.read_type("synced");
  client.send_json({{"type", "message"}, {"id", "m1"}, {"text", "hi"}});
  auto ack = client.read_type("ack");
  ASSERT_TRUE(ack);
  const std::string conversation = str(*ack, "conversation_id");
  auto sent = reply(conversation, "Hello! How can I help?");
  ASSERT_TRUE(sent.ok()) << sent.error().describe();
  EXPECT_EQ(sent->channel, "chat");
  auto message = client.read_type("message");
  ASSERT_TRUE(message);
  EXPECT_EQ(str(*message, "text"), "Hello! How can I help?");
  EXPECT_EQ(str(*message, "direction"), "outbound");
  EXPECT_EQ(num(*message, "seq"), sent->seq);
  EXPECT_EQ(str(*message, "conversation_id"), conversation);

  client.send_json({{"type", "read"}, {"seq", sent->seq}});
  // The read receipt becomes a DeliveryUpdated(read) event on the timeline.
  bool read = false;
  for (int i = 0; i < 200 && !read; ++i) {
    auto ctx = context(conversation);
    for (const auto& e : ctx->events) {
      if (auto* d = std::get_if<sr::DeliveryUpdated>(&e.body)) {
        read = read || (d->message_seq == sent->seq && d->status == sr::DeliveryStatus::kRead);
      }
    }
    if (!read) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(read);
}

TEST_F(ChatAdapterTest, ResumeAfterADroppedConnectionMissesNothingAndRepeatsNothing) {
  start();
  WsTestClient first;
  auto welcome = hello(first);
  first.read_type("synced");
  const std::string token = str(welcome, "token");
  first.send_json({{"type", "message"}, {"id", "m1"}, {"text", "hi"}});
  auto ack = first.read_type("ack");
  ASSERT_TRUE(ack);
  const std::string conversation = str(*ack, "conversation_id");
  auto r1 = reply(conversation, "one");
  ASSERT_TRUE(r1.ok());
  auto got1 = first.read_type("message");
  ASSERT_TRUE(got1);
  const uint64_t last_seen = num(*got1, "seq");
  // Two more replies go out while the client is not reading, then the network dies:
  // whatever was in flight is lost with the socket.
  auto r2 = reply(conversation, "two");
  auto r3 = reply(conversation, "three");
  ASSERT_TRUE(r2.ok() && r3.ok());
  first.drop();

  WsTestClient second;
  auto again = hello(second, {{"token", token}, {"conversation_id", conversation}, {"last_seq", last_seen}});
  EXPECT_EQ(str(again, "visitor"), str(welcome, "visitor"));
  EXPECT_EQ(again.at("resumed").as_bool(), true);
  std::vector<std::string> texts;
  std::vector<uint64_t> seqs;
  while (auto f = second.read_json()) {
    if (str(*f, "type") == "synced") break;
    if (str(*f, "type") == "message") {
      texts.push_back(str(*f, "text"));
      seqs.push_back(num(*f, "seq"));
    }
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"two", "three"}));
  EXPECT_EQ(seqs, (std::vector<uint64_t>{r2->seq, r3->seq}));
  // And live traffic carries on after the replay, once.
  auto r4 = reply(conversation, "four");
  ASSERT_TRUE(r4.ok());
  auto live = second.read_type("message");
  ASSERT_TRUE(live);
  EXPECT_EQ(str(*live, "text"), "four");
}

TEST_F(ChatAdapterTest, AReloadReplaysTheWholeConversationFromSeqZero) {
  start();
  WsTestClient first;
  auto welcome = hello(first);
  first.read_type("synced");
  first.send_json({{"type", "message"}, {"id", "m1"}, {"text", "question"}});
  auto ack = first.read_type("ack");
  ASSERT_TRUE(ack);
  ASSERT_TRUE(reply(str(*ack, "conversation_id"), "answer").ok());
  ASSERT_TRUE(first.read_type("message"));
  first.close();

  WsTestClient reloaded;
  hello(reloaded, {{"token", str(welcome, "token")}});
  std::vector<std::string> seen;
  while (auto f = reloaded.read_json()) {
    if (str(*f, "type") == "synced") break;
    if (str(*f, "type") == "message")
      seen.push_back(str(*f, "direction") + ":" + str(*f, "text") + ":" + str(*f, "id"));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"inbound:question:m1", "outbound:answer:"}));
}

TEST_F(ChatAdapterTest, AReplyDuringABlipWaitsForTheReconnect) {
  start();
  WsTestClient first;
  auto welcome = hello(first);
  first.read_type("synced");
  first.send_json({{"type", "message"}, {"id", "m1"}, {"text", "hi"}});
  auto ack = first.read_type("ack");
  ASSERT_TRUE(ack);
  first.close();
  for (int i = 0; i < 200 && chat_->live_sessions() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Gone for less than reconnect_grace: still counted present, so the reply stays on chat.
  EXPECT_TRUE(chat_->has_live_session("chat", str(welcome, "visitor")));
  auto r = reply(str(*ack, "conversation_id"), "while you were away");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->channel, "chat");
  WsTestClient second;
  hello(second, {{"token", str(welcome, "token")},
                 {"conversation_id", str(*ack, "conversation_id")},
                 {"last_seq", num(*ack, "seq")}});
  auto m = second.read_type("message");
  ASSERT_TRUE(m);
  EXPECT_EQ(str(*m, "text"), "while you were away");
}

TEST_F(ChatAdapterTest, WithoutGraceAGoneVisitorIsNotLive) {
  settings_.reconnect_grace = std::chrono::milliseconds(0);
  start();
  WsTestClient client;
  auto welcome = hello(client);
  EXPECT_TRUE(chat_->has_live_session("chat", str(welcome, "visitor")));
  client.close();
  for (int i = 0; i < 200 && chat_->live_sessions() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(chat_->has_live_session("chat", str(welcome, "visitor")));
}

TEST_F(ChatAdapterTest, AnotherTabOfTheSameVisitorSeesTheMessage) {
  start();
  WsTestClient a, b;
  auto welcome = hello(a);
  a.read_type("synced");
  hello(b, {{"token", str(welcome, "token")}});
  b.read_type("synced");
  a.send_json({{"type", "message"}, {"id", "tab-a-1"}, {"text", "from tab a"}});
  ASSERT_TRUE(a.read_type("ack"));
  auto echo = b.read_type("message");
  ASSERT_TRUE(echo);
  EXPECT_EQ(str(*echo, "id"), "tab-a-1");
  EXPECT_EQ(str(*echo, "direction"), "inbound");
}

TEST_F(ChatAdapterTest, SignedHostUserIsVerifiedAndForgedOneIsRefused) {
  start();
  VisitorTokens tokens(kVisitorSecret, kIdentitySecret);
  WsTestClient good;
  auto welcome = hello(good, {{"user_id", "42"}, {"user_hash", tokens.user_hash("42")}, {"name", "Ana"}});
  EXPECT_EQ(str(welcome, "visitor"), "u:42");
  EXPECT_EQ(welcome.at("verified").as_bool(), true);
  good.read_type("synced");
  good.send_json({{"type", "message"}, {"id", "m1"}, {"text", "signed in"}});
  auto ack = good.read_type("ack");
  ASSERT_TRUE(ack);
  auto ctx = context(str(*ack, "conversation_id"));
  ASSERT_TRUE(ctx.ok());
  ASSERT_EQ(ctx->contact.identities.size(), 1u);
  EXPECT_TRUE(ctx->contact.identities[0].verified);
  EXPECT_EQ(ctx->contact.display_name, "Ana");

  WsTestClient forged;
  ASSERT_EQ(forged.connect(port_), "");
  forged.send_json({{"type", "hello"}, {"user_id", "42"}, {"user_hash", tokens.user_hash("43")}});
  auto error = forged.read_type("error");
  ASSERT_TRUE(error);
  EXPECT_EQ(str(*error, "code"), "forged_signature");
  EXPECT_FALSE(forged.read().has_value());
  EXPECT_EQ(forged.close_code(), 1008);
  EXPECT_EQ(chat_->counters().forged_signatures, 1u);
}

TEST_F(ChatAdapterTest, ATamperedVisitorTokenIsRefused) {
  start();
  WsTestClient first;
  auto welcome = hello(first);
  std::string token = str(welcome, "token");
  token.back() = token.back() == 'A' ? 'B' : 'A';
  WsTestClient tampered;
  ASSERT_EQ(tampered.connect(port_), "");
  tampered.send_json({{"type", "hello"}, {"token", token}});
  auto error = tampered.read_type("error");
  ASSERT_TRUE(error);
  EXPECT_EQ(str(*error, "code"), "bad_token");
  EXPECT_FALSE(tampered.read().has_value());
  EXPECT_EQ(tampered.close_code(), 1008);
  EXPECT_EQ(chat_->counters().bad_tokens, 1u);
}

TEST_F(ChatAdapterTest, WrongOriginIsRefusedAtTheUpgrade) {
  settings_.allowed_origins = {"https://shop.example"};
  start();
  WsTestClient evil;
  EXPECT_NE(evil.connect(port_, "https://evil.example"), "");
  EXPECT_EQ(evil.handshake_status(), 403);
  WsTestClient none;
  EXPECT_NE(none.connect(port_, "-"), "");
  EXPECT_EQ(none.handshake_status(), 403);
  WsTestClient good;
  EXPECT_EQ(good.connect(port_, "https://shop.example"), "");
  EXPECT_EQ(chat_->counters().origin_refused, 2u);
}

TEST_F(ChatAdapterTest, TooManyConnectionsAreRefused) {
  settings_.max_connections_per_address = 2;
  start();
  WsTestClient a, b, c;
  EXPECT_EQ(a.connect(port_), "");
  EXPECT_EQ(b.connect(port_), "");
  EXPECT_NE(c.connect(port_), "");
  EXPECT_EQ(c.handshake_status(), 503);
  EXPECT_EQ(chat_->counters().connections_refused, 1u);
}

TEST_F(ChatAdapterTest, BadFramesGetAnErrorAndAreCounted) {
  start();
  WsTestClient client;
  ASSERT_EQ(client.connect(port_), "");
  // Before hello, anything else closes the connection.
  client.send_json({{"type", "message"}, {"id", "x"}, {"text", "too early"}});
  EXPECT_FALSE(client.read().has_value());
  EXPECT_EQ(client.close_code(), 1008);

  WsTestClient other;
  hello(other);
  other.read_type("synced");
  for (const char* bad : {"not json", "[1,2]", R"({"type":"fly"})", R"({"type":"message","text":"no id"})",
                          R"({"type":"message","id":"bad id!","text":"x"})", R"({"type":"read"})",
                          R"({"type":"message","id":"a","text":"x","attachments":[{"url":"http://x"}]})"}) {
    other.send(bad);
    auto error = other.read_type("error");
    ASSERT_TRUE(error) << bad;
    EXPECT_EQ(str(*error, "code"), "bad_frame") << bad;
  }
  EXPECT_GE(chat_->counters().bad_frames, 8u);
}

TEST_F(ChatAdapterTest, OversizedAndInvalidUtf8FramesClose) {
  settings_.max_message_bytes = 1024;
  start();
  WsTestClient big;
  hello(big);
  big.send(R"({"type":"message","id":"m","text":")" + std::string(2000, 'x') + "\"}");
  EXPECT_FALSE(big.read_type("never").has_value());
  EXPECT_EQ(big.close_code(), 1009);
  WsTestClient bad;
  hello(bad);
  bad.send("{\"type\":\"message\",\"id\":\"m\",\"text\":\"\xff\xfe\"}");
  EXPECT_FALSE(bad.read_type("never").has_value());
  EXPECT_EQ(bad.close_code(), 1007);
  EXPECT_TRUE(eventually([&] { return chat_->http_counters().websocket_too_big == 1; }));
  EXPECT_TRUE(eventually([&] { return chat_->http_counters().websocket_bad_utf8 == 1; }));
}

TEST_F(ChatAdapterTest, MessagesOverTheRateLimitAreRefusedNotLost) {
  settings_.message_burst = 3;
  settings_.messages_per_minute = 0.001;  // no refill within the test
  start();
  WsTestClient client;
  hello(client);
  client.read_type("synced");
  for (int i = 0; i < 4; ++i) {
    client.send_json({{"type", "message"}, {"id", "m" + std::to_string(i)}, {"text", "spam"}});
  }
  int acks = 0, limited = 0;
  for (int i = 0; i < 4; ++i) {
    auto f = client.read_json();
    ASSERT_TRUE(f);
    if (str(*f, "type") == "ack") ++acks;
    if (str(*f, "type") == "error" && str(*f, "code") == "rate_limited") {
      ++limited;
      EXPECT_EQ(str(*f, "id"), "m3");
      EXPECT_GT(num(*f, "retry_after_ms"), 0u);
    }
  }
  EXPECT_EQ(acks, 3);
  EXPECT_EQ(limited, 1);
  EXPECT_EQ(chat_->counters().rate_limited, 1u);
}

TEST_F(ChatAdapterTest, AFrameFloodClosesTheConnection) {
  settings_.frame_burst = 5;
  settings_.frames_per_second = 0.001;
  start();
  WsTestClient client;
  hello(client);
  for (int i = 0; i < 10; ++i) client.send_json({{"type", "typing"}, {"active", true}});
  EXPECT_FALSE(client.read_type("never").has_value());
  EXPECT_EQ(client.close_code(), 1008);
  EXPECT_EQ(chat_->counters().frame_floods, 1u);
}

TEST_F(ChatAdapterTest, TypingGoesBothWaysAndIsNeverReplayed) {
  start();
  WsTestClient client;
  auto welcome = hello(client);
  client.read_type("synced");
  client.send_json({{"type", "message"}, {"id", "m1"}, {"text", "hi"}});
  auto ack = client.read_type("ack");
  ASSERT_TRUE(ack);
  const std::string conversation = str(*ack, "conversation_id");
  client.send_json({{"type", "typing"}, {"active", true}});
  client.send_json({{"type", "ping"}});
  ASSERT_TRUE(client.read_type("pong"));  // the typing frame was handled before it
  auto agent = http_request(port_, boost::beast::http::verb::post, "/chat/v1/typing",
                            json::serialize(json::object{{"conversation_id", conversation}, {"author", "Bea"}}));
  ASSERT_EQ(agent.status, 200);
  EXPECT_NE(agent.body.find("\"visitor_typing\":true"), std::string::npos) << agent.body;
  auto typing = client.read_type("typing");
  ASSERT_TRUE(typing);
  EXPECT_EQ(str(*typing, "author"), "Bea");
  EXPECT_EQ(num(*typing, "seq"), num(*ack, "seq"));
  client.close();
  // A resume replays messages only.
  WsTestClient again;
  hello(again, {{"token", str(welcome, "token")}});
  while (auto f = again.read_json()) {
    EXPECT_NE(str(*f, "type"), "typing");
    if (str(*f, "type") == "synced") break;
  }
}

TEST_F(ChatAdapterTest, WidgetAndDemoPageAreServed) {
  start();
  auto js = http_request(port_, boost::beast::http::verb::get, "/chat/widget.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.body.find("SwitchboardChat"), std::string::npos);
  auto demo = http_request(port_, boost::beast::http::verb::get, "/chat/demo.html");
  EXPECT_EQ(demo.status, 200);
  EXPECT_NE(demo.body.find("/chat/widget.js"), std::string::npos);
}

TEST(ChatSettings, ParsesAndRefuses) {
  auto ok = parse_settings(R"({"listen":"0.0.0.0:9000","visitor_secret":"0123456789abcdef","max_message_bytes":2048.0,
                               "allowed_origins":["https://a.example"],"idle_timeout_seconds":30})");
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(ok->max_message_bytes, 2048u);
  EXPECT_EQ(ok->idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(parse_settings("{}").error().field, "visitor_secret");
  EXPECT_EQ(parse_settings(R"({"visitor_secret":"0123456789abcdef","colour":"red"})").error().field, "colour");
  EXPECT_EQ(parse_settings(R"({"visitor_secret":"0123456789abcdef","max_connections":"many"})").error().field,
            "max_connections");
  EXPECT_EQ(parse_settings(R"({"visitor_secret":"0123456789abcdef","allowed_origins":["example.org"]})").error().field,
            "allowed_origins");
  EXPECT_FALSE(parse_settings("not json").ok());
}

TEST(VisitorTokens, SignAndVerify) {
  VisitorTokens tokens("a-visitor-secret!", "an-identity-secret");
  const auto id = VisitorTokens::new_visitor_id();
  const auto token = tokens.issue(id);
  EXPECT_EQ(tokens.verify(token), std::optional(id));
  EXPECT_FALSE(VisitorTokens("another-secret!!", "").verify(token));
  EXPECT_FALSE(tokens.verify("v1." + id + ".AAAA"));
  EXPECT_FALSE(tokens.verify("garbage"));
  EXPECT_TRUE(tokens.user_signed("42", tokens.user_hash("42")));
  EXPECT_FALSE(tokens.user_signed("42", tokens.user_hash("4")));
  EXPECT_FALSE(VisitorTokens("a-visitor-secret!", "").user_signed("42", tokens.user_hash("42")));
}

TEST(ChatProtocol, ParsesClientFrames) {
  auto hello = parse_client_frame(R"({"type":"hello","token":"t","conversation_id":"cv_1","last_seq":7})");
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->last_seq, 7u);
  auto message =
      parse_client_frame(R"({"type":"message","id":"m-1","text":"hi","attachments":[{"url":"attachment:)" +
                         std::string(64, 'a') + R"(","filename":"a.png","content_type":"image/png","size":3}]})");
  ASSERT_TRUE(message.ok()) << message.error().describe();
  ASSERT_EQ(message->attachments.size(), 1u);
  EXPECT_EQ(message->attachments[0].size_bytes, 3u);
  EXPECT_EQ(parse_client_frame(R"({"type":"message","id":"m","text":""})").error().field, "text");
  EXPECT_EQ(parse_client_frame(R"({"type":"hello","user_id":"1"})").error().field, "user_hash");
  EXPECT_EQ(parse_client_frame(R"({"type":"read","seq":-1})").error().field, "seq");
  EXPECT_FALSE(parse_client_frame(std::string(20, '[') + std::string(20, ']')).ok());  // too deep
}

}  // namespace
}  // namespace switchboard::adapters::chat
