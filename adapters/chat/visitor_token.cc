#include "chat/visitor_token.h"

#include "common/hmac.h"

namespace switchboard::adapters::chat {

namespace {

constexpr std::string_view kPrefix = "v1.";

std::string visitor_mac(const std::string& secret, std::string_view id) {
  return to_base64url(hmac_sha256(secret, "chat-visitor:v1:" + std::string(id)));
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string VisitorTokens::new_visitor_id() { return to_base64url(random_bytes(16)); }

std::string VisitorTokens::issue(std::string_view visitor_id) const {
  return std::string(kPrefix) + std::string(visitor_id) + "." + visitor_mac(visitor_secret_, visitor_id);
}

std::optional<std::string> VisitorTokens::verify(std::string_view token) const {
  if (!token.starts_with(kPrefix)) return std::nullopt;
  token.remove_prefix(kPrefix.size());
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view id = token.substr(0, dot);
  if (!valid_id(id)) return std::nullopt;
  if (!signatures_equal(visitor_mac(visitor_secret_, id), token.substr(dot + 1))) return std::nullopt;
  return std::string(id);
}

std::string VisitorTokens::user_hash(std::string_view user_id) const {
  return to_hex(hmac_sha256(identity_secret_, user_id));
}

std::string VisitorTokens::email_hash(std::string_view email) const {
  return to_hex(hmac_sha256(identity_secret_, "email:" + std::string(email)));
}

bool VisitorTokens::user_signed(std::string_view user_id, std::string_view hash) const {
  if (identity_secret_.empty() || user_id.empty()) return false;
  std::string lower(hash);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return signatures_equal(user_hash(user_id), lower);
}

bool VisitorTokens::email_signed(std::string_view email, std::string_view hash) const {
  if (identity_secret_.empty() || email.empty()) return false;
  std::string lower(hash);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return signatures_equal(email_hash(email), lower);
}

}  // namespace switchboard::adapters::chat
