#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace switchboard::router {

// Every bound on untrusted input and on the router's own buffers, in one place.
// switchboardd fills it from the config's `limits` (config.proto); zero there keeps
// these defaults.
struct Limits {
  std::size_t max_text_bytes = 64 * 1024;
  std::size_t max_address_bytes = 320;  // RFC 5321 path length, the longest address we know
  std::size_t max_channel_bytes = 64;
  std::size_t max_external_id_bytes = 256;
  std::size_t max_display_name_bytes = 256;
  std::size_t max_metadata_entries = 64;
  std::size_t max_attribute_entries = 128;
  std::size_t max_attribute_bytes = 4096;
  std::size_t max_labels = 64;
  std::size_t max_label_bytes = 64;
  std::size_t max_reason_bytes = 1024;
  std::size_t max_identities_per_contact = 100;
  std::size_t max_request_id_bytes = 128;
  std::size_t max_page_size = 500;
  std::size_t max_context_events = 1000;
  std::size_t subscriber_buffer = 10000;
  // How many (channel, external_id) and request_id answers are remembered for
  // dropping redeliveries; the oldest are forgotten first.
  std::size_t dedupe_entries = 1'000'000;
  // Calls kept on a conversation's record for updates and repeats (the oldest go first).
  std::size_t max_calls_per_conversation = 32;
  std::size_t max_call_id_bytes = 256;
  std::chrono::seconds reopen_window = std::chrono::hours(24 * 7);
  // Outbound delivery: attempts before giving up, and the backoff between them
  // (doubling from the first delay up to the cap).
  uint32_t max_delivery_attempts = 8;
  std::chrono::milliseconds first_retry_delay{1000};
  std::chrono::milliseconds max_retry_delay{300'000};
};

}  // namespace switchboard::router
