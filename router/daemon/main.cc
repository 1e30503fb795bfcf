// switchboardd: the Switchboard server. Reads flags and config, runs the Router on a
// pool of threads, serves the gRPC API, and drains on SIGTERM/SIGINT.
//
// Threads: the Router's io_context runs on `worker_threads` threads (it also pulls
// events for Subscribe streams); gRPC runs its own; the main thread only waits for a
// signal and then shuts down in order: gRPC first (its calls still need the router),
// then the router, then the pool.

#include <absl/synchronization/mutex.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <array>
#include <cstdlib>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <switchboard/router/router.h>
#include <switchboard/router/store.h>
#include <switchboard/router/thread_name.h>

#include "adapters.h"
#include "auth.h"
#include "config.h"
#include "metrics_http.h"
#include "server.h"
#include "store_uri.h"

namespace sd = switchboard::daemon;
namespace sr = switchboard::router;

namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(5);
constexpr int kUsageError = 2;

constexpr char kUsage[] = R"(usage: switchboardd [--grpc-listen HOST:PORT] [--store URI] [--config FILE]
                    [--metrics-listen HOST:PORT]

  --grpc-listen HOST:PORT  where the gRPC API listens (default 127.0.0.1:7400); port 0 picks a
                           free port. The first line on stdout is "listening on HOST:PORT".
  --store URI              sqlite:PATH[?synchronous=full|normal] (default sqlite:switchboard.db),
                           postgresql://... (any number of switchboardd share one; give
                           each its own node_id in the config) or
                           memory: (lost on exit).
  --config FILE            a switchboard.v1.ServerConfig (proto/switchboard/v1/config.proto)
                           as .json, .yaml or .yml. Flags override it.
  --metrics-listen HOST:PORT
                           serve Prometheus text on GET /metrics there (plain HTTP, no
                           key: keep it on 127.0.0.1 or a scrape network). Off by
                           default. Port 0 picks a free port; the second line on stdout
                           is then "metrics on HOST:PORT".
  --help                   this text.

environment:
  SWITCHBOARD_ADMIN_KEY    an API key with the admin role, in addition to the config's keys.
)";

struct Flags {
  std::optional<std::string> grpc_listen;
  std::optional<std::string> store;
  std::optional<std::string> config;
  std::optional<std::string> metrics_listen;
  bool help = false;
};

// Accepts "--flag value" and "--flag=value".
sr::Result<Flags> parse_flags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
      continue;
    }
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    }
    std::optional<std::string>* target = arg == "--grpc-listen"      ? &flags.grpc_listen
                                         : arg == "--store"          ? &flags.store
                                         : arg == "--config"         ? &flags.config
                                         : arg == "--metrics-listen" ? &flags.metrics_listen
                                                                     : nullptr;
    if (target == nullptr) return sr::invalid_argument(arg, "unknown flag (see --help)");
    if (!value) return sr::invalid_argument(arg, "needs a value");
    *target = std::move(value);
  }
  return flags;
}

// The config file, if any, with the flags applied on top, validated.
sr::Result<sd::v1::ServerConfig> effective_config(const Flags& flags) {
  sd::v1::ServerConfig config;
  if (flags.config) {
    auto loaded = sd::load_config(*flags.config);
    if (!loaded.ok()) return loaded.error();
    config = std::move(loaded.value());
  }
  if (flags.grpc_listen) config.set_grpc_listen(*flags.grpc_listen);
  if (flags.store) config.set_store(*flags.store);
  if (flags.metrics_listen) config.set_metrics_listen(*flags.metrics_listen);
  if (config.grpc_listen().empty()) config.set_grpc_listen(sd::kDefaultListen);
  if (config.store().empty()) config.set_store(sd::kDefaultStore);
  if (auto status = sd::validate(config); !status.ok()) return status.error();
  return config;
}

std::vector<sd::ApiKeyEntry> all_keys(const sd::v1::ServerConfig& config) {
  auto keys = sd::api_keys(config);
  if (const char* admin = std::getenv("SWITCHBOARD_ADMIN_KEY"); admin != nullptr && *admin != '\0') {
    keys.push_back({"admin", sd::Role::kAdmin, sd::sha256_hex(admin), ""});
  }
  if (keys.empty()) {
    spdlog::warn(
        "no API keys configured: every call will be refused (UNAUTHENTICATED); "
        "set SWITCHBOARD_ADMIN_KEY or api_keys in the config");
  }
  return keys;
}

// Runs one router call to its answer. Only before serving, on the main thread: the
// request path never waits like this.
template <typename T, typename Start>
sr::Status await(Start start) {
  std::promise<sr::Status> done;
  start([&done](sr::Result<T> result) { done.set_value(result.ok() ? sr::ok_status() : sr::Status(result.error())); });
  return done.get_future().get();
}

// The config's queues, each only when new or changed in the config since it was last
// applied: what the API changed since stays (docs/routing.md, "Queues").
sr::Status apply_configured_queues(sr::Router& router, const sd::v1::ServerConfig& config) {
  std::promise<std::vector<sr::Queue>> listed;
  router.list_queues([&listed](sr::Result<std::vector<sr::Queue>> queues) {
    listed.set_value(queues.ok() ? std::move(queues).value() : std::vector<sr::Queue>{});
  });
  std::map<std::string, std::string> applied;  // name -> config digest
  for (const auto& queue : listed.get_future().get()) applied[queue.name] = queue.config_digest;
  for (auto& queue : sd::queues(config)) {
    if (auto it = applied.find(queue.name); it != applied.end() && it->second == queue.config_digest) continue;
    auto status = await<sr::Queue>([&](auto done) { router.upsert_queue(std::move(queue), std::move(done)); });
    if (!status.ok()) return status;
  }
  return sr::ok_status();
}

// Creates the configured adapters, loads what the store kept, creates the configured
// queues, then starts the adapters (which hands them what is pending).
sr::Status prepare(sr::Router& router, const sd::v1::ServerConfig& config) {
  auto registry = sd::builtin_adapters();
  if (auto status = sd::add_configured_adapters(config, registry, router); !status.ok()) return status;
  if (auto status = await<sr::Done>([&](auto done) { router.recover(std::move(done)); }); !status.ok()) {
    return status;
  }
  if (auto status = apply_configured_queues(router, config); !status.ok()) return status;
  return router.start_adapters();
}

std::string node_id(const sd::v1::ServerConfig& config) {
  if (!config.node_id().empty()) return config.node_id();
  std::array<char, 256> host{};
  return ::gethostname(host.data(), host.size() - 1) == 0 ? std::string(host.data()) : std::string("switchboardd");
}

unsigned worker_count(const sd::v1::ServerConfig& config) {
  if (config.worker_threads() != 0) return config.worker_threads();
  return std::max(1u, std::thread::hardware_concurrency());
}

// Catches SIGTERM and SIGINT from construction on, so that a signal that comes early
// still ends in an orderly shutdown.
class ShutdownSignal {
 public:
  ShutdownSignal() : signals_(io_, SIGTERM, SIGINT) {
    signals_.async_wait([](const boost::system::error_code& error, int signal) {
      if (!error) spdlog::info("signal {}: shutting down", signal);
    });
  }
  void wait() { io_.run(); }

 private:
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
};

// Passes the router's health to grpc.health.v1 and the log, once the server exists.
class HealthLink {
 public:
  void set(bool healthy) {
    std::lock_guard lock(mutex_);
    healthy_ = healthy;
    if (healthy) {
      spdlog::info("store recovered: accepting requests again");
    } else {
      spdlog::error("a commit failed: nothing is acknowledged until the store recovers");
    }
    if (server_) server_->set_serving(healthy);
  }
  void attach(sd::Server& server) {
    std::lock_guard lock(mutex_);
    server_ = &server;
    server_->set_serving(healthy_);
  }
  // Before the server goes: the store may still report while it drains.
  void detach() {
    std::lock_guard lock(mutex_);
    server_ = nullptr;
  }

 private:
  std::mutex mutex_;
  sd::Server* server_ = nullptr;
  bool healthy_ = true;
};

int serve(const sd::v1::ServerConfig& config) {
  ShutdownSignal shutdown;
  const sd::Authenticator auth(all_keys(config));
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < worker_count(config); ++i)
    workers.emplace_back([&io] {
      switchboard::router::name_this_thread("sb-router");
      io.run();
    });
  auto stop_workers = [&] {
    work.reset();
    io.stop();
    for (auto& worker : workers) worker.join();
  };

  auto store = sd::open_store(config.store(), node_id(config));
  if (!store) {
    spdlog::error("store {}: {}", config.store(), store.error().describe());
    stop_workers();
    return kUsageError;
  }
  // The router reports store trouble before the server exists; the link carries it.
  auto health = std::make_shared<HealthLink>();
  sr::RouterOptions options = sd::router_options(config);
  options.on_health_change = [health](bool healthy) { health->set(healthy); };
  sr::Router router(io, std::move(store.value()), std::move(options));
  if (auto status = prepare(router, config); !status.ok()) {
    spdlog::error("start-up: {}", status.error().describe());
    router.stop();
    stop_workers();
    return kUsageError;
  }

  sd::ServerSettings settings;
  settings.listen = config.grpc_listen();
  settings.tls_cert_file = config.tls().cert_file();
  settings.tls_key_file = config.tls().key_file();
  if (config.limits().max_grpc_message_bytes() != 0) {
    settings.max_receive_message_bytes = static_cast<int>(config.limits().max_grpc_message_bytes());
  }
  if (config.limits().adapter_max_in_flight() != 0) {
    settings.adapter_streams.max_in_flight = config.limits().adapter_max_in_flight();
  }
  if (config.limits().adapter_max_unacked() != 0) {
    settings.adapter_streams.max_unacked = config.limits().adapter_max_unacked();
  }
  if (!config.default_phone_region().empty()) settings.default_phone_region = config.default_phone_region();
  auto server = sd::Server::start(settings, router, auth, io);
  if (!server.ok()) {
    spdlog::error("{}", server.error().describe());
    router.stop();
    stop_workers();
    return EXIT_FAILURE;
  }
  health->attach(*server.value());
  std::cout << "listening on " << server.value()->address() << std::endl;  // endl: tests read it at once
  std::unique_ptr<sd::MetricsEndpoint> metrics;
  if (!config.metrics_listen().empty()) {
    auto endpoint = sd::MetricsEndpoint::start(io, config.metrics_listen(), router);
    if (!endpoint.ok()) {
      spdlog::error("{}", endpoint.error().describe());
      server.value()->shutdown(kShutdownGrace);
      health->detach();
      router.stop();
      stop_workers();
      return kUsageError;
    }
    metrics = std::move(endpoint.value());
    std::cout << "metrics on " << metrics->address() << std::endl;
  }
  spdlog::info("serving switchboard.v1 on {} ({}), store {}", server.value()->address(),
               settings.tls_cert_file.empty() ? "plaintext" : "TLS", config.store());

  shutdown.wait();
  if (metrics) metrics->stop();
  server.value()->shutdown(kShutdownGrace);
  health->detach();
  router.stop();
  stop_workers();
  spdlog::info("stopped");
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which turns on absl::Mutex deadlock detection:
  // every lock and destruction of a gRPC mutex then updates one process-wide graph under
  // a global lock, about 3 % of the server's CPU in Ingest (BENCHMARKS.md, issue 10).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  spdlog::set_default_logger(spdlog::stderr_color_mt("switchboardd"));
  auto flags = parse_flags(argc, argv);
  if (!flags.ok()) {
    std::cerr << "switchboardd: " << flags.error().describe() << "\n" << kUsage;
    return kUsageError;
  }
  if (flags->help) {
    std::cout << kUsage;
    return EXIT_SUCCESS;
  }
  auto config = effective_config(flags.value());
  if (!config.ok()) {
    spdlog::error("{}", config.error().describe());
    return kUsageError;
  }
  return serve(config.value());
}
