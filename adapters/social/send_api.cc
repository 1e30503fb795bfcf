#include "send_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "json_fields.h"

namespace switchboard::adapters::social {
namespace {

namespace json = boost::json;
using router::invalid_argument;
using router::Result;

const MetaSender* find_sender(const SocialSettings& s, std::vector<MetaSender> MetaApp::*list, const std::string& id) {
  for (const auto& app : s.meta_apps) {
    for (const auto& sender : app.*list) {
      if (id.empty() || sender.id == id) return &sender;
    }
  }
  return nullptr;
}

// "<ours>/<customer>" as the adapter wrote it on the way in.
std::pair<std::string, std::string> split_address(const std::string& address) {
  const auto slash = address.find('/');
  if (slash == std::string::npos) return {};
  return {address.substr(0, slash), address.substr(slash + 1)};
}

http::ClientRequest graph_post(const SocialSettings& s, const MetaSender& sender, json::object body) {
  http::ClientRequest r;
  r.url = s.graph_base_url + "/" + sender.id + "/messages";
  r.headers = {{"Authorization", "Bearer " + sender.access_token}};
  r.body = json::serialize(body);
  r.timeout = s.send_timeout;
  r.max_response_bytes = s.max_response_bytes;
  r.ca_file = s.ca_file;
  return r;
}

Result<http::ClientRequest> page_send(const router::OutboundDelivery& d, const SocialSettings& s) {
  const auto [ours, customer] = split_address(d.address);
  const bool messenger = d.channel == "messenger";
  const MetaSender* sender = find_sender(s, messenger ? &MetaApp::pages : &MetaApp::instagram_accounts, ours);
  if (ours.empty() || customer.empty() || sender == nullptr) {
    return invalid_argument("address", d.channel + " address '" + d.address + "' names no configured sender");
  }
  json::object body{{"recipient", {{"id", customer}}}, {"message", {{"text", d.text}}}};
  // A reply inside the 24-hour window; Instagram's API has no messaging_type.
  if (messenger) body["messaging_type"] = "RESPONSE";
  return graph_post(s, *sender, std::move(body));
}

Result<http::ClientRequest> whatsapp_send(const router::OutboundDelivery& d, const SocialSettings& s,
                                          const std::string& number_id) {
  const MetaSender* sender = find_sender(s, &MetaApp::whatsapp_numbers, number_id);
  if (sender == nullptr) sender = find_sender(s, &MetaApp::whatsapp_numbers, "");
  if (sender == nullptr) return invalid_argument("address", "no WhatsApp number is configured");
  const std::string wa_id = d.address.starts_with('+') ? d.address.substr(1) : d.address;
  json::object body{{"messaging_product", "whatsapp"},
                    {"recipient_type", "individual"},
                    {"to", wa_id},
                    {"type", "text"},
                    {"text", {{"preview_url", false}, {"body", d.text}}}};
  return graph_post(s, *sender, std::move(body));
}

Result<http::ClientRequest> telegram_send(const router::OutboundDelivery& d, const SocialSettings& s) {
  const auto [bot_name, user] = split_address(d.address);
  auto bot =
      std::find_if(s.telegram_bots.begin(), s.telegram_bots.end(), [&](const auto& b) { return b.name == bot_name; });
  if (bot == s.telegram_bots.end() || user.empty()) {
    return invalid_argument("address", "telegram address '" + d.address + "' names no configured bot");
  }
  json::object body{{"text", d.text}};
  // Telegram's chat ids are integers; a private chat's id is the user's id.
  int64_t chat_id = 0;
  const auto [end, ec] = std::from_chars(user.data(), user.data() + user.size(), chat_id);
  if (ec == std::errc() && end == user.data() + user.size()) {
    body["chat_id"] = chat_id;
  } else {
    body["chat_id"] = user;
  }
  http::ClientRequest r;
  r.url = s.telegram_base_url + "/bot" + bot->token + "/sendMessage";
  r.body = json::serialize(body);
  r.timeout = s.send_timeout;
  r.max_response_bytes = s.max_response_bytes;
  r.ca_file = s.ca_file;
  return r;
}

json::object parse_or_empty(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return !ec && v.is_object() ? std::move(v.as_object()) : json::object{};
}

// Graph: {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}};
// Telegram: {"ok": false, "error_code", "description"}.
std::string provider_error(const std::string& channel, const http::ClientResponse& response) {
  if (response.status == 0) return response.error;
  const json::object answer = parse_or_empty(response.body);
  std::string code, text;
  if (channel == "telegram") {
    code = text_at(answer, "error_code");
    text = text_at(answer, "description");
  } else {
    const auto& error = object_at(answer, "error");
    code = text_at(error, "code");
    text = text_at(error, "message");
  }
  if (code.empty()) code = "HTTP " + std::to_string(response.status);
  return code + ": " + (text.empty() ? response.body.substr(0, 200) : text);
}

std::string sent_id(const std::string& channel, const std::string& address, const json::object& answer) {
  if (channel == "telegram") {
    // Message ids are per chat: the chat makes them unique.
    const std::string id = text_at(object_at(answer, "result"), "message_id");
    return id.empty() ? std::string() : address + ":" + id;
  }
  if (channel == "whatsapp") {
    const auto* messages = answer.if_contains("messages");
    if (messages == nullptr || !messages->is_array() || messages->as_array().empty()) return {};
    const auto& first = messages->as_array().front();
    return first.is_object() ? text_at(first.as_object(), "id") : std::string();
  }
  return text_at(answer, "message_id");
}

}  // namespace

Result<http::ClientRequest> build_send(const router::OutboundDelivery& delivery, const SocialSettings& settings,
                                       const std::string& whatsapp_number_id) {
  if (delivery.channel == "messenger" || delivery.channel == "instagram") return page_send(delivery, settings);
  if (delivery.channel == "whatsapp") return whatsapp_send(delivery, settings, whatsapp_number_id);
  if (delivery.channel == "telegram") return telegram_send(delivery, settings);
  return invalid_argument("channel", "'" + delivery.channel + "' is not a social channel");
}

SendAnswer read_answer(const std::string& channel, const std::string& address, const http::ClientResponse& response) {
  SendAnswer a;
  a.outcome = http::classify(response);
  if (a.outcome != http::DeliveryOutcome::kSent) {
    a.reason = provider_error(channel, response);
    return a;
  }
  a.provider_id = sent_id(channel, address, parse_or_empty(response.body));
  return a;
}

}  // namespace switchboard::adapters::social
