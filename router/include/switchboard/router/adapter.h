#pragma once

// The extension point for channels (DESIGN.md "Adapters", STYLE.md "Extension
// points"): a small Adapter interface, a factory registered by name, a registry that
// refuses duplicates. switchboardd registers the built-in factories explicitly.
//
// Threading: the router calls start(), stop() and deliver() from its own threads;
// none of them may block (no disk, no network waits): start sockets, post work to
// your own executor, return. has_live_session() is called on the router's executor
// and must answer from memory. An adapter calls its AdapterHost from any thread; the
// host's callbacks run on router or store threads and must not block either.
//
// Ownership: Router::add_adapter() takes the adapter at start-up and calls stop()
// once before destroying it. Router::attach_adapter() takes one at run time (an
// out-of-process adapter, adapters/remote/) and never starts or stops it.
//
// Redelivery: deliver() may hand over an outbound_id again (after a restart, a retry,
// a reconnect); drop the repeat and report its outcome again. A guide with a worked
// example: docs/adapters.md and examples/folder_channel/.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <switchboard/router/error.h>
#include <switchboard/router/model.h>

namespace switchboard::router {

struct OutboundDelivery {
  std::string outbound_id;  // stable across retries: an adapter drops repeats by it
  std::string conversation_id;
  uint64_t seq = 0;
  std::string channel;
  std::string address;
  std::string text;
  std::vector<AttachmentRef> attachments;
};

// An incoming phone call, as a SIP front or a voice provider's webhook sees it.
struct InboundCall {
  std::string channel = "phone";
  std::string address;  // the caller's number; normalised to E.164 like any phone identity
  std::string call_id;  // SIP Call-ID or provider CallSid: a repeat is a duplicate
  std::string display_name;
  bool verified = false;  // the number is vouched for (P-Asserted-Identity from a trusted peer)
  std::string queue;      // empty: the queue rules, else the default queue
  std::map<std::string, std::string> metadata;
};

// Where the call goes: an agent (and the agent's sip_uri), or nobody and why.
struct CallRouting {
  IngestResult ingest;  // the conversation and the Ringing event; duplicate on a repeated call_id
  std::string agent_id;
  std::string agent_sip_uri;
  std::string reason;  // when agent_id is empty: "busy" (voice agents all busy) or "nobody-available"
};

// A transition of a known call.
struct CallUpdate {
  std::string channel = "phone";
  std::string call_id;
  CallState state = CallState::kInProgress;
  std::chrono::seconds duration{0};  // on Ended
  std::string reason;                // on Missed: busy, no-answer, canceled, failed
};

// What the router offers an adapter.
class AdapterHost {
 public:
  virtual ~AdapterHost() = default;
  // Hands a customer's message to the router. `done` runs once it is durable (tell
  // your upstream "accepted" only then) or with the error that refused it.
  virtual void ingest(InboundMessage message, std::function<void(Result<IngestResult>)> done) = 0;
  // sent, delivered, read or failed (with the channel's reason). `failed` is final.
  virtual void report_delivery(std::string outbound_id, DeliveryStatus status, std::string reason) = 0;
  // The attempt failed but may work later (timeout, 5xx, connection refused): the
  // router delivers it again with exponential backoff, and marks it failed after
  // Limits::max_delivery_attempts.
  virtual void report_retryable_failure(std::string outbound_id, std::string reason) = 0;

  // Receipts from providers that name our messages by their own ids (Twilio's
  // MessageSid, Meta's mid / wamid): report `sent` with that id once the provider took
  // the message, and later receipts can name it by the id alone. `done` runs once the
  // change is durable (answer the provider's webhook then), or with the error: NOT_FOUND
  // for an id never reported. A receipt only moves a message forward (sent, delivered,
  // read; failed unless read): a late or repeated one is OK and changes nothing.
  virtual void report_sent(std::string outbound_id, std::string external_id, std::function<void(Status)> done) = 0;
  virtual void report_receipt(DeliveryReceipt receipt, std::function<void(Status)> done) = 0;
  // Watermark receipts (Messenger): every message of ours to (channel, address) sent at
  // or before `up_to` has reached `status` (delivered or read).
  virtual void report_receipts_up_to(std::string channel, std::string address, Timestamp up_to, DeliveryStatus status,
                                     std::function<void(Status)> done) = 0;

  // Records a Ringing CallEvent on the caller's one conversation (opening one if
  // needed), asks routing now for an agent with voice capacity (the conversation's
  // assignee first, when online with voice room) and answers once durable. Nobody: no
  // agent_id, `reason` says why, a Missed CallEvent is recorded and the conversation
  // waits in its queue for a call back. A repeated call_id adds nothing and answers
  // the first routing again (ingest.duplicate). INVALID_ARGUMENT names the field.
  virtual void route_call(InboundCall call, std::function<void(Result<CallRouting>)> done) = 0;
  // A known call moved on: Ringing -> InProgress <-> OnHold -> Ended, Ringing ->
  // Missed. Repeating the current state adds nothing (duplicate); an impossible step
  // is FAILED_PRECONDITION, an unknown call_id NOT_FOUND.
  virtual void update_call(CallUpdate update, std::function<void(Result<IngestResult>)> done) = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  // The channels it carries and what each can take.
  virtual std::vector<ChannelCapabilities> capabilities() const = 0;
  virtual Status start() = 0;
  // Stops accepting, finishes what is in flight. Called once.
  virtual void stop() = 0;
  // Sends one outbound message; reports the outcome with AdapterHost::report_delivery.
  virtual void deliver(OutboundDelivery delivery) = 0;
  // A synchronous channel can answer now only while the customer is there.
  virtual bool has_live_session(const std::string& /*channel*/, const std::string& /*address*/) const { return false; }
};

class AdapterFactory {
 public:
  virtual ~AdapterFactory() = default;
  virtual std::string name() const = 0;
  // `settings_json` is the adapter's part of the config; a bad one is INVALID_ARGUMENT.
  virtual Result<std::unique_ptr<Adapter>> create(const std::string& settings_json, AdapterHost& host) = 0;
};

// Factories by name. Not thread-safe: fill it at start-up, then only read.
class AdapterRegistry {
 public:
  // ALREADY_EXISTS when the name is taken.
  Status add(std::unique_ptr<AdapterFactory> factory);
  AdapterFactory* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, std::unique_ptr<AdapterFactory>> factories_;
};

}  // namespace switchboard::router
