// The adapter through its factory, with a fake router: what reaches ingest, and how
// the router's answer becomes the SMTP reply to DATA.

#include "email/email_adapter.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>

#include "email/reply_token.h"

namespace switchboard::adapters::email {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSecret[] = "unit-test-secret-0123456789";

class FakeHost final : public router::AdapterHost {
 public:
  void ingest(router::InboundMessage message, std::function<void(router::Result<router::IngestResult>)> done) override {
    std::lock_guard lock(mutex);
    messages.push_back(message);
    if (fail_with) {
      done(*fail_with);
    } else {
      done(router::IngestResult{"ct_1", message.conversation_id.empty() ? "cv_new" : message.conversation_id, 7});
    }
  }
  void report_delivery(std::string id, router::DeliveryStatus status, std::string reason) override {
    std::lock_guard lock(mutex);
    reports.push_back({id, status, reason});
    if (reported) reported->set_value();
  }
  void report_retryable_failure(std::string id, std::string reason) override {
    std::lock_guard lock(mutex);
    retries.push_back({id, reason});
    if (reported) reported->set_value();
  }
  // Email has no provider receipts: the adapter never names a message by another id.
  void report_sent(std::string, std::string, std::function<void(router::Status)>) override {
    ADD_FAILURE() << "report_sent";
  }
  void report_receipt(router::DeliveryReceipt, std::function<void(router::Status)>) override {
    ADD_FAILURE() << "report_receipt";
  }
  void report_receipts_up_to(std::string, std::string, router::Timestamp, router::DeliveryStatus,
                             std::function<void(router::Status)>) override {
    ADD_FAILURE() << "report_receipts_up_to";
  }
  void route_call(router::InboundCall, std::function<void(router::Result<router::CallRouting>)> done) override {
    done(router::Error{router::ErrorCode::kFailedPrecondition, {}, "no calls on email"});
  }
  void update_call(router::CallUpdate, std::function<void(router::Result<router::IngestResult>)> done) override {
    done(router::Error{router::ErrorCode::kFailedPrecondition, {}, "no calls on email"});
  }

  struct Report {
    std::string id;
    router::DeliveryStatus status;
    std::string reason;
  };
  std::mutex mutex;
  std::vector<router::InboundMessage> messages;
  std::vector<Report> reports;
  std::vector<std::pair<std::string, std::string>> retries;
  std::optional<router::Error> fail_with;
  std::optional<std::promise<void>> reported;
};

// Sends one SMTP transaction and returns every reply line, in order.
std::string transact(uint16_t port, const std::string& from, const std::string& to, const std::string& data) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{10, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(socket, asio::buffer("EHLO t\r\nMAIL FROM:<" + from + ">\r\nRCPT TO:<" + to + ">\r\nDATA\r\n"));
  std::string out;
  char chunk[4096];
  boost::system::error_code ec;
  bool sent_data = false;
  while (true) {
    const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    if (ec) break;
    out.append(chunk, n);
    if (!sent_data && out.find("354 ") != std::string::npos) {
      asio::write(socket, asio::buffer(data + "\r\n.\r\nQUIT\r\n"));
      sent_data = true;
    }
    if (out.find("221 ") != std::string::npos) break;
    if (!sent_data && out.find("\r\n5") != std::string::npos) break;
  }
  return out;
}

class EmailAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "email-adapter-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (adapter_) adapter_->stop();
    adapter_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void start(const std::string& extra = "") {
    const std::string settings = R"({"listen":"127.0.0.1:0","listening_file":")" + (dir_ / "addr").string() +
                                 R"(","domains":["support.test"],"secret":")" + kSecret + R"(","attachments_dir":")" +
                                 (dir_ / "att").string() + "\"" + extra + "}";
    auto adapter = make_factory()->create(settings, host_);
    ASSERT_TRUE(adapter.ok()) << adapter.error().describe();
    adapter_ = std::move(adapter.value());
    ASSERT_TRUE(adapter_->start().ok());
    std::ifstream in(dir_ / "addr");
    std::string address;
    in >> address;
    port_ = static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  }

  fs::path dir_;
  FakeHost host_;
  std::unique_ptr<router::Adapter> adapter_;
  uint16_t port_ = 0;
};

TEST_F(EmailAdapterTest, FactoryRefusesBadSettingsNamingTheField) {
  auto bad = make_factory()->create(R"({"domains":["a.b"]})", host_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "secret");
  EXPECT_EQ(make_factory()->name(), "email");
}

TEST_F(EmailAdapterTest, AMailBecomesAnInboundMessageAnd250AfterTheRouterCommits) {
  start();
  const std::string replies = transact(port_, "bounce@example.org", "help@support.test",
                                       "From: Ana <ANA@example.org>\r\nSubject: Hi\r\nMessage-ID: <m1@example.org>\r\n"
                                       "\r\nHello there\r\n\r\n-- \r\nAna");
  EXPECT_THAT(replies, HasSubstr("250 2.0.0 OK cv_new 7"));
  std::lock_guard lock(host_.mutex);
  ASSERT_EQ(host_.messages.size(), 1u);
  const auto& m = host_.messages[0];
  EXPECT_EQ(m.channel, "email");
  EXPECT_EQ(m.address, "ana@example.org");
  EXPECT_EQ(m.display_name, "Ana");
  EXPECT_EQ(m.text, "Hello there");
  EXPECT_EQ(m.external_id, "m1@example.org");
  EXPECT_EQ(m.metadata.at("subject"), "Hi");
  EXPECT_EQ(m.metadata.at("full_text"), "Hello there\n\n-- \nAna");
  EXPECT_TRUE(m.conversation_id.empty());
  EXPECT_FALSE(m.automatic);
}

TEST_F(EmailAdapterTest, AStoreFailureIs451) {
  host_.fail_with = router::Error{router::ErrorCode::kUnavailable, {}, "the store failed"};
  start();
  EXPECT_THAT(transact(port_, "a@example.org", "help@support.test", "From: a@example.org\r\n\r\nhi"),
              HasSubstr("451 4.3.0"));
}

TEST_F(EmailAdapterTest, ARefusedContentIs554) {
  host_.fail_with = router::invalid_argument("message.text", "not valid UTF-8");
  start();
  EXPECT_THAT(transact(port_, "a@example.org", "help@support.test", "From: a@example.org\r\n\r\nhi"),
              HasSubstr("554 5.6.0"));
}

TEST_F(EmailAdapterTest, AReplyTokenNamesTheConversation) {
  start(R"(,"require_reply_token":true)");
  const ReplyTokens tokens(kSecret, "support.test");
  const std::string replies =
      transact(port_, "bob@example.org", tokens.reply_address("cv_abc"), "From: bob@example.org\r\n\r\nanswer");
  EXPECT_THAT(replies, HasSubstr("250 2.0.0 OK cv_abc"));
  std::lock_guard lock(host_.mutex);
  ASSERT_EQ(host_.messages.size(), 1u);
  EXPECT_EQ(host_.messages[0].conversation_id, "cv_abc");
  EXPECT_TRUE(host_.messages[0].require_conversation_id);
  EXPECT_EQ(host_.messages[0].metadata.at("threaded_by"), "reply_token");
}

TEST_F(EmailAdapterTest, OurMessageIdInReferencesNamesTheConversation) {
  start();
  const ReplyTokens tokens(kSecret, "support.test");
  transact(port_, "ana@example.org", "help@support.test",
           "From: ana@example.org\r\nReferences: <other@x.org> <" + tokens.message_id("cv_ref", 3) + ">\r\n\r\nanswer");
  std::lock_guard lock(host_.mutex);
  ASSERT_EQ(host_.messages.size(), 1u);
  EXPECT_EQ(host_.messages[0].conversation_id, "cv_ref");
  EXPECT_EQ(host_.messages[0].metadata.at("threaded_by"), "message_id");
}

TEST_F(EmailAdapterTest, NullSenderAndAutoSubmittedAreAutomatic) {
  start();
  transact(port_, "", "help@support.test", "From: MAILER-DAEMON@mx.example.net\r\n\r\nbounce");
  transact(port_, "ana@example.org", "help@support.test",
           "From: ana@example.org\r\nAuto-Submitted: auto-replied\r\n\r\naway");
  std::lock_guard lock(host_.mutex);
  ASSERT_EQ(host_.messages.size(), 2u);
  EXPECT_TRUE(host_.messages[0].automatic);
  EXPECT_TRUE(host_.messages[1].automatic);
  EXPECT_EQ(host_.messages[1].metadata.at("automatic"), "auto-submitted: auto-replied");
}

TEST_F(EmailAdapterTest, AttachmentsGoToTheStore) {
  start();
  transact(port_, "ana@example.org", "help@support.test",
           "From: ana@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           "Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: image/png\r\n"
           "Content-Disposition: attachment; filename=\"a.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           "iVBORw0KGgo=\r\n--b--");
  std::lock_guard lock(host_.mutex);
  ASSERT_EQ(host_.messages.size(), 1u);
  ASSERT_EQ(host_.messages[0].attachments.size(), 1u);
  const auto& a = host_.messages[0].attachments[0];
  EXPECT_EQ(a.filename, "a.png");
  EXPECT_EQ(a.content_type, "image/png");
  EXPECT_EQ(a.size_bytes, 8u);
  EXPECT_THAT(a.url, StartsWith("attachment:"));
}

TEST_F(EmailAdapterTest, WithoutARelayOutboundFailsWithAClearReason) {
  start();
  std::promise<void> reported;
  auto done = reported.get_future();
  {
    std::lock_guard lock(host_.mutex);
    host_.reported.emplace(std::move(reported));
  }
  adapter_->deliver({.outbound_id = "ob_1",
                     .conversation_id = "cv_1",
                     .seq = 2,
                     .channel = "email",
                     .address = "ana@example.org",
                     .text = "hi"});
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  std::lock_guard lock(host_.mutex);
  ASSERT_EQ(host_.reports.size(), 1u);
  EXPECT_EQ(host_.reports[0].status, router::DeliveryStatus::kFailed);
  EXPECT_THAT(host_.reports[0].reason, HasSubstr("relay_url"));
}

TEST_F(EmailAdapterTest, AnUnreachableRelayIsRetryable) {
  // A port nothing listens on: bind one, close it.
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = probe.local_endpoint().port();
  probe.close();
  start(R"(,"relay_url":"smtp://127.0.0.1:)" + std::to_string(port) +
        R"(","from_address":"help@support.test","relay_timeout_seconds":5)");
  std::promise<void> reported;
  auto done = reported.get_future();
  {
    std::lock_guard lock(host_.mutex);
    host_.reported.emplace(std::move(reported));
  }
  adapter_->deliver({.outbound_id = "ob_2",
                     .conversation_id = "cv_1",
                     .seq = 2,
                     .channel = "email",
                     .address = "ana@example.org",
                     .text = "hi"});
  ASSERT_EQ(done.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  std::lock_guard lock(host_.mutex);
  ASSERT_EQ(host_.retries.size(), 1u);
  EXPECT_EQ(host_.retries[0].first, "ob_2");
}

}  // namespace
}  // namespace switchboard::adapters::email
