#pragma once

// Twilio's request signature (X-Twilio-Signature, docs/twilio.md "Signatures"):
// base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value, sorted by
// name)). The URL is the one Twilio called, scheme, host, path and query as written in
// its console or in our TwiML: behind a proxy that is not what the adapter sees, so it
// is rebuilt from the `public_base_url` setting and the request target.

#include <string>
#include <string_view>

#include "common/http_client.h"

namespace switchboard::adapters::twilio {

// The signature Twilio sends for a request to `url` with these form parameters.
std::string twilio_signature(std::string_view auth_token, std::string_view url, http::Fields parameters);

// Constant time: true only when `given` is exactly the expected signature.
bool signature_valid(std::string_view auth_token, std::string_view url, const http::Fields& parameters,
                     std::string_view given);

}  // namespace switchboard::adapters::twilio
