#pragma once

// What the Twilio tests share: Twilio's side of a webhook (a form signed the way
// Twilio documents it, computed here with OpenSSL directly rather than with the
// adapter's code) and a real HTTP client that posts it.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/http_client.h"
#include "ws_test_client.h"

namespace switchboard::adapters::twilio::testing {

using Form = std::vector<std::pair<std::string, std::string>>;

// base64(HMAC-SHA1(token, url + sorted name+value pairs)), as Twilio computes it.
inline std::string sign_as_twilio(const std::string& token, const std::string& url, Form form) {
  std::sort(form.begin(), form.end());
  std::string data = url;
  for (const auto& [name, value] : form) data += name + value;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  HMAC(EVP_sha1(), token.data(), static_cast<int>(token.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &mac_length);
  std::string out(4 * ((mac_length + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_length));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// POSTs `form` to `target` on the adapter, signed for `public_url` (or with the given
// signature; "" sends none).
inline switchboard::testing::HttpTestReply post_form(uint16_t port, const std::string& target, const Form& form,
                                                     std::optional<std::string> signature) {
  std::map<std::string, std::string> headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  if (signature && !signature->empty()) headers["X-Twilio-Signature"] = *signature;
  return switchboard::testing::http_request(port, boost::beast::http::verb::post, target, http::form_encode(form),
                                            headers);
}

}  // namespace switchboard::adapters::twilio::testing
