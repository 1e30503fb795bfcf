#pragma once

// The Twilio adapter's settings: the `settings` object of its entry in switchboardd's
// `adapters` list (name "twilio"), documented field by field in docs/twilio.md.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <switchboard/router/error.h>

namespace switchboard::adapters::twilio {

struct TwilioSettings {
  // --- the webhooks -----------------------------------------------------------------
  std::string listen = "127.0.0.1:7490";  // port 0 picks a free port
  // Where Twilio reaches us, e.g. "https://support.example.com" (no trailing slash):
  // signatures cover the URL Twilio called, and callbacks we hand Twilio start with it.
  std::string public_base_url;
  std::string path_prefix = "/twilio";  // the webhooks live under it
  std::string queue;                    // SMS and calls go to this queue; empty: the router's rules
  uint64_t max_body_bytes = 64 * 1024;
  uint32_t max_connections = 1000;
  std::chrono::milliseconds request_timeout{10'000};  // to read one request
  std::chrono::milliseconds handler_timeout{10'000};  // for the router to answer (Twilio waits 15 s)
  uint32_t io_threads = 1;

  // --- the account and its REST API ---------------------------------------------------
  std::string account_sid;  // AC...; required
  std::string auth_token;   // signs webhooks and authenticates API calls; required
  std::string api_base_url = "https://api.twilio.com";
  std::string api_ca_file;  // PEM CA bundle; empty: the system's
  std::chrono::milliseconds api_timeout{10'000};
  uint64_t max_api_response_bytes = 64 * 1024;
  uint32_t worker_threads = 2;  // send messages; the API calls block
  // Our numbers (E.164). The first is the From of outbound SMS unless
  // messaging_service_sid is set.
  std::vector<std::string> numbers;
  std::string messaging_service_sid;  // MG...; Twilio picks the sender from the service

  // --- voice ----------------------------------------------------------------------------
  std::chrono::seconds dial_timeout{20};  // ringing an agent before "no-answer"
  std::string busy_message = "All of our agents are busy right now. Please leave a message after the tone.";
  // Said when a call cannot be put on a conversation (a withheld number, the store down).
  std::string unavailable_message = "Sorry, we cannot take your call right now. Please try again later.";
  std::string say_voice;  // <Say voice>; empty: Twilio's default
  std::string say_language;
  bool voicemail = true;
  bool transcribe = true;
  std::chrono::seconds max_recording{120};
};

// INVALID_ARGUMENT naming the field when the JSON is not what docs/twilio.md describes.
router::Result<TwilioSettings> parse_settings(const std::string& json);

}  // namespace switchboard::adapters::twilio
