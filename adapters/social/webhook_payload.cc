#include "webhook_payload.h"

#include <boost/json.hpp>
#include <charconv>
#include <cstddef>
#include <map>

#include "json_fields.h"

namespace switchboard::adapters::social {
namespace {

namespace json = boost::json;
using router::DeliveryStatus;
using router::InboundMessage;
using router::invalid_argument;
using router::Result;

const json::array* array_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

// Meta's timestamps: milliseconds as numbers (Messenger), seconds as strings (WhatsApp).
std::optional<router::Timestamp> time_at(const json::object& o, std::string_view key, bool milliseconds) {
  const std::string t = text_at(o, key);
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return milliseconds ? router::Timestamp(std::chrono::milliseconds(n)) : router::Timestamp(std::chrono::seconds(n));
}

// A webhook body is read once and thrown away: its DOM goes in one arena (the first
// kilobytes on the stack), so parsing allocates little and nothing is freed piece by
// piece (Boost.JSON skips destroying values whose memory resource frees nothing).
class BodyArena {
 public:
  BodyArena() = default;
  BodyArena(const BodyArena&) = delete;
  BodyArena& operator=(const BodyArena&) = delete;
  json::storage_ptr storage() { return json::storage_ptr(&resource_); }

 private:
  alignas(std::max_align_t) unsigned char first_[8 * 1024];
  json::monotonic_resource resource_{first_, sizeof first_};
};

// The object lives in `arena`'s memory: it must not outlive it.
Result<json::object> parse_object(std::string_view body, BodyArena& arena) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec, arena.storage());
  if (ec) return invalid_argument("body", "not JSON: " + ec.message());
  if (!root.is_object()) return invalid_argument("body", "not a JSON object");
  return std::move(root.as_object());
}

InboundMessage customer_message(const std::string& channel, std::string address, std::string external_id,
                                const PayloadOptions& options) {
  InboundMessage m;
  m.channel = channel;
  m.address = std::move(address);
  m.external_id = std::move(external_id);
  m.verified = true;  // the provider signed it: the sender's id is theirs to vouch for
  m.queue = options.queue;
  return m;
}

// A message with neither text nor media still says something happened.
void finish_text(InboundMessage& m, std::string text, std::string_view kind, const PayloadOptions& options) {
  m.text = cut_text(std::move(text), options.max_text_bytes);
  if (m.text.empty() && m.attachments.empty()) m.text = "(" + std::string(kind) + " message)";
}

// --- Messenger and Instagram: entry[].messaging[] -----------------------------------

void messenger_attachments(const json::object& message, InboundMessage& m) {
  const json::array* list = array_at(message, "attachments");
  if (list == nullptr) return;
  for (const auto& a : *list) {
    if (!a.is_object()) continue;
    const std::string url = text_at(object_at(a.as_object(), "payload"), "url");
    if (url.empty()) continue;  // templates and fallbacks carry no file
    m.attachments.push_back({url, text_at(a.as_object(), "type"), {}, 0});
  }
}

void messenger_event(const std::string& channel, const std::string& ours, const json::object& event,
                     const PayloadOptions& options, std::vector<WebhookItem>& out) {
  const std::string customer = text_at(object_at(event, "sender"), "id");
  if (customer.empty() || customer == ours) return;  // an echo of our own message
  const std::string address = ours + "/" + customer;
  if (const auto* message = event.if_contains("message"); message != nullptr && message->is_object()) {
    const auto& msg = message->as_object();
    if (const auto* echo = msg.if_contains("is_echo"); echo != nullptr && echo->is_bool() && echo->as_bool()) return;
    InboundMessage m = customer_message(channel, address, text_at(msg, "mid"), options);
    m.sent_at = time_at(event, "timestamp", true);
    messenger_attachments(msg, m);
    if (auto payload = text_at(object_at(msg, "quick_reply"), "payload"); !payload.empty()) {
      m.metadata["quick_reply_payload"] = cut_text(payload, 1000);
    }
    finish_text(m, text_at(msg, "text"), "media", options);
    out.emplace_back(std::move(m));
    return;
  }
  if (const auto* postback = event.if_contains("postback"); postback != nullptr && postback->is_object()) {
    const auto& pb = postback->as_object();
    // Older postbacks have no mid: the sender and the time name them instead.
    std::string id = text_at(pb, "mid");
    if (id.empty()) id = "postback:" + address + ":" + text_at(event, "timestamp");
    InboundMessage m = customer_message(channel, address, std::move(id), options);
    m.sent_at = time_at(event, "timestamp", true);
    m.metadata["postback_payload"] = cut_text(text_at(pb, "payload"), 1000);
    finish_text(m, text_at(pb, "title"), "postback", options);
    out.emplace_back(std::move(m));
    return;
  }
  for (const auto& [field, status] :
       {std::pair{"delivery", DeliveryStatus::kDelivered}, {"read", DeliveryStatus::kRead}}) {
    const auto* receipt = event.if_contains(field);
    if (receipt == nullptr || !receipt->is_object()) continue;
    const auto& r = receipt->as_object();
    if (const json::array* mids = array_at(r, "mids")) {
      for (const auto& mid : *mids) {
        if (mid.is_string())
          out.emplace_back(router::DeliveryReceipt{channel, std::string(mid.as_string()), status, {}});
      }
    }
    if (auto mid = text_at(r, "mid"); !mid.empty()) out.emplace_back(router::DeliveryReceipt{channel, mid, status, {}});
    if (auto up_to = time_at(r, "watermark", true)) out.emplace_back(Watermark{channel, address, *up_to, status});
  }
}

// --- WhatsApp: entry[].changes[].value.{contacts, messages, statuses} ------------------

constexpr std::string_view kMediaTypes[] = {"image", "audio", "video", "document", "sticker"};

std::string whatsapp_text(const json::object& msg, const std::string& type, InboundMessage& m,
                          const PayloadOptions& options) {
  if (type == "text") return text_at(object_at(msg, "text"), "body");
  if (type == "button") return text_at(object_at(msg, "button"), "text");
  if (type == "interactive") {
    const auto& i = object_at(msg, "interactive");
    const auto& reply = object_at(i, text_at(i, "type"));  // button_reply or list_reply
    return text_at(reply, "title");
  }
  for (const auto media : kMediaTypes) {
    if (type != media) continue;
    const auto& media_object = object_at(msg, media);
    const std::string id = text_at(media_object, "id");
    if (!id.empty()) {
      // The Graph API answers GET <base>/<media id> with the file's (short-lived) URL.
      m.attachments.push_back({options.graph_base_url + "/" + id, text_at(media_object, "mime_type"),
                               text_at(media_object, "filename"), 0});
    }
    return text_at(media_object, "caption");
  }
  return {};
}

void whatsapp_change(const json::object& value, const PayloadOptions& options, std::vector<WebhookItem>& out) {
  const std::string number_id = text_at(object_at(value, "metadata"), "phone_number_id");
  // The profile name of wa_id `from`: contacts holds one per sender, usually just one.
  const json::array* contacts = array_at(value, "contacts");
  const auto name_of = [contacts](const std::string& from) -> std::string {
    if (contacts == nullptr) return {};
    std::string name;  // the last entry for a wa_id wins, as Meta never repeats one
    for (const auto& c : *contacts) {
      if (c.is_object() && text_at(c.as_object(), "wa_id") == from) {
        name = text_at(object_at(c.as_object(), "profile"), "name");
      }
    }
    return name;
  };
  if (const json::array* messages = array_at(value, "messages")) {
    for (const auto& item : *messages) {
      if (!item.is_object()) continue;
      const auto& msg = item.as_object();
      const std::string from = text_at(msg, "from");
      if (from.empty()) continue;
      InboundMessage m = customer_message("whatsapp", "+" + from, text_at(msg, "id"), options);
      m.sent_at = time_at(msg, "timestamp", false);
      m.display_name = cut_text(name_of(from), 200);
      if (!number_id.empty()) m.metadata[kWhatsAppNumberKey] = number_id;
      const std::string type = text_at(msg, "type");
      finish_text(m, whatsapp_text(msg, type, m, options), type.empty() ? "unknown" : type, options);
      out.emplace_back(std::move(m));
    }
  }
  if (const json::array* statuses = array_at(value, "statuses")) {
    static const std::map<std::string, DeliveryStatus> kStatuses = {{"sent", DeliveryStatus::kSent},
                                                                    {"delivered", DeliveryStatus::kDelivered},
                                                                    {"read", DeliveryStatus::kRead},
                                                                    {"failed", DeliveryStatus::kFailed}};
    for (const auto& item : *statuses) {
      if (!item.is_object()) continue;
      const auto& st = item.as_object();
      auto status = kStatuses.find(text_at(st, "status"));
      if (status == kStatuses.end()) continue;  // "deleted", or a status added later
      std::string reason;
      if (const json::array* errors = array_at(st, "errors");
          errors != nullptr && !errors->empty() && errors->front().is_object()) {
        const auto& e = errors->front().as_object();
        std::string detail = text_at(object_at(e, "error_data"), "details");
        if (detail.empty()) detail = text_at(e, "message");
        reason = text_at(e, "code") + ": " + text_at(e, "title") + (detail.empty() ? "" : " (" + detail + ")");
      }
      out.emplace_back(router::DeliveryReceipt{"whatsapp", text_at(st, "id"), status->second, cut_text(reason, 1000)});
    }
  }
}

}  // namespace

std::string cut_text(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // a continuation byte
  text.resize(end);
  return text;
}

Result<std::vector<WebhookItem>> parse_meta_webhook(std::string_view body, const PayloadOptions& options) {
  BodyArena arena;
  auto root = parse_object(body, arena);
  if (!root) return root.error();
  const std::string_view object = string_at(*root, "object");
  const json::array* entries = array_at(*root, "entry");
  if (object.empty() || entries == nullptr) return invalid_argument("body", "not a Meta webhook (object, entry)");
  std::vector<WebhookItem> out;
  const std::string channel = object == "page" ? "messenger" : object == "instagram" ? "instagram" : "";
  for (const auto& entry_value : *entries) {
    if (!entry_value.is_object()) return invalid_argument("entry", "must hold objects");
    const auto& entry = entry_value.as_object();
    if (!channel.empty()) {
      const std::string ours = text_at(entry, "id");
      if (const json::array* events = array_at(entry, "messaging")) {
        for (const auto& e : *events) {
          if (e.is_object()) messenger_event(channel, ours, e.as_object(), options, out);
        }
      }
    } else if (object == "whatsapp_business_account") {
      if (const json::array* changes = array_at(entry, "changes")) {
        for (const auto& change : *changes) {
          if (change.is_object()) whatsapp_change(object_at(change.as_object(), "value"), options, out);
        }
      }
    }
    if (out.size() > options.max_items) {
      return invalid_argument("entry", "more than " + std::to_string(options.max_items) + " messages in one request");
    }
  }
  return out;
}

Result<std::vector<WebhookItem>> parse_telegram_update(std::string_view body, const std::string& bot,
                                                       const PayloadOptions& options) {
  BodyArena arena;
  auto root = parse_object(body, arena);
  if (!root) return root.error();
  const std::string update_id = text_at(*root, "update_id");
  if (update_id.empty()) return invalid_argument("update_id", "required");
  std::vector<WebhookItem> out;
  const auto& msg = object_at(*root, "message");
  const auto& chat = object_at(msg, "chat");
  // Groups and channels have no one customer to hold a conversation with.
  if (msg.empty() || text_at(chat, "type") != "private") return out;
  const auto& from = object_at(msg, "from");
  const std::string user = text_at(from, "id");
  if (user.empty()) return out;
  InboundMessage m = customer_message("telegram", bot + "/" + user, bot + ":" + update_id, options);
  if (auto date = time_at(msg, "date", false)) m.sent_at = date;
  std::string name = text_at(from, "first_name");
  if (auto last = text_at(from, "last_name"); !last.empty()) name += " " + last;
  m.display_name = cut_text(name, 200);
  if (auto username = text_at(from, "username"); !username.empty()) m.metadata["telegram_username"] = username;
  std::string text = text_at(msg, "text");
  if (text.empty()) text = text_at(msg, "caption");
  finish_text(m, std::move(text), "media", options);
  out.emplace_back(std::move(m));
  return out;
}

}  // namespace switchboard::adapters::social
