#pragma once

// What the social adapter's tests share: a real Router on a memory store, the adapter
// listening on port 0, a capture server standing in for graph.facebook.com and
// api.telegram.org, and a real HTTP client. Signatures are computed here with OpenSSL
// directly, not with the adapter's own hmac.h, so a wrong implementation cannot agree
// with itself.

#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include <switchboard/router/router.h>

#include "../common/async_wait.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "social/settings.h"
#include "social/social_adapter.h"

namespace switchboard::adapters::social::testing {

namespace sr = switchboard::router;
namespace json = boost::json;

inline constexpr char kAppSecret[] = "meta-app-secret-for-tests";
inline constexpr char kVerifyToken[] = "verify-me-please";
inline constexpr char kTelegramSecret[] = "telegram-secret_token-1";
inline constexpr char kPage[] = "106331012345678";
inline constexpr char kPageToken[] = "EAAPageToken123";
inline constexpr char kInstagram[] = "17841400000000001";
inline constexpr char kInstagramToken[] = "IGAAToken456";
inline constexpr char kWhatsAppNumber[] = "106540352242922";
inline constexpr char kWhatsAppToken[] = "EAAWhatsAppToken789";
inline constexpr char kBotToken[] = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";

inline std::string fixture(const std::string& name) {
  std::ifstream in(std::string(SOCIAL_FIXTURES) + "/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_FALSE(s.str().empty()) << name;
  return s.str();
}

// "sha256=<hex>", as Meta sends it.
inline std::string meta_signature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &length);
  std::string out = "sha256=";
  char hex[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

using switchboard::testing::await;
using switchboard::testing::eventually;  // for what the router does after answering (sends, receipts)

// One request the capture server got.
struct Captured {
  std::string method;
  std::string target;
  std::string authorization;
  std::string content_type;
  std::string body;
};

// Stands in for the providers' send APIs: records each request and answers with the
// next scripted answer (then the default one).
class CaptureServer {
 public:
  CaptureServer() : server_(options()) {
    server_.route_prefix(http::Verb::post, "/", [this](http::Request r, const http::Peer&, http::Respond respond) {
      std::lock_guard lock(mutex_);
      requests_.push_back({std::string(r.method_string()), std::string(r.target()),
                           std::string(r[http::beast_http::field::authorization]),
                           std::string(r[http::beast_http::field::content_type]), r.body()});
      auto [status, body] = script_.empty() ? default_answer(r.target()) : script_.front();
      if (!script_.empty()) script_.erase(script_.begin());
      respond(http::make_response(static_cast<http::beast_http::status>(status), body, "application/json"));
    });
    EXPECT_TRUE(server_.start().ok());
  }
  std::string base_url() const { return "http://" + server_.local_address(); }
  void then_answer(int status, std::string body) {
    std::lock_guard lock(mutex_);
    script_.emplace_back(status, std::move(body));
  }
  std::vector<Captured> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  static http::HttpServerOptions options() {
    http::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    return o;
  }
  // What each provider answers a good send with, as documented.
  static std::pair<int, std::string> default_answer(std::string_view target) {
    if (target.find("/sendMessage") != std::string_view::npos) {
      return {
          200,
          R"({"ok":true,"result":{"message_id":4242,"chat":{"id":1111111,"type":"private"},"date":1700000100,"text":"x"}})"};
    }
    if (target.find(kWhatsAppNumber) != std::string_view::npos) {
      return {
          200,
          R"({"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.OUTBOUND0001"}]})"};
    }
    return {200, R"({"recipient_id":"5487611111111111","message_id":"m_OUTBOUND0001"})"};
  }

  http::HttpServer server_;
  mutable std::mutex mutex_;
  std::vector<Captured> requests_;
  std::vector<std::pair<int, std::string>> script_;
};

struct Answer {
  long status = 0;
  std::string body;
};

class SocialHarness : public ::testing::Test {
 protected:
  void TearDown() override {
    if (router_) router_->stop();
    router_.reset();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  SocialSettings settings() {
    SocialSettings s;
    s.listen = "127.0.0.1:0";
    s.graph_base_url = capture_.base_url() + "/v19.0";
    s.telegram_base_url = capture_.base_url();
    s.send_timeout = std::chrono::seconds(5);
    MetaApp app;
    app.path = "/meta";
    app.app_secret = kAppSecret;
    app.verify_token = kVerifyToken;
    app.pages = {{kPage, kPageToken}};
    app.instagram_accounts = {{kInstagram, kInstagramToken}};
    app.whatsapp_numbers = {{kWhatsAppNumber, kWhatsAppToken}};
    s.meta_apps = {app};
    s.telegram_bots = {{"/telegram/supportbot", "supportbot", kBotToken, kTelegramSecret}};
    return s;
  }

  void start(SocialSettings s) { start(std::move(s), sr::RouterOptions{}); }

  void start(SocialSettings s, sr::RouterOptions options) {
    std::string pattern = (std::filesystem::temp_directory_path() / "social-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    s.listening_file = (dir_ / "addr").string();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    options.desk.default_queue = "support";
    options.desk.limits.first_retry_delay = std::chrono::milliseconds(20);
    router_ = std::make_unique<sr::Router>(io_, sr::make_memory_store(), options);
    router_->add_adapter(make_adapter(std::move(s), *router_));
    ASSERT_TRUE(await<sr::Done>([&](auto d) { router_->recover(d); }).ok());
    ASSERT_TRUE(await<sr::Queue>([&](auto d) { router_->upsert_queue(sr::Queue{"support"}, d); }).ok());
    ASSERT_TRUE(router_->start_adapters().ok());
    std::ifstream in(dir_ / "addr");
    in >> address_;
    ASSERT_FALSE(address_.empty());
  }

  Answer request(const std::string& method, const std::string& target, const std::string& body,
                 http::Fields headers = {}) {
    http::ClientRequest r;
    r.method = method;
    r.url = "http://" + address_ + target;
    r.body = body;
    r.headers = std::move(headers);
    const auto answer = http::send_request(r);
    return {answer.status, answer.body};
  }
  Answer post_meta(const std::string& body, const std::string& secret = kAppSecret) {
    return request("POST", "/meta", body, {{"X-Hub-Signature-256", meta_signature(secret, body)}});
  }
  Answer post_telegram(const std::string& body, const std::string& secret = kTelegramSecret) {
    return request("POST", "/telegram/supportbot", body, {{"X-Telegram-Bot-Api-Secret-Token", secret}});
  }

  std::size_t conversations() {
    auto page = await<sr::ConversationPage>([&](auto d) { router_->list_conversations({}, 1000, "", d); });
    return page.ok() ? page->conversations.size() : 9999;
  }
  sr::Result<sr::ConversationContext> context_of(const std::string& channel, const std::string& address) {
    return await<sr::ConversationContext>([&](auto d) {
      router_->get_context("", sr::Identity{channel, address, false}, 100, d);
    });
  }
  static std::vector<sr::Message> messages(const sr::ConversationContext& c, sr::Direction direction) {
    std::vector<sr::Message> out;
    for (const auto& e : c.events) {
      if (auto* m = std::get_if<sr::Message>(&e.body); m && m->direction == direction) out.push_back(*m);
    }
    return out;
  }
  sr::Result<sr::SendMessageResult> reply(const std::string& conversation_id, const std::string& text,
                                          const std::string& channel = "") {
    sr::SendMessageCommand command;
    command.conversation_id = conversation_id;
    command.text = text;
    command.channel = channel;
    command.author_id = "agent-a";
    return await<sr::SendMessageResult>([&](auto d) { router_->send_message(command, "agent-a", d); });
  }
  // The delivery status of our message at `seq`, as the timeline tells it.
  sr::DeliveryStatus status_of(const std::string& channel, const std::string& address, uint64_t seq) {
    auto c = context_of(channel, address);
    if (!c) return sr::DeliveryStatus::kNone;
    sr::DeliveryStatus status = sr::DeliveryStatus::kNone;
    for (const auto& e : c->events) {
      if (auto* m = std::get_if<sr::Message>(&e.body); m && e.seq == seq) status = m->status;
      if (auto* u = std::get_if<sr::DeliveryUpdated>(&e.body); u && u->message_seq == seq) status = u->status;
    }
    return status;
  }
  std::string failure_reason(const std::string& channel, const std::string& address, uint64_t seq) {
    auto c = context_of(channel, address);
    std::string reason;
    for (const auto& e : c->events) {
      if (auto* u = std::get_if<sr::DeliveryUpdated>(&e.body); u && u->message_seq == seq) reason = u->reason;
    }
    return reason;
  }

  CaptureServer capture_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
  std::unique_ptr<sr::Router> router_;
  std::filesystem::path dir_;
  std::string address_;
};

}  // namespace switchboard::adapters::social::testing
