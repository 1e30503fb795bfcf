#include "peer_filter.h"

namespace switchboard::adapters {

namespace asio = boost::asio;

bool PeerFilter::allows(const asio::ip::address& address) const {
  asio::ip::address a = address;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    for (const auto& net : v4) {
      if (asio::ip::make_network_v4(a.to_v4(), net.prefix_length()).canonical() == net.canonical()) return true;
    }
    return false;
  }
  for (const auto& net : v6) {
    if (asio::ip::make_network_v6(a.to_v6(), net.prefix_length()).canonical() == net.canonical()) return true;
  }
  return false;
}

router::Result<PeerFilter> parse_peer_filter(const std::vector<std::string>& blocks, const std::string& field_name) {
  PeerFilter filter;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const std::string& block = blocks[i];
    const std::string field = field_name + "[" + std::to_string(i) + "]";
    const auto slash = block.find('/');
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(block.substr(0, slash), ec);
    if (ec) return router::invalid_argument(field, "'" + block + "' is not an address or CIDR block");
    int prefix = address.is_v4() ? 32 : 128;
    if (slash != std::string::npos) {
      try {
        prefix = std::stoi(block.substr(slash + 1));
      } catch (...) {
        prefix = -1;
      }
      if (prefix < 0 || prefix > (address.is_v4() ? 32 : 128)) {
        return router::invalid_argument(field, "bad prefix length in '" + block + "'");
      }
    }
    if (address.is_v4()) {
      filter.v4.push_back(asio::ip::make_network_v4(address.to_v4(), prefix));
    } else {
      filter.v6.push_back(asio::ip::make_network_v6(address.to_v6(), prefix));
    }
  }
  return filter;
}

}  // namespace switchboard::adapters
