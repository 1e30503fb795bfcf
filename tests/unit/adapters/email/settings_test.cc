#include "email/settings.h"

#include <gtest/gtest.h>

namespace switchboard::adapters::email {
namespace {

TEST(EmailSettingsTest, ReadsNumbersAsIntegersOrDoubles) {
  auto s =
      parse_settings(R"({"domains":["Support.Example.com"],"secret":"0123456789abcdef","max_message_bytes":2048.0,)"
                     R"("max_recipients":3,"idle_timeout_seconds":5,"require_reply_token":true})");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->max_message_bytes, 2048u);
  EXPECT_EQ(s->max_recipients, 3u);
  EXPECT_EQ(s->idle_timeout.count(), 5);
  EXPECT_TRUE(s->require_reply_token);
  EXPECT_EQ(s->domains.at(0), "support.example.com");
  EXPECT_EQ(s->reply_domain, "support.example.com");
}

TEST(EmailSettingsTest, ReadsNumbersWrittenAsStringsAsYamlConfigsGiveThem) {
  auto s = parse_settings(R"({"domains":["a.b"],"secret":"0123456789abcdef","max_recipients":"5",)"
                          R"("idle_timeout_seconds":"60"})");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->max_recipients, 5u);
  EXPECT_EQ(s->idle_timeout.count(), 60);
  EXPECT_FALSE(parse_settings(R"({"domains":["a.b"],"secret":"0123456789abcdef","max_recipients":"5x"})").ok());
}

TEST(EmailSettingsTest, RefusesWhatDoesNotMakeSense) {
  const auto field = [](const std::string& json) {
    auto s = parse_settings(json);
    return s.ok() ? std::string("ok") : s.error().field;
  };
  EXPECT_EQ(field("[]"), "");
  EXPECT_EQ(field(R"({"secret":"0123456789abcdef"})"), "domains");
  EXPECT_EQ(field(R"({"domains":["a.b"]})"), "secret");
  EXPECT_EQ(field(R"({"domains":["a.b"],"secret":"0123456789abcdef","bogus":1})"), "bogus");
  EXPECT_EQ(field(R"({"domains":["a.b"],"secret":"0123456789abcdef","max_recipients":-1})"), "max_recipients");
  EXPECT_EQ(field(R"({"domains":["a.b"],"secret":"0123456789abcdef","max_recipients":1.5})"), "max_recipients");
  EXPECT_EQ(field(R"({"domains":["a.b"],"secret":"0123456789abcdef","relay_url":"smtp://x"})"), "from_address");
  EXPECT_EQ(field(R"({"domains":["a.b"],"secret":"0123456789abcdef","tls_certificate":"c.pem"})"), "tls_certificate");
  EXPECT_EQ(field(R"({"domains":["a.b"],"secret":"0123456789abcdef"})"), "ok");
}

}  // namespace
}  // namespace switchboard::adapters::email
