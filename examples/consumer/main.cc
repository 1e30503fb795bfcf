// Built against the installed package (find_package(Switchboard)): a router on the
// SQLite store takes a message, is closed, and finds it again when reopened.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <thread>

#include <switchboard/router/router.h>
#include <switchboard/router/sqlite_store.h>

namespace sr = switchboard::router;

template <typename T, typename Start>
sr::Result<T> await(Start start) {
  std::promise<sr::Result<T>> answer;
  start([&answer](sr::Result<T> result) { answer.set_value(std::move(result)); });
  return answer.get_future().get();
}

// One router's life on the database at `path`; `ingest` adds a message first.
sr::Result<sr::Conversation> run_once(const std::string& path, bool ingest) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread worker([&io] { io.run(); });
  sr::Result<sr::Conversation> out = sr::Error{sr::ErrorCode::kNotFound, {}, "nothing"};
  {
    auto store = sr::open_sqlite_store({.path = path});
    if (!store) return store.error();
    sr::Router router(io, std::move(store.value()));
    if (auto recovered = await<sr::Done>([&](auto done) { router.recover(std::move(done)); }); !recovered) {
      return recovered.error();
    }
    if (ingest) {
      auto in = await<sr::IngestResult>([&](auto done) {
        router.ingest({.channel = "sms", .address = "+14155550100", .external_id = "SM1", .text = "hello"},
                      std::move(done));
      });
      if (!in) return in.error();
    }
    out = await<sr::ConversationContext>([&](auto done) {
            router.get_context({}, sr::Identity{.channel = "sms", .address = "+14155550100"}, 10, std::move(done));
          })
              .value()
              .conversation;
    router.stop();
    work.reset();
    io.stop();
    worker.join();
  }
  return out;
}

int main() {
  const auto dir = std::filesystem::temp_directory_path() / "switchboard-consumer";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "switchboard.db").string();
  auto first = run_once(path, true);
  auto again = run_once(path, false);
  std::filesystem::remove_all(dir);
  if (!first || !again) {
    std::cerr << "consumer: " << (!first ? first.error() : again.error()).describe() << "\n";
    return EXIT_FAILURE;
  }
  const bool ok = first->id == again->id && again->last_seq == first->last_seq && again->active_channel == "sms";
  std::cout << (ok ? "ok: " : "FAILED: ") << "conversation " << again->id << " survived a restart of the router\n";
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
