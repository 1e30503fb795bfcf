#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <switchboard/router/error.h>
#include <switchboard/router/limits.h>
#include <switchboard/router/model.h>

namespace switchboard::router {

// Turns what a channel calls a customer into the one spelling we index by:
//   email:     lowercased, checked for one '@', a dotted domain and no spaces;
//   phone/sms/whatsapp numbers: E.164 via libphonenumber ("+14155550100"), with a
//              default region for numbers written without a country code;
//   others:    as given, trimmed, printable, bounded.
// Channel names are lowercase [a-z0-9_-]. Thread-safe after construction.
class IdentityNormalizer {
 public:
  explicit IdentityNormalizer(std::string default_phone_region = "US", Limits limits = {});
  ~IdentityNormalizer();

  // The normalised identity, or INVALID_ARGUMENT naming `field` and what is wrong.
  Result<Identity> normalize(std::string_view channel, std::string_view address, bool verified,
                             std::string_view field = "address") const;

  Result<std::string> normalize_channel(std::string_view channel, std::string_view field = "channel") const;

 private:
  Result<std::string> normalize_email(std::string_view address, std::string_view field) const;
  Result<std::string> normalize_phone(std::string_view address, std::string_view field) const;

  std::string default_region_;
  Limits limits_;
};

// Channels whose addresses are phone numbers.
bool is_phone_channel(std::string_view channel);

}  // namespace switchboard::router
