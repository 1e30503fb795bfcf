#pragma once

// HMAC-SHA256 and the encodings signatures travel in, for the adapters that check
// them: chat visitor tokens, Twilio (base64), Meta (hex, "sha256=" prefix), Telegram.
// Compare signatures with signatures_equal only: it takes the same time whatever the
// bytes, so a forger cannot learn a signature byte by byte from response times.

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::adapters {

// The raw 32-byte MAC of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
// The raw 20-byte MAC: Twilio still signs its webhooks with HMAC-SHA1.
std::string hmac_sha1(std::string_view key, std::string_view data);

// Constant-time in the length of `expected` (CRYPTO_memcmp); false on a length mismatch.
bool signatures_equal(std::string_view expected, std::string_view given);

std::string to_hex(std::string_view bytes);  // lowercase
std::optional<std::string> from_hex(std::string_view hex);
std::string to_base64(std::string_view bytes);
std::string to_base64url(std::string_view bytes);  // no padding (RFC 4648 §5)
std::optional<std::string> from_base64url(std::string_view text);

// `bytes` random bytes from OpenSSL's CSPRNG.
std::string random_bytes(std::size_t bytes);

}  // namespace switchboard::adapters
