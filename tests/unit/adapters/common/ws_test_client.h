#pragma once

// A real WebSocket (and HTTP) client for tests, on Boost.Beast. Every wait is bounded
// so that a server that never answers fails the test instead of hanging it. After a
// timeout the client is broken (Beast cannot resume a cancelled read); tests treat a
// timeout as a failure anyway.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace switchboard::testing {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

inline constexpr auto kWaitLimit = std::chrono::seconds(10);

class WsTestClient {
 public:
  // "" on success, else what went wrong (an HTTP refusal gives its status code).
  std::string connect(uint16_t port, std::string origin = "", const std::string& path = "/chat/v1/ws") {
    if (origin.empty()) origin = "http://127.0.0.1:" + std::to_string(port);
    ws_.emplace(io_);
    beast::error_code ec;
    beast::get_lowest_layer(*ws_).connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return "connect: " + ec.message();
    ws_->set_option(websocket::stream_base::decorator([origin](websocket::request_type& req) {
      if (origin != "-") req.set(bhttp::field::origin, origin);
    }));
    ws_->read_message_max(16 << 20);
    bool done = false;
    websocket::response_type response;
    ws_->async_handshake(response, "127.0.0.1:" + std::to_string(port), path, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    if (!run(done)) return "handshake: timeout";
    if (ec) {
      handshake_status_ = response.result_int();
      return "handshake: " + ec.message() + " (" + std::to_string(response.result_int()) + ")";
    }
    return "";
  }

  int handshake_status() const { return handshake_status_; }

  bool send(const std::string& text, bool binary = false) {
    ws_->text(!binary);
    ws_->binary(binary);
    beast::error_code ec;
    bool done = false;
    ws_->async_write(boost::asio::buffer(text), [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    return run(done) && !ec;
  }
  bool send_json(const boost::json::object& o) { return send(boost::json::serialize(o)); }

  // The next text frame; nothing when the connection closed (see close_code()) or the
  // wait ran out (timed_out()).
  std::optional<std::string> read(std::chrono::milliseconds limit = kWaitLimit) {
    if (closed_) return std::nullopt;
    beast::flat_buffer buffer;
    beast::error_code ec;
    bool done = false;
    ws_->async_read(buffer, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run(done, limit)) {
      timed_out_ = true;
      closed_ = true;
      return std::nullopt;
    }
    if (ec) {
      closed_ = true;
      error_ = ec;
      return std::nullopt;
    }
    return beast::buffers_to_string(buffer.data());
  }

  std::optional<boost::json::object> read_json(std::chrono::milliseconds limit = kWaitLimit) {
    auto text = read(limit);
    if (!text) return std::nullopt;
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return v.as_object();
  }

  // Reads until a frame of `type`, skipping others.
  std::optional<boost::json::object> read_type(const std::string& type, std::chrono::milliseconds limit = kWaitLimit) {
    while (auto f = read_json(limit)) {
      if (f->at("type").as_string() == type) return f;
    }
    return std::nullopt;
  }

  // After read() gave nothing because the server closed: its close code.
  uint16_t close_code() const { return ws_ ? static_cast<uint16_t>(ws_->reason().code) : 0; }
  bool timed_out() const { return timed_out_; }
  beast::error_code error() const { return error_; }

  // Cuts the TCP connection without a close handshake, as a dead network would.
  void drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(*ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*ws_).close();
    closed_ = true;
  }

  void close() {
    if (closed_) return;
    bool done = false;
    ws_->async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
    run(done, std::chrono::seconds(2));
    closed_ = true;
  }

 private:
  bool run(bool& done, std::chrono::milliseconds limit = kWaitLimit) {
    io_.restart();
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < until) {
      io_.run_one_until(until);
      if (io_.stopped()) io_.restart();
    }
    const bool finished = done;
    if (!finished) {
      // Cancel what is pending; its handler (which sets `done`) runs in the cleanup.
      beast::error_code ignored;
      beast::get_lowest_layer(*ws_).socket().close(ignored);
      io_.restart();
      io_.run_for(std::chrono::milliseconds(100));
    }
    return finished;
  }

  boost::asio::io_context io_;
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  bool closed_ = false;
  bool timed_out_ = false;
  int handshake_status_ = 0;
  beast::error_code error_;
};

// One HTTP request on a fresh connection; status 0 when none came.
struct HttpTestReply {
  int status = 0;
  std::string body;
  bhttp::response<bhttp::string_body> response;
};

inline HttpTestReply http_request(uint16_t port, bhttp::verb verb, const std::string& target, std::string body = "",
                                  std::map<std::string, std::string> headers = {}) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  HttpTestReply reply;
  beast::error_code ec;
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return reply;
  bhttp::request<bhttp::string_body> req{verb, target, 11};
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port));
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = std::move(body);
  req.prepare_payload();
  stream.expires_after(kWaitLimit);
  bhttp::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
  io.run();
  if (ec) return reply;
  io.restart();
  beast::flat_buffer buffer;
  stream.expires_after(kWaitLimit);
  bhttp::async_read(stream, buffer, reply.response, [&](beast::error_code e, std::size_t) { ec = e; });
  io.run();
  if (ec) return reply;
  reply.status = reply.response.result_int();
  reply.body = reply.response.body();
  return reply;
}

}  // namespace switchboard::testing
