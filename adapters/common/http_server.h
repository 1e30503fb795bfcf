#pragma once

// A small HTTP/1.1 and WebSocket server on Boost.Beast for the adapters that face the
// internet: the chat widget's WebSocket and uploads, and the webhooks of Twilio,
// Meta and Telegram (which check an HMAC over the raw body, so handlers get it as it
// came).
//
// Routes are matched by method and exact path (or by path prefix). A handler answers
// through `Respond`, from any thread and possibly later (after the router said the
// message is durable); a request that gets no answer within `handler_timeout` is
// answered 503. One request at a time per connection (no pipelining), keep-alive.
//
// Untrusted input is bounded: header bytes, body bytes (per route), the time to read a
// request, the time a handler may take, the number of open connections, and for
// WebSockets the message size (close 1009), UTF-8 of text frames (close 1007), an
// idle timeout with pings, and the number of frames queued for a slow reader. Every
// refusal is counted (counters()) and logged.
//
// Threading: the server runs its own io_context on `threads` threads. Each connection
// lives on its own strand; handlers and WebSocket listeners are called there and must
// not block (post disk work elsewhere). stop() closes the listener and every
// connection and joins the threads.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <switchboard/router/error.h>

namespace switchboard::adapters::http {

namespace beast_http = boost::beast::http;

using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;
using Verb = beast_http::verb;

// Who is on the other end of a connection.
struct Peer {
  std::string address;  // the remote IP, as text
  uint16_t port = 0;
  bool tls = false;
};

// Answers a request; call it exactly once, from any thread. Later calls are ignored.
using Respond = std::function<void(Response)>;
// `request.body()` is the raw body, byte for byte.
using Handler = std::function<void(Request request, const Peer& peer, Respond respond)>;

// The path of a request target, without the query.
std::string_view path_of(std::string_view target);
// A query parameter of a request target, percent-decoded; nothing when absent.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name);

// A response with a body and the usual headers (Content-Length set).
Response make_response(beast_http::status status, std::string body, std::string_view content_type = "text/plain");

// An open WebSocket. Thread-safe: send() and close() post to the connection's strand.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Queues a text frame. False (and the connection closes with 1008 "too slow") when
  // the peer lets more than max_queued_frames pile up; false once closing.
  virtual bool send(std::string text) = 0;
  virtual void close(boost::beast::websocket::close_code code, std::string reason) = 0;
  virtual const Peer& peer() const = 0;
};

// What a WebSocket route hands the connection's events to. Called on the
// connection's strand, in order: on_open once, on_text per message, on_close once.
class WebSocketListener {
 public:
  virtual ~WebSocketListener() = default;
  virtual void on_open(std::shared_ptr<WebSocketConnection> connection) = 0;
  virtual void on_text(std::string text) = 0;
  // `why` is empty for a clean close by either side.
  virtual void on_close(std::string why) = 0;
};

// Called with the upgrade request (headers, no body). Refuse with a Response (403 for
// a bad Origin, 503 when full, ...) or accept with a listener.
using WebSocketRoute = std::function<std::variant<Response, std::shared_ptr<WebSocketListener>>(
    const beast_http::request<beast_http::empty_body>& request, const Peer& peer)>;

struct TlsFiles {
  std::string cert_file;  // PEM chain
  std::string key_file;   // PEM private key
};

struct HttpServerOptions {
  // HOST:PORT; port 0 picks a free one (local_port() tells which).
  std::string listen = "127.0.0.1:0";
  std::optional<TlsFiles> tls;
  unsigned threads = 1;
  std::size_t max_connections = 10000;
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 1 << 20;               // routes may set their own
  std::chrono::milliseconds request_timeout{30'000};  // to read one request (and keep-alive idle)
  std::chrono::milliseconds handler_timeout{30'000};  // for a handler to answer
  // WebSocket
  std::size_t max_message_bytes = 64 * 1024;
  std::chrono::milliseconds handshake_timeout{10'000};
  // No frame from the peer for this long: a ping at half of it, then closed.
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t max_queued_frames = 256;
  std::string server_name = "switchboard";
};

// A snapshot of what the server refused and served.
struct HttpCounters {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t requests = 0;
  uint64_t not_found = 0;
  uint64_t bad_requests = 0;  // unparsable
  uint64_t header_too_large = 0;
  uint64_t body_too_large = 0;
  uint64_t timeouts = 0;  // reading a request, or a handler that never answered
  uint64_t tls_failures = 0;
  uint64_t websocket_accepted = 0;
  uint64_t websocket_refused = 0;   // by the route (origin, limits)
  uint64_t websocket_too_big = 0;   // close 1009
  uint64_t websocket_bad_utf8 = 0;  // close 1007
  uint64_t websocket_idle = 0;      // idle timeout
  uint64_t websocket_slow = 0;      // send queue over max_queued_frames
  uint64_t websocket_protocol_errors = 0;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes; add them before start(). `max_body_bytes` 0 keeps the server's default.
  void route(Verb verb, std::string path, Handler handler, std::size_t max_body_bytes = 0);
  // Every path that starts with `prefix` (e.g. "/chat/static/"), after exact routes.
  void route_prefix(Verb verb, std::string prefix, Handler handler, std::size_t max_body_bytes = 0);
  void websocket(std::string path, WebSocketRoute route);

  // Binds, listens and starts the threads. INVALID_ARGUMENT for a bad listen address
  // or TLS files, UNAVAILABLE when the port cannot be bound.
  router::Status start();
  void stop();

  uint16_t local_port() const { return local_port_; }
  std::string local_address() const;  // HOST:PORT as bound
  HttpCounters counters() const;
  std::size_t open_connections() const;

  struct State;  // shared with the sessions; public for them only

 private:
  HttpServerOptions options_;
  std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;
  uint16_t local_port_ = 0;
  bool started_ = false;
};

}  // namespace switchboard::adapters::http
