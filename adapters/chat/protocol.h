#pragma once

// The chat JSON protocol (docs/chat.md): what a widget sends, parsed and bounded, and
// the frames the server sends. Pure functions, no I/O; every server frame carries
// the conversation id and its sequence number.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <switchboard/router/error.h>
#include <switchboard/router/model.h>

namespace switchboard::adapters::chat {

struct ClientFrame {
  enum class Type { kHello, kMessage, kTyping, kRead, kIdentify, kPing };
  Type type = Type::kPing;
  // hello
  std::string token;
  std::string user_id;
  std::string user_hash;
  std::string name;
  std::string email;  // hello (with email_hash) and identify
  std::string email_hash;
  std::string conversation_id;
  uint64_t last_seq = 0;
  // message
  std::string id;
  std::string text;
  std::vector<router::AttachmentRef> attachments;
  // typing
  bool active = true;
  // read
  uint64_t seq = 0;
};

// INVALID_ARGUMENT naming the field: not JSON, not an object, unknown type, a field of
// the wrong type or over its bound.
router::Result<ClientFrame> parse_client_frame(std::string_view text);

// A message event as the widget sees it.
struct ServerMessage {
  std::string conversation_id;
  uint64_t seq = 0;
  std::string direction;  // inbound (the visitor's) or outbound (an agent's or bot's)
  std::string id;         // the client's id, for the visitor's own messages
  std::string text;
  std::string author;
  std::vector<router::AttachmentRef> attachments;
};

ServerMessage message_from_event(const router::Event& event, const router::Message& message,
                                 const std::string& visitor_address);

std::string welcome_frame(const std::string& token, const std::string& address, bool verified,
                          const std::string& conversation_id, uint64_t seq, bool resumed, bool gap);
std::string synced_frame(const std::string& conversation_id, uint64_t seq);
std::string message_frame(const ServerMessage& message);
std::string ack_frame(const std::string& id, const std::string& conversation_id, uint64_t seq, bool duplicate);
std::string error_frame(const std::string& code, const std::string& message, const std::string& id, uint64_t seq,
                        std::chrono::milliseconds retry_after = std::chrono::milliseconds(0));
std::string typing_frame(const std::string& conversation_id, uint64_t seq, bool active, const std::string& author);
std::string pong_frame(const std::string& conversation_id, uint64_t seq);
std::string identified_frame(const std::string& email, bool verified, const std::string& conversation_id, uint64_t seq);
boost::json::object attachment_json(const router::AttachmentRef& ref);

// POST /chat/v1/typing from an agent desk.
struct AgentTyping {
  std::string conversation_id;
  bool active = true;
  std::string author;
};
router::Result<AgentTyping> parse_agent_typing(std::string_view body);

}  // namespace switchboard::adapters::chat
