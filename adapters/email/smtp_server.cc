#include "smtp_server.h"

#include <array>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <set>

#include <spdlog/spdlog.h>

namespace switchboard::adapters::email {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class SmtpSession;

struct SmtpServer::Shared {
  SmtpServerOptions options;
  MessageSink* sink = nullptr;
  PeerFilter peers;
  mutable std::mutex mutex;  // guards sessions and stopping; never held across I/O
  std::set<std::weak_ptr<SmtpSession>, std::owner_less<std::weak_ptr<SmtpSession>>> sessions;
  bool stopping = false;
};

namespace {

// Data lines may be longer than RFC 5322's 998, but not without end: past this a
// line is handed over in pieces.
constexpr std::size_t kMaxDataLineChunk = 64 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

class SmtpSession : public std::enable_shared_from_this<SmtpSession> {
 public:
  SmtpSession(tcp::socket socket, std::shared_ptr<SmtpServer::Shared> shared)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        shared_(std::move(shared)),
        protocol_(policy_for(*shared_)) {
    boost::system::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("unknown") : remote.address().to_string() + ":" + std::to_string(remote.port());
    peer_address_ = ec ? asio::ip::address() : remote.address();
    session_deadline_ = std::chrono::steady_clock::now() + shared_->options.session_timeout;
  }

  ~SmtpSession() {
    std::lock_guard lock(shared_->mutex);
    // weak_ptrs to this session are expired now; drop them.
    for (auto it = shared_->sessions.begin(); it != shared_->sessions.end();) {
      it = it->expired() ? shared_->sessions.erase(it) : std::next(it);
    }
  }

  auto executor() { return socket_.get_executor(); }

  // On the session's strand.
  void start(bool over_limit) {
    if (!shared_->options.allowed_peers.empty() && !shared_->peers.allows(peer_address_)) {
      spdlog::warn("email: refused SMTP connection from {}: not in allowed_peers", peer_);
      finish_with("554 5.7.1 " + shared_->options.policy.hostname + " does not accept mail from you\r\n");
      return;
    }
    if (over_limit) {
      finish_with("421 4.3.2 Too many connections, try again later\r\n");
      return;
    }
    output_ = protocol_.greeting();
    flush();
  }

  // From stop(): end now, or right after the answer to the message in flight.
  void shutdown() {
    if (closed_) return;
    if (waiting_) {
      closing_ = true;
      return;
    }
    if (writing_) {
      closing_ = true;
      return;
    }
    finish_with(SmtpProtocol::timeout_reply());
  }

 private:
  static SmtpPolicy policy_for(const SmtpServer::Shared& shared) {
    SmtpPolicy p = shared.options.policy;
    p.starttls_offered = shared.options.tls != nullptr;
    return p;
  }

  template <typename Handler>
  void read_some(Handler handler) {
    auto buffer = asio::buffer(read_buffer_);
    if (tls_) {
      tls_->async_read_some(buffer, std::move(handler));
    } else {
      socket_.async_read_some(buffer, std::move(handler));
    }
  }

  template <typename Handler>
  void write_all(Handler handler) {
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(writing_buffer_), std::move(handler));
    } else {
      asio::async_write(socket_, asio::buffer(writing_buffer_), std::move(handler));
    }
  }

  void arm_timer() {
    const auto idle = std::chrono::steady_clock::now() + shared_->options.idle_timeout;
    timer_.expires_at(std::min(idle, session_deadline_));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted || self->closed_) return;
      if (self->timer_.expiry() > std::chrono::steady_clock::now()) return;  // re-armed since
      if (self->waiting_) {
        self->closing_ = true;  // the message's answer still goes out, then we close
        return;
      }
      if (self->writing_) {
        self->close();  // a client that does not read our replies: nothing more to say
        return;
      }
      spdlog::info("email: SMTP session from {} timed out", self->peer_);
      self->finish_with(SmtpProtocol::timeout_reply());
    });
  }

  void read() {
    if (closed_) return;
    arm_timer();
    read_some([self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec) {
        if (ec != asio::error::operation_aborted && ec != asio::error::eof) {
          spdlog::debug("email: SMTP read from {}: {}", self->peer_, ec.message());
        }
        self->close();
        return;
      }
      self->input_.append(self->read_buffer_.data(), n);
      self->process();
    });
  }

  // Handles every complete line in input_, collecting replies in output_, until a
  // message waits for its answer, the session ends, or more input is needed.
  void process() {
    while (!closed_ && !waiting_ && !stop_after_write_ && !tls_pending_) {
      if (protocol_.in_data()) {
        const auto crlf = input_.find("\r\n", scan_from_);
        if (crlf == std::string::npos) {
          if (input_.size() > kMaxDataLineChunk) {
            // Keep a trailing CR: its LF may be in the next read.
            const std::size_t keep = input_.back() == '\r' ? 1 : 0;
            apply(protocol_.data_line(std::string_view(input_).substr(0, input_.size() - keep), /*complete=*/false));
            input_.erase(0, input_.size() - keep);
          }
          scan_from_ = input_.empty() ? 0 : input_.size() - 1;
          break;
        }
        scan_from_ = 0;
        apply(protocol_.data_line(std::string_view(input_).substr(0, crlf), /*complete=*/true));
        input_.erase(0, crlf + 2);
        continue;
      }
      const auto lf = input_.find('\n');
      if (lf == std::string::npos) {
        if (input_.size() > kMaxCommandLine) {
          discarding_ = true;  // the rest of this line is dropped; one error for it
          input_.clear();
        }
        break;
      }
      std::string_view line = std::string_view(input_).substr(0, lf);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (discarding_ || line.size() + 2 > kMaxCommandLine) {
        discarding_ = false;
        apply(protocol_.line_too_long());
      } else {
        apply(protocol_.command(line));
      }
      input_.erase(0, lf + 1);
    }
    if (!output_.empty() && !writing_) {
      flush();
    } else if (!writing_ && !waiting_ && !closed_ && !tls_pending_ && !stop_after_write_) {
      read();
    }
  }

  void apply(SmtpProtocol::Action action) {
    output_ += action.reply;
    switch (action.next) {
      case SmtpProtocol::Next::kContinue:
        break;
      case SmtpProtocol::Next::kClose:
        stop_after_write_ = true;
        break;
      case SmtpProtocol::Next::kStartTls:
        tls_pending_ = true;
        break;
      case SmtpProtocol::Next::kMessage:
        deliver();
        break;
    }
  }

  void deliver() {
    waiting_ = true;
    auto self = shared_from_this();
    shared_->sink->accept_message(protocol_.envelope(), protocol_.take_message(), peer_, [self](std::string reply) {
      asio::post(self->socket_.get_executor(), [self, reply = std::move(reply)] {
        self->waiting_ = false;
        self->apply(self->protocol_.finish_message(reply));
        if (self->closing_) self->stop_after_write_ = true;
        self->process();
      });
    });
  }

  void flush() {
    if (closed_ || output_.empty()) return;
    writing_ = true;
    writing_buffer_ = std::move(output_);
    output_.clear();
    write_all([self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) {
        self->close();
        return;
      }
      if (self->stop_after_write_) {
        self->close();
        return;
      }
      if (self->closing_ && !self->waiting_) {
        self->finish_with(SmtpProtocol::timeout_reply());
        return;
      }
      if (self->tls_pending_) {
        self->start_tls();
        return;
      }
      self->process();
    });
  }

  void start_tls() {
    // RFC 3207: whatever the client pipelined after STARTTLS is not to be trusted.
    input_.clear();
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *shared_->options.tls);
    arm_timer();
    tls_->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](boost::system::error_code ec) {
      self->tls_pending_ = false;
      if (ec) {
        spdlog::info("email: TLS handshake with {} failed: {}", self->peer_, ec.message());
        self->close();
        return;
      }
      self->protocol_.tls_started();
      self->process();
    });
  }

  void finish_with(std::string reply) {
    output_ = std::move(reply);
    stop_after_write_ = true;
    if (!writing_) flush();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer timer_;
  std::shared_ptr<SmtpServer::Shared> shared_;
  SmtpProtocol protocol_;
  std::string peer_;
  asio::ip::address peer_address_;
  std::chrono::steady_clock::time_point session_deadline_;
  std::array<char, kReadChunk> read_buffer_{};
  std::string input_;
  std::size_t scan_from_ = 0;
  std::string output_;
  std::string writing_buffer_;
  bool writing_ = false;
  bool waiting_ = false;  // a message is with the sink
  bool closing_ = false;  // stop() or a timeout came while busy
  bool stop_after_write_ = false;
  bool tls_pending_ = false;
  bool discarding_ = false;
  bool closed_ = false;
};

SmtpServer::SmtpServer(asio::io_context& io, SmtpServerOptions options, MessageSink& sink)
    : io_(io), acceptor_(io), shared_(std::make_shared<Shared>()) {
  shared_->options = std::move(options);
  shared_->sink = &sink;
}

SmtpServer::~SmtpServer() = default;

router::Result<tcp::endpoint> SmtpServer::start() {
  auto peers = parse_peer_filter(shared_->options.allowed_peers);
  if (!peers) return peers.error();
  shared_->peers = std::move(peers.value());
  const std::string& listen = shared_->options.listen;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return router::invalid_argument("listen", "expected HOST:PORT, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535) return router::invalid_argument("listen", "bad port in '" + listen + "'");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return router::invalid_argument("listen", "'" + host + "' is not an IP address");
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return router::invalid_argument("listen", "cannot listen on " + listen + ": " + ec.message());
  const auto bound = acceptor_.local_endpoint(ec);
  accept();
  return bound;
}

void SmtpServer::accept() {
  acceptor_.async_accept(asio::make_strand(io_),
                         [this, shared = shared_](boost::system::error_code ec, tcp::socket socket) {
                           if (ec == asio::error::operation_aborted) return;
                           {
                             std::lock_guard lock(shared->mutex);
                             if (shared->stopping) return;
                           }
                           if (!ec) {
                             boost::system::error_code ignored;
                             socket.set_option(tcp::no_delay(true), ignored);
                             auto session = std::make_shared<SmtpSession>(std::move(socket), shared);
                             bool over_limit = false;
                             {
                               std::lock_guard lock(shared->mutex);
                               for (auto it = shared->sessions.begin(); it != shared->sessions.end();) {
                                 it = it->expired() ? shared->sessions.erase(it) : std::next(it);
                               }
                               over_limit = shared->sessions.size() >= shared->options.max_sessions;
                               shared->sessions.insert(session);
                             }
                             asio::dispatch(session->executor(), [session, over_limit] { session->start(over_limit); });
                           } else {
                             spdlog::warn("email: SMTP accept: {}", ec.message());
                           }
                           accept();
                         });
}

void SmtpServer::stop() {
  std::vector<std::shared_ptr<SmtpSession>> live;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
    for (const auto& weak : shared_->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  for (auto& session : live) {
    asio::post(session->executor(), [session] { session->shutdown(); });
  }
}

std::size_t SmtpServer::active_sessions() const {
  std::lock_guard lock(shared_->mutex);
  std::size_t n = 0;
  for (const auto& weak : shared_->sessions) n += weak.expired() ? 0 : 1;
  return n;
}

}  // namespace switchboard::adapters::email
