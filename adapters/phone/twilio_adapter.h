#pragma once

// Twilio-compatible voice and SMS (DESIGN.md "Adapters", docs/twilio.md): the
// webhooks Twilio calls for incoming messages, message status, incoming calls, call
// status, recordings and transcriptions, every one checked against X-Twilio-Signature;
// and outbound SMS through Twilio's Messages REST API at a configurable base URL.
//
// Acknowledged means durable: a webhook is answered 2xx (and TwiML) only once the
// router has stored what it carried; a repeat of a MessageSid, CallSid state,
// RecordingSid or TranscriptionSid adds nothing and is answered the same way.
//
// Threading: the webhook server runs `io_threads` of its own; handlers only parse,
// check the signature and hand the request to the router, and answer from the
// router's callback. Outbound messages go to `worker_threads` of the adapter's own,
// where the blocking API call happens; deliver() only posts there.

#include <atomic>
#include <cstdint>
#include <memory>

#include <switchboard/router/adapter.h>

#include "common/http_server.h"
#include "twilio_settings.h"

namespace switchboard::adapters::twilio {

inline constexpr char kSmsChannel[] = "sms";
inline constexpr char kVoiceChannel[] = "phone";

// What the adapter took in, sent and refused (every refusal is also logged).
struct TwilioCounters {
  uint64_t unsigned_refused = 0;  // no X-Twilio-Signature: 403
  uint64_t forged_refused = 0;    // a signature that does not match: 403
  uint64_t bad_requests = 0;      // not a form, a required parameter missing: 400
  uint64_t sms_in = 0;            // stored inbound messages (repeats included)
  uint64_t sms_sent = 0;          // accepted by Twilio's API
  uint64_t sms_failed = 0;        // refused by Twilio's API (4xx)
  uint64_t sms_retried = 0;       // no answer, 429 or 5xx: the outbox tries again
  uint64_t receipts = 0;          // message status callbacks stored
  uint64_t calls = 0;             // incoming-call webhooks answered with TwiML
  uint64_t call_updates = 0;      // call status callbacks stored
  uint64_t voicemails = 0;        // recordings and transcriptions stored
};

// The factory switchboardd registers under the name "twilio".
std::unique_ptr<router::AdapterFactory> make_factory();

class TwilioAdapter final : public router::Adapter {
 public:
  TwilioAdapter(TwilioSettings settings, router::AdapterHost& host);
  ~TwilioAdapter() override;

  std::vector<router::ChannelCapabilities> capabilities() const override;
  router::Status start() override;
  void stop() override;
  void deliver(router::OutboundDelivery delivery) override;

  // After start(): the port the webhooks listen on.
  uint16_t local_port() const;
  TwilioCounters counters() const;
  http::HttpCounters http_counters() const;

  struct Core;  // shared with the webhook handlers and the workers (twilio_core.h)

 private:
  std::shared_ptr<Core> core_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace switchboard::adapters::twilio
