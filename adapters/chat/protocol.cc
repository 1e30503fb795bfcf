#include "chat/protocol.h"

#include <boost/json.hpp>

namespace switchboard::adapters::chat {

namespace json = boost::json;
using router::invalid_argument;

namespace {

constexpr std::size_t kMaxIdBytes = 64;
constexpr std::size_t kMaxTokenBytes = 256;
constexpr std::size_t kMaxNameBytes = 256;
constexpr std::size_t kMaxEmailBytes = 320;
constexpr std::size_t kMaxAttachments = 10;

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == ':';
}

bool has_control(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Each getter answers an error for a present field of the wrong kind or size.
class Reader {
 public:
  explicit Reader(const json::object& o) : o_(o) {}

  std::optional<router::Error> string(const char* name, std::string& out, std::size_t max, bool required = false,
                                      bool single_line = true) {
    const auto* v = o_.if_contains(name);
    if (!v || v->is_null()) {
      if (required) return invalid_argument(name, "required");
      return std::nullopt;
    }
    if (!v->is_string()) return invalid_argument(name, "must be a string");
    const auto& s = v->as_string();
    if (s.size() > max) return invalid_argument(name, "longer than " + std::to_string(max) + " bytes");
    if (single_line && has_control(s)) return invalid_argument(name, "has control characters");
    out.assign(s.data(), s.size());
    return std::nullopt;
  }
  std::optional<router::Error> unsigned_int(const char* name, uint64_t& out, bool required = false) {
    const auto* v = o_.if_contains(name);
    if (!v || v->is_null()) {
      if (required) return invalid_argument(name, "required");
      return std::nullopt;
    }
    if (v->is_uint64())
      out = v->as_uint64();
    else if (v->is_int64() && v->as_int64() >= 0)
      out = static_cast<uint64_t>(v->as_int64());
    else
      return invalid_argument(name, "must be a whole number >= 0");
    return std::nullopt;
  }
  std::optional<router::Error> boolean(const char* name, bool& out) {
    const auto* v = o_.if_contains(name);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_bool()) return invalid_argument(name, "must be true or false");
    out = v->as_bool();
    return std::nullopt;
  }

 private:
  const json::object& o_;
};

std::optional<router::Error> read_attachments(const json::object& o, std::vector<router::AttachmentRef>& out) {
  const auto* v = o.if_contains("attachments");
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_array()) return invalid_argument("attachments", "must be a list");
  const auto& list = v->as_array();
  if (list.size() > kMaxAttachments) {
    return invalid_argument("attachments", "more than " + std::to_string(kMaxAttachments));
  }
  for (const auto& item : list) {
    if (!item.is_object()) return invalid_argument("attachments", "each must be an object");
    Reader r(item.as_object());
    router::AttachmentRef ref;
    if (auto e = r.string("url", ref.url, 128, true)) return invalid_argument("attachments.url", e->message);
    // Only what POST /chat/v1/attachments answered: "attachment:" + 64 hex digits.
    constexpr std::string_view kPrefix = "attachment:";
    bool ok = ref.url.starts_with(kPrefix) && ref.url.size() == kPrefix.size() + 64;
    for (std::size_t i = kPrefix.size(); ok && i < ref.url.size(); ++i) {
      ok = std::isxdigit(static_cast<unsigned char>(ref.url[i])) &&
           !std::isupper(static_cast<unsigned char>(ref.url[i]));
    }
    if (!ok) return invalid_argument("attachments.url", "must be an attachment: url from an upload");
    if (auto e = r.string("filename", ref.filename, 255)) return invalid_argument("attachments.filename", e->message);
    if (auto e = r.string("content_type", ref.content_type, 127)) {
      return invalid_argument("attachments.content_type", e->message);
    }
    if (auto e = r.unsigned_int("size", ref.size_bytes)) return invalid_argument("attachments.size", e->message);
    out.push_back(std::move(ref));
  }
  return std::nullopt;
}

std::string frame(json::object o) { return json::serialize(o); }

}  // namespace

router::Result<ClientFrame> parse_client_frame(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 8;
  json::value value = json::parse(text, ec, {}, options);
  if (ec) return invalid_argument("", "not JSON: " + ec.message());
  if (!value.is_object()) return invalid_argument("", "a frame is a JSON object");
  const auto& o = value.as_object();
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string()) return invalid_argument("type", "required");
  const std::string_view t = type->as_string();
  ClientFrame f;
  Reader r(o);
  std::optional<router::Error> e;
  if (t == "hello") {
    f.type = ClientFrame::Type::kHello;
    if ((e = r.string("token", f.token, kMaxTokenBytes)) || (e = r.string("user_id", f.user_id, 128)) ||
        (e = r.string("user_hash", f.user_hash, 128)) || (e = r.string("name", f.name, kMaxNameBytes)) ||
        (e = r.string("email", f.email, kMaxEmailBytes)) || (e = r.string("email_hash", f.email_hash, 128)) ||
        (e = r.string("conversation_id", f.conversation_id, 64)) || (e = r.unsigned_int("last_seq", f.last_seq))) {
      return *e;
    }
    if (!f.user_id.empty() && f.user_hash.empty()) return invalid_argument("user_hash", "required with user_id");
  } else if (t == "message") {
    f.type = ClientFrame::Type::kMessage;
    if ((e = r.string("id", f.id, kMaxIdBytes, true)) || (e = r.string("text", f.text, SIZE_MAX, false, false)) ||
        (e = read_attachments(o, f.attachments))) {
      return *e;
    }
    if (f.id.empty() || !std::all_of(f.id.begin(), f.id.end(), id_char)) {
      return invalid_argument("id", "1 to 64 of A-Z a-z 0-9 - _ . :");
    }
    if (f.text.empty() && f.attachments.empty()) return invalid_argument("text", "empty message");
  } else if (t == "typing") {
    f.type = ClientFrame::Type::kTyping;
    if ((e = r.boolean("active", f.active))) return *e;
  } else if (t == "read") {
    f.type = ClientFrame::Type::kRead;
    if ((e = r.unsigned_int("seq", f.seq, true))) return *e;
  } else if (t == "identify") {
    f.type = ClientFrame::Type::kIdentify;
    if ((e = r.string("email", f.email, kMaxEmailBytes, true))) return *e;
    if (f.email.empty()) return invalid_argument("email", "required");
  } else if (t == "ping") {
    f.type = ClientFrame::Type::kPing;
  } else {
    return invalid_argument("type", "unknown frame type '" + std::string(t.substr(0, 32)) + "'");
  }
  return f;
}

ServerMessage message_from_event(const router::Event& event, const router::Message& m,
                                 const std::string& visitor_address) {
  ServerMessage out;
  out.conversation_id = event.conversation_id;
  out.seq = event.seq;
  out.direction = m.direction == router::Direction::kInbound ? "inbound" : "outbound";
  if (m.direction == router::Direction::kInbound) {
    if (auto it = m.metadata.find("client_message_id"); it != m.metadata.end())
      out.id = it->second;
    else if (m.external_id.starts_with(visitor_address + "/"))
      out.id = m.external_id.substr(visitor_address.size() + 1);
  } else {
    out.author = event.actor;
  }
  out.text = m.text;
  out.attachments = m.attachments;
  return out;
}

json::object attachment_json(const router::AttachmentRef& ref) {
  return {{"url", ref.url}, {"content_type", ref.content_type}, {"filename", ref.filename}, {"size", ref.size_bytes}};
}

std::string welcome_frame(const std::string& token, const std::string& address, bool verified,
                          const std::string& conversation_id, uint64_t seq, bool resumed, bool gap) {
  json::object o{{"type", "welcome"},
                 {"visitor", address},
                 {"verified", verified},
                 {"conversation_id", conversation_id},
                 {"seq", seq},
                 {"resumed", resumed},
                 {"gap", gap}};
  if (!token.empty()) o["token"] = token;
  return frame(std::move(o));
}

std::string synced_frame(const std::string& conversation_id, uint64_t seq) {
  return frame({{"type", "synced"}, {"conversation_id", conversation_id}, {"seq", seq}});
}

std::string message_frame(const ServerMessage& m) {
  json::object o{{"type", "message"},
                 {"conversation_id", m.conversation_id},
                 {"seq", m.seq},
                 {"direction", m.direction},
                 {"text", m.text}};
  if (!m.id.empty()) o["id"] = m.id;
  if (!m.author.empty()) o["author"] = m.author;
  if (!m.attachments.empty()) {
    json::array list;
    for (const auto& a : m.attachments) list.push_back(attachment_json(a));
    o["attachments"] = std::move(list);
  }
  return frame(std::move(o));
}

std::string ack_frame(const std::string& id, const std::string& conversation_id, uint64_t seq, bool duplicate) {
  return frame(
      {{"type", "ack"}, {"id", id}, {"conversation_id", conversation_id}, {"seq", seq}, {"duplicate", duplicate}});
}

std::string error_frame(const std::string& code, const std::string& message, const std::string& id, uint64_t seq,
                        std::chrono::milliseconds retry_after) {
  json::object o{{"type", "error"}, {"code", code}, {"message", message}, {"seq", seq}};
  if (!id.empty()) o["id"] = id;
  if (retry_after.count() > 0) o["retry_after_ms"] = retry_after.count();
  return frame(std::move(o));
}

std::string typing_frame(const std::string& conversation_id, uint64_t seq, bool active, const std::string& author) {
  return frame(
      {{"type", "typing"}, {"conversation_id", conversation_id}, {"seq", seq}, {"active", active}, {"author", author}});
}

std::string pong_frame(const std::string& conversation_id, uint64_t seq) {
  return frame({{"type", "pong"}, {"conversation_id", conversation_id}, {"seq", seq}});
}

std::string identified_frame(const std::string& email, bool verified, const std::string& conversation_id,
                             uint64_t seq) {
  return frame({{"type", "identified"},
                {"email", email},
                {"verified", verified},
                {"conversation_id", conversation_id},
                {"seq", seq}});
}

router::Result<AgentTyping> parse_agent_typing(std::string_view body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) return invalid_argument("", "a JSON object {conversation_id, active, author}");
  AgentTyping t;
  Reader r(value.as_object());
  std::optional<router::Error> e;
  if ((e = r.string("conversation_id", t.conversation_id, 64, true)) || (e = r.boolean("active", t.active)) ||
      (e = r.string("author", t.author, 128))) {
    return *e;
  }
  return t;
}

}  // namespace switchboard::adapters::chat
