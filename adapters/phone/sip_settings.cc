#include "sip_settings.h"

#include <boost/json.hpp>
#include <functional>
#include <map>

#include "common/peer_filter.h"
#include "common/settings_json.h"

namespace switchboard::adapters::phone {
namespace {

using router::invalid_argument;
using router::Result;
using router::Status;
namespace json = boost::json;

using Setter = std::function<Status(SipSettings&, const json::value&, const std::string&)>;

template <typename T>
Status assign(Result<T> value, T& field) {
  if (!value) return value.error();
  field = std::move(*value);
  return router::ok_status();
}

Setter text(std::string SipSettings::*member) {
  return [member](SipSettings& s, const json::value& v, const std::string& k) {
    return assign(setting_string(v, k), s.*member);
  };
}
Setter flag(bool SipSettings::*member) {
  return [member](SipSettings& s, const json::value& v, const std::string& k) {
    return assign(setting_bool(v, k), s.*member);
  };
}
template <typename N>
Setter count(N SipSettings::*member) {
  return [member](SipSettings& s, const json::value& v, const std::string& k) -> Status {
    auto n = setting_count(v, k);
    if (!n) return n.error();
    if (*n == 0) return invalid_argument(k, "must be > 0");
    if (*n > std::numeric_limits<N>::max()) return invalid_argument(k, "too large");
    s.*member = static_cast<N>(*n);
    return router::ok_status();
  };
}
Setter rate(double SipSettings::*member) {
  return [member](SipSettings& s, const json::value& v, const std::string& k) -> Status {
    auto n = setting_number(v, k);
    if (!n) return n.error();
    if (*n <= 0) return invalid_argument(k, "must be > 0");
    s.*member = *n;
    return router::ok_status();
  };
}
template <typename D>
Setter span(D SipSettings::*member) {
  return [member](SipSettings& s, const json::value& v, const std::string& k) -> Status {
    auto n = setting_count(v, k);
    if (!n) return n.error();
    if (*n == 0 || *n > 86'400'000) return invalid_argument(k, "must be from 1 to 86400000");
    s.*member = D(static_cast<typename D::rep>(*n));
    return router::ok_status();
  };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"listen", text(&SipSettings::listen)},
      {"listening_file", text(&SipSettings::listening_file)},
      {"hostname", text(&SipSettings::hostname)},
      {"queue", text(&SipSettings::queue)},
      {"udp", flag(&SipSettings::udp)},
      {"tcp", flag(&SipSettings::tcp)},
      {"trusted_peers", [](SipSettings& s, const json::value& v,
                           const std::string& k) { return assign(setting_strings(v, k), s.trusted_peers); }},
      {"max_message_bytes", count(&SipSettings::max_message_bytes)},
      {"max_in_flight", count(&SipSettings::max_in_flight)},
      {"max_transactions", count(&SipSettings::max_transactions)},
      {"invites_per_second_per_source", rate(&SipSettings::invites_per_second_per_source)},
      {"invite_burst_per_source", rate(&SipSettings::invite_burst_per_source)},
      {"max_sources", count(&SipSettings::max_sources)},
      {"retry_after_seconds", count(&SipSettings::retry_after_seconds)},
      {"transaction_ttl_ms", span(&SipSettings::transaction_ttl)},
      {"t1_ms", span(&SipSettings::t1)},
      {"t2_ms", span(&SipSettings::t2)},
      {"trying_after_ms",
       [](SipSettings& s, const json::value& v, const std::string& k) -> Status {
         auto n = setting_count(v, k);
         if (!n) return n.error();
         if (*n > 200) return invalid_argument(k, "must be from 0 to 200 (RFC 3261 17.2.1: 100 Trying within 200 ms)");
         s.trying_after = std::chrono::milliseconds(*n);
         return router::ok_status();
       }},
      {"max_tcp_connections", count(&SipSettings::max_tcp_connections)},
      {"tcp_idle_timeout_seconds", span(&SipSettings::tcp_idle_timeout)},
  };
  return kSetters;
}

}  // namespace

Result<SipSettings> parse_sip_settings(const std::string& text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) return invalid_argument("", "not a JSON object");
  SipSettings s;
  for (const auto& [key, value] : root.as_object()) {
    const std::string k(key);
    auto setter = setters().find(k);
    if (setter == setters().end()) return invalid_argument(k, "unknown setting (see docs/phone.md)");
    if (auto ok = setter->second(s, value, k); !ok) return ok.error();
  }
  if (!s.udp && !s.tcp) return invalid_argument("udp", "at least one of udp and tcp must be on");
  if (s.max_message_bytes < 512 || s.max_message_bytes > 65'535) {
    return invalid_argument("max_message_bytes", "must be from 512 to 65535");
  }
  if (s.t2 < s.t1) return invalid_argument("t2_ms", "must be at least t1_ms");
  if (s.transaction_ttl < s.t1) return invalid_argument("transaction_ttl_ms", "must be at least t1_ms");
  if (s.invite_burst_per_source < 1) return invalid_argument("invite_burst_per_source", "must be at least 1");
  if (auto peers = parse_peer_filter(s.trusted_peers, "trusted_peers"); !peers) return peers.error();
  if (s.listen.rfind(':') == std::string::npos) return invalid_argument("listen", "HOST:PORT expected");
  return s;
}

}  // namespace switchboard::adapters::phone
