// The SMTP server over real loopback sockets, with a fake sink in place of the router.

#include "email/smtp_server.h"

#include <sys/socket.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <mutex>
#include <thread>

namespace switchboard::adapters::email {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Answers each message with `reply`, from another thread, as the router would.
class FakeSink final : public MessageSink {
 public:
  void accept_message(Envelope envelope, std::string message, std::string,
                      std::function<void(std::string)> done) override {
    {
      std::lock_guard lock(mutex);
      envelopes.push_back(std::move(envelope));
      messages.push_back(std::move(message));
    }
    std::thread([done = std::move(done), reply = reply] { done(reply); }).detach();
  }
  std::mutex mutex;
  std::vector<Envelope> envelopes;
  std::vector<std::string> messages;
  std::string reply = "250 2.0.0 OK stored\r\n";
};

// A blocking client with a receive timeout, so a silent server fails the test.
class Client {
 public:
  explicit Client(const tcp::endpoint& server) : socket_(io_) {
    socket_.connect(server);
    timeval tv{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(const std::string& text) { asio::write(socket_, asio::buffer(text)); }
  // One whole reply (its last line has a space after the code); "" on close or timeout.
  std::string reply() {
    std::string out;
    for (;;) {
      const auto nl = buffer_.find("\r\n");
      if (nl != std::string::npos) {
        const std::string line = buffer_.substr(0, nl + 2);
        buffer_.erase(0, nl + 2);
        out += line;
        if (line.size() >= 4 && line[3] == ' ') return out;
        continue;
      }
      char chunk[4096];
      boost::system::error_code ec;
      const std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
      if (ec) return out;
      buffer_.append(chunk, n);
    }
  }
  // Everything until the server closes.
  std::string rest() {
    std::string out = buffer_;
    buffer_.clear();
    char chunk[4096];
    boost::system::error_code ec;
    for (;;) {
      const std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
      if (ec) return out;
      out.append(chunk, n);
    }
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  std::string buffer_;
};

class SmtpServerTest : public ::testing::Test {
 protected:
  void start(SmtpServerOptions options) {
    options.listen = "127.0.0.1:0";
    options.policy.hostname = "mx.test";
    options.policy.check_recipient = [](const std::string& a) -> std::string {
      return a.ends_with("@example.com") ? "" : "550 5.1.1 no such mailbox\r\n";
    };
    server_ = std::make_unique<SmtpServer>(io_, std::move(options), sink_);
    auto bound = server_->start();
    ASSERT_TRUE(bound.ok()) << bound.error().describe();
    endpoint_ = *bound;
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    work_.reset();
    // Sessions end on stop(); the io thread then runs out of work.
    if (thread_.joinable()) thread_.join();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  FakeSink sink_;
  std::unique_ptr<SmtpServer> server_;
  tcp::endpoint endpoint_;
  std::thread thread_;
};

TEST_F(SmtpServerTest, PipelinedTransactionIsAnsweredAfterTheSinkSaysSo) {
  start({});
  Client c(endpoint_);
  EXPECT_THAT(c.reply(), StartsWith("220 mx.test"));
  c.send(
      "EHLO client\r\nMAIL FROM:<ana@example.org>\r\nRCPT TO:<nobody@else.org>\r\nRCPT "
      "TO:<help@example.com>\r\nDATA\r\n");
  EXPECT_THAT(c.reply(), HasSubstr("250 ENHANCEDSTATUSCODES"));
  EXPECT_THAT(c.reply(), StartsWith("250 2.1.0"));
  EXPECT_THAT(c.reply(), StartsWith("550 5.1.1"));
  EXPECT_THAT(c.reply(), StartsWith("250 2.1.5"));
  EXPECT_THAT(c.reply(), StartsWith("354"));
  c.send("Subject: hi\r\n\r\n..dot line\r\nbare\n.\nstill data\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(c.reply(), "250 2.0.0 OK stored\r\n");
  EXPECT_EQ(c.reply(), "221 2.0.0 Bye\r\n");
  std::lock_guard lock(sink_.mutex);
  ASSERT_EQ(sink_.messages.size(), 1u);
  // Only CRLF.CRLF ends DATA: a bare-LF dot is content (no SMTP smuggling).
  EXPECT_EQ(sink_.messages[0], "Subject: hi\r\n\r\n.dot line\r\nbare\n.\nstill data\r\n");
  EXPECT_EQ(sink_.envelopes[0].recipients, std::vector<std::string>{"help@example.com"});
}

TEST_F(SmtpServerTest, AStoreFailureIsATemporaryError) {
  sink_.reply = "451 4.3.0 Not stored, try again later\r\n";
  start({});
  Client c(endpoint_);
  c.reply();
  c.send("HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<h@example.com>\r\nDATA\r\n");
  for (int i = 0; i < 4; ++i) c.reply();
  c.send("hello\r\n.\r\n");
  EXPECT_THAT(c.reply(), StartsWith("451 4.3.0"));
  c.send("MAIL FROM:<a@example.org>\r\n");  // the session goes on: the sender may retry here
  EXPECT_THAT(c.reply(), StartsWith("250"));
}

TEST_F(SmtpServerTest, IdleSessionsTimeOut) {
  SmtpServerOptions options;
  options.idle_timeout = std::chrono::seconds(1);
  start(options);
  Client c(endpoint_);
  c.reply();
  EXPECT_THAT(c.rest(), StartsWith("421 4.4.2"));
}

TEST_F(SmtpServerTest, SessionsOverTheLimitAreTurnedAway) {
  SmtpServerOptions options;
  options.max_sessions = 1;
  start(options);
  Client first(endpoint_);
  EXPECT_THAT(first.reply(), StartsWith("220"));
  Client second(endpoint_);
  EXPECT_THAT(second.rest(), StartsWith("421 4.3.2"));
  first.send("NOOP\r\n");
  EXPECT_THAT(first.reply(), StartsWith("250"));
}

TEST_F(SmtpServerTest, PeersOutsideTheAllowedListAreRefused) {
  SmtpServerOptions options;
  options.allowed_peers = {"10.0.0.0/8", "::1"};
  start(options);
  Client c(endpoint_);
  EXPECT_THAT(c.rest(), StartsWith("554 5.7.1"));
}

TEST_F(SmtpServerTest, LongCommandLinesAreRefusedAndTheSessionGoesOn) {
  start({});
  Client c(endpoint_);
  c.reply();
  c.send("HELO " + std::string(600, 'x') + "\r\n");
  EXPECT_THAT(c.reply(), StartsWith("500 5.5.2"));
  c.send("HELO " + std::string(500, 'x') + "\r\n");  // 507 bytes with CRLF: the RFC minimum
  EXPECT_THAT(c.reply(), StartsWith("250"));
}

TEST_F(SmtpServerTest, StopEndsIdleSessions) {
  start({});
  Client c(endpoint_);
  c.reply();
  server_->stop();
  EXPECT_THAT(c.rest(), StartsWith("421"));
}

TEST(PeerFilterTest, Blocks) {
  auto f = parse_peer_filter({"10.0.0.0/8", "192.168.1.7", "fd00::/8"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->allows(asio::ip::make_address("10.1.2.3")));
  EXPECT_TRUE(f->allows(asio::ip::make_address("::ffff:10.1.2.3")));
  EXPECT_FALSE(f->allows(asio::ip::make_address("11.0.0.1")));
  EXPECT_TRUE(f->allows(asio::ip::make_address("192.168.1.7")));
  EXPECT_FALSE(f->allows(asio::ip::make_address("192.168.1.8")));
  EXPECT_TRUE(f->allows(asio::ip::make_address("fd12::1")));
  EXPECT_FALSE(parse_peer_filter({"10.0.0.0/33"}).ok());
  EXPECT_FALSE(parse_peer_filter({"nonsense"}).ok());
}

}  // namespace
}  // namespace switchboard::adapters::email
