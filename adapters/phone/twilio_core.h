#pragma once

// Private to the Twilio adapter: what its webhook handlers (twilio_adapter.cc,
// twilio_voice.cc) and its outbound workers (twilio_outbound.cc) share. Handlers get a
// Webhook whose signature was already checked, and answer through Respond once the
// router has stored what it carried.

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/thread_pool.hpp>

#include <switchboard/router/adapter.h>

#include "common/http_client.h"
#include "common/http_server.h"
#include "twilio_adapter.h"
#include "twilio_settings.h"

namespace switchboard::adapters::twilio {

// One signed request from Twilio: its form parameters, in the order sent.
struct Webhook {
  std::string target;  // path and query, as received
  http::Fields fields;
  std::string peer;

  // The first value of `name`; empty when absent.
  const std::string& get(std::string_view name) const;
};

// Outbound ids this process has sent (or is sending), with Twilio's MessageSid, so a
// repeated deliver() never texts the customer twice. Bounded: the oldest are forgotten.
class SentMessages {
 public:
  explicit SentMessages(std::size_t max) : max_(max) {}
  // False when the id is already being sent or was sent; `sid` then holds Twilio's id
  // (empty while the first attempt is still in flight).
  bool begin(const std::string& outbound_id, std::string& sid);
  void sent(const std::string& outbound_id, const std::string& sid);
  void abandon(const std::string& outbound_id);  // the attempt failed: a later one may send

 private:
  std::mutex mutex_;
  std::size_t max_;
  std::unordered_map<std::string, std::string> sids_;  // "" while in flight
  std::deque<std::string> order_;
};

struct TwilioAdapter::Core {
  Core(TwilioSettings s, router::AdapterHost& h) : settings(std::move(s)), host(h), workers(settings.worker_threads) {}

  // The URL Twilio calls for one of our webhooks: public base, prefix, `path`.
  std::string public_url(std::string_view path) const {
    return settings.public_base_url + settings.path_prefix + std::string(path);
  }

  TwilioSettings settings;
  router::AdapterHost& host;
  boost::asio::thread_pool workers;
  SentMessages sent{100'000};
  std::atomic<bool> stopped{false};
  struct {
    std::atomic<uint64_t> unsigned_refused{0}, forged_refused{0}, bad_requests{0}, sms_in{0}, sms_sent{0},
        sms_failed{0}, sms_retried{0}, receipts{0}, calls{0}, call_updates{0}, voicemails{0};
  } counters;
};

using Core = TwilioAdapter::Core;
using WebhookHandler = void (*)(std::shared_ptr<Core> core, Webhook hook, http::Respond respond);

// Answers.
http::Response twiml_response(std::string twiml);
// 400 for what the router refused as wrong (Twilio shows it in its debugger), 503 for
// what may work later (Twilio's own retry, or a caller who hears an error and calls again).
http::Response refusal(const router::Error& error);
http::Response bad_request(Core& core, const Webhook& hook, std::string_view why);

// Messaging (twilio_adapter.cc): an incoming SMS, a message status callback.
void on_incoming_message(std::shared_ptr<Core> core, Webhook hook, http::Respond respond);
void on_message_status(std::shared_ptr<Core> core, Webhook hook, http::Respond respond);
// Voice (twilio_voice.cc): an incoming call, call status, the end of a <Dial>, a
// voicemail recording and its transcription, and the hang-up after a recording.
void on_incoming_call(std::shared_ptr<Core> core, Webhook hook, http::Respond respond);
void on_call_status(std::shared_ptr<Core> core, Webhook hook, http::Respond respond);
void on_dial_ended(std::shared_ptr<Core> core, Webhook hook, http::Respond respond);
void on_recording(std::shared_ptr<Core> core, Webhook hook, http::Respond respond);
void on_transcription(std::shared_ptr<Core> core, Webhook hook, http::Respond respond);
void on_hangup(std::shared_ptr<Core> core, Webhook hook, http::Respond respond);
// On a worker: one outbound SMS through the Messages API (twilio_outbound.cc).
void send_message(Core& core, router::OutboundDelivery delivery);

}  // namespace switchboard::adapters::twilio
