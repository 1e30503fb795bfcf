// Webhook messages per second accepted durably by the social adapter: signed WhatsApp
// Cloud API webhooks over real HTTP (keep-alive connections), each answered 200 only
// after the router's store committed its messages.
//
//   build/bench/social/social_webhook_bench [store=memory|sqlite:PATH] [messages=100000]
//                                           [connections=32] [batch=1] [customers=10000]
//                                           [io_threads=1]
//
// The server (Router + social adapter) and the client share this process: the client
// is one thread of asynchronous keep-alive connections (Beast's parser for the
// answers), and its CPU is measured apart, so the figures say what the server used.
// `batch` messages go in one POST (Meta batches under load). Not part of ctest.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <optional>
#include <thread>

#include <switchboard/router/router.h>
#include <switchboard/router/sqlite_store.h>

#include "common/hmac.h"
#include "social/social_adapter.h"
#include "whatsapp_body.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace sr = switchboard::router;
namespace social = switchboard::adapters::social;
using switchboard::bench::whatsapp_body;

constexpr char kSecret[] = "bench-app-secret";

std::string signature(const std::string& body) {
  return "sha256=" + switchboard::adapters::to_hex(switchboard::adapters::hmac_sha256(kSecret, body));
}

template <typename T, typename Start>
sr::Result<T> await(Start start) {
  std::promise<sr::Result<T>> done;
  start([&done](sr::Result<T> r) { done.set_value(std::move(r)); });
  return done.get_future().get();
}

// CPU seconds, user + system, of the whole process or of the calling thread.
double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The load generator: one thread, `connections` keep-alive connections, each with one
// request in flight (as Meta sends: the next delivery after the answer). Requests are
// whole HTTP messages made before the clock starts, so the client only copies bytes
// to the socket and parses the short answers.
class Client {
 public:
  Client(asio::ip::tcp::endpoint server, std::vector<std::string> requests, int connections)
      : server_(server), requests_(std::move(requests)), latencies_(requests_.size()) {
    for (int c = 0; c < connections; ++c) connections_.push_back(std::make_unique<Connection>(io_));
  }

  // Runs until every request is answered; returns the CPU seconds this thread used.
  void run() {
    for (auto& c : connections_) {
      c->socket.connect(server_);
      c->socket.set_option(asio::ip::tcp::no_delay(true));
      send_next(*c);
    }
    io_.run();
    cpu_seconds_ = cpu_seconds(RUSAGE_THREAD);
  }

  uint64_t failures() const { return failures_; }
  double cpu_seconds_used() const { return cpu_seconds_; }
  // Microseconds from the first byte written to the whole answer read, quantile q.
  double latency_us(double q) {
    std::vector<uint32_t> sorted(latencies_.begin(), latencies_.begin() + static_cast<std::ptrdiff_t>(answered_));
    if (sorted.empty()) return 0;
    const auto at = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1));
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(at), sorted.end());
    return sorted[at];
  }

 private:
  struct Connection {
    explicit Connection(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    beast::flat_buffer buffer;
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    uint64_t request = 0;
    std::chrono::steady_clock::time_point sent;
  };

  void send_next(Connection& c) {
    if (next_ >= requests_.size()) return;  // this connection is done; the others finish theirs
    c.request = next_++;
    c.sent = std::chrono::steady_clock::now();
    asio::async_write(c.socket, asio::buffer(requests_[c.request]), [this, &c](beast::error_code ec, std::size_t) {
      if (ec) return fail(c, ec);
      c.parser.emplace();
      bhttp::async_read(c.socket, c.buffer, *c.parser, [this, &c](beast::error_code ec, std::size_t) {
        if (ec) return fail(c, ec);
        latencies_[c.request] = static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - c.sent).count());
        ++answered_;
        if (c.parser->get().result_int() != 200) ++failures_;
        send_next(c);
      });
    });
  }

  void fail(Connection& c, beast::error_code ec) {
    std::cerr << "request " << c.request << ": " << ec.message() << "\n";
    ++failures_;
    beast::error_code ignored;
    c.socket.close(ignored);
  }

  asio::io_context io_{1};
  asio::ip::tcp::endpoint server_;
  std::vector<std::string> requests_;
  std::vector<uint32_t> latencies_;
  std::vector<std::unique_ptr<Connection>> connections_;
  uint64_t next_ = 0, answered_ = 0, failures_ = 0;
  double cpu_seconds_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string store_uri = argc > 1 ? argv[1] : "memory";
  const uint64_t total = argc > 2 ? std::stoull(argv[2]) : 100'000;
  const int connections = argc > 3 ? std::stoi(argv[3]) : 32;
  const int batch = argc > 4 ? std::stoi(argv[4]) : 1;
  const uint64_t customers = argc > 5 ? std::stoull(argv[5]) : 10'000;
  const uint32_t io_threads = argc > 6 ? static_cast<uint32_t>(std::stoul(argv[6])) : 1;

  std::unique_ptr<sr::Store> store;
  if (store_uri.starts_with("sqlite:")) {
    const std::string path = store_uri.substr(7);
    std::filesystem::remove(path);
    auto opened = sr::open_sqlite_store({.path = path});
    if (!opened) {
      std::cerr << opened.error().describe() << "\n";
      return 1;
    }
    store = std::move(opened.value());
  } else {
    store = sr::make_memory_store();
  }

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> router_threads;
  for (int i = 0; i < 2; ++i) router_threads.emplace_back([&] { io.run(); });
  sr::RouterOptions options;
  options.desk.default_queue = "support";
  sr::Router router(io, std::move(store), options);

  social::SocialSettings settings;
  settings.listen = "127.0.0.1:0";
  settings.listening_file = (std::filesystem::temp_directory_path() / "social_bench_addr").string();
  settings.io_threads = io_threads;
  settings.max_messages_per_request = static_cast<uint32_t>(std::max(batch, 1));
  social::MetaApp app{"/meta", kSecret, "verify", {}, {}, {{"106540352242922", "token"}}};
  settings.meta_apps = {app};
  router.add_adapter(social::make_adapter(settings, router));
  if (!await<sr::Done>([&](auto d) { router.recover(d); }).ok() ||
      !await<sr::Queue>([&](auto d) { router.upsert_queue(sr::Queue{"support"}, d); }).ok() ||
      !router.start_adapters().ok()) {
    std::cerr << "could not start\n";
    return 1;
  }
  std::string address;
  std::ifstream(settings.listening_file) >> address;
  const auto colon = address.rfind(':');

  // Bodies are made and signed before the clock starts: we measure the server.
  const uint64_t requests = total / static_cast<uint64_t>(batch);
  std::vector<std::string> requests_bytes(requests);
  for (uint64_t r = 0; r < requests; ++r) {
    const std::string body = whatsapp_body(r * static_cast<uint64_t>(batch), batch, customers);
    requests_bytes[r] =
        "POST /meta HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        "X-Hub-Signature-256: " +
        signature(body) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  const asio::ip::tcp::endpoint server(asio::ip::make_address(address.substr(0, colon)),
                                       static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  Client client(server, std::move(requests_bytes), connections);
  double load_before[1] = {0};
  getloadavg(load_before, 1);
  const double cpu_before = cpu_seconds(RUSAGE_SELF);
  const auto started = std::chrono::steady_clock::now();
  std::thread client_thread([&] { client.run(); });
  client_thread.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double cpu_total = cpu_seconds(RUSAGE_SELF) - cpu_before;
  const uint64_t failures = client.failures();

  auto page = await<sr::ConversationPage>([&](auto d) { router.list_conversations({}, 1, "", d); });
  const double messages = static_cast<double>(requests * static_cast<uint64_t>(batch));
  const double client_cpu = client.cpu_seconds_used();
  const double server_cpu = cpu_total - client_cpu;
  std::printf("store=%s messages=%.0f batch=%d connections=%d customers=%llu io_threads=%u failures=%llu\n",
              store_uri.c_str(), messages, batch, connections, static_cast<unsigned long long>(customers), io_threads,
              static_cast<unsigned long long>(failures));
  std::printf("%.0f messages/s accepted durably (%.0f requests/s) in %.2f s\n", messages / seconds,
              static_cast<double>(requests) / seconds, seconds);
  std::printf("latency per request: p50 %.1f ms, p99 %.1f ms\n", client.latency_us(0.5) / 1000,
              client.latency_us(0.99) / 1000);
  double load_after[1] = {0};
  getloadavg(load_after, 1);
  // The machine's 1-minute load average: on a shared machine it says how much of the
  // CPU the bench could have had.
  std::printf("load average (1 min): %.2f before, %.2f after\n", load_before[0], load_after[0]);
  // The server is everything but the client thread: HTTP, adapter, router, store.
  std::printf("cpu: server %.2f s (%.0f us/message, %.2f cores), client %.2f s (%.1f us/message, %.2f cores)\n",
              server_cpu, server_cpu / messages * 1e6, server_cpu / seconds, client_cpu, client_cpu / messages * 1e6,
              client_cpu / seconds);
  router.stop();
  work.reset();
  io.stop();
  for (auto& t : router_threads) t.join();
  return failures == 0 && page.ok() ? 0 : 1;
}
