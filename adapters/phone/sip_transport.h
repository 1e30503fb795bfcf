#pragma once

// The SIP front's sockets (RFC 3261 section 18): one UDP socket, datagram = message,
// and a TCP listener whose streams are framed by Content-Length. Each request goes
// to SipFront::receive with a way back to its sender. Runs on the io_context's one
// thread, like SipFront.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <memory>
#include <string>

#include <switchboard/router/error.h>

#include "sip_front.h"
#include "sip_settings.h"

namespace switchboard::adapters::phone {

class SipTransport {
 public:
  SipTransport(boost::asio::io_context& io, const SipSettings& settings, SipFront& front);
  ~SipTransport();

  // Binds UDP and TCP (as configured) to the same port: with port 0, a free one.
  // Answers the address bound ("127.0.0.1:5062").
  router::Result<std::string> start();
  void stop();

 private:
  class TcpConnection;

  void receive_udp();
  void accept_tcp();

  boost::asio::io_context& io_;
  const SipSettings& settings_;
  SipFront& front_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor tcp_;
  boost::asio::ip::udp::endpoint udp_sender_;
  std::string udp_buffer_;
  std::shared_ptr<std::size_t> tcp_connections_;  // open connections, shared with them
};

}  // namespace switchboard::adapters::phone
