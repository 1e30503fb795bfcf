// Embeds the router library in a program of its own: no switchboardd, no gRPC. A
// customer writes in chat, then by email; the router keeps one conversation, and the
// program reads its context and answers. Exits non-zero if any of that went wrong.
//
//   build/examples/embedded_router/embedded_router

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <future>
#include <iostream>
#include <thread>

#include <switchboard/router/router.h>
#include <switchboard/router/store.h>

namespace sr = switchboard::router;

namespace {

// The router answers on its own threads; this program simply waits for each answer.
// (A server would hand a callback on instead of waiting.)
template <typename T, typename Start>
T await(Start start) {
  std::promise<sr::Result<T>> answer;
  start([&answer](sr::Result<T> result) { answer.set_value(std::move(result)); });
  auto result = answer.get_future().get();
  if (!result.ok()) {
    std::cerr << "embedded_router: " << result.error().describe() << "\n";
    std::exit(EXIT_FAILURE);
  }
  return std::move(result.value());
}

bool check(bool ok, const char* what) {
  std::cout << (ok ? "ok:     " : "FAILED: ") << what << "\n";
  return ok;
}

}  // namespace

int main() {
  // The router runs on an io_context; any number of threads may run it.
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread worker([&io] { io.run(); });

  sr::RouterOptions options;
  options.desk.default_queue = "support";
  sr::Router router(io, sr::make_memory_store(), options);  // or open_sqlite_store(...)
  await<sr::Done>([&](auto done) { router.recover(std::move(done)); });
  await<sr::Queue>([&](auto done) { router.upsert_queue({.name = "support"}, std::move(done)); });

  const auto chat = await<sr::IngestResult>([&](auto done) {
    router.ingest({.channel = "chat", .address = "visitor-42", .external_id = "c-1", .text = "Where is order 1042?"},
                  std::move(done));
  });
  await<sr::Contact>([&](auto done) {
    router.link_identity(chat.contact_id, {.channel = "email", .address = "Ana@Example.org", .verified = true},
                         "example", std::move(done));
  });
  const auto email = await<sr::IngestResult>([&](auto done) {
    router.ingest({.channel = "email",
                   .address = "ana@example.org",
                   .external_id = "<m1@example.org>",
                   .text = "Following up by mail"},
                  std::move(done));
  });
  const auto context = await<sr::ConversationContext>(
      [&](auto done) { router.get_context(chat.conversation_id, std::nullopt, 20, std::move(done)); });
  const auto reply = await<sr::SendMessageResult>([&](auto done) {
    router.send_message({.conversation_id = chat.conversation_id, .text = "It ships today."}, "agent-1",
                        std::move(done));
  });

  int messages = 0;
  int switches = 0;
  for (const auto& event : context.events) {
    messages += std::holds_alternative<sr::Message>(event.body);
    switches += std::holds_alternative<sr::ChannelSwitched>(event.body);
  }
  bool ok = check(email.conversation_id == chat.conversation_id, "chat and email are one conversation");
  ok &= check(context.conversation.legs.size() == 2 && context.conversation.active_channel == "email",
              "two channel legs, email active");
  ok &= check(messages == 2 && switches == 1, "two messages and a channel switch on the timeline");
  ok &= check(reply.channel == "email" && reply.address == "ana@example.org", "the reply goes to the active channel");
  ok &= check(reply.status == sr::DeliveryStatus::kPending && !reply.adapter_running,
              "with no adapter running it waits in the outbox");

  router.stop();
  work.reset();
  io.stop();
  worker.join();
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
