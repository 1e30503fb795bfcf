#include "settings.h"

#include <boost/json.hpp>
#include <set>

#include "common/settings_json.h"

namespace switchboard::adapters::email {
namespace {

using router::invalid_argument;
using router::Result;
namespace json = boost::json;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<EmailSettings> parse_settings(const std::string& text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) return invalid_argument("", "not a JSON object");
  EmailSettings s;
  const std::set<std::string> known = {"listen",
                                       "listening_file",
                                       "hostname",
                                       "domains",
                                       "mailboxes",
                                       "allowed_peers",
                                       "reply_domain",
                                       "secret",
                                       "require_reply_token",
                                       "max_message_bytes",
                                       "max_recipients",
                                       "max_sessions",
                                       "max_errors",
                                       "idle_timeout_seconds",
                                       "session_timeout_seconds",
                                       "io_threads",
                                       "parse_threads",
                                       "tls_certificate",
                                       "tls_private_key",
                                       "attachments_dir",
                                       "max_attachment_bytes",
                                       "max_text_bytes",
                                       "queue",
                                       "relay_url",
                                       "relay_starttls",
                                       "relay_ca_file",
                                       "relay_username",
                                       "relay_password",
                                       "relay_timeout_seconds",
                                       "from_address",
                                       "from_name",
                                       "default_subject"};
  for (const auto& [key, value] : root.as_object()) {
    const std::string k(key);
    if (!known.contains(k)) return invalid_argument(k, "unknown setting (see docs/email.md)");
#define SB_STRING(name)                \
  if (k == #name) {                    \
    auto r = setting_string(value, k); \
    if (!r) return r.error();          \
    s.name = std::move(r.value());     \
    continue;                          \
  }
#define SB_COUNT(name, field)                     \
  if (k == name) {                                \
    auto r = setting_count(value, k);             \
    if (!r) return r.error();                     \
    s.field = static_cast<decltype(s.field)>(*r); \
    continue;                                     \
  }
    SB_STRING(listen)
    SB_STRING(listening_file)
    SB_STRING(hostname)
    SB_STRING(reply_domain)
    SB_STRING(secret)
    SB_STRING(tls_certificate)
    SB_STRING(tls_private_key)
    SB_STRING(attachments_dir)
    SB_STRING(queue)
    SB_STRING(relay_url)
    SB_STRING(relay_username)
    SB_STRING(relay_ca_file)
    SB_STRING(relay_password)
    SB_STRING(from_address)
    SB_STRING(from_name)
    SB_STRING(default_subject)
    SB_COUNT("max_message_bytes", max_message_bytes)
    SB_COUNT("max_recipients", max_recipients)
    SB_COUNT("max_sessions", max_sessions)
    SB_COUNT("max_errors", max_errors)
    SB_COUNT("io_threads", io_threads)
    SB_COUNT("parse_threads", parse_threads)
    SB_COUNT("max_attachment_bytes", max_attachment_bytes)
    SB_COUNT("max_text_bytes", max_text_bytes)
#undef SB_STRING
#undef SB_COUNT
    if (k == "idle_timeout_seconds" || k == "session_timeout_seconds" || k == "relay_timeout_seconds") {
      auto r = setting_count(value, k);
      if (!r) return r.error();
      const std::chrono::seconds secs(static_cast<int64_t>(*r));
      (k == "idle_timeout_seconds"      ? s.idle_timeout
       : k == "session_timeout_seconds" ? s.session_timeout
                                        : s.relay_timeout) = secs;
      continue;
    }
    if (k == "require_reply_token" || k == "relay_starttls") {
      if (!value.is_bool()) return invalid_argument(k, "must be true or false");
      (k == "require_reply_token" ? s.require_reply_token : s.relay_starttls) = value.as_bool();
      continue;
    }
    auto list = setting_strings(value, k);
    if (!list) return list.error();
    auto& target = k == "domains" ? s.domains : k == "mailboxes" ? s.mailboxes : s.allowed_peers;
    target = std::move(list.value());
  }
  for (auto& d : s.domains) d = lower(d);
  for (auto& m : s.mailboxes) m = lower(m);
  s.reply_domain = lower(s.reply_domain);
  if (s.reply_domain.empty() && !s.domains.empty()) s.reply_domain = s.domains.front();
  if (s.domains.empty() && s.mailboxes.empty()) {
    return invalid_argument("domains", "set domains or mailboxes: the mail this adapter accepts");
  }
  if (s.reply_domain.empty()) return invalid_argument("reply_domain", "required when domains is empty");
  if (s.secret.size() < 16) return invalid_argument("secret", "at least 16 characters: it signs reply tokens");
  if (s.max_message_bytes == 0) return invalid_argument("max_message_bytes", "must be > 0");
  if (s.max_recipients == 0) return invalid_argument("max_recipients", "must be > 0");
  if (s.max_sessions == 0) return invalid_argument("max_sessions", "must be > 0");
  if (s.io_threads == 0 || s.parse_threads == 0) return invalid_argument("io_threads", "must be > 0");
  if (s.max_text_bytes < 64) return invalid_argument("max_text_bytes", "must be at least 64");
  if (s.tls_certificate.empty() != s.tls_private_key.empty()) {
    return invalid_argument("tls_certificate", "set both tls_certificate and tls_private_key, or neither");
  }
  if (!s.relay_url.empty() && s.from_address.empty()) {
    return invalid_argument("from_address", "required when relay_url is set");
  }
  if (s.idle_timeout.count() == 0 || s.session_timeout.count() == 0) {
    return invalid_argument("idle_timeout_seconds", "timeouts must be > 0");
  }
  return s;
}

}  // namespace switchboard::adapters::email
