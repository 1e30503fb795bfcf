#pragma once

// The load generator's flags; `switchboard_loadgen --help` prints them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace switchboard::loadgen {

enum class Loop {
  kClosed,  // each in-flight slot sends its next call when the previous one answers
  kOpen,    // calls leave on a fixed schedule, whether or not earlier ones answered
};

// What carries the subscribers' streams (subscribers.h).
enum class SubscriberClient {
  kGrpc,   // gRPC's C++ client
  kHttp2,  // nghttp2: the same frames, read for a fraction of the CPU
};

constexpr const char* subscriber_client_name(SubscriberClient client) {
  return client == SubscriberClient::kHttp2 ? "http2" : "grpc";
}

struct Options {
  std::string target;
  std::string key;  // Bearer key; --key, else $SWITCHBOARD_ADMIN_KEY
  Loop loop = Loop::kClosed;
  double rate = 0;  // calls/s, open loop only
  unsigned concurrency = 16;
  unsigned channels = 4;
  std::chrono::duration<double> warmup{1.0};
  std::chrono::duration<double> duration{10.0};
  std::optional<uint64_t> requests;  // stop after this many calls instead of after `duration`
  unsigned customers = 1000;
  bool link_identities = true;
  unsigned subscribers = 0;
  SubscriberClient subscriber_client = SubscriberClient::kGrpc;
  unsigned text_bytes = 64;
  std::string json_path;
  std::string label;
};

struct Help {};

// Options, Help for --help, or an error text for the user.
std::variant<Options, Help, std::string> parse_options(int argc, char** argv);

extern const char kUsage[];

}  // namespace switchboard::loadgen
