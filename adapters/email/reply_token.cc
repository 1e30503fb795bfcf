#include "reply_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

namespace switchboard::adapters::email {
namespace {

constexpr std::size_t kMacHexChars = 20;  // 80 bits
constexpr std::string_view kReplyPrefix = "reply+";
constexpr std::string_view kMessageIdPrefix = "sb.";

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool same_mac(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// A conversation id as the router makes them: [a-z0-9_], bounded.
bool plausible_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

}  // namespace

ReplyTokens::ReplyTokens(std::string secret, std::string domain) : secret_(std::move(secret)), domain_(lower(domain)) {}

std::string ReplyTokens::mac(std::string_view data) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length && hex.size() < kMacHexChars; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string ReplyTokens::reply_address(const std::string& conversation_id) const {
  return std::string(kReplyPrefix) + conversation_id + "." + mac("reply:" + conversation_id) + "@" + domain_;
}

std::string ReplyTokens::message_id(const std::string& conversation_id, uint64_t seq) const {
  const std::string body = conversation_id + "." + std::to_string(seq);
  return std::string(kMessageIdPrefix) + body + "." + mac("msgid:" + body) + "@" + domain_;
}

bool ReplyTokens::is_reply_address(std::string_view address) const {
  const std::string a = lower(address);
  const auto at = a.rfind('@');
  return at != std::string::npos && a.compare(0, kReplyPrefix.size(), kReplyPrefix) == 0 && a.substr(at + 1) == domain_;
}

std::optional<std::string> ReplyTokens::conversation_of_reply_address(std::string_view address) const {
  if (!is_reply_address(address)) return std::nullopt;
  const std::string a = lower(address);
  const std::string token = a.substr(kReplyPrefix.size(), a.rfind('@') - kReplyPrefix.size());
  const auto dot = token.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  const std::string id = token.substr(0, dot);
  if (!plausible_id(id) || !same_mac(token.substr(dot + 1), mac("reply:" + id))) return std::nullopt;
  return id;
}

std::optional<std::string> ReplyTokens::conversation_of_message_id(std::string_view message_id) const {
  std::string m = lower(message_id);
  if (!m.empty() && m.front() == '<') m.erase(0, 1);
  if (!m.empty() && m.back() == '>') m.pop_back();
  const auto at = m.rfind('@');
  if (at == std::string::npos || m.substr(at + 1) != domain_ || m.rfind(kMessageIdPrefix, 0) != 0) {
    return std::nullopt;
  }
  const std::string token = m.substr(kMessageIdPrefix.size(), at - kMessageIdPrefix.size());
  const auto mac_dot = token.rfind('.');
  if (mac_dot == std::string::npos) return std::nullopt;
  const std::string body = token.substr(0, mac_dot);
  const auto seq_dot = body.rfind('.');
  if (seq_dot == std::string::npos) return std::nullopt;
  const std::string id = body.substr(0, seq_dot);
  if (!plausible_id(id) || !same_mac(token.substr(mac_dot + 1), mac("msgid:" + body))) return std::nullopt;
  return id;
}

}  // namespace switchboard::adapters::email
