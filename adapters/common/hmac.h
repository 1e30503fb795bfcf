#pragma once

// HMAC-SHA256 and the encodings signatures travel in, for the adapters that check
// them: chat visitor tokens, Twilio (base64), Meta (hex, "sha256=" prefix), Telegram.
// Compare signatures with signatures_equal only: it takes the same time whatever the
// bytes, so a forger cannot learn a signature byte by byte from response times.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::adapters {

// The raw 32-byte MAC of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
// The raw 20-byte MAC: Twilio still signs its webhooks with HMAC-SHA1.
std::string hmac_sha1(std::string_view key, std::string_view data);

// HMAC-SHA256 under one key, prepared once: OpenSSL's one-shot HMAC() looks the
// algorithm up and sets the key again on every call, which costs more than hashing a
// webhook body. Thread-safe: mac() only reads the prepared state (each call works on
// its own copy of it).
class HmacSha256Key {
 public:
  using Mac = std::array<unsigned char, 32>;
  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(HmacSha256Key&&) noexcept;
  HmacSha256Key& operator=(HmacSha256Key&&) noexcept;

  Mac mac(std::string_view data) const;  // the same bytes as hmac_sha256(key, data)

 private:
  struct Prepared;
  std::unique_ptr<Prepared> prepared_;
};

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
