#include "twilio_settings.h"

#include <boost/json.hpp>
#include <functional>
#include <map>

#include "common/settings_json.h"

namespace switchboard::adapters::twilio {
namespace {

using router::invalid_argument;
using router::Result;
using router::Status;
namespace json = boost::json;

// One setter per known key: reads the value into the settings or names what is wrong.
using Setter = std::function<Status(TwilioSettings&, const json::value&, const std::string&)>;

Setter text(std::string TwilioSettings::*member) {
  return [member](TwilioSettings& s, const json::value& v, const std::string& field) -> Status {
    auto value = setting_string(v, field);
    if (!value) return value.error();
    s.*member = std::move(*value);
    return router::ok_status();
  };
}

template <typename N>
Setter count(N TwilioSettings::*member) {
  return [member](TwilioSettings& s, const json::value& v, const std::string& field) -> Status {
    auto n = setting_count(v, field);
    if (!n) return n.error();
    s.*member = static_cast<N>(*n);
    return router::ok_status();
  };
}

template <typename D>
Setter duration(D TwilioSettings::*member) {
  return [member](TwilioSettings& s, const json::value& v, const std::string& field) -> Status {
    auto n = setting_count(v, field);
    if (!n) return n.error();
    s.*member = D(static_cast<typename D::rep>(*n));
    return router::ok_status();
  };
}

Setter flag(bool TwilioSettings::*member) {
  return [member](TwilioSettings& s, const json::value& v, const std::string& field) -> Status {
    auto b = setting_bool(v, field);
    if (!b) return b.error();
    s.*member = *b;
    return router::ok_status();
  };
}

Setter texts(std::vector<std::string> TwilioSettings::*member) {
  return [member](TwilioSettings& s, const json::value& v, const std::string& field) -> Status {
    auto list = setting_strings(v, field);
    if (!list) return list.error();
    s.*member = std::move(*list);
    return router::ok_status();
  };
}

const std::map<std::string, Setter>& setters() {
  using S = TwilioSettings;
  static const std::map<std::string, Setter> table = {
      {"listen", text(&S::listen)},
      {"public_base_url", text(&S::public_base_url)},
      {"path_prefix", text(&S::path_prefix)},
      {"queue", text(&S::queue)},
      {"max_body_bytes", count(&S::max_body_bytes)},
      {"max_connections", count(&S::max_connections)},
      {"request_timeout_ms", duration(&S::request_timeout)},
      {"handler_timeout_ms", duration(&S::handler_timeout)},
      {"io_threads", count(&S::io_threads)},
      {"account_sid", text(&S::account_sid)},
      {"auth_token", text(&S::auth_token)},
      {"api_base_url", text(&S::api_base_url)},
      {"api_ca_file", text(&S::api_ca_file)},
      {"api_timeout_ms", duration(&S::api_timeout)},
      {"max_api_response_bytes", count(&S::max_api_response_bytes)},
      {"worker_threads", count(&S::worker_threads)},
      {"numbers", texts(&S::numbers)},
      {"messaging_service_sid", text(&S::messaging_service_sid)},
      {"dial_timeout_seconds", duration(&S::dial_timeout)},
      {"busy_message", text(&S::busy_message)},
      {"unavailable_message", text(&S::unavailable_message)},
      {"say_voice", text(&S::say_voice)},
      {"say_language", text(&S::say_language)},
      {"voicemail", flag(&S::voicemail)},
      {"transcribe", flag(&S::transcribe)},
      {"max_recording_seconds", duration(&S::max_recording)},
  };
  return table;
}

bool is_url(const std::string& url) { return url.starts_with("https://") || url.starts_with("http://"); }

// What no single field says: the settings as a whole make sense.
Status check(TwilioSettings& s) {
  while (s.public_base_url.ends_with('/')) s.public_base_url.pop_back();
  while (s.api_base_url.ends_with('/')) s.api_base_url.pop_back();
  if (!is_url(s.public_base_url)) {
    return invalid_argument("public_base_url", "required: the http(s):// URL Twilio reaches this adapter at");
  }
  if (!is_url(s.api_base_url)) return invalid_argument("api_base_url", "must be an http(s):// URL");
  if (!s.path_prefix.starts_with('/') || s.path_prefix.ends_with('/')) {
    return invalid_argument("path_prefix", "must start with '/' and not end with one");
  }
  if (!s.account_sid.starts_with("AC")) return invalid_argument("account_sid", "required: the account SID, AC...");
  if (s.auth_token.empty()) return invalid_argument("auth_token", "required: it checks webhook signatures");
  if (s.numbers.empty() && s.messaging_service_sid.empty()) {
    return invalid_argument("numbers", "set numbers (E.164) or messaging_service_sid: outbound SMS need a sender");
  }
  for (const auto& n : s.numbers) {
    if (!n.starts_with('+') || n.size() < 3) return invalid_argument("numbers", "'" + n + "' is not E.164 (+...)");
  }
  if (s.max_body_bytes < 1024) return invalid_argument("max_body_bytes", "must be at least 1024");
  if (s.max_connections == 0) return invalid_argument("max_connections", "must be > 0");
  if (s.io_threads == 0) return invalid_argument("io_threads", "must be > 0");
  if (s.worker_threads == 0) return invalid_argument("worker_threads", "must be > 0");
  if (s.request_timeout.count() == 0) return invalid_argument("request_timeout_ms", "must be > 0");
  if (s.handler_timeout.count() == 0) return invalid_argument("handler_timeout_ms", "must be > 0");
  if (s.api_timeout.count() == 0) return invalid_argument("api_timeout_ms", "must be > 0");
  if (s.max_api_response_bytes < 1024) return invalid_argument("max_api_response_bytes", "must be at least 1024");
  if (s.dial_timeout.count() < 5 || s.dial_timeout.count() > 600) {
    return invalid_argument("dial_timeout_seconds", "must be 5 to 600 (Twilio's bounds)");
  }
  if (s.max_recording.count() == 0) return invalid_argument("max_recording_seconds", "must be > 0");
  if (s.busy_message.empty()) return invalid_argument("busy_message", "must not be empty");
  if (s.unavailable_message.empty()) return invalid_argument("unavailable_message", "must not be empty");
  return router::ok_status();
}

}  // namespace

Result<TwilioSettings> parse_settings(const std::string& text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) return invalid_argument("", "not a JSON object");
  TwilioSettings s;
  for (const auto& [key, value] : root.as_object()) {
    const std::string field(key);
    const auto setter = setters().find(field);
    if (setter == setters().end()) return invalid_argument(field, "unknown setting (see docs/twilio.md)");
    if (auto set = setter->second(s, value, field); !set) return set.error();
  }
  if (auto checked = check(s); !checked) return checked.error();
  return s;
}

}  // namespace switchboard::adapters::twilio
