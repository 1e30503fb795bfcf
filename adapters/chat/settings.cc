// parse_settings: the chat adapter's part of switchboardd's config, as JSON text.

#include <boost/json.hpp>
#include <cmath>

#include "chat/chat_adapter.h"

namespace switchboard::adapters::chat {

namespace json = boost::json;

namespace {

using router::invalid_argument;

// Reads one field if present; every reader answers an error text, empty when fine.
class Fields {
 public:
  explicit Fields(const json::object& object) : object_(object) {}

  std::string string(const char* name, std::string& out) {
    const auto* v = seen(name);
    if (!v) return {};
    if (!v->is_string()) return "must be a string";
    out = std::string(v->as_string());
    return {};
  }
  std::string boolean(const char* name, bool& out) {
    const auto* v = seen(name);
    if (!v) return {};
    if (!v->is_bool()) return "must be true or false";
    out = v->as_bool();
    return {};
  }
  // Numbers come as int or double (JSON from YAML and from protobuf's Struct differ).
  std::string number(const char* name, double& out, double min) {
    const auto* v = seen(name);
    if (!v) return {};
    double d = 0;
    if (v->is_int64())
      d = static_cast<double>(v->as_int64());
    else if (v->is_uint64())
      d = static_cast<double>(v->as_uint64());
    else if (v->is_double())
      d = v->as_double();
    else
      return "must be a number";
    if (!std::isfinite(d) || d < min) return "must be at least " + std::to_string(static_cast<long long>(min));
    out = d;
    return {};
  }
  template <typename Int>
  std::string count(const char* name, Int& out, double min = 1) {
    double d = static_cast<double>(out);
    if (auto e = number(name, d, min); !e.empty()) return e;
    if (d != std::floor(d) || d > 1e15) return "must be a whole number";
    out = static_cast<Int>(d);
    return {};
  }
  std::string millis(const char* name, std::chrono::milliseconds& out, double min_seconds = 0.001) {
    double seconds = std::chrono::duration<double>(out).count();
    if (auto e = number(name, seconds, min_seconds); !e.empty()) return e;
    out = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    return {};
  }
  std::string strings(const char* name, std::vector<std::string>& out) {
    const auto* v = seen(name);
    if (!v) return {};
    if (!v->is_array()) return "must be a list of strings";
    out.clear();
    for (const auto& item : v->as_array()) {
      if (!item.is_string()) return "must be a list of strings";
      out.emplace_back(item.as_string());
    }
    return {};
  }
  const json::value* seen(const char* name) {
    known_.push_back(name);
    return object_.if_contains(name);
  }
  // The first key nobody asked for.
  std::string unknown() const {
    for (const auto& kv : object_) {
      if (std::find(known_.begin(), known_.end(), std::string(kv.key())) == known_.end()) return std::string(kv.key());
    }
    return {};
  }

 private:
  const json::object& object_;
  std::vector<std::string> known_;
};

}  // namespace

router::Result<ChatSettings> parse_settings(const std::string& text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return invalid_argument("", "chat settings must be a JSON object");
  ChatSettings s;
  Fields f(value.as_object());
  auto check = [](const char* name, const std::string& error) -> std::optional<router::Error> {
    if (error.empty()) return std::nullopt;
    return invalid_argument(name, error);
  };
#define SB_FIELD(name, expr) \
  if (auto e = check(name, expr)) return *e
  SB_FIELD("listen", f.string("listen", s.listen));
  SB_FIELD("visitor_secret", f.string("visitor_secret", s.visitor_secret));
  SB_FIELD("identity_secret", f.string("identity_secret", s.identity_secret));
  SB_FIELD("allowed_origins", f.strings("allowed_origins", s.allowed_origins));
  SB_FIELD("allow_missing_origin", f.boolean("allow_missing_origin", s.allow_missing_origin));
  SB_FIELD("queue", f.string("queue", s.queue));
  SB_FIELD("max_message_bytes", f.count("max_message_bytes", s.max_message_bytes, 256));
  SB_FIELD("max_connections", f.count("max_connections", s.max_connections));
  SB_FIELD("max_connections_per_address", f.count("max_connections_per_address", s.max_connections_per_address));
  SB_FIELD("messages_per_minute", f.number("messages_per_minute", s.messages_per_minute, 0));
  SB_FIELD("message_burst", f.number("message_burst", s.message_burst, 1));
  SB_FIELD("address_messages_per_minute", f.number("address_messages_per_minute", s.address_messages_per_minute, 0));
  SB_FIELD("address_message_burst", f.number("address_message_burst", s.address_message_burst, 1));
  SB_FIELD("frames_per_second", f.number("frames_per_second", s.frames_per_second, 0));
  SB_FIELD("frame_burst", f.number("frame_burst", s.frame_burst, 1));
  SB_FIELD("idle_timeout_seconds", f.millis("idle_timeout_seconds", s.idle_timeout));
  SB_FIELD("hello_timeout_seconds", f.millis("hello_timeout_seconds", s.hello_timeout));
  SB_FIELD("reconnect_grace_seconds", f.millis("reconnect_grace_seconds", s.reconnect_grace, 0));
  SB_FIELD("history_events", f.count("history_events", s.history_events));
  SB_FIELD("threads", f.count("threads", s.threads));
  SB_FIELD("attachments_dir", f.string("attachments_dir", s.attachments_dir));
  SB_FIELD("max_attachment_bytes", f.count("max_attachment_bytes", s.max_attachment_bytes));
  if (const auto* tls = f.seen("tls")) {
    if (!tls->is_object()) return invalid_argument("tls", "must be {cert_file, key_file}");
    const auto* cert = tls->as_object().if_contains("cert_file");
    const auto* key = tls->as_object().if_contains("key_file");
    if (!cert || !cert->is_string() || !key || !key->is_string()) {
      return invalid_argument("tls", "needs cert_file and key_file (PEM paths)");
    }
    s.tls = http::TlsFiles{std::string(cert->as_string()), std::string(key->as_string())};
  }
#undef SB_FIELD
  if (auto key = f.unknown(); !key.empty()) return invalid_argument(key, "unknown setting");
  if (s.visitor_secret.size() < 16) {
    return invalid_argument("visitor_secret", "required, at least 16 characters (it signs visitor tokens)");
  }
  if (!s.identity_secret.empty() && s.identity_secret.size() < 16) {
    return invalid_argument("identity_secret", "at least 16 characters");
  }
  for (const auto& origin : s.allowed_origins) {
    if (origin != "*" && !origin.starts_with("http://") && !origin.starts_with("https://")) {
      return invalid_argument("allowed_origins", "'" + origin + "' is not scheme://host[:port] or *");
    }
  }
  return s;
}

}  // namespace switchboard::adapters::chat
