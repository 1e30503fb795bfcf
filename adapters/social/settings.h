#pragma once

// The social adapter's settings: the `settings` object of its entry in switchboardd's
// `adapters` list, documented field by field in docs/social.md.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <switchboard/router/error.h>

namespace switchboard::adapters::social {

// A sender of ours on a Meta channel (a Facebook page, an Instagram account, a
// WhatsApp phone number) and the token the Graph API wants for it.
struct MetaSender {
  std::string id;  // page id, Instagram account id, or WhatsApp phone-number id
  std::string access_token;
};

// One Meta app: its webhook endpoint and what it carries.
struct MetaApp {
  std::string path;          // e.g. "/meta/webhook"
  std::string app_secret;    // signs X-Hub-Signature-256
  std::string verify_token;  // the GET handshake's hub.verify_token
  std::vector<MetaSender> pages;
  std::vector<MetaSender> instagram_accounts;
  std::vector<MetaSender> whatsapp_numbers;
};

struct TelegramBot {
  std::string path;          // e.g. "/telegram/supportbot"
  std::string name;          // the <bot> of telegram:<bot>/<user id>
  std::string token;         // the Bot API token, "123456:ABC..."
  std::string secret_token;  // X-Telegram-Bot-Api-Secret-Token, as given to setWebhook
};

// Per channel: what a reply may be.
struct ChannelLimits {
  uint32_t max_text_length = 0;
  std::chrono::seconds reply_window{0};
};

struct SocialSettings {
  std::string listen = "127.0.0.1:8088";  // port 0 picks a free port
  std::string listening_file;             // when set, "HOST:PORT" is written there once bound
  uint32_t io_threads = 1;
  uint32_t send_threads = 2;
  uint64_t max_body_bytes = 1 << 20;  // one webhook request
  uint32_t max_messages_per_request = 1000;
  uint32_t max_connections = 1000;
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds handler_timeout{20};  // for the router to answer (then 503)
  std::size_t max_text_bytes = 64 * 1024;    // inbound text beyond this is cut (at a UTF-8 boundary)
  std::string queue;                         // empty: the router's default

  std::string graph_base_url = "https://graph.facebook.com/v19.0";
  std::string telegram_base_url = "https://api.telegram.org";
  std::chrono::seconds send_timeout{10};
  uint64_t max_response_bytes = 64 * 1024;
  std::string ca_file;  // empty: the system's CA bundle

  ChannelLimits messenger{2000, std::chrono::hours(24)};
  ChannelLimits instagram{1000, std::chrono::hours(24)};
  ChannelLimits whatsapp{4096, std::chrono::hours(24)};
  ChannelLimits telegram{4096, std::chrono::seconds(0)};

  std::vector<MetaApp> meta_apps;
  std::vector<TelegramBot> telegram_bots;
};

// INVALID_ARGUMENT naming the field when the JSON is not what docs/social.md describes.
router::Result<SocialSettings> parse_settings(const std::string& json);

}  // namespace switchboard::adapters::social
