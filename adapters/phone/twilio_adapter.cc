#include "twilio_adapter.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "twilio_core.h"
#include "twilio_signature.h"
#include "twilio_twiml.h"

namespace switchboard::adapters::twilio {
namespace {

using http::beast_http::field;
using http::beast_http::status;
using router::ErrorCode;

constexpr std::size_t kMaxMedia = 10;  // Twilio's own bound on media per message

// The webhooks, under settings.path_prefix. Twilio is told these URLs in its console
// (incoming message, incoming call, call status) or by us (the rest, in TwiML and in
// the StatusCallback of each message we send).
struct WebhookRoute {
  const char* path;
  WebhookHandler handler;
};
constexpr WebhookRoute kRoutes[] = {
    {"/sms", on_incoming_message},
    {"/sms/status", on_message_status},
    {"/voice", on_incoming_call},
    {"/voice/status", on_call_status},
    {"/voice/dial", on_dial_ended},
    {"/voice/recording", on_recording},
    {"/voice/transcription", on_transcription},
    {"/voice/hangup", on_hangup},
};

http::Response plain(status code, std::string text) { return http::make_response(code, std::move(text) + "\n"); }

// Twilio's form, with the signature checked; the refusal otherwise (nothing is stored).
std::variant<Webhook, http::Response> authenticate(Core& core, const http::Request& req, const http::Peer& peer) {
  Webhook hook{std::string(req.target()), {}, peer.address};
  if (!std::string_view(req[field::content_type]).starts_with("application/x-www-form-urlencoded")) {
    ++core.counters.bad_requests;
    return plain(status::unsupported_media_type, "expected application/x-www-form-urlencoded");
  }
  const std::string_view given = req["X-Twilio-Signature"];
  if (given.empty()) {
    ++core.counters.unsigned_refused;
    spdlog::warn("twilio: refused an unsigned request to {} from {} (403)", hook.target, peer.address);
    return plain(status::forbidden, "X-Twilio-Signature required");
  }
  auto fields = http::parse_form(req.body());
  if (!fields) return bad_request(core, hook, "the body is not a valid form");
  hook.fields = std::move(*fields);
  const std::string url = core.settings.public_base_url + hook.target;
  if (!signature_valid(core.settings.auth_token, url, hook.fields, given)) {
    ++core.counters.forged_refused;
    spdlog::warn("twilio: refused a request to {} from {}: the signature does not match {} (403)", hook.target,
                 peer.address, url);
    return plain(status::forbidden, "X-Twilio-Signature does not match");
  }
  return hook;
}

std::vector<router::AttachmentRef> media_of(const Webhook& hook) {
  std::vector<router::AttachmentRef> media;
  const std::size_t count = std::min<std::size_t>(std::strtoul(hook.get("NumMedia").c_str(), nullptr, 10), kMaxMedia);
  for (std::size_t i = 0; i < count; ++i) {
    router::AttachmentRef ref;
    ref.url = hook.get("MediaUrl" + std::to_string(i));
    ref.content_type = hook.get("MediaContentType" + std::to_string(i));
    if (!ref.url.empty()) media.push_back(std::move(ref));
  }
  return media;
}

// What a message status callback says of our message; nothing for the steps before
// `sent` (accepted, queued, sending, scheduled), which the outbox does not track.
std::optional<router::DeliveryReceipt> receipt_of(const Webhook& hook) {
  const std::string& state = hook.get("MessageStatus").empty() ? hook.get("SmsStatus") : hook.get("MessageStatus");
  router::DeliveryReceipt receipt;
  receipt.channel = kSmsChannel;
  receipt.external_id = hook.get("MessageSid");
  if (state == "sent") {
    receipt.status = router::DeliveryStatus::kSent;
  } else if (state == "delivered") {
    receipt.status = router::DeliveryStatus::kDelivered;
  } else if (state == "read") {
    receipt.status = router::DeliveryStatus::kRead;
  } else if (state == "failed" || state == "undelivered" || state == "canceled") {
    receipt.status = router::DeliveryStatus::kFailed;
    const std::string& code = hook.get("ErrorCode");
    receipt.reason = "twilio " + state + (code.empty() ? "" : " (error " + code + ")");
  } else {
    return std::nullopt;
  }
  return receipt;
}

}  // namespace

const std::string& Webhook::get(std::string_view name) const {
  static const std::string kNone;
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return kNone;
}

http::Response twiml_response(std::string twiml) {
  return http::make_response(status::ok, std::move(twiml), "text/xml; charset=utf-8");
}

http::Response refusal(const router::Error& error) {
  switch (error.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kAborted:
      return plain(status::service_unavailable, "not stored, try again later: " + error.describe());
    default:
      return plain(status::bad_request, "refused: " + error.describe());
  }
}

http::Response bad_request(Core& core, const Webhook& hook, std::string_view why) {
  ++core.counters.bad_requests;
  spdlog::warn("twilio: a request to {} from {} refused (400): {}", hook.target, hook.peer, why);
  return plain(status::bad_request, std::string(why));
}

void on_incoming_message(std::shared_ptr<Core> core, Webhook hook, http::Respond respond) {
  router::InboundMessage m;
  m.channel = kSmsChannel;
  m.address = hook.get("From");
  m.external_id = hook.get("MessageSid");
  if (m.address.empty() || m.external_id.empty())
    return respond(bad_request(*core, hook, "From and MessageSid required"));
  m.text = hook.get("Body");
  m.attachments = media_of(hook);
  if (m.text.empty() && m.attachments.empty()) m.text = "(empty message)";
  m.queue = core->settings.queue;
  m.metadata["to"] = hook.get("To");
  m.metadata["message_sid"] = m.external_id;
  for (const char* where : {"FromCity", "FromState", "FromCountry"}) {
    if (!hook.get(where).empty()) m.metadata[where] = hook.get(where);
  }
  // Twilio retries a webhook that fails: the answer waits for the store.
  core->host.ingest(std::move(m), [core, respond](router::Result<router::IngestResult> stored) {
    if (!stored) return respond(refusal(stored.error()));
    ++core->counters.sms_in;
    respond(twiml_response(empty_twiml()));
  });
}

void on_message_status(std::shared_ptr<Core> core, Webhook hook, http::Respond respond) {
  if (hook.get("MessageSid").empty()) return respond(bad_request(*core, hook, "MessageSid required"));
  auto receipt = receipt_of(hook);
  if (!receipt) return respond(twiml_response(empty_twiml()));
  core->host.report_receipt(std::move(*receipt), [core, respond, sid = hook.get("MessageSid")](router::Status s) {
    // An id we never sent is not Twilio's to fix: answered 2xx so it stops asking.
    if (!s && s.error().code != ErrorCode::kNotFound) return respond(refusal(s.error()));
    if (!s) spdlog::info("twilio: a status callback for {}, which is not ours: {}", sid, s.error().describe());
    ++core->counters.receipts;
    respond(twiml_response(empty_twiml()));
  });
}

TwilioAdapter::TwilioAdapter(TwilioSettings settings, router::AdapterHost& host)
    : core_(std::make_shared<Core>(std::move(settings), host)) {}

TwilioAdapter::~TwilioAdapter() { stop(); }

std::vector<router::ChannelCapabilities> TwilioAdapter::capabilities() const {
  router::ChannelCapabilities sms;
  sms.channel = kSmsChannel;
  sms.max_text_length = 1600;  // Twilio refuses longer bodies (error 21617)
  return {sms};
}

router::Status TwilioAdapter::start() {
  const auto& s = core_->settings;
  http::HttpServerOptions options;
  options.listen = s.listen;
  options.threads = s.io_threads;
  options.max_connections = s.max_connections;
  options.max_body_bytes = s.max_body_bytes;
  options.request_timeout = s.request_timeout;
  options.handler_timeout = s.handler_timeout;
  options.server_name = "switchboard-twilio";
  server_ = std::make_unique<http::HttpServer>(options);
  std::weak_ptr<Core> weak = core_;
  for (const auto& route : kRoutes) {
    server_->route(http::Verb::post, s.path_prefix + route.path,
                   [weak, handler = route.handler](http::Request req, const http::Peer& peer, http::Respond respond) {
                     auto core = weak.lock();
                     if (!core || core->stopped) return respond(plain(status::service_unavailable, "stopping"));
                     auto hook = authenticate(*core, req, peer);
                     if (auto* refused = std::get_if<http::Response>(&hook)) return respond(std::move(*refused));
                     handler(core, std::get<Webhook>(std::move(hook)), std::move(respond));
                   });
  }
  if (auto started = server_->start(); !started) return started.error();
  spdlog::info("twilio: webhooks on {} as {}{}", server_->local_address(), s.public_base_url, s.path_prefix);
  return router::ok_status();
}

void TwilioAdapter::stop() {
  if (core_->stopped.exchange(true)) return;
  if (server_) server_->stop();
  core_->workers.join();
}

void TwilioAdapter::deliver(router::OutboundDelivery delivery) {
  boost::asio::post(core_->workers, [core = core_, delivery = std::move(delivery)]() mutable {
    send_message(*core, std::move(delivery));
  });
}

uint16_t TwilioAdapter::local_port() const { return server_ ? server_->local_port() : 0; }

TwilioCounters TwilioAdapter::counters() const {
  const auto& c = core_->counters;
  return {c.unsigned_refused, c.forged_refused, c.bad_requests, c.sms_in,       c.sms_sent,  c.sms_failed,
          c.sms_retried,      c.receipts,       c.calls,        c.call_updates, c.voicemails};
}

http::HttpCounters TwilioAdapter::http_counters() const { return server_ ? server_->counters() : http::HttpCounters{}; }

namespace {

class TwilioAdapterFactory final : public router::AdapterFactory {
 public:
  std::string name() const override { return "twilio"; }
  router::Result<std::unique_ptr<router::Adapter>> create(const std::string& settings_json,
                                                          router::AdapterHost& host) override {
    auto settings = parse_settings(settings_json);
    if (!settings) return settings.error();
    return std::unique_ptr<router::Adapter>(std::make_unique<TwilioAdapter>(std::move(settings.value()), host));
  }
};

}  // namespace

std::unique_ptr<router::AdapterFactory> make_factory() { return std::make_unique<TwilioAdapterFactory>(); }

}  // namespace switchboard::adapters::twilio
