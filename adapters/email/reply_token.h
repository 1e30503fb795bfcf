#pragma once

// Threading without a table: our outbound mail carries
//   Reply-To: reply+<conversation id>[.<case>].<mac>@<reply domain>
//   Message-ID: <sb.<conversation id>[.<case>].<seq>.<mac>@<reply domain>>
// where <mac> is a truncated HMAC-SHA256 of the conversation id (and seq) under the
// configured secret. An inbound mail that names either proves it answers our mail
// for that conversation, and nothing needs storing. Someone without the secret
// cannot make one for another conversation (80 bits of MAC). Addresses may come back
// with their case folded, so <case> marks the id's upper-case characters (hex bits
// of their positions); ids without any (the earlier hex form) have none.
//
// Thread-safe: const after construction.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::adapters::email {

class ReplyTokens {
 public:
  ReplyTokens(std::string secret, std::string domain);

  // "reply+cv_x.0123...@domain"
  std::string reply_address(const std::string& conversation_id) const;
  // "sb.cv_x.12.0123...@domain", without angle brackets.
  std::string message_id(const std::string& conversation_id, uint64_t seq) const;

  // Whether the address is a reply+...@<our domain> address (valid or not).
  bool is_reply_address(std::string_view address) const;
  // The conversation a reply address names, when its MAC is right.
  std::optional<std::string> conversation_of_reply_address(std::string_view address) const;
  // The conversation one of our Message-IDs names (with or without <>), when its MAC is right.
  std::optional<std::string> conversation_of_message_id(std::string_view message_id) const;

  const std::string& domain() const { return domain_; }

 private:
  std::string mac(std::string_view data) const;

  std::string secret_;
  std::string domain_;
};

}  // namespace switchboard::adapters::email
