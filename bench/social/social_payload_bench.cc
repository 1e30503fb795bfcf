// The social adapter's own work per webhook, without the network or the router: the
// signature check and the parse of one signed WhatsApp body into InboundMessages.
//
//   build/bench/social/social_payload_bench [iterations=200000] [batch=1]
//
// Prints nanoseconds per body for the one-shot hmac_sha256, the prepared
// HmacSha256Key, and parse_meta_webhook. Single thread. Not part of ctest.

#include <chrono>
#include <cstdio>
#include <string>

#include "common/hmac.h"
#include "social/webhook_payload.h"
#include "whatsapp_body.h"

namespace {

namespace social = switchboard::adapters::social;
using switchboard::adapters::hmac_sha256;
using switchboard::adapters::HmacSha256Key;

// The body social_webhook_bench posts: `batch` text messages from different customers.
std::string whatsapp_body(int batch) {
  return switchboard::bench::whatsapp_body(0, batch, static_cast<uint64_t>(batch));
}

template <typename F>
double ns_per_call(int iterations, F f) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) f();
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::stoi(argv[1]) : 200'000;
  const int batch = argc > 2 ? std::stoi(argv[2]) : 1;
  const std::string body = whatsapp_body(batch);
  const std::string secret = "bench-app-secret";
  social::PayloadOptions options;
  options.max_items = static_cast<std::size_t>(batch);

  std::size_t sink = 0;  // keeps the optimiser from dropping the work
  const double one_shot = ns_per_call(iterations, [&] { sink += hmac_sha256(secret, body)[0]; });
  const HmacSha256Key key(secret);
  const double prepared = ns_per_call(iterations, [&] { sink += key.mac(body)[0]; });
  const double parse = ns_per_call(iterations, [&] { sink += parse_meta_webhook(body, options)->size(); });
  std::printf("body %zu bytes, %d messages; ns per body: hmac_sha256 %.0f, HmacSha256Key %.0f, parse %.0f (%zu)\n",
              body.size(), batch, one_shot, prepared, parse, sink % 2);
  return 0;
}
