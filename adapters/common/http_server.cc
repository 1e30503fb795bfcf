#include "common/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

namespace switchboard::adapters::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

Response make_response(beast_http::status status, std::string body, std::string_view content_type) {
  Response res{status, 11};
  res.set(beast_http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

namespace {

// Something stop() can close from outside.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void shut() = 0;
};

struct Route {
  Verb verb;
  std::string path;
  Handler handler;
  std::size_t max_body_bytes;
  bool prefix;
};

}  // namespace

std::string_view path_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  for (const auto& param : url->params()) {
    if (param.key == name) return std::string(param.value);
  }
  return std::nullopt;
}

struct HttpServer::State {
  explicit State(HttpServerOptions o) : options(std::move(o)) {}

  HttpServerOptions options;
  std::vector<Route> routes;
  std::map<std::string, WebSocketRoute, std::less<>> websocket_routes;
  std::optional<ssl::context> tls;

  struct Counters {
    std::atomic<uint64_t> connections_accepted{0}, connections_refused{0}, requests{0}, not_found{0}, bad_requests{0},
        header_too_large{0}, body_too_large{0}, timeouts{0}, tls_failures{0}, websocket_accepted{0},
        websocket_refused{0}, websocket_too_big{0}, websocket_bad_utf8{0}, websocket_idle{0}, websocket_slow{0},
        websocket_protocol_errors{0};
  } counters;
  std::atomic<std::size_t> open{0};

  std::mutex mutex;  // guards live and next_id
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, std::weak_ptr<Closable>> live;
  bool stopping = false;

  // Last, so that it is destroyed first: the handlers it still holds own sessions
  // whose destructors touch the members above.
  asio::io_context io;
  std::optional<tcp::acceptor> acceptor;

  // Logs the first refusals of a kind and then every 1000th, so a flood cannot fill
  // the log; the counter holds the exact number.
  void refused(std::atomic<uint64_t>& counter, std::string_view what, const Peer& peer) {
    const uint64_t n = ++counter;
    if (n <= 10 || n % 1000 == 0) {
      spdlog::warn("http: refused {} from {} ({} so far)", what, peer.address, n);
    }
  }

  const Route* find(Verb verb, std::string_view path) const {
    for (const auto& r : routes) {
      if (!r.prefix && r.verb == verb && r.path == path) return &r;
    }
    for (const auto& r : routes) {
      if (r.prefix && r.verb == verb && path.starts_with(r.path)) return &r;
    }
    return nullptr;
  }

  uint64_t enlist(std::weak_ptr<Closable> session) {
    std::lock_guard lock(mutex);
    live.emplace(++next_id, std::move(session));
    return next_id;
  }
  void discharge(uint64_t id) {
    std::lock_guard lock(mutex);
    live.erase(id);
  }
};

namespace {

using State = HttpServer::State;

// Holds one of max_connections while a connection lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(State& state) : state_(&state) {}
  ConnectionSlot(ConnectionSlot&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (state_) --state_->open;
  }

 private:
  State* state_;
};

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
class WebSocketSession final : public WebSocketConnection,
                               public Closable,
                               public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(State& state, Stream&& stream, ConnectionSlot slot, Peer peer,
                   std::shared_ptr<WebSocketListener> listener)
      : state_(state),
        ws_(std::move(stream)),
        slot_(std::move(slot)),
        peer_(std::move(peer)),
        listener_(std::move(listener)) {}

  ~WebSocketSession() override { state_.discharge(id_); }

  void accept(beast_http::request<beast_http::empty_body> request) {
    request_ = std::move(request);
    id_ = state_.enlist(this->weak_from_this());
    const auto& o = state_.options;
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeout{o.handshake_timeout, o.idle_timeout, true};
    ws_.set_option(timeout);
    ws_.read_message_max(o.max_message_bytes);
    ws_.auto_fragment(false);
    ws_.text(true);
    ws_.set_option(websocket::stream_base::decorator(
        [name = o.server_name](websocket::response_type& res) { res.set(beast_http::field::server, name); }));
    ws_.async_accept(request_, [self = this->shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  bool send(std::string text) override {
    if (closing_flag_.load()) return false;
    if (queued_.fetch_add(1) >= state_.options.max_queued_frames) {
      --queued_;
      state_.refused(state_.counters.websocket_slow, "a WebSocket reader too slow for its queue", peer_);
      close(websocket::close_code::policy_error, "too slow");
      return false;
    }
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), text = std::move(text)]() mutable {
      self->queue_.push_back(std::move(text));
      if (!self->writing_ && !self->closing_) self->write_next();
    });
    return true;
  }

  void close(websocket::close_code code, std::string reason) override {
    closing_flag_ = true;
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), code, reason = std::move(reason)] {
      if (self->closing_) return;
      self->closing_ = true;
      self->close_reason_ = websocket::close_reason(code, reason);
      if (!self->writing_) self->do_close();
    });
  }

  const Peer& peer() const override { return peer_; }

  void shut() override { close(websocket::close_code::going_away, "server stopping"); }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) {
      if (ec == beast::error::timeout) {
        state_.refused(state_.counters.timeouts, "a WebSocket handshake that timed out", peer_);
      } else {
        state_.refused(state_.counters.websocket_protocol_errors, "a bad WebSocket handshake: " + ec.message(), peer_);
      }
      return;
    }
    ++state_.counters.websocket_accepted;
    opened_ = true;
    listener_->on_open(this->shared_from_this());
    read();
  }

  void read() {
    ws_.async_read(buffer_,
                   [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      finish(ec);
      return;
    }
    if (!ws_.got_text()) {
      state_.refused(state_.counters.websocket_protocol_errors, "a binary WebSocket frame", peer_);
      buffer_.clear();
      close(websocket::close_code::unknown_data, "text frames only");
      read();  // the close handshake ends the read
      return;
    }
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!closing_) listener_->on_text(std::move(text));
    read();
  }

  void finish(beast::error_code ec) {
    std::string why;
    auto& c = state_.counters;
    if (ec == websocket::error::closed || ec == asio::error::operation_aborted) {
      // a clean close, or ours
    } else if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) {
      state_.refused(c.websocket_too_big, "a WebSocket message over max_message_bytes (closed 1009)", peer_);
      why = "message too big";
    } else if (ec == websocket::error::bad_frame_payload) {
      state_.refused(c.websocket_bad_utf8, "a WebSocket text frame that is not UTF-8 (closed 1007)", peer_);
      why = "invalid UTF-8";
    } else if (ec == beast::error::timeout) {
      state_.refused(c.websocket_idle, "an idle WebSocket (no pong)", peer_);
      why = "idle timeout";
    } else if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == ssl::error::stream_truncated) {
      why = "connection dropped";
    } else {
      state_.refused(c.websocket_protocol_errors, "a WebSocket protocol error: " + ec.message(), peer_);
      why = ec.message();
    }
    closing_flag_ = true;
    closing_ = true;
    if (!writing_) queue_.clear();  // else the write in flight still reads its front
    if (opened_) {
      opened_ = false;
      listener_->on_close(std::move(why));
    }
  }

  void write_next() {
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (!queue_.empty()) queue_.pop_front();
    --queued_;
    if (ec) return;  // the read side reports it
    if (closing_) {
      do_close();
      return;
    }
    if (!queue_.empty()) write_next();
  }

  void do_close() {
    if (close_started_ || !ws_.is_open()) return;
    close_started_ = true;
    ws_.async_close(close_reason_, [self = this->shared_from_this()](beast::error_code) {});
  }

  State& state_;
  beast_http::request<beast_http::empty_body> request_;  // the upgrade, until accepted
  websocket::stream<Stream> ws_;
  ConnectionSlot slot_;
  Peer peer_;
  std::shared_ptr<WebSocketListener> listener_;
  uint64_t id_ = 0;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> closing_flag_{false};
  websocket::close_reason close_reason_;
  bool writing_ = false;
  bool closing_ = false;
  bool close_started_ = false;
  bool opened_ = false;
};

template <class Stream>
class HttpSession final : public Closable, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(State& state, Stream&& stream, ConnectionSlot slot, Peer peer)
      : state_(state),
        stream_(std::move(stream)),
        slot_(std::move(slot)),
        peer_(std::move(peer)),
        handler_timer_(stream_.get_executor()) {}

  ~HttpSession() override { state_.discharge(id_); }

  void run() {
    id_ = state_.enlist(this->weak_from_this());
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(state_.options.request_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) {
          self->state_.refused(self->state_.counters.tls_failures, "a TLS handshake: " + ec.message(), self->peer_);
          return;
        }
        self->read();
      });
    } else {
      read();
    }
  }

  void shut() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stopping_ = true;
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(self->stream_).close();
      self->handler_timer_.cancel();
    });
  }

 private:
  void read() {
    if (stopping_) return;
    header_.emplace();
    header_->header_limit(static_cast<std::uint32_t>(state_.options.max_header_bytes));
    header_->body_limit(state_.options.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(state_.options.request_timeout);
    beast_http::async_read_header(
        stream_, buffer_, *header_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    auto& c = state_.counters;
    if (ec == beast_http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset) {
      return close();
    }
    if (ec == beast::error::timeout) {
      // An idle keep-alive connection timing out is normal; a half-sent request is not.
      if (buffer_.size() > 0) state_.refused(c.timeouts, "a request not sent within request_timeout", peer_);
      return close();
    }
    if (ec == beast_http::error::header_limit) {
      state_.refused(c.header_too_large, "a request header over max_header_bytes", peer_);
      return write(make_response(beast_http::status::request_header_fields_too_large, "header too large\n"), false);
    }
    // A Content-Length over the server's max_body_bytes fails the header read already.
    if (ec == beast_http::error::body_limit) {
      state_.refused(c.body_too_large, "a request body over max_body_bytes", peer_);
      return write(make_response(beast_http::status::payload_too_large, "body too large\n"), false);
    }
    if (ec) {
      state_.refused(c.bad_requests, "an unparsable request: " + ec.message(), peer_);
      return write(make_response(beast_http::status::bad_request, "bad request\n"), false);
    }
    ++c.requests;
    auto& req = header_->get();
    const std::string path(path_of(req.target()));
    if (websocket::is_upgrade(req)) return upgrade(path);

    const Route* route = state_.find(req.method(), path);
    if (!route) {
      ++c.not_found;
      // Close rather than read a body nobody wants.
      return write(make_response(beast_http::status::not_found, "not found\n"), false);
    }
    handler_ = &route->handler;
    const std::size_t limit = route->max_body_bytes ? route->max_body_bytes : state_.options.max_body_bytes;
    // The parser checked Content-Length against the server's limit while reading the
    // header; the route's may be smaller. Chunked bodies are checked as they come.
    if (const auto length = header_->content_length(); length && *length > limit) {
      state_.refused(c.body_too_large, "a request body over the route's limit", peer_);
      return write(make_response(beast_http::status::payload_too_large, "body too large\n"), false);
    }
    body_.emplace(std::move(*header_));
    header_.reset();
    body_->body_limit(limit);
    beast_http::async_read(stream_, buffer_, *body_,
                           [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void upgrade(const std::string& path) {
    auto it = state_.websocket_routes.find(path);
    if (it == state_.websocket_routes.end()) {
      ++state_.counters.not_found;
      return write(make_response(beast_http::status::not_found, "not found\n"), false);
    }
    auto decision = it->second(header_->get(), peer_);
    if (auto* refusal = std::get_if<Response>(&decision)) {
      state_.refused(state_.counters.websocket_refused,
                     "a WebSocket upgrade (" + std::to_string(refusal->result_int()) + ")", peer_);
      return write(std::move(*refusal), false);
    }
    auto ws = std::make_shared<WebSocketSession<Stream>>(state_, std::move(stream_), std::move(slot_), peer_,
                                                         std::move(std::get<1>(decision)));
    ws->accept(header_->release());
  }

  void on_body(beast::error_code ec) {
    auto& c = state_.counters;
    if (ec == beast_http::error::body_limit) {
      state_.refused(c.body_too_large, "a request body over the route's limit", peer_);
      return write(make_response(beast_http::status::payload_too_large, "body too large\n"), false);
    }
    if (ec == beast::error::timeout) {
      state_.refused(c.timeouts, "a request body not sent within request_timeout", peer_);
      return close();
    }
    if (ec) {
      if (ec == asio::error::eof || ec == beast_http::error::partial_message || ec == asio::error::connection_reset ||
          ec == asio::error::operation_aborted) {
        return close();
      }
      state_.refused(c.bad_requests, "an unparsable request body: " + ec.message(), peer_);
      return write(make_response(beast_http::status::bad_request, "bad request\n"), false);
    }
    Request request = body_->release();
    body_.reset();
    keep_alive_ = request.keep_alive();
    beast::get_lowest_layer(stream_).expires_never();
    const uint64_t generation = ++generation_;
    answered_ = std::make_shared<std::atomic<bool>>(false);
    handler_timer_.expires_after(state_.options.handler_timeout);
    handler_timer_.async_wait([self = this->shared_from_this(), answered = answered_](beast::error_code ec) {
      if (ec || answered->exchange(true)) return;
      self->state_.refused(self->state_.counters.timeouts, "nothing: a handler did not answer in time", self->peer_);
      self->write(make_response(beast_http::status::service_unavailable, "the server did not answer in time\n"), false);
    });
    Respond respond = [self = this->shared_from_this(), answered = answered_, generation](Response response) {
      if (answered->exchange(true)) return;
      asio::post(self->stream_.get_executor(), [self, generation, response = std::move(response)]() mutable {
        if (generation != self->generation_) return;
        self->handler_timer_.cancel();
        self->write(std::move(response), self->keep_alive_);
      });
    };
    (*handler_)(std::move(request), peer_, std::move(respond));
  }

  void write(Response response, bool keep_alive) {
    if (stopping_) return;
    response.set(beast_http::field::server, state_.options.server_name);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    response_ = std::make_shared<Response>(std::move(response));
    beast::get_lowest_layer(stream_).expires_after(state_.options.request_timeout);
    beast_http::async_write(stream_, *response_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      const bool again = !ec && self->response_->keep_alive();
      self->response_.reset();
      if (again) return self->read();
      self->close();
    });
  }

  void close() {
    // No TLS close_notify dance: the peer learns from the TCP close, and a slow peer
    // cannot hold the connection open.
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  State& state_;
  Stream stream_;
  ConnectionSlot slot_;
  Peer peer_;
  uint64_t id_ = 0;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::empty_body>> header_;
  std::optional<beast_http::request_parser<beast_http::string_body>> body_;
  const Handler* handler_ = nullptr;
  asio::steady_timer handler_timer_;
  std::shared_ptr<std::atomic<bool>> answered_;
  uint64_t generation_ = 0;
  bool keep_alive_ = true;
  bool stopping_ = false;
  std::shared_ptr<Response> response_;
};

void accept_next(State& state) {
  state.acceptor->async_accept(asio::make_strand(state.io), [&state](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      Peer peer;
      beast::error_code ignored;
      const auto remote = socket.remote_endpoint(ignored);
      peer.address = remote.address().to_string();
      peer.port = remote.port();
      peer.tls = state.tls.has_value();
      if (state.open.fetch_add(1) >= state.options.max_connections) {
        --state.open;
        state.refused(state.counters.connections_refused, "a connection over max_connections", peer);
        socket.close(ignored);
      } else {
        ++state.counters.connections_accepted;
        ConnectionSlot slot(state);
        if (state.tls) {
          std::make_shared<HttpSession<TlsStream>>(state, TlsStream(PlainStream(std::move(socket)), *state.tls),
                                                   std::move(slot), std::move(peer))
              ->run();
        } else {
          std::make_shared<HttpSession<PlainStream>>(state, PlainStream(std::move(socket)), std::move(slot),
                                                     std::move(peer))
              ->run();
        }
      }
    } else {
      // EMFILE and friends: keep accepting; the counter tells the operator.
      spdlog::warn("http: accept failed: {}", ec.message());
    }
    accept_next(state);
  });
}

router::Result<tcp::endpoint> parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return router::invalid_argument("listen", "'" + listen + "' is not HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return router::invalid_argument("listen", "'" + host + "' is not an IP address");
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return router::invalid_argument("listen", "'" + listen + "' has no valid port");
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), state_(std::make_shared<State>(options_)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(Verb verb, std::string path, Handler handler, std::size_t max_body_bytes) {
  state_->routes.push_back({verb, std::move(path), std::move(handler), max_body_bytes, false});
}

void HttpServer::route_prefix(Verb verb, std::string prefix, Handler handler, std::size_t max_body_bytes) {
  state_->routes.push_back({verb, std::move(prefix), std::move(handler), max_body_bytes, true});
}

void HttpServer::websocket(std::string path, WebSocketRoute route) {
  state_->websocket_routes[std::move(path)] = std::move(route);
}

router::Status HttpServer::start() {
  auto endpoint = parse_listen(options_.listen);
  if (!endpoint) return endpoint.error();
  if (options_.tls) {
    ssl::context context(ssl::context::tls_server);
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    context.use_certificate_chain_file(options_.tls->cert_file, ec);
    if (ec) return router::invalid_argument("tls.cert_file", options_.tls->cert_file + ": " + ec.message());
    context.use_private_key_file(options_.tls->key_file, ssl::context::pem, ec);
    if (ec) return router::invalid_argument("tls.key_file", options_.tls->key_file + ": " + ec.message());
    state_->tls.emplace(std::move(context));
  }
  auto& acceptor = state_->acceptor.emplace(state_->io);
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return router::Error{router::ErrorCode::kUnavailable, "listen", options_.listen + ": " + ec.message()};
  }
  local_port_ = acceptor.local_endpoint().port();
  accept_next(*state_);
  for (unsigned i = 0; i < std::max(1u, options_.threads); ++i) {
    threads_.emplace_back([state = state_] { state->io.run(); });
  }
  started_ = true;
  return router::ok_status();
}

void HttpServer::stop() {
  if (!started_) return;
  started_ = false;
  asio::post(state_->io, [state = state_] {
    beast::error_code ignored;
    state->acceptor->close(ignored);
  });
  std::vector<std::shared_ptr<Closable>> sessions;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    for (auto& [id, weak] : state_->live) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  for (auto& s : sessions) s->shut();
  sessions.clear();
  // Close handshakes get a moment; what is left is cut when the io_context stops.
  asio::steady_timer grace(state_->io, std::chrono::milliseconds(200));
  grace.async_wait([state = state_](beast::error_code) { state->io.stop(); });
  for (auto& t : threads_) t.join();
  threads_.clear();
}

std::string HttpServer::local_address() const {
  if (!state_->acceptor) return {};
  beast::error_code ec;
  auto ep = state_->acceptor->local_endpoint(ec);
  if (ec) return {};
  const std::string host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
  return host + ":" + std::to_string(local_port_);
}

std::size_t HttpServer::open_connections() const { return state_->open.load(); }

HttpCounters HttpServer::counters() const {
  const auto& c = state_->counters;
  HttpCounters out;
  out.connections_accepted = c.connections_accepted;
  out.connections_refused = c.connections_refused;
  out.requests = c.requests;
  out.not_found = c.not_found;
  out.bad_requests = c.bad_requests;
  out.header_too_large = c.header_too_large;
  out.body_too_large = c.body_too_large;
  out.timeouts = c.timeouts;
  out.tls_failures = c.tls_failures;
  out.websocket_accepted = c.websocket_accepted;
  out.websocket_refused = c.websocket_refused;
  out.websocket_too_big = c.websocket_too_big;
  out.websocket_bad_utf8 = c.websocket_bad_utf8;
  out.websocket_idle = c.websocket_idle;
  out.websocket_slow = c.websocket_slow;
  out.websocket_protocol_errors = c.websocket_protocol_errors;
  return out;
}

}  // namespace switchboard::adapters::http
