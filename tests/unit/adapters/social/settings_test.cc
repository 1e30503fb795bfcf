#include "social/settings.h"

#include <gtest/gtest.h>

namespace switchboard::adapters::social {
namespace {

constexpr char kApp[] =
    R"("meta_apps":[{"path":"/meta","app_secret":"s","verify_token":"v","pages":[{"id":"1","access_token":"t"}]}])";

std::string with(const std::string& extra) {
  return "{" + std::string(kApp) + (extra.empty() ? "" : "," + extra) + "}";
}

TEST(SocialSettingsTest, ReadsEveryLimitAndTheChannelRules) {
  auto s = parse_settings(with(R"("max_body_bytes":4096,"send_threads":"3","handler_timeout_seconds":5.0,
      "whatsapp":{"max_text_length":1000,"reply_window_seconds":3600},
      "telegram_bots":[{"path":"/tg","name":"bot","token":"1:x","secret_token":"z"}])"));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->max_body_bytes, 4096u);
  EXPECT_EQ(s->send_threads, 3u);
  EXPECT_EQ(s->handler_timeout, std::chrono::seconds(5));
  EXPECT_EQ(s->whatsapp.max_text_length, 1000u);
  EXPECT_EQ(s->whatsapp.reply_window, std::chrono::hours(1));
  EXPECT_EQ(s->messenger.reply_window, std::chrono::hours(24));
  ASSERT_EQ(s->meta_apps.size(), 1u);
  EXPECT_EQ(s->meta_apps[0].pages[0].access_token, "t");
  EXPECT_EQ(s->telegram_bots[0].name, "bot");
}

TEST(SocialSettingsTest, RefusalsNameTheField) {
  const auto field_of = [](const std::string& json) {
    auto s = parse_settings(json);
    EXPECT_FALSE(s.ok()) << json;
    return s.ok() ? std::string("(accepted)") : s.error().field;
  };
  EXPECT_EQ(field_of(with(R"("max_bodybytes":1)")), "max_bodybytes");
  EXPECT_EQ(field_of(with(R"("max_body_bytes":-1)")), "max_body_bytes");
  EXPECT_EQ(field_of(with(R"("max_body_bytes":10)")), "max_body_bytes");
  EXPECT_EQ(field_of(with(R"("send_threads":0)")), "send_threads");
  EXPECT_EQ(field_of(with(R"("whatsapp":{"window":1})")), "whatsapp.window");
  EXPECT_EQ(field_of(R"({"meta_apps":[{"path":"/m","verify_token":"v"}]})"), "meta_apps[0].app_secret");
  EXPECT_EQ(field_of(R"({"meta_apps":[{"path":"m","app_secret":"s","verify_token":"v"}]})"), "meta_apps[0].path");
  EXPECT_EQ(field_of(R"({"meta_apps":[{"path":"/m","app_secret":"s","verify_token":"v","pages":[{"idd":"1"}]}]})"),
            "meta_apps[0].pages[0].idd");
  EXPECT_EQ(field_of(R"({"telegram_bots":[{"path":"/t","name":"b","token":"1:x"}]})"), "telegram_bots[0].secret_token");
  EXPECT_EQ(field_of("{}"), "meta_apps");
  EXPECT_EQ(field_of("[1]"), "");
}

}  // namespace
}  // namespace switchboard::adapters::social
