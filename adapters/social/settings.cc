#include "settings.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>

namespace switchboard::adapters::social {
namespace {

using router::invalid_argument;
using router::Result;
using router::Status;
namespace json = boost::json;

// JSON configs reach us through protobuf's Struct (every number a double), YAML
// configs as strings: both are taken for whole numbers.
Result<uint64_t> whole_number(const json::value& v, const std::string& field) {
  if (v.is_int64() && v.as_int64() >= 0) return static_cast<uint64_t>(v.as_int64());
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_double() && v.as_double() >= 0 && v.as_double() <= 9.0e18 && std::floor(v.as_double()) == v.as_double()) {
    return static_cast<uint64_t>(v.as_double());
  }
  if (v.is_string()) {
    const auto& t = v.as_string();
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (!t.empty() && ec == std::errc() && end == t.data() + t.size()) return n;
  }
  return invalid_argument(field, "must be a whole number >= 0");
}

Result<std::string> text(const json::value& v, const std::string& field) {
  if (!v.is_string()) return invalid_argument(field, "must be a string");
  return std::string(v.as_string());
}

// Reads an object's keys through one setter per known key; any other key is refused.
using Setter = std::function<Status(const json::value&, const std::string& field)>;

Status read_object(const json::value& v, const std::string& where, const std::map<std::string, Setter>& setters) {
  if (!v.is_object()) return invalid_argument(where, "must be an object");
  for (const auto& [key, value] : v.as_object()) {
    const std::string field = where.empty() ? std::string(key) : where + "." + std::string(key);
    auto it = setters.find(std::string(key));
    if (it == setters.end()) return invalid_argument(field, "unknown setting (see docs/social.md)");
    if (auto ok = it->second(value, field); !ok) return ok;
  }
  return router::ok_status();
}

Setter string_into(std::string& target) {
  return [&target](const json::value& v, const std::string& field) -> Status {
    auto r = text(v, field);
    if (!r) return r.error();
    target = std::move(r.value());
    return router::ok_status();
  };
}

template <typename Number>
Setter number_into(Number& target) {
  return [&target](const json::value& v, const std::string& field) -> Status {
    auto r = whole_number(v, field);
    if (!r) return r.error();
    target = static_cast<Number>(*r);
    return router::ok_status();
  };
}

Setter seconds_into(std::chrono::seconds& target) {
  return [&target](const json::value& v, const std::string& field) -> Status {
    auto r = whole_number(v, field);
    if (!r) return r.error();
    target = std::chrono::seconds(static_cast<int64_t>(*r));
    return router::ok_status();
  };
}

// A list of objects, each read by `read_one` into a fresh T.
template <typename T>
Setter list_into(std::vector<T>& target, std::function<std::map<std::string, Setter>(T&)> keys_of) {
  return [&target, keys_of](const json::value& v, const std::string& field) -> Status {
    if (!v.is_array()) return invalid_argument(field, "must be a list");
    target.clear();
    for (std::size_t i = 0; i < v.as_array().size(); ++i) {
      T item;
      if (auto ok = read_object(v.as_array()[i], field + "[" + std::to_string(i) + "]", keys_of(item)); !ok) return ok;
      target.push_back(std::move(item));
    }
    return router::ok_status();
  };
}

std::map<std::string, Setter> sender_keys(MetaSender& s) {
  return {{"id", string_into(s.id)}, {"access_token", string_into(s.access_token)}};
}

std::map<std::string, Setter> app_keys(MetaApp& a) {
  return {{"path", string_into(a.path)},
          {"app_secret", string_into(a.app_secret)},
          {"verify_token", string_into(a.verify_token)},
          {"pages", list_into<MetaSender>(a.pages, sender_keys)},
          {"instagram_accounts", list_into<MetaSender>(a.instagram_accounts, sender_keys)},
          {"whatsapp_numbers", list_into<MetaSender>(a.whatsapp_numbers, sender_keys)}};
}

std::map<std::string, Setter> bot_keys(TelegramBot& b) {
  return {{"path", string_into(b.path)},
          {"name", string_into(b.name)},
          {"token", string_into(b.token)},
          {"secret_token", string_into(b.secret_token)}};
}

std::map<std::string, Setter> limit_keys(ChannelLimits& l) {
  return {{"max_text_length", number_into(l.max_text_length)}, {"reply_window_seconds", seconds_into(l.reply_window)}};
}

Setter limits_into(ChannelLimits& target) {
  return
      [&target](const json::value& v, const std::string& field) { return read_object(v, field, limit_keys(target)); };
}

std::map<std::string, Setter> top_keys(SocialSettings& s) {
  return {{"listen", string_into(s.listen)},
          {"listening_file", string_into(s.listening_file)},
          {"io_threads", number_into(s.io_threads)},
          {"send_threads", number_into(s.send_threads)},
          {"max_body_bytes", number_into(s.max_body_bytes)},
          {"max_messages_per_request", number_into(s.max_messages_per_request)},
          {"max_connections", number_into(s.max_connections)},
          {"request_timeout_seconds", seconds_into(s.request_timeout)},
          {"handler_timeout_seconds", seconds_into(s.handler_timeout)},
          {"max_text_bytes", number_into(s.max_text_bytes)},
          {"queue", string_into(s.queue)},
          {"graph_base_url", string_into(s.graph_base_url)},
          {"telegram_base_url", string_into(s.telegram_base_url)},
          {"send_timeout_seconds", seconds_into(s.send_timeout)},
          {"max_response_bytes", number_into(s.max_response_bytes)},
          {"ca_file", string_into(s.ca_file)},
          {"messenger", limits_into(s.messenger)},
          {"instagram", limits_into(s.instagram)},
          {"whatsapp", limits_into(s.whatsapp)},
          {"telegram", limits_into(s.telegram)},
          {"meta_apps", list_into<MetaApp>(s.meta_apps, app_keys)},
          {"telegram_bots", list_into<TelegramBot>(s.telegram_bots, bot_keys)}};
}

bool is_path(const std::string& p) { return p.size() > 1 && p.front() == '/' && p.find_first_of("?# ") == p.npos; }

Status check_apps(const SocialSettings& s) {
  for (std::size_t i = 0; i < s.meta_apps.size(); ++i) {
    const auto& a = s.meta_apps[i];
    const std::string at = "meta_apps[" + std::to_string(i) + "]";
    if (!is_path(a.path)) return invalid_argument(at + ".path", "must be a path such as /meta/webhook");
    if (a.app_secret.empty()) return invalid_argument(at + ".app_secret", "required: it checks X-Hub-Signature-256");
    if (a.verify_token.empty()) return invalid_argument(at + ".verify_token", "required for the GET handshake");
    for (const auto* list : {&a.pages, &a.instagram_accounts, &a.whatsapp_numbers}) {
      for (const auto& sender : *list) {
        if (sender.id.empty() || sender.id.find('/') != std::string::npos) {
          return invalid_argument(at, "every page, account and number needs an id without '/'");
        }
      }
    }
  }
  for (std::size_t i = 0; i < s.telegram_bots.size(); ++i) {
    const auto& b = s.telegram_bots[i];
    const std::string at = "telegram_bots[" + std::to_string(i) + "]";
    if (!is_path(b.path)) return invalid_argument(at + ".path", "must be a path such as /telegram/mybot");
    if (b.name.empty() || b.name.find('/') != std::string::npos) {
      return invalid_argument(at + ".name", "required, without '/'");
    }
    if (b.token.empty()) return invalid_argument(at + ".token", "required: the Bot API token");
    if (b.secret_token.empty()) return invalid_argument(at + ".secret_token", "required: it authenticates the webhook");
  }
  return router::ok_status();
}

}  // namespace

Result<SocialSettings> parse_settings(const std::string& source) {
  boost::system::error_code ec;
  const json::value root = json::parse(source, ec);
  if (ec || !root.is_object()) return invalid_argument("", "not a JSON object");
  SocialSettings s;
  if (auto ok = read_object(root, "", top_keys(s)); !ok) return ok.error();
  if (s.meta_apps.empty() && s.telegram_bots.empty()) {
    return invalid_argument("meta_apps", "configure at least one Meta app or Telegram bot");
  }
  if (auto ok = check_apps(s); !ok) return ok.error();
  if (s.io_threads == 0) return invalid_argument("io_threads", "must be > 0");
  if (s.send_threads == 0) return invalid_argument("send_threads", "must be > 0");
  if (s.max_body_bytes < 1024) return invalid_argument("max_body_bytes", "must be at least 1024");
  if (s.max_messages_per_request == 0) return invalid_argument("max_messages_per_request", "must be > 0");
  if (s.max_connections == 0) return invalid_argument("max_connections", "must be > 0");
  if (s.max_text_bytes < 64) return invalid_argument("max_text_bytes", "must be at least 64");
  if (s.max_response_bytes < 1024) return invalid_argument("max_response_bytes", "must be at least 1024");
  if (s.request_timeout.count() == 0 || s.handler_timeout.count() == 0 || s.send_timeout.count() == 0) {
    return invalid_argument("handler_timeout_seconds", "timeouts must be > 0");
  }
  return s;
}

}  // namespace switchboard::adapters::social
