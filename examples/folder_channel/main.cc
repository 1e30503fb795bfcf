// An in-process custom adapter, registered by name and used by an embedded router:
// two customers drop files in a folder, the router makes conversations of them, an
// agent answers one, and the answer appears as a file in the outbox folder.
//
//   build/examples/folder_channel/folder_channel [WORK_DIR]
//
// Exits non-zero if any step did not happen.

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <switchboard/router/router.h>
#include <switchboard/router/store.h>

#include "folder_adapter.h"

namespace sr = switchboard::router;
namespace fs = std::filesystem;

namespace {

template <typename T, typename Start>
sr::Result<T> await(Start start) {
  std::promise<sr::Result<T>> answer;
  start([&answer](sr::Result<T> result) { answer.set_value(std::move(result)); });
  return answer.get_future().get();
}

// Waits for events on the router's bus that satisfy `wanted`, for at most 10 s.
class EventWaiter {
 public:
  explicit EventWaiter(sr::EventBus& bus)
      : subscription_(bus.subscribe({}, 0, [this] {
          std::lock_guard lock(mutex_);
          ++wakeups_;
          changed_.notify_all();
        })) {}

  template <typename Wanted>
  bool wait_for(Wanted wanted) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      // Counted before reading: an event published between the last read and the
      // wait must end the wait, not be slept through.
      int seen = 0;
      {
        std::lock_guard lock(mutex_);
        seen = wakeups_;
      }
      while (auto event = subscription_->next()) {
        if (wanted(*event)) return true;
      }
      std::unique_lock lock(mutex_);
      if (!changed_.wait_until(lock, deadline, [&] { return wakeups_ != seen; })) return false;
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int wakeups_ = 0;
  std::shared_ptr<sr::Subscription> subscription_;
};

void drop_file(const fs::path& inbox, const std::string& id, const std::string& from, const std::string& text) {
  const auto partial = inbox / (id + ".partial");
  std::ofstream(partial) << from << "\n" << text << "\n";
  fs::rename(partial, inbox / (id + ".txt"));  // the adapter reads *.txt only: never half a file
}

bool check(bool ok, const std::string& what) {
  std::cout << (ok ? "ok:     " : "FAILED: ") << what << std::endl;
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path work =
      argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / ("folder_channel." + std::to_string(getpid()));
  fs::remove_all(work);
  const fs::path inbox = work / "inbox";
  const fs::path outbox = work / "outbox";

  boost::asio::io_context io;
  auto work_guard = boost::asio::make_work_guard(io);
  std::thread worker([&io] { io.run(); });
  sr::Router router(io, sr::make_memory_store());

  // Register the factory by name, create the adapter from its settings, add it: what
  // switchboardd does for each entry of its config's `adapters` list.
  sr::AdapterRegistry registry;
  if (!registry.add(std::make_unique<folder_channel::FolderAdapterFactory>())) return EXIT_FAILURE;
  const std::string settings = R"({"inbox": ")" + inbox.string() + R"(", "outbox": ")" + outbox.string() + R"("})";
  auto adapter = registry.find("folder")->create(settings, router);
  if (!adapter) {
    std::cerr << adapter.error().describe() << "\n";
    return EXIT_FAILURE;
  }
  router.add_adapter(std::move(adapter.value()));
  if (!await<sr::Done>([&](auto done) { router.recover(std::move(done)); })) return EXIT_FAILURE;
  if (!router.start_adapters()) return EXIT_FAILURE;

  EventWaiter events(router.events());
  drop_file(inbox, "msg-001", "kiosk-lobby", "Is the pharmacy open on Sunday?");
  drop_file(inbox, "msg-002", "kiosk-garage", "The parking machine ate my ticket");
  std::string lobby_conversation;
  int inbound = 0;
  bool ok = check(events.wait_for([&](const sr::Event& e) {
    const auto* message = std::get_if<sr::Message>(&e.body);
    if (message == nullptr || message->direction != sr::Direction::kInbound) return false;
    if (message->address == "kiosk-lobby") lobby_conversation = e.conversation_id;
    return ++inbound == 2;
  }),
                  "both files became inbound messages");

  const auto reply = await<sr::SendMessageResult>([&](auto done) {
    router.send_message({.conversation_id = lobby_conversation, .text = "Yes, 10:00 to 16:00."}, "agent-1",
                        std::move(done));
  });
  ok &=
      check(reply.ok() && reply->channel == "folder" && reply->adapter_running, "the reply goes to the folder channel");
  ok &= check(events.wait_for([](const sr::Event& e) {
    const auto* update = std::get_if<sr::DeliveryUpdated>(&e.body);
    return update != nullptr && update->status == sr::DeliveryStatus::kDelivered;
  }),
              "the adapter reported it delivered");
  std::ifstream written(outbox / ((reply.ok() ? reply->outbound_id : std::string("?")) + ".txt"));
  std::stringstream text;
  text << written.rdbuf();
  ok &= check(text.str() == "kiosk-lobby\nYes, 10:00 to 16:00.\n", "the outbox holds the reply file");
  ok &= check(fs::is_empty(inbox), "stored messages were taken out of the inbox");

  router.stop();
  work_guard.reset();
  io.stop();
  worker.join();
  fs::remove_all(work);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
