#include "chat/chat_adapter.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include <switchboard/router/router.h>

#include "chat/protocol.h"
#include "chat/rate_limit.h"
#include "chat/visitor_token.h"
#include "chat/widget_assets.h"
#include "common/attachment_store.h"
#include "common/hmac.h"

namespace switchboard::adapters::chat {

namespace asio = boost::asio;
namespace json = boost::json;
namespace websocket = boost::beast::websocket;
using http::beast_http::field;
using http::beast_http::status;

class ChatSession;

class ChatAdapter::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(ChatSettings s, router::AdapterHost& h, router::Router* r)
      : settings(std::move(s)), host(h), router(r), tokens(settings.visitor_secret, settings.identity_secret) {}

  ChatSettings settings;
  router::AdapterHost& host;
  router::Router* router;
  VisitorTokens tokens;
  std::optional<AttachmentStore> attachments;
  // Timers (hello timeouts) and disk work (uploads): never on the HTTP or router threads.
  asio::thread_pool worker{1};
  std::atomic<bool> stopped{false};

  struct Counters {
    std::atomic<uint64_t> sessions_opened{0}, origin_refused{0}, connections_refused{0}, bad_frames{0}, bad_tokens{0},
        forged_signatures{0}, rate_limited{0}, frame_floods{0}, messages_in{0}, duplicates{0}, messages_out{0},
        replayed{0}, uploads{0}, uploads_refused{0};
  } counters;

  void refused(std::atomic<uint64_t>& counter, std::string_view what, std::string_view from) {
    const uint64_t n = ++counter;
    if (n <= 10 || n % 1000 == 0) spdlog::warn("chat: refused {} from {} ({} so far)", what, from, n);
  }

  // --- sessions, by visitor address and by remote IP ------------------------------
  // A connection slot is taken at the upgrade and given back when the session dies.
  bool take_slot(const std::string& ip) {
    std::lock_guard lock(mutex_);
    if (slots_ >= settings.max_connections) return false;
    auto& n = per_ip_[ip];
    if (n >= settings.max_connections_per_address) return false;
    ++n;
    ++slots_;
    return true;
  }
  void give_slot(const std::string& ip) {
    std::lock_guard lock(mutex_);
    --slots_;
    if (auto it = per_ip_.find(ip); it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  }
  void enlist(const std::string& address, const std::shared_ptr<ChatSession>& session) {
    std::lock_guard lock(mutex_);
    by_address_[address].insert(session);
    left_at_.erase(address);
  }
  void discharge(const std::string& address, const std::shared_ptr<ChatSession>& session) {
    std::lock_guard lock(mutex_);
    auto it = by_address_.find(address);
    if (it == by_address_.end()) return;
    it->second.erase(session);
    if (!it->second.empty()) return;
    by_address_.erase(it);
    const auto now = std::chrono::steady_clock::now();
    if (left_at_.size() >= kMaxTrackedAddresses) {
      std::erase_if(left_at_, [&](auto& kv) { return now - kv.second > settings.reconnect_grace; });
    }
    if (left_at_.size() < kMaxTrackedAddresses) left_at_[address] = now;
  }
  std::vector<std::shared_ptr<ChatSession>> sessions_of(const std::string& address) const {
    std::lock_guard lock(mutex_);
    auto it = by_address_.find(address);
    if (it == by_address_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }
  // Connected now, or gone for less than reconnect_grace.
  bool live(const std::string& address) const {
    std::lock_guard lock(mutex_);
    if (by_address_.contains(address)) return true;
    auto it = left_at_.find(address);
    return it != left_at_.end() && std::chrono::steady_clock::now() - it->second < settings.reconnect_grace;
  }
  std::size_t live_count() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [address, set] : by_address_) n += set.size();
    return n;
  }
  std::vector<std::shared_ptr<ChatSession>> all_sessions() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<ChatSession>> out;
    for (const auto& [address, set] : by_address_) out.insert(out.end(), set.begin(), set.end());
    return out;
  }

  // Messages per remote IP, across its connections.
  bool address_allows(const std::string& ip) {
    std::lock_guard lock(buckets_mutex_);
    auto it = ip_buckets_.find(ip);
    if (it == ip_buckets_.end()) {
      if (ip_buckets_.size() >= kMaxTrackedAddresses) {
        // Forget the addresses that are back to a full bucket: they lose nothing.
        for (auto it2 = ip_buckets_.begin(); it2 != ip_buckets_.end();) {
          it2 = it2->second.full() ? ip_buckets_.erase(it2) : std::next(it2);
        }
      }
      it = ip_buckets_
               .emplace(ip, TokenBucket(settings.address_messages_per_minute / 60.0, settings.address_message_burst))
               .first;
    }
    return it->second.take();
  }

  // --- read receipts: outbound messages handed to a session, not yet read ----------
  void expect_read(const std::string& conversation_id, uint64_t seq, const std::string& outbound_id) {
    std::lock_guard lock(receipts_mutex_);
    auto& m = receipts_[conversation_id];
    m.emplace(seq, outbound_id);
    while (m.size() > kMaxUnreadPerConversation) m.erase(m.begin());
  }
  void read_up_to(const std::string& conversation_id, uint64_t seq) {
    std::vector<std::string> read;
    {
      std::lock_guard lock(receipts_mutex_);
      auto it = receipts_.find(conversation_id);
      if (it == receipts_.end()) return;
      auto& m = it->second;
      for (auto r = m.begin(); r != m.end() && r->first <= seq;) {
        read.push_back(r->second);
        r = m.erase(r);
      }
      if (m.empty()) receipts_.erase(it);
    }
    for (auto& id : read) host.report_delivery(std::move(id), router::DeliveryStatus::kRead, "");
  }

  // --- visitor typing, for agents to poll --------------------------------------------
  void visitor_typing(const std::string& conversation_id, bool active) {
    std::lock_guard lock(typing_mutex_);
    if (active) {
      if (typing_.size() < kMaxTrackedAddresses) typing_[conversation_id] = std::chrono::steady_clock::now();
    } else {
      typing_.erase(conversation_id);
    }
  }
  bool is_visitor_typing(const std::string& conversation_id) {
    std::lock_guard lock(typing_mutex_);
    auto it = typing_.find(conversation_id);
    if (it == typing_.end()) return false;
    if (std::chrono::steady_clock::now() - it->second > kTypingLasts) {
      typing_.erase(it);
      return false;
    }
    return true;
  }

  static constexpr std::size_t kMaxTrackedAddresses = 100'000;
  static constexpr std::size_t kMaxUnreadPerConversation = 1000;
  static constexpr auto kTypingLasts = std::chrono::seconds(6);

 private:
  mutable std::mutex mutex_;  // guards the session indexes and slots
  std::unordered_map<std::string, std::set<std::shared_ptr<ChatSession>>> by_address_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> left_at_;
  std::unordered_map<std::string, std::size_t> per_ip_;
  std::size_t slots_ = 0;

  std::mutex buckets_mutex_;
  std::unordered_map<std::string, TokenBucket> ip_buckets_;

  std::mutex receipts_mutex_;
  std::unordered_map<std::string, std::map<uint64_t, std::string>> receipts_;

  std::mutex typing_mutex_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> typing_;
};

namespace {

constexpr std::size_t kMaxHeldFrames = 32;  // visitor messages that arrive while resuming
constexpr std::size_t kMaxAttachments = 10;

std::string error_code_name(router::ErrorCode code) {
  switch (code) {
    case router::ErrorCode::kUnavailable:
      return "unavailable";
    case router::ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case router::ErrorCode::kInvalidArgument:
      return "invalid";
    case router::ErrorCode::kAlreadyExists:
      return "already_exists";
    default:
      return "refused";
  }
}

}  // namespace

// One visitor's WebSocket. Its state is guarded by mutex_: frames come on the HTTP
// strand, ingest answers and deliveries on router threads.
class ChatSession final : public http::WebSocketListener, public std::enable_shared_from_this<ChatSession> {
 public:
  ChatSession(std::shared_ptr<ChatAdapter::Core> core, std::string ip)
      : core_(std::move(core)),
        ip_(std::move(ip)),
        messages_(core_->settings.messages_per_minute / 60.0, core_->settings.message_burst),
        frames_(core_->settings.frames_per_second, core_->settings.frame_burst),
        hello_timer_(core_->worker) {}

  ~ChatSession() override { core_->give_slot(ip_); }

  void on_open(std::shared_ptr<http::WebSocketConnection> connection) override {
    {
      std::lock_guard lock(mutex_);
      connection_ = std::move(connection);
    }
    ++core_->counters.sessions_opened;
    hello_timer_.expires_after(core_->settings.hello_timeout);
    hello_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      std::lock_guard lock(self->mutex_);
      if (!self->greeted_ && self->connection_) {
        self->core_->refused(self->core_->counters.bad_frames, "a connection that sent no hello in time", self->ip_);
        self->connection_->close(websocket::close_code::policy_error, "no hello");
      }
    });
  }

  void on_close(std::string why) override {
    hello_timer_.cancel();
    std::string address;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      connection_.reset();  // the connection owns us; let it go
      address = address_;
      held_.clear();
      held_frames_.clear();
      if (!conversation_id_.empty()) core_->visitor_typing(conversation_id_, false);
    }
    if (!address.empty()) core_->discharge(address, shared_from_this());
    if (!why.empty()) spdlog::debug("chat: session of {} ended: {}", address.empty() ? ip_ : address, why);
  }

  void on_text(std::string text) override {
    std::unique_lock lock(mutex_);
    if (closed_ || !connection_) return;
    if (!frames_.take()) {
      core_->refused(core_->counters.frame_floods, "a connection sending frames too fast (closed 1008)", ip_);
      connection_->close(websocket::close_code::policy_error, "too many frames");
      return;
    }
    auto frame = parse_client_frame(text);
    if (!frame) {
      core_->refused(core_->counters.bad_frames, "a bad frame: " + frame.error().describe(), ip_);
      send_locked(error_frame("bad_frame", frame.error().describe(), "", last_seq_));
      return;
    }
    ClientFrame& f = frame.value();
    if (!greeted_) {
      if (f.type != ClientFrame::Type::kHello) {
        core_->refused(core_->counters.bad_frames, "a frame before hello", ip_);
        connection_->close(websocket::close_code::policy_error, "hello first");
        return;
      }
      hello(std::move(f), lock);
      return;
    }
    if (resuming_) {
      if (f.type != ClientFrame::Type::kMessage) return;  // typing and read receipts can wait for the next one
      if (held_frames_.size() >= kMaxHeldFrames) {
        send_locked(error_frame("not_ready", "wait for synced", f.id, last_seq_));
        return;
      }
      held_frames_.push_back(std::move(f));
      return;
    }
    handle(std::move(f), lock);
  }

  // An agent message (or another tab's visitor message) for this visitor.
  void offer(const ServerMessage& message) {
    std::lock_guard lock(mutex_);
    if (closed_ || !connection_) return;
    if (message.conversation_id != conversation_id_) {
      // The visitor's conversation changed (the old one closed): a new sequence.
      conversation_id_ = message.conversation_id;
      sent_seq_ = 0;
      last_seq_ = 0;
    }
    if (resuming_) {
      held_.push_back(message);
      return;
    }
    send_message_locked(message);
  }

  void agent_typing(const std::string& conversation_id, bool active, const std::string& author) {
    std::lock_guard lock(mutex_);
    if (closed_ || !connection_ || resuming_ || conversation_id != conversation_id_) return;
    send_locked(typing_frame(conversation_id_, last_seq_, active, author));
  }

  std::string conversation_id() const {
    std::lock_guard lock(mutex_);
    return conversation_id_;
  }

  void shut() {
    std::lock_guard lock(mutex_);
    if (connection_) connection_->close(websocket::close_code::going_away, "server stopping");
  }

 private:
  using Lock = std::unique_lock<std::mutex>;

  void hello(ClientFrame f, Lock& lock) {
    auto& c = core_->counters;
    std::string token;
    if (!f.user_id.empty()) {
      if (!core_->tokens.user_signed(f.user_id, f.user_hash)) {
        core_->refused(c.forged_signatures, "a user_hash that does not verify (closed 1008)", ip_);
        send_locked(error_frame("forged_signature", "user_hash does not match user_id", "", 0));
        connection_->close(websocket::close_code::policy_error, "bad signature");
        return;
      }
      address_ = "u:" + f.user_id;
      verified_ = true;
    } else if (!f.token.empty()) {
      auto id = core_->tokens.verify(f.token);
      if (!id) {
        core_->refused(c.bad_tokens, "a visitor token that does not verify (closed 1008)", ip_);
        send_locked(error_frame("bad_token", "the visitor token does not verify; start over without it", "", 0));
        connection_->close(websocket::close_code::policy_error, "bad token");
        return;
      }
      address_ = "v:" + *id;
      token = f.token;
    } else {
      const auto id = VisitorTokens::new_visitor_id();
      address_ = "v:" + id;
      token = core_->tokens.issue(id);
    }
    if (!f.email.empty() && !f.email_hash.empty()) {
      if (!core_->tokens.email_signed(f.email, f.email_hash)) {
        core_->refused(c.forged_signatures, "an email_hash that does not verify (closed 1008)", ip_);
        send_locked(error_frame("forged_signature", "email_hash does not match email", "", 0));
        connection_->close(websocket::close_code::policy_error, "bad signature");
        return;
      }
      verified_email_ = f.email;
    }
    display_name_ = f.name;
    greeted_ = true;
    resuming_ = true;
    token_ = std::move(token);
    hello_timer_.cancel();
    // From here deliveries reach us (held until the replay is out), so nothing
    // committed after the timeline read below can slip between the two.
    core_->enlist(address_, shared_from_this());

    if (!core_->router) {
      finish_resume(std::nullopt, f.conversation_id, f.last_seq);
      return;
    }
    lock.unlock();
    core_->router->get_context(
        "", router::Identity{kChannel, address_, verified_}, core_->settings.history_events,
        [self = shared_from_this(), wanted = f.conversation_id,
         last = f.last_seq](router::Result<router::ConversationContext> context) {
          std::unique_lock lock(self->mutex_);
          if (self->closed_) return;
          if (!context && context.error().code != router::ErrorCode::kNotFound) {
            self->send_locked(error_frame("unavailable", context.error().describe(), "", 0));
            self->connection_->close(websocket::close_code::try_again_later, "history unavailable");
            return;
          }
          self->finish_resume(context ? std::optional(std::move(context.value())) : std::nullopt, wanted, last);
          self->after_resume(lock);
        });
    lock.lock();
  }

  // Welcome, then every message after the client's watermark, then what arrived live
  // meanwhile, then `synced`.
  void finish_resume(std::optional<router::ConversationContext> context, const std::string& wanted, uint64_t last_seq) {
    std::vector<ServerMessage> replay;
    uint64_t head = 0;
    bool gap = false;
    if (context) {
      const auto& conv = context->conversation;
      contact_id_ = context->contact.id;
      if (conversation_id_.empty() || conversation_id_ == conv.id) {
        conversation_id_ = conv.id;
        head = conv.last_seq;
        // A watermark for another conversation means the client has nothing of this one.
        const uint64_t from = wanted == conv.id ? last_seq : 0;
        for (const auto& event : context->events) {
          const auto* m = std::get_if<router::Message>(&event.body);
          if (!m || m->channel != kChannel || event.seq <= from || m->direction == router::Direction::kNote) continue;
          replay.push_back(message_from_event(event, *m, address_));
        }
        // The timeline window starts after the watermark: older ones are not sent.
        if (!context->events.empty() && context->events.front().seq > from + 1 && from > 0) gap = true;
        sent_seq_ = std::max(sent_seq_, from);
      }
    }
    last_seq_ = std::max(last_seq_, head);
    send_locked(welcome_frame(token_, address_, verified_, conversation_id_, last_seq_, !wanted.empty(), gap));
    for (const auto& m : replay) {
      if (m.seq <= sent_seq_) continue;
      ++core_->counters.replayed;
      send_message_locked(m);
    }
    sent_seq_ = std::max(sent_seq_, head);
    resuming_ = false;
    for (const auto& m : held_) send_message_locked(m);
    held_.clear();
    send_locked(synced_frame(conversation_id_, std::max(sent_seq_, last_seq_)));
    if (!verified_email_.empty() && !contact_id_.empty()) link_email(verified_email_, true);
  }

  // Messages the visitor sent while we were resuming.
  void after_resume(Lock& lock) {
    auto frames = std::move(held_frames_);
    held_frames_.clear();
    for (auto& f : frames) handle(std::move(f), lock);
  }

  void handle(ClientFrame f, Lock& lock) {
    switch (f.type) {
      case ClientFrame::Type::kHello:
        core_->refused(core_->counters.bad_frames, "a second hello", ip_);
        send_locked(error_frame("bad_frame", "hello was already sent", "", last_seq_));
        return;
      case ClientFrame::Type::kMessage:
        return message(std::move(f), lock);
      case ClientFrame::Type::kTyping:
        if (!conversation_id_.empty()) core_->visitor_typing(conversation_id_, f.active);
        return;
      case ClientFrame::Type::kRead:
        if (!conversation_id_.empty()) core_->read_up_to(conversation_id_, std::min(f.seq, sent_seq_));
        return;
      case ClientFrame::Type::kIdentify:
        return link_email(f.email, false);
      case ClientFrame::Type::kPing:
        send_locked(pong_frame(conversation_id_, last_seq_));
        return;
    }
  }

  void message(ClientFrame f, Lock& lock) {
    if (!messages_.take() || !core_->address_allows(ip_)) {
      core_->refused(core_->counters.rate_limited, "a message over the rate limit", ip_);
      send_locked(error_frame("rate_limited", "too many messages; retry later", f.id, last_seq_, messages_.wait()));
      return;
    }
    router::InboundMessage m;
    m.channel = kChannel;
    m.address = address_;
    // Client ids are unique per visitor only: qualify them for (channel, external_id).
    m.external_id = address_ + "/" + f.id;
    m.text = std::move(f.text);
    m.display_name = display_name_;
    m.sent_at = router::Clock::now();
    m.verified = verified_;
    m.queue = core_->settings.queue;
    m.metadata["client_message_id"] = f.id;
    for (auto& a : f.attachments) m.attachments.push_back(std::move(a));
    ServerMessage echo{{}, 0, "inbound", f.id, m.text, "", m.attachments};
    lock.unlock();
    core_->host.ingest(std::move(m), [self = shared_from_this(), id = std::move(f.id),
                                      echo = std::move(echo)](router::Result<router::IngestResult> result) mutable {
      self->ingested(id, std::move(echo), std::move(result));
    });
    lock.lock();
  }

  // The router's answer: durable (ack) or refused (error). Never acknowledged before.
  void ingested(const std::string& id, ServerMessage echo, router::Result<router::IngestResult> result) {
    std::string address;
    {
      std::lock_guard lock(mutex_);
      if (!result) {
        send_locked(error_frame(error_code_name(result.error().code), result.error().describe(), id, last_seq_));
        return;
      }
      const auto& r = result.value();
      if (r.duplicate)
        ++core_->counters.duplicates;
      else
        ++core_->counters.messages_in;
      contact_id_ = r.contact_id;
      if (r.conversation_id != conversation_id_) {
        conversation_id_ = r.conversation_id;
        sent_seq_ = 0;
        last_seq_ = 0;
      }
      last_seq_ = std::max(last_seq_, r.seq);
      send_locked(ack_frame(id, r.conversation_id, r.seq, r.duplicate));
      if (r.duplicate) return;
      address = address_;
      echo.conversation_id = r.conversation_id;
      echo.seq = r.seq;
    }
    // The visitor's other tabs show it too.
    for (auto& other : core_->sessions_of(address)) {
      if (other.get() != this) other->offer(echo);
    }
  }

  void link_email(const std::string& email, bool verified) {
    if (!core_->router) {
      send_locked(error_frame("unsupported", "linking is not available here", "", last_seq_));
      return;
    }
    if (contact_id_.empty()) {
      send_locked(error_frame("no_contact", "send a message first", "", last_seq_));
      return;
    }
    core_->router->link_identity(
        contact_id_, router::Identity{"email", email, verified}, "chat",
        [self = shared_from_this(), email, verified](router::Result<router::Contact> result) {
          std::lock_guard lock(self->mutex_);
          if (!result) {
            // Already this contact's: nothing to say. Someone else's: not linked, and
            // the visitor is not told whose.
            if (result.error().code == router::ErrorCode::kAlreadyExists) return;
            self->send_locked(
                error_frame(error_code_name(result.error().code), result.error().describe(), "", self->last_seq_));
            return;
          }
          self->send_locked(identified_frame(email, verified, self->conversation_id_, self->last_seq_));
        });
  }

  void send_message_locked(const ServerMessage& m) {
    if (m.seq <= sent_seq_) return;  // already sent (replay and live overlap)
    sent_seq_ = m.seq;
    last_seq_ = std::max(last_seq_, m.seq);
    send_locked(message_frame(m));
  }

  void send_locked(std::string frame) {
    if (connection_ && !core_->stopped) connection_->send(std::move(frame));
  }

  std::shared_ptr<ChatAdapter::Core> core_;
  const std::string ip_;
  mutable std::mutex mutex_;
  std::shared_ptr<http::WebSocketConnection> connection_;
  TokenBucket messages_;
  TokenBucket frames_;
  asio::steady_timer hello_timer_;
  bool greeted_ = false;
  bool resuming_ = false;
  bool closed_ = false;
  bool verified_ = false;
  std::string address_;
  std::string token_;
  std::string display_name_;
  std::string verified_email_;
  std::string contact_id_;
  std::string conversation_id_;
  uint64_t sent_seq_ = 0;  // the client has every message of conversation_id_ up to here
  uint64_t last_seq_ = 0;  // the newest seq of conversation_id_ we know of
  std::vector<ServerMessage> held_;
  std::vector<ClientFrame> held_frames_;
};

namespace {

bool origin_allowed(const ChatSettings& s, std::string_view origin, std::string_view host) {
  if (origin.empty()) return s.allow_missing_origin;
  for (const auto& allowed : s.allowed_origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  if (!s.allowed_origins.empty()) return false;
  // No list: only pages this server served itself.
  return origin == "http://" + std::string(host) || origin == "https://" + std::string(host);
}

http::Response static_file(std::string_view body, std::string_view type) {
  auto res = http::make_response(status::ok, std::string(body), type);
  res.set(field::cache_control, "public, max-age=300");
  res.set(field::access_control_allow_origin, "*");
  return res;
}

http::Response json_response(status code, const json::object& body) {
  return http::make_response(code, json::serialize(body) + "\n", "application/json");
}

}  // namespace

ChatAdapter::ChatAdapter(ChatSettings settings, router::AdapterHost& host, router::Router* router)
    : core_(std::make_shared<Core>(std::move(settings), host, router)) {}

ChatAdapter::~ChatAdapter() { stop(); }

std::vector<router::ChannelCapabilities> ChatAdapter::capabilities() const {
  router::ChannelCapabilities caps;
  caps.channel = kChannel;
  caps.synchronous = true;
  caps.rich_text = false;
  caps.max_text_length = 0;
  return {caps};
}

router::Status ChatAdapter::start() {
  const auto& s = core_->settings;
  if (!s.attachments_dir.empty()) {
    auto store = AttachmentStore::open({s.attachments_dir, s.max_attachment_bytes});
    if (!store) return store.error();
    core_->attachments.emplace(std::move(store.value()));
  }
  http::HttpServerOptions options;
  options.listen = s.listen;
  options.tls = s.tls;
  options.threads = s.threads;
  // Uploads and the widget are plain HTTP requests on top of the sessions.
  options.max_connections = s.max_connections + 1024;
  options.max_message_bytes = s.max_message_bytes;
  options.idle_timeout = s.idle_timeout;
  options.request_timeout = std::chrono::milliseconds(30'000);
  options.server_name = "switchboard-chat";
  server_ = std::make_unique<http::HttpServer>(options);

  std::weak_ptr<Core> weak = core_;
  server_->websocket(
      "/chat/v1/ws",
      [weak](const auto& request,
             const http::Peer& peer) -> std::variant<http::Response, std::shared_ptr<http::WebSocketListener>> {
        auto core = weak.lock();
        if (!core || core->stopped) return http::make_response(status::service_unavailable, "stopping\n");
        if (!origin_allowed(core->settings, request[field::origin], request[field::host])) {
          core->refused(core->counters.origin_refused,
                        "a WebSocket from origin '" + std::string(request[field::origin]) + "' (403)", peer.address);
          return http::make_response(status::forbidden, "origin not allowed\n");
        }
        if (!core->take_slot(peer.address)) {
          core->refused(core->counters.connections_refused, "a WebSocket over the connection limits (503)",
                        peer.address);
          return http::make_response(status::service_unavailable, "too many connections\n");
        }
        return std::make_shared<ChatSession>(core, peer.address);
      });

  server_->route(http::Verb::get, "/chat/widget.js", [](http::Request, const http::Peer&, http::Respond respond) {
    respond(static_file(widget_js(), "application/javascript; charset=utf-8"));
  });
  server_->route(http::Verb::get, "/chat/demo.html", [](http::Request, const http::Peer&, http::Respond respond) {
    respond(static_file(demo_html(), "text/html; charset=utf-8"));
  });
  server_->route(http::Verb::get, "/chat/v1/stats", [weak](http::Request, const http::Peer&, http::Respond respond) {
    auto core = weak.lock();
    if (!core) return respond(http::make_response(status::service_unavailable, "stopping\n"));
    const auto& c = core->counters;
    json::object o{{"live_sessions", core->live_count()},
                   {"sessions_opened", c.sessions_opened.load()},
                   {"origin_refused", c.origin_refused.load()},
                   {"connections_refused", c.connections_refused.load()},
                   {"bad_frames", c.bad_frames.load()},
                   {"bad_tokens", c.bad_tokens.load()},
                   {"forged_signatures", c.forged_signatures.load()},
                   {"rate_limited", c.rate_limited.load()},
                   {"frame_floods", c.frame_floods.load()},
                   {"messages_in", c.messages_in.load()},
                   {"duplicates", c.duplicates.load()},
                   {"messages_out", c.messages_out.load()},
                   {"replayed", c.replayed.load()}};
    respond(json_response(status::ok, o));
  });
  // Agent typing in, visitor typing out: for agent desks, until the gRPC API carries it.
  server_->route(
      http::Verb::post, "/chat/v1/typing",
      [weak](http::Request req, const http::Peer&, http::Respond respond) {
        auto core = weak.lock();
        if (!core) return respond(http::make_response(status::service_unavailable, "stopping\n"));
        auto frame = parse_agent_typing(req.body());
        if (!frame) return respond(http::make_response(status::bad_request, frame.error().describe() + "\n"));
        for (auto& session : core->all_sessions()) {
          session->agent_typing(frame->conversation_id, frame->active, frame->author);
        }
        respond(json_response(status::ok, {{"visitor_typing", core->is_visitor_typing(frame->conversation_id)}}));
      },
      4096);
  server_->route(http::Verb::options, "/chat/v1/attachments",
                 [](http::Request req, const http::Peer&, http::Respond respond) {
                   auto res = http::make_response(status::no_content, "");
                   res.set(field::access_control_allow_origin, req[field::origin].empty() ? "*" : req[field::origin]);
                   res.set(field::access_control_allow_methods, "POST");
                   res.set(field::access_control_allow_headers, "content-type, x-filename");
                   res.set(field::access_control_max_age, "600");
                   respond(std::move(res));
                 });
  server_->route(
      http::Verb::post, "/chat/v1/attachments",
      [weak](http::Request req, const http::Peer& peer, http::Respond respond) {
        auto core = weak.lock();
        if (!core) return respond(http::make_response(status::service_unavailable, "stopping\n"));
        const std::string origin(req[field::origin]);
        auto answer = [origin, respond](status code, json::object body) {
          auto res = json_response(code, body);
          if (!origin.empty()) res.set(field::access_control_allow_origin, origin);
          respond(std::move(res));
        };
        if (!core->attachments) return answer(status::not_found, {{"error", "uploads are off"}});
        if (!origin.empty() && !origin_allowed(core->settings, origin, req[field::host])) {
          core->refused(core->counters.uploads_refused, "an upload from a disallowed origin", peer.address);
          return answer(status::forbidden, {{"error", "origin not allowed"}});
        }
        const auto token = http::query_parameter(req.target(), "token");
        if (!token || !core->tokens.verify(*token)) {
          core->refused(core->counters.bad_tokens, "an upload without a valid visitor token", peer.address);
          return answer(status::unauthorized, {{"error", "a visitor token is required"}});
        }
        if (!core->address_allows(peer.address)) {
          core->refused(core->counters.rate_limited, "an upload over the rate limit", peer.address);
          return answer(status::too_many_requests, {{"error", "too many requests"}});
        }
        std::string filename = http::query_parameter(req.target(), "filename").value_or("");
        if (filename.size() > 255) filename.resize(255);
        std::string type(req[field::content_type]);
        if (type.empty() || type.size() > 127) type = "application/octet-stream";
        // put() fsyncs: on the worker, never on the HTTP threads.
        asio::post(core->worker, [core, answer, body = std::move(req.body()), type = std::move(type),
                                  filename = std::move(filename)] {
          auto ref = core->attachments->put(body, type, filename);
          if (!ref) {
            ++core->counters.uploads_refused;
            const auto code = ref.error().code == router::ErrorCode::kResourceExhausted ? status::payload_too_large
                                                                                        : status::service_unavailable;
            return answer(code, {{"error", ref.error().describe()}});
          }
          ++core->counters.uploads;
          answer(status::created, attachment_json(ref.value()));
        });
      },
      core_->settings.max_attachment_bytes);

  if (auto started = server_->start(); !started) return started;
  spdlog::info("chat: listening on {}{} (widget: /chat/widget.js, WebSocket: /chat/v1/ws)",
               s.tls ? "https://" : "http://", server_->local_address());
  return router::ok_status();
}

void ChatAdapter::stop() {
  if (core_->stopped.exchange(true)) return;
  for (auto& session : core_->all_sessions()) session->shut();
  if (server_) server_->stop();
  core_->worker.stop();
  core_->worker.join();
}

void ChatAdapter::deliver(router::OutboundDelivery d) {
  auto sessions = core_->sessions_of(d.address);
  if (sessions.empty() || core_->stopped) {
    // Kept in the conversation's timeline: the visitor's next hello replays it. The
    // router tries again with backoff and marks it failed in the end.
    core_->host.report_retryable_failure(d.outbound_id, "the visitor is not connected");
    return;
  }
  ServerMessage m{d.conversation_id, d.seq, "outbound", "", d.text, "", d.attachments};
  for (auto& s : sessions) s->offer(m);
  ++core_->counters.messages_out;
  core_->expect_read(d.conversation_id, d.seq, d.outbound_id);
  core_->host.report_delivery(d.outbound_id, router::DeliveryStatus::kDelivered, "");
}

bool ChatAdapter::has_live_session(const std::string& channel, const std::string& address) const {
  return channel == kChannel && core_->live(address);
}

std::string ChatAdapter::local_address() const { return server_ ? server_->local_address() : std::string(); }
uint16_t ChatAdapter::local_port() const { return server_ ? server_->local_port() : 0; }
std::size_t ChatAdapter::live_sessions() const { return core_->live_count(); }
http::HttpCounters ChatAdapter::http_counters() const { return server_ ? server_->counters() : http::HttpCounters{}; }

ChatCounters ChatAdapter::counters() const {
  const auto& c = core_->counters;
  return ChatCounters{c.sessions_opened, c.origin_refused,    c.connections_refused, c.bad_frames,
                      c.bad_tokens,      c.forged_signatures, c.rate_limited,        c.frame_floods,
                      c.messages_in,     c.duplicates,        c.messages_out,        c.replayed,
                      c.uploads,         c.uploads_refused};
}

namespace {

class ChatFactory final : public router::AdapterFactory {
 public:
  std::string name() const override { return kChannel; }
  router::Result<std::unique_ptr<router::Adapter>> create(const std::string& settings_json,
                                                          router::AdapterHost& host) override {
    auto settings = parse_settings(settings_json);
    if (!settings) return settings.error();
    // switchboardd's host is the Router, whose timeline makes resume survive restarts.
    auto* router = dynamic_cast<router::Router*>(&host);
    return std::unique_ptr<router::Adapter>(std::make_unique<ChatAdapter>(std::move(settings.value()), host, router));
  }
};

}  // namespace

std::unique_ptr<router::AdapterFactory> make_factory() { return std::make_unique<ChatFactory>(); }

}  // namespace switchboard::adapters::chat
