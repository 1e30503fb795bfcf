#pragma once

// Who a chat visitor is, proven by HMAC-SHA256 (docs/chat.md "Visitor identity").
//
// Visitor token: "v1.<visitor id>.<base64url HMAC(visitor_secret, "chat-visitor:v1:" +
// id)>". Issued by the server to an anonymous visitor and kept by the widget, so a
// reload or a later visit continues the same identity (chat:v:<id>). No expiry: it
// only proves "the same browser as before", like a session cookie.
//
// Host-site identity: the site's backend computes user_hash = hex(HMAC(identity_secret,
// user_id)) (and email_hash over "email:" + email) and puts them in the page; a match
// makes the verified identity chat:u:<user id>.

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::adapters::chat {

class VisitorTokens {
 public:
  VisitorTokens(std::string visitor_secret, std::string identity_secret)
      : visitor_secret_(std::move(visitor_secret)), identity_secret_(std::move(identity_secret)) {}

  // 128 random bits, base64url.
  static std::string new_visitor_id();
  std::string issue(std::string_view visitor_id) const;
  // The visitor id of a token that verifies; nothing otherwise.
  std::optional<std::string> verify(std::string_view token) const;

  // False when no identity_secret is configured.
  bool user_signed(std::string_view user_id, std::string_view user_hash) const;
  bool email_signed(std::string_view email, std::string_view email_hash) const;
  // What the host site computes (tests and docs use it).
  std::string user_hash(std::string_view user_id) const;
  std::string email_hash(std::string_view email) const;

 private:
  std::string visitor_secret_;
  std::string identity_secret_;
};

}  // namespace switchboard::adapters::chat
