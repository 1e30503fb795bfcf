// The chat channel end to end: a real switchboardd with the chat adapter configured,
// a real WebSocket client, agents on gRPC, and the widget in headless Chromium.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "client.h"
#include "daemon_process.h"
#include "ws_test_client.h"

extern char** environ;

#define ASSERT_OK(reply) ASSERT_TRUE((reply).ok()) << ::switchboard::testing::describe((reply).status)

namespace switchboard::testing {
namespace {

namespace json = boost::json;

constexpr char kAdminKey[] = "admin-key-for-chat-e2e";
constexpr char kVisitorSecret[] = "visitor-secret-for-e2e";
constexpr char kIdentitySecret[] = "identity-secret-for-e2e";

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
uint64_t num(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  return v->is_uint64() ? v->as_uint64() : v->is_int64() ? static_cast<uint64_t>(v->as_int64()) : 0;
}

std::string hmac_hex(const std::string& key, const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  size_t length = mac.size();
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), mac.size(), &length);
  std::string hex;
  for (size_t i = 0; i < length; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 0xf];
  }
  return hex;
}

// A port nobody listens on right now (the OS picks it; the daemon binds it next).
uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

bool wait_until_listening(uint16_t port) {
  for (int i = 0; i < 500; ++i) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    boost::system::error_code ec;
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class ChatE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "chat-e2e-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    start_daemon();
  }

  void start_daemon() {
    chat_port_ = free_port();
    json::object settings{{"listen", "127.0.0.1:" + std::to_string(chat_port_)},
                          {"visitor_secret", kVisitorSecret},
                          {"identity_secret", kIdentitySecret},
                          {"attachments_dir", (dir_ / "attachments").string()},
                          {"reconnect_grace_seconds", reconnect_grace_seconds_}};
    json::object config{{"default_queue", "support"},
                        {"worker_threads", 2},
                        {"queues", json::array{json::object{{"name", "support"}}}},
                        {"adapters", json::array{json::object{{"name", "chat"}, {"settings", settings}}}}};
    std::ofstream(dir_ / "switchboardd.json") << json::serialize(config);
    const std::string error =
        daemon_.start(SWITCHBOARDD_PATH,
                      {"--grpc-listen", "127.0.0.1:0", "--store", "sqlite:" + (dir_ / "sb.db").string(), "--config",
                       (dir_ / "switchboardd.json").string()},
                      {{"SWITCHBOARD_ADMIN_KEY", kAdminKey}});
    ASSERT_EQ(error, "");
    ASSERT_TRUE(wait_until_listening(chat_port_));
    channel_ = grpc::CreateChannel(daemon_.address(), grpc::InsecureChannelCredentials());
    admin_ = std::make_unique<Client>(channel_, kAdminKey);
  }

  void TearDown() override {
    admin_.reset();
    channel_.reset();
    if (daemon_.running()) EXPECT_EQ(daemon_.terminate(), std::optional<int>(0));
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  Reply<v1::SendMessageResponse> reply(const std::string& conversation_id, const std::string& text) {
    v1::SendMessageRequest request;
    request.set_conversation_id(conversation_id);
    request.set_text(text);
    request.set_author_id("agent-a");
    return admin_->call(&v1::ConversationService::Stub::SendMessage, request);
  }

  json::object hello(WsTestClient& client, json::object frame = {}) {
    EXPECT_EQ(client.connect(chat_port_), "");
    frame["type"] = "hello";
    client.send_json(frame);
    auto welcome = client.read_type("welcome");
    EXPECT_TRUE(welcome.has_value());
    return welcome.value_or(json::object{});
  }

  std::filesystem::path dir_;
  double reconnect_grace_seconds_ = 30;
  uint16_t chat_port_ = 0;
  DaemonProcess daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Client> admin_;
};

TEST_F(ChatE2eTest, WriteGetAckedGetTheAgentReplyDropAndResumeAcrossARestart) {
  WsTestClient first;
  auto welcome = hello(first);
  ASSERT_TRUE(first.read_type("synced"));
  const std::string token = str(welcome, "token");
  ASSERT_TRUE(first.send_json({{"type", "message"}, {"id", "e2e-1"}, {"text", "my order is late"}}));
  auto ack = first.read_type("ack");
  ASSERT_TRUE(ack);
  const std::string conversation = str(*ack, "conversation_id");

  // An agent sees it over gRPC and answers; the answer arrives live with its seq.
  auto context = admin_->get_context(conversation);
  ASSERT_OK(context);
  bool seen = false;
  for (const auto& e : context->events()) seen = seen || e.message().text() == "my order is late";
  EXPECT_TRUE(seen);
  auto r1 = reply(conversation, "Sorry! Let me check.");
  ASSERT_OK(r1);
  EXPECT_EQ(r1->channel(), "chat");
  auto m1 = first.read_type("message");
  ASSERT_TRUE(m1);
  EXPECT_EQ(str(*m1, "text"), "Sorry! Let me check.");
  EXPECT_EQ(num(*m1, "seq"), r1->seq());

  // Two replies in flight when the network dies.
  auto r2 = reply(conversation, "It ships today.");
  auto r3 = reply(conversation, "Tracking: 1Z999.");
  ASSERT_OK(r2);
  ASSERT_OK(r3);
  first.drop();

  // The server restarts too: the resume reads the durable timeline.
  ASSERT_EQ(daemon_.terminate(), std::optional<int>(0));
  start_daemon();

  WsTestClient second;
  auto again = hello(second, {{"token", token}, {"conversation_id", conversation}, {"last_seq", num(*m1, "seq")}});
  EXPECT_EQ(str(again, "visitor"), str(welcome, "visitor"));
  std::vector<std::string> texts;
  while (auto f = second.read_json()) {
    if (str(*f, "type") == "synced") break;
    if (str(*f, "type") == "message") texts.push_back(str(*f, "text"));
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"It ships today.", "Tracking: 1Z999."}));

  // A re-send of the first message after the restart is still a duplicate.
  second.send_json({{"type", "message"}, {"id", "e2e-1"}, {"text", "my order is late"}});
  auto dup = second.read_type("ack");
  ASSERT_TRUE(dup);
  EXPECT_EQ(num(*dup, "seq"), num(*ack, "seq"));
  EXPECT_TRUE(dup->at("duplicate").as_bool());
}

TEST_F(ChatE2eTest, AVisitorWhoLeftGetsTheReplyOnAnotherChannel) {
  reconnect_grace_seconds_ = 0;
  ASSERT_EQ(daemon_.terminate(), std::optional<int>(0));
  start_daemon();
  WsTestClient client;
  hello(client);
  client.read_type("synced");
  client.send_json({{"type", "message"}, {"id", "x1"}, {"text", "call me back"}});
  auto ack = client.read_type("ack");
  ASSERT_TRUE(ack);
  const std::string conversation = str(*ack, "conversation_id");
  auto contact = admin_->get_context(conversation);
  ASSERT_OK(contact);
  ASSERT_OK(admin_->link_identity(contact->contact().id(), "email", "left@example.org"));
  // While the visitor is there, the reply goes to the chat.
  auto live = reply(conversation, "Sure, one moment.");
  ASSERT_OK(live);
  EXPECT_EQ(live->channel(), "chat");
  ASSERT_TRUE(client.read_type("message"));
  client.close();
  // Once the visitor has gone (no reconnect grace here) the chat cannot carry it:
  // SendMessage falls back to the contact's email.
  for (int i = 0; i < 500; ++i) {  // the close is on its way to the server
    if (http_request(chat_port_, bhttp::verb::get, "/chat/v1/stats").body.find("\"live_sessions\":0") !=
        std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto later = reply(conversation, "We'll email you.");
  ASSERT_OK(later);
  EXPECT_EQ(later->channel(), "email");
}

TEST_F(ChatE2eTest, JourneyChatThenEmailThenPhoneIsOneConversation) {
  const std::string user_hash = hmac_hex(kIdentitySecret, "cust-7");
  WsTestClient client;
  auto welcome = hello(client, {{"user_id", "cust-7"}, {"user_hash", user_hash}, {"name", "Ana"}});
  EXPECT_TRUE(welcome.at("verified").as_bool());
  client.read_type("synced");
  client.send_json({{"type", "message"}, {"id", "j1"}, {"text", "hi from the website"}});
  auto ack = client.read_type("ack");
  ASSERT_TRUE(ack);
  const std::string conversation = str(*ack, "conversation_id");
  // The visitor types their email in the chat: linked, unverified.
  client.send_json({{"type", "identify"}, {"email", "Ana@Example.org"}});
  auto identified = client.read_type("identified");
  ASSERT_TRUE(identified);
  EXPECT_FALSE(identified->at("verified").as_bool());
  client.close();

  // Two days later: an email from that address, then a call from a number an agent linked.
  auto mail = admin_->ingest("email", "ana@example.org", "following up by mail", "mail-1");
  ASSERT_OK(mail);
  EXPECT_EQ(mail->conversation_id(), conversation);
  auto ctx = admin_->get_context(conversation);
  ASSERT_OK(ctx);
  ASSERT_OK(admin_->link_identity(ctx->contact().id(), "phone", "+14155550100"));
  auto call = admin_->ingest("phone", "+14155550100", "voicemail: please call back", "call-1");
  ASSERT_OK(call);
  EXPECT_EQ(call->conversation_id(), conversation);

  ctx = admin_->get_context(conversation);
  ASSERT_OK(ctx);
  std::set<std::string> legs;
  for (const auto& leg : ctx->conversation().legs()) legs.insert(leg.channel());
  EXPECT_EQ(legs, (std::set<std::string>{"chat", "email", "phone"}));
}

// --- the widget in a real browser ------------------------------------------------------

// Headless Chromium with the DevTools protocol on a port it picks itself.
class Chromium {
 public:
  ~Chromium() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // "" or what went wrong. Chromium's stderr goes to a file (a pipe nobody drains
  // would fill and stall it); the DevTools line is read from there.
  std::string start(const std::filesystem::path& profile, const std::string& url) {
    const auto log = profile.parent_path() / "chromium.log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    std::vector<std::string> args = {"chromium",
                                     "--headless=new",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-dev-shm-usage",
                                     "--no-first-run",
                                     "--remote-debugging-port=0",
                                     "--remote-allow-origins=*",
                                     "--window-size=900,700",
                                     "--user-data-dir=" + profile.string(),
                                     url};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, "chromium", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return "cannot run chromium: " + std::string(strerror(rc));
    }
    // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
    std::string text;
    for (int i = 0; i < 600; ++i) {
      std::ifstream in(log);
      text.assign(std::istreambuf_iterator<char>(in), {});
      const auto at = text.find("ws://127.0.0.1:");
      if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
        const auto rest = text.substr(at + 15);
        port_ = static_cast<uint16_t>(std::stoi(rest));
        const auto slash = rest.find('/');
        browser_path_ = rest.substr(slash, rest.find('\n') - slash);
        return "";
      }
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return "chromium exited: " + text;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "no DevTools line: " + text;
  }

  uint16_t port() const { return port_; }
  const std::string& browser_path() const { return browser_path_; }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string browser_path_;
};

// Just enough of the DevTools protocol: attach to the page, evaluate, reload, screenshot.
class DevTools {
 public:
  std::string attach(const Chromium& browser) {
    if (auto e = ws_.connect(browser.port(), "-", browser.browser_path()); !e.empty()) return e;
    auto targets = call("Target.getTargets", {});
    if (!targets) return "Target.getTargets failed";
    for (const auto& t : targets->at("targetInfos").as_array()) {
      if (t.at("type").as_string() == "page") {
        auto attached = call("Target.attachToTarget", {{"targetId", t.at("targetId")}, {"flatten", true}});
        if (!attached) return "attachToTarget failed";
        session_ = str(*attached, "sessionId");
        return "";
      }
    }
    return "no page target";
  }

  // The value of a JavaScript expression on the page (JSON-serialisable).
  std::optional<json::value> eval(const std::string& expression) {
    auto result =
        call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}}, true);
    if (!result) return std::nullopt;
    const auto& r = result->at("result").as_object();
    if (result->contains("exceptionDetails")) return std::nullopt;
    auto* v = r.if_contains("value");
    return v ? std::optional<json::value>(*v) : std::optional<json::value>(json::value(nullptr));
  }

  // Polls `expression` until it is true (bounded); the page works asynchronously.
  bool wait_for(const std::string& expression, std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto v = eval("!!(" + expression + ")");
      if (v && v->is_bool() && v->as_bool()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  bool reload() { return call("Page.reload", {}, true).has_value(); }

  bool screenshot(const std::filesystem::path& file) {
    auto shot = call("Page.captureScreenshot", {{"format", "png"}}, true);
    if (!shot) return false;
    const std::string b64 = str(*shot, "data");
    std::string png(b64.size() / 4 * 3 + 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(png.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    if (n <= 0) return false;
    size_t pad = 0;
    while (pad < b64.size() && b64[b64.size() - 1 - pad] == '=') ++pad;
    png.resize(static_cast<size_t>(n) - pad);
    std::ofstream(file, std::ios::binary) << png;
    return true;
  }

 private:
  std::optional<json::object> call(const std::string& method, json::object params, bool on_page = false) {
    const uint64_t id = ++next_id_;
    json::object request{{"id", id}, {"method", method}, {"params", std::move(params)}};
    if (on_page) request["sessionId"] = session_;
    if (!ws_.send_json(request)) return std::nullopt;
    while (auto f = ws_.read_json()) {
      if (num(*f, "id") != id) continue;  // events and other answers
      if (f->contains("error")) return std::nullopt;
      return f->at("result").as_object();
    }
    return std::nullopt;
  }

  WsTestClient ws_;
  std::string session_;
  uint64_t next_id_ = 0;
};

TEST_F(ChatE2eTest, TheWidgetChatsInARealBrowserAndAReloadKeepsTheConversation) {
  const std::string url = "http://127.0.0.1:" + std::to_string(chat_port_) + "/chat/demo.html";
  Chromium browser;
  ASSERT_EQ(browser.start(dir_ / "profile", url), "");
  DevTools page;
  ASSERT_EQ(page.attach(browser), "");
  ASSERT_TRUE(page.wait_for("window.SwitchboardChat && SwitchboardChat.state().synced"));

  // The visitor types and presses Send, as a person would.
  ASSERT_TRUE(
      page.eval("document.querySelector('.sb-input').value = 'Hello from Chromium';"
                "document.querySelector('.sb-form').requestSubmit(); true"));
  ASSERT_TRUE(page.wait_for("SwitchboardChat.state().conversation_id && SwitchboardChat.state().pending === 0"));
  const std::string conversation(page.eval("SwitchboardChat.state().conversation_id")->as_string());

  // An agent on gRPC sees it in GetContext and replies; the reply shows on the page.
  auto context = admin_->get_context(conversation);
  ASSERT_OK(context);
  bool seen = false;
  for (const auto& e : context->events()) seen = seen || e.message().text() == "Hello from Chromium";
  EXPECT_TRUE(seen);
  ASSERT_OK(reply(conversation, "Hi! An agent here."));
  ASSERT_TRUE(
      page.wait_for("[...document.querySelectorAll('.sb-out')].some(e => e.textContent === 'Hi! An agent "
                    "here.')"));

  // Agent typing shows as such.
  ASSERT_EQ(http_request(chat_port_, bhttp::verb::post, "/chat/v1/typing",
                         json::serialize(json::object{{"conversation_id", conversation}, {"author", "Bea"}}))
                .status,
            200);
  EXPECT_TRUE(page.wait_for("document.querySelector('.sb-typing').textContent.includes('Bea is typing')"));

  const char* kOutDir = std::getenv("SWITCHBOARD_TEST_OUTPUT");
  const std::filesystem::path out = kOutDir ? kOutDir : std::filesystem::current_path();
  EXPECT_TRUE(page.screenshot(out / "chat-widget.png"));

  // A reload keeps the conversation: same id, both messages shown again.
  ASSERT_TRUE(page.reload());
  ASSERT_TRUE(page.wait_for("window.SwitchboardChat && SwitchboardChat.state().synced"));
  EXPECT_EQ(std::string(page.eval("SwitchboardChat.state().conversation_id")->as_string()), conversation);
  EXPECT_TRUE(
      page.wait_for("document.querySelectorAll('.sb-in').length === 1 && "
                    "document.querySelectorAll('.sb-out').length === 1"));
  EXPECT_TRUE(page.screenshot(out / "chat-widget-reloaded.png"));
}

}  // namespace
}  // namespace switchboard::testing
