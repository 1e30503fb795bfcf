#include "twilio_signature.h"

#include <algorithm>

#include "common/hmac.h"

namespace switchboard::adapters::twilio {

std::string twilio_signature(std::string_view auth_token, std::string_view url, http::Fields parameters) {
  // By name; a name Twilio repeats keeps its values in order of value, as its SDKs do.
  std::sort(parameters.begin(), parameters.end());
  std::string signed_text(url);
  for (const auto& [name, value] : parameters) signed_text += name + value;
  return to_base64(hmac_sha1(auth_token, signed_text));
}

bool signature_valid(std::string_view auth_token, std::string_view url, const http::Fields& parameters,
                     std::string_view given) {
  if (given.empty()) return false;
  return signatures_equal(twilio_signature(auth_token, url, parameters), given);
}

}  // namespace switchboard::adapters::twilio
