#include "options.h"

#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <string_view>
#include <utility>

namespace switchboard::loadgen {

const char kUsage[] = R"(switchboard_loadgen: drives a running switchboardd with unary IngestService.Ingest
calls over gRPC and reports throughput and latency percentiles.

usage: switchboard_loadgen --target HOST:PORT [flags]

  --target HOST:PORT     the server (switchboardd, or switchboard_empty_ingest)
  --key KEY              Bearer key (role admin); default $SWITCHBOARD_ADMIN_KEY
  --loop closed|open     closed (default): each in-flight slot sends its next call as
                         soon as the previous one answers (flat out); open: calls leave
                         at --rate per second whatever the answers, at most
                         --concurrency in flight, latency counted from the scheduled
                         time (no coordinated omission)
  --rate N               calls per second (open loop; required there)
  --concurrency N        calls in flight at most (default 16)
  --channels N           gRPC channels (TCP connections) the calls spread over (default 4)
  --warmup SECONDS       calls before measuring starts (default 1)
  --duration SECONDS     measured time (default 10)
  --requests N           instead of a duration: send exactly N calls, all measured
                         (no warm-up)
  --customers N          customers (default 1000); each writes on chat, email and phone
                         in turn, so every message moves its conversation to another
                         channel (one message event and one ChannelSwitched event)
  --no-link              skip linking each customer's three identities first (for a
                         server that only has IngestService, e.g. switchboard_empty_ingest);
                         the message shapes stay the same
  --subscribers N        EventService.Subscribe streams attached during the run; reports
                         the time from an event's timestamp to its arrival at each
  --subscriber-client grpc|http2
                         what reads the subscribers' streams: gRPC's C++ client
                         (default), or a lean HTTP/2 client (nghttp2) whose own CPU
                         takes less from the cores the server shares
  --text-bytes N         message text length (default 64)
  --json FILE            also write the results as JSON to FILE
  --label NAME           a name for this run, copied into the JSON
  --help                 this text

Exit status: 0 when every call succeeded, 1 when some failed or the server could not
be reached, 2 for bad flags.
)";

namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// One flag that takes a value: how to store it, and what it must be.
using Setter = std::function<std::string(Options&, std::string_view)>;

template <typename T>
Setter positive(T Options::*field) {
  return [field](Options& o, std::string_view v) -> std::string {
    T value{};
    if (!parse_number(v, value) || !(value > T{0})) return "must be a positive number";
    o.*field = value;
    return {};
  };
}

Setter seconds(std::chrono::duration<double> Options::*field, bool zero_allowed) {
  return [=](Options& o, std::string_view v) -> std::string {
    double value = 0;
    if (!parse_number(v, value) || value < 0 || (!zero_allowed && value == 0)) return "must be a number of seconds";
    o.*field = std::chrono::duration<double>(value);
    return {};
  };
}

Setter text(std::string Options::*field) {
  return [field](Options& o, std::string_view v) -> std::string {
    if (v.empty()) return "must not be empty";
    o.*field = std::string(v);
    return {};
  };
}

// One of two names, each for its value: "must be A or B" otherwise.
template <typename T>
Setter either(T Options::*field, std::pair<std::string_view, T> a, std::pair<std::string_view, T> b) {
  return [=](Options& o, std::string_view v) -> std::string {
    if (v != a.first && v != b.first) return "must be " + std::string(a.first) + " or " + std::string(b.first);
    o.*field = v == a.first ? a.second : b.second;
    return {};
  };
}

const std::map<std::string_view, Setter>& setters() {
  static const std::map<std::string_view, Setter> table = {
      {"--target", text(&Options::target)},
      {"--key", text(&Options::key)},
      {"--loop", either(&Options::loop, {"closed", Loop::kClosed}, {"open", Loop::kOpen})},
      {"--rate", positive(&Options::rate)},
      {"--concurrency", positive(&Options::concurrency)},
      {"--channels", positive(&Options::channels)},
      {"--warmup", seconds(&Options::warmup, true)},
      {"--duration", seconds(&Options::duration, false)},
      {"--requests",
       [](Options& o, std::string_view v) -> std::string {
         uint64_t n = 0;
         if (!parse_number(v, n) || n == 0) return "must be a positive number";
         o.requests = n;
         return {};
       }},
      {"--customers", positive(&Options::customers)},
      {"--subscribers",
       [](Options& o, std::string_view v) -> std::string {
         return parse_number(v, o.subscribers) ? std::string() : "must be a number";
       }},
      {"--subscriber-client",
       either(&Options::subscriber_client, {subscriber_client_name(SubscriberClient::kGrpc), SubscriberClient::kGrpc},
              {subscriber_client_name(SubscriberClient::kHttp2), SubscriberClient::kHttp2})},
      {"--text-bytes", positive(&Options::text_bytes)},
      {"--json", text(&Options::json_path)},
      {"--label", text(&Options::label)},
  };
  return table;
}

// Rules between flags, checked once all are read.
std::string check(const Options& o) {
  if (o.target.empty()) return "--target HOST:PORT is required";
  if (o.loop == Loop::kOpen && o.rate <= 0) return "--loop open needs --rate";
  if (o.loop == Loop::kClosed && o.rate > 0) return "--rate applies to --loop open only";
  if (o.subscribers > 0 && !o.link_identities) return "--subscribers needs a switchboardd (not with --no-link)";
  return {};
}

}  // namespace

std::variant<Options, Help, std::string> parse_options(int argc, char** argv) {
  Options options;
  if (const char* key = std::getenv("SWITCHBOARD_ADMIN_KEY")) options.key = key;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") return Help{};
    if (flag == "--no-link") {
      options.link_identities = false;
      continue;
    }
    const auto setter = setters().find(flag);
    if (setter == setters().end()) return "unknown flag '" + std::string(flag) + "' (see --help)";
    if (i + 1 == argc) return std::string(flag) + " needs a value";
    if (auto error = setter->second(options, argv[++i]); !error.empty()) {
      return std::string(flag) + " '" + argv[i] + "': " + error;
    }
  }
  if (auto error = check(options); !error.empty()) return error;
  return options;
}

}  // namespace switchboard::loadgen
