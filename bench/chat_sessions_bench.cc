// How many chat sessions one switchboardd process holds, what an idle one costs, and
// how many messages per second go in (visitor -> durable ack) and out (agent reply ->
// widget), through real WebSockets.
//
//   build/bench/chat_sessions_bench [sessions=10000]
//
// The server (Router on a memory store + ChatAdapter) runs in this process; the
// clients run in a forked child, so the server's resident memory is measured alone:
// (RSS with N idle sessions - RSS before) / N. Not part of ctest.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include <switchboard/router/router.h>

#include "chat/chat_adapter.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
namespace sr = switchboard::router;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      in >> kib;
      return kib;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

void raise_fd_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// One visitor: hello, then reads forever, counting frames by type.
struct Visitor : std::enable_shared_from_this<Visitor> {
  Visitor(asio::io_context& io, int n) : ws(io), index(n) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  int index;
  std::function<void(Visitor&, const json::object&)> on_frame;
  std::string out;

  void start(uint16_t port, std::function<void()> connected_failed) {
    auto self = shared_from_this();
    beast::get_lowest_layer(ws).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [self, port, connected_failed](beast::error_code ec) {
          if (ec) return connected_failed();
          self->ws.set_option(websocket::stream_base::decorator([port](websocket::request_type& req) {
            req.set(beast::http::field::origin, "http://127.0.0.1:" + std::to_string(port));
          }));
          self->ws.async_handshake("127.0.0.1:" + std::to_string(port), "/chat/v1/ws",
                                   [self, connected_failed](beast::error_code ec) {
                                     if (ec) return connected_failed();
                                     self->send(R"({"type":"hello"})");
                                     self->read();
                                   });
        });
  }
  void send(std::string text) {
    out = std::move(text);  // one write at a time in this bench
    ws.async_write(asio::buffer(out), [self = shared_from_this()](beast::error_code, std::size_t) {});
  }
  void read() {
    ws.async_read(buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      auto v = json::parse(beast::buffers_to_string(self->buffer.data()));
      self->buffer.consume(self->buffer.size());
      self->on_frame(*self, v.as_object());
      self->read();
    });
  }
};

// The child: N visitors. Reports on `report` (one byte per phase) and waits for the
// parent's go on `go`.
int run_clients(uint16_t port, int sessions, int report, int go) {
  asio::io_context io;
  int synced = 0, acked = 0, received = 0, failed = 0;
  Clock::time_point in_start;
  double in_seconds = 0;
  std::vector<std::shared_ptr<Visitor>> visitors;
  auto on_frame = [&](Visitor&, const json::object& f) {
    const auto type = f.at("type").as_string();
    if (type == "synced") ++synced;
    if (type == "ack" && ++acked == sessions) {
      in_seconds = std::chrono::duration<double>(Clock::now() - in_start).count();
    }
    if (type == "message") ++received;
  };
  // Connect in batches so the accept backlog never overflows.
  for (int i = 0; i < sessions; ++i) {
    auto v = std::make_shared<Visitor>(io, i);
    v->on_frame = on_frame;
    v->start(port, [&] { ++failed; });
    visitors.push_back(v);
    if (i % 200 == 199) {
      while (synced + failed < i + 1) io.run_one();
    }
  }
  while (synced + failed < sessions) io.run_one();
  char c = static_cast<char>(failed == 0 ? 'S' : 'F');
  if (write(report, &c, 1) != 1 || read(go, &c, 1) != 1) return 1;

  in_start = Clock::now();
  for (auto& v : visitors) v->send(R"({"type":"message","id":"m1","text":"hello"})");
  while (acked < sessions) io.run_one();
  std::printf("in: %d messages acknowledged (durable) in %.3f s: %.0f messages/s\n", sessions, in_seconds,
              sessions / in_seconds);
  std::fflush(stdout);
  c = 'A';
  if (write(report, &c, 1) != 1) return 1;
  while (received < sessions) io.run_one();
  c = 'R';
  if (write(report, &c, 1) != 1) return 1;
  return 0;
}

template <typename T, typename Start>
sr::Result<T> await(Start start) {
  std::promise<sr::Result<T>> done;
  start([&done](sr::Result<T> r) { done.set_value(std::move(r)); });
  return done.get_future().get();
}

}  // namespace

int main(int argc, char** argv) {
  const int sessions = argc > 1 ? std::atoi(argv[1]) : 10000;
  raise_fd_limit();
  // Fork before any thread exists; the child waits for the port.
  int to_parent[2], to_child[2];
  if (pipe(to_parent) != 0 || pipe(to_child) != 0) return 1;
  const pid_t child = fork();
  if (child == 0) {
    uint16_t port = 0;
    if (read(to_child[0], &port, sizeof port) != sizeof port) _exit(1);
    _exit(run_clients(port, sessions, to_parent[1], to_child[0]));
  }
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread router_thread([&] { io.run(); });
  sr::RouterOptions options;
  options.desk.default_queue = "support";
  auto router = std::make_unique<sr::Router>(io, sr::make_memory_store({.keep_records = false}), options);
  switchboard::adapters::chat::ChatSettings settings;
  settings.listen = "127.0.0.1:0";
  settings.visitor_secret = "bench-visitor-secret";
  settings.max_connections = sessions + 100;
  settings.max_connections_per_address = sessions + 100;
  settings.address_message_burst = sessions * 2.0;
  settings.idle_timeout = std::chrono::minutes(10);
  auto adapter = std::make_unique<switchboard::adapters::chat::ChatAdapter>(settings, *router, router.get());
  auto* chat = adapter.get();
  router->add_adapter(std::move(adapter));
  await<sr::Done>([&](auto d) { router->recover(d); });
  await<sr::Queue>([&](auto d) { router->upsert_queue(sr::Queue{"support"}, d); });
  if (!router->start_adapters().ok()) return 1;
  const uint16_t port = chat->local_port();

  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const long before = rss_kib();
  if (write(to_child[1], &port, sizeof port) != sizeof port) return 1;
  char c = 0;
  const auto connect_start = Clock::now();
  if (read(to_parent[0], &c, 1) != 1 || c != 'S') {
    std::cerr << "clients failed to connect\n";
    return 1;
  }
  const double connect_seconds = std::chrono::duration<double>(Clock::now() - connect_start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long after = rss_kib();
  std::printf("sessions: %zu live (%d opened in %.2f s); server RSS %ld -> %ld KiB: %.1f KiB per idle session\n",
              chat->live_sessions(), sessions, connect_seconds, before, after,
              static_cast<double>(after - before) / sessions);
  std::fflush(stdout);
  c = 'G';
  if (write(to_child[1], &c, 1) != 1) return 1;
  if (read(to_parent[0], &c, 1) != 1 || c != 'A') return 1;

  // Out: one agent reply per conversation, timed until the clients have them all.
  std::vector<std::string> conversations;
  std::string token;
  do {
    auto page = await<sr::ConversationPage>([&](auto d) { router->list_conversations({}, 500, token, d); });
    for (auto& conv : page->conversations) conversations.push_back(conv.id);
    token = page->next_page_token;
  } while (!token.empty());
  const auto out_start = Clock::now();
  std::atomic<int> answered{0};
  for (const auto& id : conversations) {
    sr::SendMessageCommand command;
    command.conversation_id = id;
    command.text = "thanks, on it";
    router->send_message(command, "agent", [&](sr::Result<sr::SendMessageResult>) { ++answered; });
  }
  if (read(to_parent[0], &c, 1) != 1 || c != 'R') return 1;
  const double out_seconds = std::chrono::duration<double>(Clock::now() - out_start).count();
  std::printf("out: %zu agent replies received by the clients in %.3f s: %.0f messages/s\n", conversations.size(),
              out_seconds, conversations.size() / out_seconds);
  waitpid(child, nullptr, 0);
  router->stop();
  router.reset();
  work.reset();
  io.stop();
  router_thread.join();
  return 0;
}
