// The prepared HMAC key the Meta webhooks are checked with, against RFC 4231's
// vectors and the one-shot hmac_sha256.

#include <gtest/gtest.h>

#include <string>

#include "common/hmac.h"

namespace switchboard::adapters {
namespace {

std::string hex(const HmacSha256Key::Mac& mac) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

TEST(SocialHmacSha256KeyTest, GivesRfc4231sMacs) {
  EXPECT_EQ(hex(HmacSha256Key("Jefe").mac("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than SHA-256's block is hashed first.
  EXPECT_EQ(hex(HmacSha256Key(std::string(131, '\xaa')).mac("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(SocialHmacSha256KeyTest, MatchesTheOneShotMacAndIsReusable) {
  const HmacSha256Key key("app-secret");
  for (const std::string& data : {std::string(), std::string("{}"), std::string(100'000, 'x'), std::string("{}")}) {
    const auto mac = key.mac(data);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(mac.data()), mac.size()), hmac_sha256("app-secret", data));
  }
}

}  // namespace
}  // namespace switchboard::adapters
