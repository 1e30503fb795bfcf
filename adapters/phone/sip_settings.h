#pragma once

// The SIP front's settings: the `settings` object of the "phone" adapter entry in
// switchboardd's `adapters` list, documented field by field in docs/phone.md.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <switchboard/router/error.h>

namespace switchboard::adapters::phone {

struct SipSettings {
  std::string listen = "127.0.0.1:5060";  // UDP and TCP on this address; port 0: a free one for both
  std::string listening_file;             // when set, "HOST:PORT" is written there once bound
  std::string hostname = "switchboard";   // the agent name in Warning headers
  bool udp = true;
  bool tcp = true;
  // Peers whose P-Asserted-Identity is believed (the PBX, the carrier's SBC): addresses
  // or CIDR blocks. Anyone else is identified by From, unverified.
  std::vector<std::string> trusted_peers;
  std::string queue;  // calls go to this queue; empty: the queue rules, else the default queue

  // Bounds on what peers can make us hold or do.
  uint64_t max_message_bytes = 8192;           // a bigger request gets 513 (UDP) or the connection closed (TCP)
  uint32_t max_in_flight = 2048;               // INVITEs waiting for their routing answer; beyond: 503
  uint32_t max_transactions = 200'000;         // INVITE transactions remembered for retransmissions
  double invites_per_second_per_source = 500;  // token bucket per source address; beyond: 503 Retry-After
  double invite_burst_per_source = 1000;
  uint32_t max_sources = 10'000;  // source addresses with a rate bucket
  uint32_t retry_after_seconds = 5;
  std::chrono::milliseconds transaction_ttl{32'000};  // Timer H/J: 64 x T1
  std::chrono::milliseconds t1{500};                  // RFC 3261 retransmission timers (UDP)
  std::chrono::milliseconds t2{4'000};
  // 100 Trying goes out only when routing has not answered within this (0: at once).
  // RFC 3261 17.2.1 asks for it within 200 ms of an INVITE the TU will not answer by
  // then; most are answered in a few, and the 100 was a third of the datagrams.
  std::chrono::milliseconds trying_after{100};
  uint32_t max_tcp_connections = 1'000;
  std::chrono::seconds tcp_idle_timeout{300};
};

// INVALID_ARGUMENT naming the field when the JSON is not what docs/phone.md describes.
router::Result<SipSettings> parse_sip_settings(const std::string& json);

}  // namespace switchboard::adapters::phone
