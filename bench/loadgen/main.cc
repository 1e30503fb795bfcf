// switchboard_loadgen: an end-to-end load generator for switchboardd (issue 10).
// `switchboard_loadgen --help` lists the flags; bench/loadgen/run.sh runs it against
// the baselines and the real server and prints the ratios; BENCHMARKS.md has figures.
//
// A run: connect --channels gRPC channels; create the customers and link their chat,
// email and phone identities (unless --no-link); attach the subscribers and check
// that each receives a probe message; then send Ingest calls (warm-up, measured
// window) and report.

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>

#include "customers.h"
#include "grpc_call.h"
#include "ingest_load.h"
#include "options.h"
#include "report.h"
#include "subscribers.h"
#include "switchboard/v1/ingest.grpc.pb.h"

namespace sl = switchboard::loadgen;
namespace v1 = switchboard::v1;

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kSubscriberTimeout = std::chrono::seconds(30);

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "switchboard_loadgen: " << what << "\n";
  std::exit(EXIT_FAILURE);
}

// Separate connections: without their own subchannel pool, channels to one address
// would share one TCP connection, and --channels would mean nothing.
std::vector<std::shared_ptr<grpc::Channel>> connect(const sl::Options& options) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (unsigned i = 0; i < options.channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout)) {
      fail("cannot connect to " + options.target);
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

// Addresses and external ids of this run differ from any earlier run's. Phone numbers
// start at the clock's milliseconds: two runs on one server collide only if they start
// less than `customers` ms apart, which their set-up alone outlasts.
uint64_t now_ms() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void ingest_probe(const std::shared_ptr<grpc::Channel>& channel, const std::string& key,
                  const std::string& external_id) {
  v1::IngestRequest request;
  request.mutable_message()->set_channel("chat");
  request.mutable_message()->set_address(external_id);
  request.mutable_message()->set_external_id(external_id);
  request.mutable_message()->set_text("probe: are the subscribers there?");
  grpc::ClientContext context;
  sl::add_key(context, key);
  v1::IngestResponse answer;
  if (auto status = v1::IngestService::NewStub(channel)->Ingest(&context, request, &answer); !status.ok()) {
    fail("probe Ingest: " + status.error_message());
  }
}

int run(const sl::Options& options) {
  const auto channels = connect(options);
  const uint64_t started = now_ms();
  const std::string run = std::to_string(started % 100'000'000) + "p" + std::to_string(getpid());
  const sl::Customers customers(options.customers, run, started, options.text_bytes);
  uint64_t setup_ingests = 0;
  if (options.link_identities) {
    auto setup = customers.create_and_link(channels, options.key, std::max(options.concurrency, 4u));
    if (!setup.error.empty()) fail("creating customers: " + setup.error);
    setup_ingests = setup.ingested;
  }

  std::optional<sl::Subscribers> subscribers;
  if (options.subscribers > 0) {
    try {
      subscribers.emplace(options.subscriber_client, channels, options.target, options.key, options.subscribers);
    } catch (const std::exception& e) {
      fail(std::string("subscribers: ") + e.what());
    }
    const std::string probe = "lg-" + run + "-probe-";
    const auto probes = subscribers->attach(
        probe, [&](unsigned n) { ingest_probe(channels.front(), options.key, probe + std::to_string(n)); },
        kSubscriberTimeout);
    if (!probes) fail("not every subscriber attached within " + std::to_string(kSubscriberTimeout.count()) + " s");
    setup_ingests += *probes;
  }

  sl::LoadResult load;
  const double cpu_before = cpu_seconds();
  sl::run_ingest_load(options, customers, channels, load);

  sl::Report report{
      .options = options, .setup_ingests = setup_ingests, .load = load, .client_cpu_s = cpu_seconds() - cpu_before};
  if (subscribers) {
    // Every stream gets one message event per call answered OK.
    subscribers->finish(load.ok, kSubscriberTimeout);
    report.events = sl::EventLatency{.subscribers = options.subscribers,
                                     .arrivals = subscribers->arrivals(),
                                     .latency = &subscribers->latency(),
                                     .ended_early = subscribers->ended_early()};
  }
  sl::print_text(report, std::cout);
  if (!options.json_path.empty()) {
    std::ofstream json(options.json_path);
    sl::write_json(report, json);
    if (!json.flush()) fail("cannot write " + options.json_path);
  }
  return load.ok == load.sent ? EXIT_SUCCESS : EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv) {
  // The client shares the machine with the server: no absl::Mutex deadlock detection
  // in gRPC (Debian builds Abseil with it on), as in switchboardd.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto parsed = sl::parse_options(argc, argv);
  if (std::holds_alternative<sl::Help>(parsed)) {
    std::cout << sl::kUsage;
    return EXIT_SUCCESS;
  }
  if (auto* error = std::get_if<std::string>(&parsed)) {
    std::cerr << "switchboard_loadgen: " << *error << "\n";
    return 2;
  }
  return run(std::get<sl::Options>(parsed));
}
