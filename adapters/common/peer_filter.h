#pragma once

// Which peers an adapter trusts or accepts: addresses and CIDR blocks ("10.0.0.0/8",
// "::1", "192.168.1.7"). The email adapter's allowed_peers, the SIP front's
// trusted_peers.

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>
#include <vector>

#include <switchboard/router/error.h>

namespace switchboard::adapters {

struct PeerFilter {
  std::vector<boost::asio::ip::network_v4> v4;
  std::vector<boost::asio::ip::network_v6> v6;
  // An IPv4-mapped IPv6 address counts as its IPv4 address.
  bool allows(const boost::asio::ip::address& address) const;
};

// INVALID_ARGUMENT naming `field`[i] for an entry that is not an address or CIDR block.
router::Result<PeerFilter> parse_peer_filter(const std::vector<std::string>& blocks,
                                             const std::string& field = "allowed_peers");

}  // namespace switchboard::adapters
