// The HTTP/WebSocket server the internet-facing adapters share: routes, raw bodies,
// async answers, and every bound on untrusted input, with a real Beast client.

#include "common/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio/write.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "common/hmac.h"
#include "ws_test_client.h"

namespace switchboard::adapters::http {
namespace {

using testing::http_request;
using testing::WsTestClient;
namespace websocket = boost::beast::websocket;

class Echo final : public WebSocketListener {
 public:
  void on_open(std::shared_ptr<WebSocketConnection> c) override { connection_ = std::move(c); }
  void on_text(std::string text) override { connection_->send("echo:" + text); }
  void on_close(std::string why) override {
    closed_.set_value(why);
    connection_.reset();
  }
  std::future<std::string> closed() { return closed_.get_future(); }

 private:
  std::shared_ptr<WebSocketConnection> connection_;
  std::promise<std::string> closed_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(options);
    server_->route(Verb::get, "/hello", [](Request, const Peer&, Respond respond) {
      respond(make_response(beast_http::status::ok, "hi\n"));
    });
    // Answers the raw body back, byte for byte, with its HMAC: what a webhook checks.
    server_->route(
        Verb::post, "/echo",
        [](Request req, const Peer&, Respond respond) {
          auto res = make_response(beast_http::status::ok, req.body(), "application/octet-stream");
          res.set("x-hmac", to_hex(hmac_sha256("k", req.body())));
          respond(std::move(res));
        },
        1024);
    // Answers later, from another thread, as adapters do after the router commits.
    server_->route(Verb::post, "/later", [](Request req, const Peer&, Respond respond) {
      std::thread([body = req.body(), respond] {
        respond(make_response(beast_http::status::accepted, body));
      }).detach();
    });
    server_->route(Verb::get, "/never", [this](Request, const Peer&, Respond respond) { parked_ = respond; });
    server_->route_prefix(Verb::get, "/files/", [](Request req, const Peer&, Respond respond) {
      respond(make_response(beast_http::status::ok, std::string(path_of(req.target()))));
    });
    server_->websocket(
        "/ws", [this](const auto& req, const Peer&) -> std::variant<Response, std::shared_ptr<WebSocketListener>> {
          if (req[beast_http::field::origin] == "http://evil.example") {
            return make_response(beast_http::status::forbidden, "no\n");
          }
          echo_ = std::make_shared<Echo>();
          return echo_;
        });
    ASSERT_TRUE(server_->start().ok());
    port_ = server_->local_port();
    ASSERT_NE(port_, 0);
  }

  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::shared_ptr<Echo> echo_;
  Respond parked_;
};

TEST_F(HttpServerTest, RoutesByMethodAndPath) {
  start();
  auto ok = http_request(port_, Verb::get, "/hello?x=1");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "hi\n");
  EXPECT_EQ(http_request(port_, Verb::post, "/hello").status, 404);
  EXPECT_EQ(http_request(port_, Verb::get, "/nope").status, 404);
  auto file = http_request(port_, Verb::get, "/files/a/b.js?v=2");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "/files/a/b.js");
  EXPECT_EQ(server_->counters().not_found, 2u);
}

TEST_F(HttpServerTest, HandlersGetTheRawBody) {
  start();
  const std::string body("a\0b\xff\r\n{\"x\": 1}", 15);
  auto reply = http_request(port_, Verb::post, "/echo", body);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, body);
  EXPECT_EQ(reply.response["x-hmac"], to_hex(hmac_sha256("k", body)));
}

TEST_F(HttpServerTest, AHandlerMayAnswerLaterFromAnotherThread) {
  start();
  auto reply = http_request(port_, Verb::post, "/later", "queued");
  EXPECT_EQ(reply.status, 202);
  EXPECT_EQ(reply.body, "queued");
}

TEST_F(HttpServerTest, AHandlerThatNeverAnswersGets503) {
  HttpServerOptions options;
  options.handler_timeout = std::chrono::milliseconds(200);
  start(options);
  EXPECT_EQ(http_request(port_, Verb::get, "/never").status, 503);
  EXPECT_EQ(server_->counters().timeouts, 1u);
  parked_(make_response(beast_http::status::ok, "too late"));  // ignored, no crash
}

TEST_F(HttpServerTest, BodyOverTheRouteLimitIs413) {
  start();
  EXPECT_EQ(http_request(port_, Verb::post, "/echo", std::string(1025, 'x')).status, 413);
  EXPECT_EQ(server_->counters().body_too_large, 1u);
  EXPECT_EQ(http_request(port_, Verb::post, "/echo", std::string(1024, 'x')).status, 200);
}

TEST_F(HttpServerTest, BodyOverTheServersLimitIs413Too) {
  HttpServerOptions options;
  options.max_body_bytes = 512;
  start(options);
  EXPECT_EQ(http_request(port_, Verb::post, "/later", std::string(513, 'x')).status, 413);
  EXPECT_EQ(server_->counters().body_too_large, 1u);
}

TEST_F(HttpServerTest, HeaderOverTheLimitIs431) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  start(options);
  EXPECT_EQ(http_request(port_, Verb::get, "/hello", "", {{"x-big", std::string(2000, 'h')}}).status, 431);
  EXPECT_EQ(server_->counters().header_too_large, 1u);
}

TEST_F(HttpServerTest, GarbageIs400) {
  start();
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  boost::asio::write(socket, boost::asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
  std::string got(64, '\0');
  boost::system::error_code ec;
  const auto n = socket.read_some(boost::asio::buffer(got), ec);
  EXPECT_TRUE(got.substr(0, n).starts_with("HTTP/1.1 400")) << got;
  EXPECT_EQ(server_->counters().bad_requests, 1u);
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitAreClosed) {
  HttpServerOptions options;
  options.max_connections = 2;
  start(options);
  WsTestClient a, b, c;
  ASSERT_EQ(a.connect(port_, "", "/ws"), "");
  auto a_closed = echo_->closed();
  ASSERT_EQ(b.connect(port_, "", "/ws"), "");
  EXPECT_NE(c.connect(port_, "", "/ws"), "");
  EXPECT_EQ(server_->counters().connections_refused, 1u);
  a.close();
  ASSERT_EQ(a_closed.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  // The slot comes back once the first connection's session is gone (just after).
  for (int i = 0; i < 200 && server_->open_connections() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  WsTestClient d;
  EXPECT_EQ(d.connect(port_, "", "/ws"), "");
}

TEST_F(HttpServerTest, WebSocketEchoes) {
  start();
  WsTestClient client;
  ASSERT_EQ(client.connect(port_, "", "/ws"), "");
  ASSERT_TRUE(client.send("héllo"));
  EXPECT_EQ(client.read(), std::optional<std::string>("echo:héllo"));
  auto closed = echo_->closed();
  client.close();
  EXPECT_EQ(closed.get(), "");
  EXPECT_EQ(server_->counters().websocket_accepted, 1u);
}

TEST_F(HttpServerTest, TheRouteCanRefuseAnUpgrade) {
  start();
  WsTestClient client;
  EXPECT_NE(client.connect(port_, "http://evil.example", "/ws"), "");
  EXPECT_EQ(client.handshake_status(), 403);
  EXPECT_EQ(server_->counters().websocket_refused, 1u);
  WsTestClient nowhere;
  EXPECT_NE(nowhere.connect(port_, "", "/other"), "");
  EXPECT_EQ(nowhere.handshake_status(), 404);
}

TEST_F(HttpServerTest, OversizedWebSocketMessageCloses1009) {
  HttpServerOptions options;
  options.max_message_bytes = 1000;
  start(options);
  WsTestClient client;
  ASSERT_EQ(client.connect(port_, "", "/ws"), "");
  ASSERT_TRUE(client.send(std::string(1000, 'a')));
  ASSERT_TRUE(client.read().has_value());
  auto closed = echo_->closed();
  client.send(std::string(1001, 'a'));
  EXPECT_FALSE(client.read().has_value());
  EXPECT_FALSE(client.timed_out());
  EXPECT_EQ(client.close_code(), 1009);
  EXPECT_EQ(closed.get(), "message too big");
  EXPECT_EQ(server_->counters().websocket_too_big, 1u);
}

TEST_F(HttpServerTest, InvalidUtf8Closes1007) {
  start();
  WsTestClient client;
  ASSERT_EQ(client.connect(port_, "", "/ws"), "");
  auto closed = echo_->closed();
  client.send(std::string("bad \xc3\x28 utf8"));
  EXPECT_FALSE(client.read().has_value());
  EXPECT_FALSE(client.timed_out());
  EXPECT_EQ(client.close_code(), 1007);
  // The server counts the refusal as it ends the session, which may be just after
  // the client saw the close: wait for the end before reading the counter.
  closed.get();
  EXPECT_EQ(server_->counters().websocket_bad_utf8, 1u);
}

TEST_F(HttpServerTest, BinaryFramesAreRefused) {
  start();
  WsTestClient client;
  ASSERT_EQ(client.connect(port_, "", "/ws"), "");
  client.send("\x01\x02", true);
  EXPECT_FALSE(client.read().has_value());
  EXPECT_EQ(client.close_code(), 1003);
  EXPECT_EQ(server_->counters().websocket_protocol_errors, 1u);
}

TEST_F(HttpServerTest, ASilentPeerIsClosedAfterTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(300);
  start(options);
  WsTestClient client;
  ASSERT_EQ(client.connect(port_, "", "/ws"), "");
  // Not reading means not answering the server's pings.
  auto closed = echo_->closed();
  ASSERT_EQ(closed.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(closed.get(), "idle timeout");
  EXPECT_EQ(server_->counters().websocket_idle, 1u);
}

TEST_F(HttpServerTest, AReaderThatAnswersPingsStaysOpen) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(300);
  start(options);
  WsTestClient client;
  ASSERT_EQ(client.connect(port_, "", "/ws"), "");
  // Reading answers the pings: nothing arrives, and the wait ends by our own limit.
  EXPECT_FALSE(client.read(std::chrono::milliseconds(900)).has_value());
  EXPECT_TRUE(client.timed_out()) << client.error().message() << " close " << client.close_code();
  EXPECT_EQ(server_->counters().websocket_idle, 0u);
}

TEST_F(HttpServerTest, BadListenAddressIsInvalidArgument) {
  HttpServerOptions options;
  options.listen = "nohost:80";
  HttpServer server(options);
  auto status = server.start();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, router::ErrorCode::kInvalidArgument);
}

TEST_F(HttpServerTest, ServesTlsWhenConfigured) {
  const auto dir = std::filesystem::temp_directory_path() / ("http-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto cert = dir / "cert.pem", key = dir / "key.pem";
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout " +
      key.string() + " -out " + cert.string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  HttpServerOptions options;
  options.tls = TlsFiles{cert.string(), key.string()};
  start(options);
  // openssl s_client speaks TLS to it and gets an HTTP answer back.
  const auto out = dir / "out.txt";
  const std::string client =
      "printf 'GET /hello HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | "
      "timeout 10 openssl s_client -quiet -connect 127.0.0.1:" +
      std::to_string(port_) + " > " + out.string() + " 2>/dev/null";
  std::system(client.c_str());
  std::ifstream in(out);
  const std::string got((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(got.find("HTTP/1.1 200"), std::string::npos) << got;
  // Plain HTTP on the TLS port is refused at the handshake.
  EXPECT_EQ(http_request(port_, Verb::get, "/hello").status, 0);
  std::filesystem::remove_all(dir);
}

TEST(Hmac, KnownVectorAndEncodings) {
  // RFC 4231 test case 2.
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(signatures_equal("abc", "abc"));
  EXPECT_FALSE(signatures_equal("abc", "abd"));
  EXPECT_FALSE(signatures_equal("abc", "ab"));
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    EXPECT_EQ(from_base64url(to_base64url(s)), std::optional(s));
    EXPECT_EQ(from_hex(to_hex(s)), std::optional(s));
  }
  EXPECT_EQ(to_base64("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(from_base64url("a+b").has_value());
  EXPECT_FALSE(from_hex("zz").has_value());
}

}  // namespace
}  // namespace switchboard::adapters::http
