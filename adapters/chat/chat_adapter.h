#pragma once

// The live chat channel (DESIGN.md "Adapters", docs/chat.md): a WebSocket endpoint
// that speaks the chat JSON protocol, the embeddable widget, and attachment uploads,
// all on one HTTP server (adapters/common/http_server.h).
//
// A visitor's identity is `chat:<address>`: `v:<random id>` for an anonymous
// visitor, bound to an HMAC-signed visitor token the widget keeps; `u:<site user id>`
// (verified) when the host site signs its user id. A message is acknowledged to the
// widget only after the router says it is durable; its client id makes re-sends
// idempotent. Agent replies reach every open session of the visitor; a session that
// reconnects names the last sequence number it saw and is sent what it missed, read
// back from the conversation's timeline (so a restart loses nothing either).
//
// Threading: the HTTP server runs its own threads; each session guards its state with
// its own mutex because router callbacks and deliveries arrive on router threads.
// Nothing here blocks a router thread: deliver() and has_live_session() only look up
// sessions in memory and queue frames.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <switchboard/router/adapter.h>

#include "common/http_server.h"

namespace switchboard::router {
class Router;
}

namespace switchboard::adapters::chat {

inline constexpr char kChannel[] = "chat";

struct ChatSettings {
  std::string listen = "127.0.0.1:7480";
  // Signs visitor tokens. Required: without it a token could be forged.
  std::string visitor_secret;
  // Shared with the host site, which signs its user ids (user_hash) and emails
  // (email_hash) with it. Empty: signed identities are refused.
  std::string identity_secret;
  // Origins (scheme://host[:port]) whose pages may open the WebSocket. Empty: only
  // pages served by this server itself. "*": any (not for production).
  std::vector<std::string> allowed_origins;
  // Accept upgrades without an Origin header (non-browser clients, which can forge
  // one anyway). Browsers always send one.
  bool allow_missing_origin = false;
  std::string queue;  // empty: the server's default queue

  std::size_t max_message_bytes = 16 * 1024;  // one WebSocket message; larger closes 1009
  std::size_t max_connections = 20000;
  std::size_t max_connections_per_address = 64;  // per remote IP
  // Messages per connection and per remote IP: a burst, then a steady rate.
  double messages_per_minute = 60;
  double message_burst = 10;
  double address_messages_per_minute = 600;
  double address_message_burst = 100;
  // Frames of any kind (typing, read) per connection; beyond it the socket closes 1008.
  double frames_per_second = 20;
  double frame_burst = 60;
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds hello_timeout{10'000};
  // A visitor whose last session closed this recently still counts as present: the
  // widget reconnects by itself after a network blip, and the reply should wait for
  // it (replayed on resume) rather than go out by email.
  std::chrono::milliseconds reconnect_grace{30'000};
  std::size_t history_events = 500;  // how far back a resume or a reload looks
  std::optional<http::TlsFiles> tls;
  unsigned threads = 1;

  std::string attachments_dir;  // empty: uploads are off
  std::size_t max_attachment_bytes = 10 << 20;
};

// INVALID_ARGUMENT naming the field for a bad setting or a missing visitor_secret.
router::Result<ChatSettings> parse_settings(const std::string& json);

// What the chat adapter refused and carried; every refusal is also logged.
struct ChatCounters {
  uint64_t sessions_opened = 0;
  uint64_t origin_refused = 0;
  uint64_t connections_refused = 0;  // max_connections, max_connections_per_address
  uint64_t bad_frames = 0;           // not JSON, unknown type, missing fields
  uint64_t bad_tokens = 0;           // a visitor token that does not verify
  uint64_t forged_signatures = 0;    // user_hash / email_hash that do not verify
  uint64_t rate_limited = 0;         // messages refused by a rate limit
  uint64_t frame_floods = 0;         // connections closed for too many frames
  uint64_t messages_in = 0;          // acknowledged (durable) visitor messages
  uint64_t duplicates = 0;           // re-sends answered from the first ack
  uint64_t messages_out = 0;         // agent messages handed to a live session
  uint64_t replayed = 0;             // messages re-sent on resume
  uint64_t uploads = 0;
  uint64_t uploads_refused = 0;
};

class ChatAdapter final : public router::Adapter {
 public:
  // `router` gives the timeline for resume and identity linking; without it (a host
  // that is not a Router) resume sends nothing old and `identify` is refused.
  ChatAdapter(ChatSettings settings, router::AdapterHost& host, router::Router* router);
  ~ChatAdapter() override;

  std::vector<router::ChannelCapabilities> capabilities() const override;
  router::Status start() override;
  void stop() override;
  void deliver(router::OutboundDelivery delivery) override;
  bool has_live_session(const std::string& channel, const std::string& address) const override;

  // After start(): where it listens.
  std::string local_address() const;
  uint16_t local_port() const;
  ChatCounters counters() const;
  http::HttpCounters http_counters() const;
  std::size_t live_sessions() const;

  class Core;  // shared with sessions; public for them only

 private:
  std::shared_ptr<Core> core_;
  std::unique_ptr<http::HttpServer> server_;
};

std::unique_ptr<router::AdapterFactory> make_factory();

}  // namespace switchboard::adapters::chat
