#pragma once

// Calls to a provider's REST API (Twilio's Messages, Meta's Graph API, Telegram's Bot
// API) with libcurl, for the adapters that deliver through them, and what the outbox
// makes of the answer.
//
// send_request blocks for up to `timeout` (network): call it from the adapter's own
// worker (a boost::asio::thread_pool, say), never from an io or router thread.
// Thread-safe: each call has its own curl handle.
//
// Bounded: the time a call may take, and the bytes of the answer kept (the rest is
// dropped and the call fails, so a runaway answer cannot fill memory).

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::adapters::http {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct ClientRequest {
  std::string method = "POST";
  std::string url;
  Fields headers;  // e.g. {"Authorization", "Bearer <token>"}
  std::string body;
  std::string content_type = "application/json";  // ignored without a body
  // HTTP basic authentication (Twilio's account SID and auth token); empty: none.
  std::string username;
  std::string password;
  std::string ca_file;  // empty: the system's CA bundle
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_response_bytes = 1 << 20;
};

struct ClientResponse {
  long status = 0;    // the HTTP status; 0 when no answer came (see `error`)
  std::string body;   // up to max_response_bytes
  std::string error;  // why there is no usable answer (connection refused, timeout, too large)
};

ClientResponse send_request(const ClientRequest& request);

// What an outbound delivery makes of an answer: sent on 2xx; worth another attempt
// without an answer, on 408, 429 and 5xx; failed for good on any other status.
enum class DeliveryOutcome { kSent, kRetry, kFailed };
DeliveryOutcome classify(const ClientResponse& response);

// application/x-www-form-urlencoded, both ways. parse_form keeps the given order and
// answers nothing for a malformed body (a bad percent escape).
std::string form_encode(const Fields& fields);
std::optional<Fields> parse_form(std::string_view body);

}  // namespace switchboard::adapters::http
