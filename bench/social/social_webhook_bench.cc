// Webhook messages per second accepted durably by the social adapter: signed WhatsApp
// Cloud API webhooks over real HTTP (keep-alive connections), each answered 200 only
// after the router's store committed its messages.
//
//   build/bench/social/social_webhook_bench [store=memory|sqlite:PATH] [messages=100000]
//                                           [connections=32] [batch=1] [customers=10000]
//
// The server (Router + social adapter) and the clients share this process; clients
// are plain Beast synchronous HTTP clients on their own threads, one connection each.
// `batch` messages go in one POST (Meta batches under load). Not part of ctest.

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include <switchboard/router/router.h>
#include <switchboard/router/sqlite_store.h>

#include "common/hmac.h"
#include "social/social_adapter.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace sr = switchboard::router;
namespace social = switchboard::adapters::social;

constexpr char kSecret[] = "bench-app-secret";

std::string signature(const std::string& body) {
  return "sha256=" + switchboard::adapters::to_hex(switchboard::adapters::hmac_sha256(kSecret, body));
}

// One WhatsApp webhook with `batch` text messages, as Meta sends them.
std::string whatsapp_body(uint64_t first, int batch, uint64_t customers) {
  std::string contacts, messages;
  for (int i = 0; i < batch; ++i) {
    const uint64_t n = first + static_cast<uint64_t>(i);
    const std::string wa_id = std::to_string(16505550000ull + n % customers);
    if (i > 0) contacts += ",", messages += ",";
    contacts += R"({"profile":{"name":"Customer )" + wa_id + R"("},"wa_id":")" + wa_id + "\"}";
    messages += R"({"from":")" + wa_id + R"(","id":"wamid.bench)" + std::to_string(n) +
                R"(","timestamp":"1700000000","text":{"body":"Where is my order )" + std::to_string(n) +
                R"(?"},"type":"text"})";
  }
  return R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{)"
         R"("messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",)"
         R"("phone_number_id":"106540352242922"},"contacts":[)" +
         contacts + R"(],"messages":[)" + messages + R"(]},"field":"messages"}]}]})";
}

template <typename T, typename Start>
sr::Result<T> await(Start start) {
  std::promise<sr::Result<T>> done;
  start([&done](sr::Result<T> r) { done.set_value(std::move(r)); });
  return done.get_future().get();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string store_uri = argc > 1 ? argv[1] : "memory";
  const uint64_t total = argc > 2 ? std::stoull(argv[2]) : 100'000;
  const int connections = argc > 3 ? std::stoi(argv[3]) : 32;
  const int batch = argc > 4 ? std::stoi(argv[4]) : 1;
  const uint64_t customers = argc > 5 ? std::stoull(argv[5]) : 10'000;

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
  settings.io_threads = 2;
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
  std::vector<std::pair<std::string, std::string>> bodies(requests);
  for (uint64_t r = 0; r < requests; ++r) {
    bodies[r].first = whatsapp_body(r * static_cast<uint64_t>(batch), batch, customers);
    bodies[r].second = signature(bodies[r].first);
  }

  std::atomic<uint64_t> next{0}, failures{0};
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < connections; ++c) {
    clients.emplace_back([&] {
      asio::io_context client_io;
      beast::tcp_stream stream(client_io);
      stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address(address.substr(0, colon)),
                                             static_cast<uint16_t>(std::stoi(address.substr(colon + 1)))));
      beast::flat_buffer buffer;
      for (uint64_t r = next++; r < requests; r = next++) {
        bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/meta", 11};
        req.set(bhttp::field::host, "bench");
        req.set(bhttp::field::content_type, "application/json");
        req.set("X-Hub-Signature-256", bodies[r].second);
        req.body() = bodies[r].first;
        req.prepare_payload();
        bhttp::write(stream, req);
        bhttp::response<bhttp::string_body> res;
        bhttp::read(stream, buffer, res);
        if (res.result_int() != 200) ++failures;
      }
    });
  }
  for (auto& t : clients) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  auto page = await<sr::ConversationPage>([&](auto d) { router.list_conversations({}, 1, "", d); });
  std::printf("store=%s messages=%llu batch=%d connections=%d customers=%llu failures=%llu\n", store_uri.c_str(),
              static_cast<unsigned long long>(requests * static_cast<uint64_t>(batch)), batch, connections,
              static_cast<unsigned long long>(customers), static_cast<unsigned long long>(failures.load()));
  std::printf("%.0f messages/s accepted durably (%.0f requests/s) in %.2f s\n",
              static_cast<double>(requests * static_cast<uint64_t>(batch)) / seconds,
              static_cast<double>(requests) / seconds, seconds);
  router.stop();
  work.reset();
  io.stop();
  for (auto& t : router_threads) t.join();
  return failures.load() == 0 && page.ok() ? 0 : 1;
}
