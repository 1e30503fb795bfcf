#pragma once

// The SIP front's logic, apart from its sockets: RFC 3261 server transactions of a
// redirect server (docs/phone.md). An INVITE is routed by AdapterHost::route_call, then
// answered 302 with the agent's contact, or 480/486 when nobody can take it; 100 Trying
// goes first only when routing takes longer than `trying_after`. Retransmissions are answered from the transaction
// cache, CANCEL ends a pending INVITE with 487, ACK is absorbed, OPTIONS and BYE get 200.
//
// Threading: every member runs on the one thread that runs `io` (the adapter runs its
// io_context on a single thread); route_call answers are posted back to it. Nothing
// here blocks.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <switchboard/router/adapter.h>

#include "chat/rate_limit.h"
#include "common/peer_filter.h"
#include "sip_message.h"
#include "sip_settings.h"

namespace switchboard::adapters::phone {

// Sends datagrams: the UDP socket's owner, which sends what a batch of requests
// produced together (sendmmsg). On the io thread.
class SipDatagramSender {
 public:
  virtual ~SipDatagramSender() = default;
  virtual void send_datagram(const boost::asio::ip::udp::endpoint& to, std::string bytes) = 0;
};

// Where a request came from, and how to answer it there.
struct SipPeer {
  boost::asio::ip::address address;
  uint16_t port = 0;
  bool reliable = false;                    // TCP: no retransmissions
  SipDatagramSender* datagrams = nullptr;   // UDP: answers go back to address:port by it
  std::function<void(std::string)> stream;  // TCP: writes one response on the connection

  void send(std::string response) const {
    if (stream) return stream(std::move(response));
    datagrams->send_datagram({address, port}, std::move(response));
  }
};

// Counters, for logs and tests.
struct SipCounters {
  uint64_t requests = 0;
  uint64_t malformed = 0;
  uint64_t invites_routed = 0;
  uint64_t retransmissions_absorbed = 0;
  uint64_t rate_limited = 0;
  uint64_t overloaded = 0;  // max_in_flight or max_transactions reached
  uint64_t canceled = 0;
};

class SipFront {
 public:
  SipFront(SipSettings settings, PeerFilter trusted, router::AdapterHost& host, boost::asio::io_context& io);
  ~SipFront();

  // One request (a UDP datagram, or one framed TCP message). On the io thread.
  void receive(std::string_view text, const SipPeer& peer);
  // No route_call answer is acted on from now on (they may still arrive).
  void close();
  SipCounters counters() const;
  std::size_t transactions() const { return transactions_.size(); }

 private:
  struct Transaction;
  class Lifeline;  // lets route_call answers find the front only while it is open

  struct AtomicCounters;

  void on_invite(SipRequest& request, const SipPeer& peer);
  void on_ack(const std::string& key);
  void on_cancel(const SipRequest& request, const SipPeer& peer);
  void on_bye(const SipRequest& request, const SipPeer& peer);
  void on_routed(const std::string& key, router::Result<router::CallRouting> routed);
  // The final answer of the INVITE transaction `key`: sent, kept for retransmissions,
  // and (over UDP) repeated until the ACK (RFC 3261 Timer G).
  void answer(Transaction& t, const std::string& key, std::string response);
  bool admit_invite(const SipPeer& peer);
  void sweep();
  void arm_sweep();
  void arm_retransmit();
  void retransmit_due();
  void arm_trying();
  void trying_due();
  // 100 Trying for an INVITE still waiting for its routing, once.
  void send_trying(Transaction& t);

  SipSettings settings_;
  PeerFilter trusted_;
  router::AdapterHost& host_;
  boost::asio::io_context& io_;
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer retransmit_timer_;
  boost::asio::steady_timer trying_timer_;
  std::shared_ptr<Lifeline> lifeline_;

  std::unordered_map<std::string, Transaction> transactions_;  // by SipRequest::transaction_key()
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> expiry_;  // oldest first
  std::multimap<std::chrono::steady_clock::time_point, std::string> retransmits_;     // UDP finals awaiting ACK
  bool retransmit_armed_ = false;
  std::chrono::steady_clock::time_point retransmit_deadline_;  // when armed
  // INVITEs that get a 100 Trying if still routing then; in arrival order, so due order.
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> trying_;
  bool trying_armed_ = false;
  std::unordered_map<boost::asio::ip::address, chat::TokenBucket> buckets_;  // by source address
  std::size_t in_flight_ = 0;
  uint64_t next_tag_ = 0;
  std::unique_ptr<AtomicCounters> counters_;  // counters() is read from other threads
};

}  // namespace switchboard::adapters::phone
