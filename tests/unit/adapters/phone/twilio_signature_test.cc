// X-Twilio-Signature against Twilio's own documented example and an independent
// computation, and what a change to any signed part does.

#include "phone/twilio_signature.h"

#include <gtest/gtest.h>

#include "twilio_test_support.h"

namespace switchboard::adapters::twilio {
namespace {

// Twilio's documentation example ("Validating requests", auth token 12345).
const std::string kDocUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
const http::Fields kDocParams = {{"CallSid", "CA1234567890ABCDE"},
                                 {"Caller", "+14158675309"},
                                 {"Digits", "1234"},
                                 {"From", "+14158675309"},
                                 {"To", "+18005551212"}};

TEST(TwilioSignature, MatchesTwilioDocumentedExample) {
  EXPECT_EQ(twilio_signature("12345", kDocUrl, kDocParams), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  EXPECT_TRUE(signature_valid("12345", kDocUrl, kDocParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
}

TEST(TwilioSignature, ParameterOrderDoesNotMatterButEverySignedPartDoes) {
  http::Fields shuffled(kDocParams.rbegin(), kDocParams.rend());
  EXPECT_TRUE(signature_valid("12345", kDocUrl, shuffled, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  EXPECT_EQ(twilio_signature("12345", kDocUrl, shuffled), testing::sign_as_twilio("12345", kDocUrl, kDocParams));

  http::Fields changed = kDocParams;
  changed[2].second = "1235";
  EXPECT_FALSE(signature_valid("12345", kDocUrl, changed, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  http::Fields added = kDocParams;
  added.emplace_back("Body", "");
  EXPECT_FALSE(signature_valid("12345", kDocUrl, added, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  EXPECT_FALSE(signature_valid("12345", "http://mycompany.com/myapp.php?foo=1&bar=2", kDocParams,
                               "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  EXPECT_FALSE(signature_valid("12346", kDocUrl, kDocParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  EXPECT_FALSE(signature_valid("12345", kDocUrl, kDocParams, ""));
  EXPECT_FALSE(signature_valid("12345", kDocUrl, kDocParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8"));
}

}  // namespace
}  // namespace switchboard::adapters::twilio
