#pragma once

// The inbound SMTP server: Boost.Asio, one SmtpSession per connection (owned by its
// pending operations through shared_from_this), each on its own strand. Sessions
// never block: a complete message goes to the MessageSink, and the session answers
// DATA when the sink calls back.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <switchboard/router/error.h>

#include "common/peer_filter.h"
#include "smtp_protocol.h"

namespace switchboard::adapters::email {

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // A complete message. `done` gets the whole reply line for DATA ("250 ...\r\n",
  // "451 ...\r\n"); it may run on any thread, exactly once.
  virtual void accept_message(Envelope envelope, std::string message, std::string peer,
                              std::function<void(std::string reply)> done) = 0;
};

struct SmtpServerOptions {
  std::string listen;  // HOST:PORT
  SmtpPolicy policy;
  uint32_t max_sessions = 200;
  std::chrono::seconds idle_timeout{300};
  std::chrono::seconds session_timeout{1800};
  std::vector<std::string> allowed_peers;          // CIDR blocks or addresses; empty: any
  std::shared_ptr<boost::asio::ssl::context> tls;  // set: STARTTLS is offered
};

class SmtpServer {
 public:
  struct Shared;  // what sessions share with the server; outlives both

  SmtpServer(boost::asio::io_context& io, SmtpServerOptions options, MessageSink& sink);
  ~SmtpServer();

  // Binds and starts accepting; the bound endpoint (port 0 resolved).
  router::Result<boost::asio::ip::tcp::endpoint> start();
  // Stops accepting and asks every session to end: idle ones at once (421), one
  // waiting for its message's answer right after writing it. Returns at once.
  void stop();
  std::size_t active_sessions() const;

 private:
  void accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
};

// allowed_peers: "10.0.0.0/8", "::1", "192.168.1.7" (common/peer_filter.h).
using adapters::parse_peer_filter;
using adapters::PeerFilter;

}  // namespace switchboard::adapters::email
