#include "social_adapter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <variant>

#include "common/hmac.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "send_api.h"
#include "webhook_payload.h"

namespace switchboard::adapters::social {
namespace {

namespace asio = boost::asio;
using http::beast_http::status;
using router::ErrorCode;

constexpr std::size_t kMaxRememberedNumbers = 100'000;

http::Response answer(status code, std::string body = {}) { return http::make_response(code, std::move(body)); }

// Worth the provider sending again: the store or the router may work later.
bool transient(const router::Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kAborted || e.code == ErrorCode::kResourceExhausted;
}

http::Response received() { return answer(status::ok, "EVENT_RECEIVED"); }
http::Response try_again() { return answer(status::service_unavailable, "try again\n"); }

// False when the item may work on a redelivery (the provider should send it again);
// true when it is durable or refused for good (logged: sending it again would not help).
bool settled(const router::Status& outcome, const char* what) {
  if (outcome.ok()) return true;
  if (transient(outcome.error())) return false;
  if (outcome.error().code != ErrorCode::kNotFound) {  // a receipt for a message not ours
    spdlog::warn("social: {} refused for good: {}", what, outcome.error().describe());
  }
  return true;
}

http::Response settled_answer(const router::Status& outcome, const char* what) {
  return settled(outcome, what) ? received() : try_again();
}

// One webhook request's items, answered once the last of them is settled: 200 when
// all are durable (or refused for good), 503 when one may work on a redelivery.
class WebhookBatch {
 public:
  WebhookBatch(std::size_t items, http::Respond respond) : remaining_(items), respond_(std::move(respond)) {}

  void settle(const router::Status& outcome, const char* what) {
    if (!settled(outcome, what)) retry_.store(true);
    if (remaining_.fetch_sub(1) == 1) respond_(retry_.load() ? try_again() : received());
  }

 private:
  std::atomic<std::size_t> remaining_;
  std::atomic<bool> retry_{false};
  http::Respond respond_;
};

class SocialAdapter final : public router::Adapter {
 public:
  SocialAdapter(SocialSettings settings, router::AdapterHost& host)
      : settings_(std::move(settings)), host_(host), server_(server_options()), send_pool_(settings_.send_threads) {
    payload_.graph_base_url = settings_.graph_base_url;
    payload_.max_text_bytes = settings_.max_text_bytes;
    payload_.max_items = settings_.max_messages_per_request;
    payload_.queue = settings_.queue;
    for (const auto& app : settings_.meta_apps) add_meta_routes(app);
    for (const auto& bot : settings_.telegram_bots) add_telegram_route(bot);
  }

  ~SocialAdapter() override { stop(); }

  std::vector<router::ChannelCapabilities> capabilities() const override {
    std::vector<router::ChannelCapabilities> out;
    const auto add = [&](const char* channel, const ChannelLimits& limits, bool carried) {
      if (carried) out.push_back({channel, false, false, limits.max_text_length, limits.reply_window});
    };
    const auto any = [&](std::vector<MetaSender> MetaApp::*list) {
      return std::any_of(settings_.meta_apps.begin(), settings_.meta_apps.end(),
                         [&](const MetaApp& a) { return !(a.*list).empty(); });
    };
    add("messenger", settings_.messenger, any(&MetaApp::pages));
    add("instagram", settings_.instagram, any(&MetaApp::instagram_accounts));
    add("whatsapp", settings_.whatsapp, any(&MetaApp::whatsapp_numbers));
    add("telegram", settings_.telegram, !settings_.telegram_bots.empty());
    return out;
  }

  router::Status start() override {
    if (auto started = server_.start(); !started) return started;
    if (!settings_.listening_file.empty()) {
      // Start-up only: tests and scripts learn the port (port 0) from this file.
      const std::string temp = settings_.listening_file + ".tmp";
      std::ofstream(temp) << server_.local_address() << "\n";
      std::error_code ec;
      std::filesystem::rename(temp, settings_.listening_file, ec);
      if (ec) return router::invalid_argument("listening_file", ec.message());
    }
    spdlog::info("social: webhooks on {} ({} Meta apps, {} Telegram bots)", server_.local_address(),
                 settings_.meta_apps.size(), settings_.telegram_bots.size());
    return router::ok_status();
  }

  void stop() override {
    if (stopped_.exchange(true)) return;
    server_.stop();
    send_pool_.join();
  }

  void deliver(router::OutboundDelivery delivery) override {
    asio::post(send_pool_, [this, delivery = std::move(delivery)] { send(delivery); });
  }

 private:
  http::HttpServerOptions server_options() const {
    http::HttpServerOptions o;
    o.listen = settings_.listen;
    o.threads = settings_.io_threads;
    o.max_connections = settings_.max_connections;
    o.max_body_bytes = settings_.max_body_bytes;
    o.request_timeout = settings_.request_timeout;
    o.handler_timeout = settings_.handler_timeout;
    return o;
  }

  // --- inbound ----------------------------------------------------------------------

  void add_meta_routes(const MetaApp& app) {
    server_.route(http::Verb::get, app.path, [&app](http::Request request, const http::Peer&, http::Respond respond) {
      respond(verify_subscription(app, request.target()));
    });
    server_.route(
        http::Verb::post, app.path,
        [this, &app, key = std::make_shared<const HmacSha256Key>(app.app_secret)](
            http::Request request, const http::Peer& peer, http::Respond respond) {
          if (auto refused = check_meta_signature(*key, request)) {
            spdlog::warn("social: {} refused a POST to {} from {}", refused->result_int(), app.path, peer.address);
            return respond(std::move(*refused));
          }
          take(parse_meta_webhook(request.body(), payload_), std::move(respond));
        },
        settings_.max_body_bytes);
  }

  // Meta's handshake: echo hub.challenge when hub.verify_token is ours.
  static http::Response verify_subscription(const MetaApp& app, std::string_view target) {
    const auto mode = http::query_parameter(target, "hub.mode");
    const auto token = http::query_parameter(target, "hub.verify_token");
    const auto challenge = http::query_parameter(target, "hub.challenge");
    if (mode != "subscribe" || !token || !challenge) return answer(status::bad_request, "not a subscription request\n");
    if (!signatures_equal(app.verify_token, *token)) return answer(status::forbidden, "wrong hub.verify_token\n");
    return answer(status::ok, *challenge);
  }

  // 401 without X-Hub-Signature-256, 403 when it is not the app secret's HMAC of the body.
  static std::optional<http::Response> check_meta_signature(const HmacSha256Key& key, const http::Request& request) {
    const auto header = request.find("X-Hub-Signature-256");
    if (header == request.end()) return answer(status::unauthorized, "X-Hub-Signature-256 required\n");
    // "sha256=" and the MAC in lowercase hex, made on the stack: this runs for every POST.
    static constexpr char kHex[] = "0123456789abcdef";
    static constexpr std::string_view kPrefix = "sha256=";
    std::array<char, kPrefix.size() + 2 * std::tuple_size_v<HmacSha256Key::Mac>> expected{};
    std::copy(kPrefix.begin(), kPrefix.end(), expected.begin());
    std::size_t at = kPrefix.size();
    for (const unsigned char b : key.mac(request.body())) {
      expected[at++] = kHex[b >> 4];
      expected[at++] = kHex[b & 0xf];
    }
    if (!signatures_equal({expected.data(), expected.size()}, header->value())) {
      return answer(status::forbidden, "bad signature\n");
    }
    return std::nullopt;
  }

  void add_telegram_route(const TelegramBot& bot) {
    server_.route(
        http::Verb::post, bot.path,
        [this, &bot](http::Request request, const http::Peer& peer, http::Respond respond) {
          const auto header = request.find("X-Telegram-Bot-Api-Secret-Token");
          if (header == request.end() || !signatures_equal(bot.secret_token, header->value())) {
            const bool missing = header == request.end();
            spdlog::warn("social: {} secret token on {} from {}", missing ? "no" : "wrong", bot.path, peer.address);
            return respond(missing ? answer(status::unauthorized, "secret token required\n")
                                   : answer(status::forbidden, "wrong secret token\n"));
          }
          take(parse_telegram_update(request.body(), bot.name, payload_), std::move(respond));
        },
        settings_.max_body_bytes);
  }

  // Hands every item to the router; the batch answers once all are settled.
  void take(router::Result<std::vector<WebhookItem>> parsed, http::Respond respond) {
    if (!parsed) return respond(answer(status::bad_request, parsed.error().describe() + "\n"));
    if (parsed->empty()) return respond(answer(status::ok, "EVENT_RECEIVED"));
    if (parsed->size() == 1) {
      if (auto* message = std::get_if<router::InboundMessage>(&parsed->front())) {
        return hand_over_one(std::move(*message), std::move(respond));
      }
    }
    auto batch = std::make_shared<WebhookBatch>(parsed->size(), std::move(respond));
    for (auto& item : *parsed) std::visit([&](auto& i) { hand_over(std::move(i), batch); }, item);
  }

  void hand_over(router::InboundMessage m, const std::shared_ptr<WebhookBatch>& batch) {
    if (auto number = m.metadata.find(kWhatsAppNumberKey); number != m.metadata.end()) {
      remember_number(m.address, number->second);
    }
    host_.ingest(std::move(m), [batch](router::Result<router::IngestResult> r) {
      batch->settle(r.ok() ? router::ok_status() : router::Status(r.error()), "a message");
    });
  }

  // The common case, one message per request: the answer rides on the router's
  // callback without a shared batch to count it down.
  void hand_over_one(router::InboundMessage m, http::Respond respond) {
    if (auto number = m.metadata.find(kWhatsAppNumberKey); number != m.metadata.end()) {
      remember_number(m.address, number->second);
    }
    host_.ingest(std::move(m), [respond = std::move(respond)](router::Result<router::IngestResult> r) {
      respond(settled_answer(r.ok() ? router::ok_status() : router::Status(r.error()), "a message"));
    });
  }

  void hand_over(router::DeliveryReceipt receipt, const std::shared_ptr<WebhookBatch>& batch) {
    host_.report_receipt(std::move(receipt), [batch](router::Status s) { batch->settle(s, "a receipt"); });
  }

  void hand_over(Watermark w, const std::shared_ptr<WebhookBatch>& batch) {
    host_.report_receipts_up_to(std::move(w.channel), std::move(w.address), w.up_to, w.status,
                                [batch](router::Status s) { batch->settle(s, "a watermark"); });
  }

  // Replies to a WhatsApp customer go out from the number they wrote to. In memory
  // only: after a restart (or past the bound) the first configured number is used.
  void remember_number(const std::string& address, const std::string& number_id) {
    std::lock_guard lock(numbers_mutex_);
    if (auto known = numbers_.find(address); known != numbers_.end()) {
      if (known->second != number_id) known->second = number_id;  // a repeat customer: no copies
      return;
    }
    if (numbers_.size() >= kMaxRememberedNumbers) numbers_.clear();
    numbers_.emplace(address, number_id);
  }

  std::string number_for(const std::string& address) const {
    std::lock_guard lock(numbers_mutex_);
    auto it = numbers_.find(address);
    return it == numbers_.end() ? std::string() : it->second;
  }

  // --- outbound (on a send worker) ----------------------------------------------------

  void send(const router::OutboundDelivery& d) {
    auto request = build_send(d, settings_, d.channel == "whatsapp" ? number_for(d.address) : std::string());
    if (!request) return host_.report_delivery(d.outbound_id, router::DeliveryStatus::kFailed, request.error().message);
    const SendAnswer a = read_answer(d.channel, d.address, http::send_request(*request));
    switch (a.outcome) {
      case http::DeliveryOutcome::kSent:
        return report_sent(d, a.provider_id);
      case http::DeliveryOutcome::kRetry:
        spdlog::info("social: {} to {} will be tried again: {}", d.outbound_id, d.channel, a.reason);
        return host_.report_retryable_failure(d.outbound_id, a.reason);
      case http::DeliveryOutcome::kFailed:
        spdlog::warn("social: {} to {} failed: {}", d.outbound_id, d.channel, a.reason);
        return host_.report_delivery(d.outbound_id, router::DeliveryStatus::kFailed, a.reason);
    }
  }

  void report_sent(const router::OutboundDelivery& d, const std::string& provider_id) {
    if (provider_id.empty()) {  // a 2xx without the id we expect: sent, but receipts cannot name it
      return host_.report_delivery(d.outbound_id, router::DeliveryStatus::kSent, {});
    }
    host_.report_sent(d.outbound_id, provider_id, [id = d.outbound_id](router::Status s) {
      if (!s.ok()) spdlog::warn("social: could not record {} as sent: {}", id, s.error().describe());
    });
  }

  SocialSettings settings_;
  router::AdapterHost& host_;
  PayloadOptions payload_;
  http::HttpServer server_;
  asio::thread_pool send_pool_;
  mutable std::mutex numbers_mutex_;
  std::unordered_map<std::string, std::string> numbers_;  // WhatsApp address -> phone-number id
  std::atomic<bool> stopped_{false};
};

class SocialFactory final : public router::AdapterFactory {
 public:
  std::string name() const override { return "social"; }
  router::Result<std::unique_ptr<router::Adapter>> create(const std::string& settings_json,
                                                          router::AdapterHost& host) override {
    auto settings = parse_settings(settings_json);
    if (!settings) return settings.error();
    return make_adapter(std::move(settings.value()), host);
  }
};

}  // namespace

std::unique_ptr<router::AdapterFactory> make_factory() { return std::make_unique<SocialFactory>(); }

std::unique_ptr<router::Adapter> make_adapter(SocialSettings settings, router::AdapterHost& host) {
  return std::make_unique<SocialAdapter>(std::move(settings), host);
}

}  // namespace switchboard::adapters::social
