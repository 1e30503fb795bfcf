#include "reply_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>

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

// A conversation id as the router makes them (folded): [a-z0-9_-], bounded.
bool plausible_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Ids mix upper and lower case (the router's IdSource), but a mail system may fold
// the case of an address, and we read ours folded. So a token writes the id, then,
// when it has upper-case characters, their positions as hex bits: "cv_aB.10".
std::string named(std::string_view id) {
  uint64_t upper = 0;
  for (std::size_t i = 0; i < id.size() && i < 64; ++i) {
    if (std::isupper(static_cast<unsigned char>(id[i]))) upper |= uint64_t{1} << i;
  }
  if (upper == 0) return std::string(id);
  char mark[17];
  std::snprintf(mark, sizeof mark, "%llx", static_cast<unsigned long long>(upper));
  return std::string(id) + "." + mark;
}

// The id a folded "<id>[.<mark>]" names; nullopt when it is not one.
std::optional<std::string> id_named(std::string_view folded) {
  const auto dot = folded.find('.');
  std::string id(folded.substr(0, dot));
  if (!plausible_id(id)) return std::nullopt;
  if (dot == std::string_view::npos) return id;
  const std::string_view mark = folded.substr(dot + 1);
  uint64_t upper = 0;
  const auto [end, ec] = std::from_chars(mark.data(), mark.data() + mark.size(), upper, 16);
  if (ec != std::errc() || end != mark.data() + mark.size() || mark.size() > 16) return std::nullopt;
  for (std::size_t i = 0; i < id.size() && i < 64; ++i) {
    if (upper >> i & 1) id[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(id[i])));
  }
  return id;
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
  return std::string(kReplyPrefix) + named(conversation_id) + "." + mac("reply:" + conversation_id) + "@" + domain_;
}

std::string ReplyTokens::message_id(const std::string& conversation_id, uint64_t seq) const {
  const std::string body = conversation_id + "." + std::to_string(seq);
  return std::string(kMessageIdPrefix) + named(conversation_id) + "." + std::to_string(seq) + "." +
         mac("msgid:" + body) + "@" + domain_;
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
  const auto id = id_named(std::string_view(token).substr(0, dot));
  if (!id || !same_mac(token.substr(dot + 1), mac("reply:" + *id))) return std::nullopt;
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
  const std::string named_seq = token.substr(0, mac_dot);
  const auto seq_dot = named_seq.rfind('.');
  if (seq_dot == std::string::npos) return std::nullopt;
  const auto id = id_named(std::string_view(named_seq).substr(0, seq_dot));
  if (!id || !same_mac(token.substr(mac_dot + 1), mac("msgid:" + *id + named_seq.substr(seq_dot)))) {
    return std::nullopt;
  }
  return id;
}

}  // namespace switchboard::adapters::email
