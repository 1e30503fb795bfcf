// The adapter's settings: defaults, every kind of value, and refusals naming the field.

#include "phone/twilio_settings.h"

#include <gtest/gtest.h>

namespace switchboard::adapters::twilio {
namespace {

const std::string kMinimal =
    R"("public_base_url":"https://support.example.com/","account_sid":"AC0123","auth_token":"t0k3n",)"
    R"("numbers":["+14155550199"])";

router::Result<TwilioSettings> parse(const std::string& extra) {
  return parse_settings("{" + kMinimal + (extra.empty() ? "" : "," + extra) + "}");
}

std::string refused_field(const std::string& json) {
  auto s = parse_settings(json);
  return s.ok() ? "(accepted)" : s.error().field;
}

TEST(TwilioSettings, MinimalSettingsTakeTheDefaults) {
  auto s = parse("");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->public_base_url, "https://support.example.com");  // trailing slash dropped
  EXPECT_EQ(s->api_base_url, "https://api.twilio.com");
  EXPECT_EQ(s->path_prefix, "/twilio");
  EXPECT_TRUE(s->voicemail);
  EXPECT_EQ(s->dial_timeout, std::chrono::seconds(20));
}

TEST(TwilioSettings, ReadsNumbersAsJsonOrYamlGivesThem) {
  auto s = parse(R"("max_body_bytes":4096.0,"api_timeout_ms":"2500","voicemail":"false","worker_threads":3)");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->max_body_bytes, 4096u);
  EXPECT_EQ(s->api_timeout, std::chrono::milliseconds(2500));
  EXPECT_FALSE(s->voicemail);
  EXPECT_EQ(s->worker_threads, 3u);
}

TEST(TwilioSettings, RefusalsNameTheField) {
  EXPECT_EQ(refused_field("[]"), "");
  EXPECT_EQ(refused_field("{" + kMinimal + R"(,"colour":"blue"})"), "colour");
  EXPECT_EQ(refused_field("{" + kMinimal + R"(,"max_body_bytes":-1})"), "max_body_bytes");
  EXPECT_EQ(refused_field("{" + kMinimal + R"(,"voicemail":1})"), "voicemail");
  EXPECT_EQ(refused_field("{" + kMinimal + R"(,"dial_timeout_seconds":2})"), "dial_timeout_seconds");
  EXPECT_EQ(refused_field(R"({"account_sid":"AC1","auth_token":"t","numbers":["+1415"]})"), "public_base_url");
  EXPECT_EQ(refused_field(R"({"public_base_url":"https://x","auth_token":"t","numbers":["+1415"]})"), "account_sid");
  EXPECT_EQ(refused_field(R"({"public_base_url":"https://x","account_sid":"AC1","numbers":["+1415"]})"), "auth_token");
  EXPECT_EQ(refused_field(R"({"public_base_url":"https://x","account_sid":"AC1","auth_token":"t"})"), "numbers");
  EXPECT_EQ(refused_field(R"({"public_base_url":"https://x","account_sid":"AC1","auth_token":"t","numbers":["4155"]})"),
            "numbers");
  EXPECT_EQ(refused_field("{" + kMinimal + R"(,"path_prefix":"twilio"})"), "path_prefix");
}

}  // namespace
}  // namespace switchboard::adapters::twilio
