#pragma once

// The SIP front's sockets (RFC 3261 section 18): one UDP socket, datagram = message,
// and a TCP listener whose streams are framed by Content-Length. Each request goes
// to SipFront::receive with a way back to its sender. Runs on the io_context's one
// thread, like SipFront.
//
// UDP goes in batches: when the socket is readable, every datagram waiting is taken
// (recvmmsg, up to kBatch a call) and handed over; the answers they produced leave
// together once the io thread has nothing more ready (sendmmsg). At thousands of
// INVITEs a second that is a few system calls and one wake-up for many requests,
// instead of two asynchronous operations for each datagram in and out.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <memory>
#include <string>
#include <vector>

#include <switchboard/router/error.h>

#include "sip_front.h"
#include "sip_settings.h"

namespace switchboard::adapters::phone {

class SipTransport final : public SipDatagramSender {
 public:
  SipTransport(boost::asio::io_context& io, const SipSettings& settings, SipFront& front);
  ~SipTransport() override;

  // Binds UDP and TCP (as configured) to the same port: with port 0, a free one.
  // Answers the address bound ("127.0.0.1:5062").
  router::Result<std::string> start();
  void stop();

  // Queues one answer; it leaves with the others of its batch. When the socket's send
  // buffer stays full, answers beyond a bound are dropped as a network would drop them
  // (the caller retransmits its request and gets the answer again).
  void send_datagram(const boost::asio::ip::udp::endpoint& to, std::string bytes) override;

 private:
  class TcpConnection;
  struct Datagram {
    boost::asio::ip::udp::endpoint to;
    std::string bytes;
  };

  void wait_udp();  // until the socket is readable, then read_udp()
  void read_udp();  // the datagrams waiting, a bounded number of them per turn
  void flush_udp();
  void accept_tcp();

  boost::asio::io_context& io_;
  const SipSettings& settings_;
  SipFront& front_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor tcp_;
  std::vector<char> udp_buffers_;  // kBatch datagrams of max_message_bytes + 1
  std::vector<Datagram> outgoing_;
  bool flush_posted_ = false;
  bool waiting_writable_ = false;
  std::shared_ptr<std::size_t> tcp_connections_;  // open connections, shared with them
};

}  // namespace switchboard::adapters::phone
