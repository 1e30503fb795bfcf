// The load generator is itself tested: a short switchboard_loadgen run against a real
// switchboardd (memory store), then the server is asked what it stored. The counts the
// load generator reports must be what the server holds, and its customers, who move
// between chat, email and phone, must each have one conversation.

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fixture.h"

namespace switchboard::testing {
namespace {

constexpr unsigned kRequests = 600;
constexpr unsigned kCustomers = 40;
constexpr unsigned kSubscribers = 3;

class LoadgenTest : public SwitchboarddTest {
 protected:
  // Runs the load generator to its end; its exit status, and its JSON in `report_`.
  int run_loadgen(const std::vector<std::string>& flags) {
    const auto json = dir_ / "loadgen.json";
    std::string command = std::string("SWITCHBOARD_ADMIN_KEY=") + kAdminKey + " " + SWITCHBOARD_LOADGEN_PATH +
                          " --target " + daemon_.address() + " --json " + json.string();
    for (const auto& flag : flags) command += " " + flag;
    const int status = std::system(command.c_str());
    std::stringstream text;
    text << std::ifstream(json).rdbuf();
    if (!text.str().empty()) report_ = boost::json::parse(text.str()).as_object();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  uint64_t reported(const char* field) const { return report_.at(field).to_number<uint64_t>(); }

  // Inbound messages the server stored, from the oldest event on: a marker message is
  // ingested last, so once it arrives every earlier event has (events come in order).
  uint64_t stored_inbound_messages() const {
    v1::SubscribeRequest request;
    request.set_from_beginning(true);
    request.add_kinds(v1::EVENT_KIND_MESSAGE);
    auto stream = admin_->subscribe(request);
    EXPECT_TRUE(admin_->ingest("chat", "marker", "the last one", "marker-1").ok());
    uint64_t count = 0;
    while (auto event = stream->next()) {
      if (event->message().external_id() == "marker-1") return count;
      if (event->message().direction() == v1::INBOUND) ++count;
    }
    ADD_FAILURE() << "the marker message never arrived";
    return count;
  }

  std::size_t conversations() const {
    std::size_t n = 0;
    v1::ListConversationsRequest request;
    do {
      auto page = admin_->call(&v1::ConversationService::Stub::ListConversations, request);
      EXPECT_TRUE(page.ok()) << describe(page.status);
      if (!page.ok()) break;
      n += static_cast<std::size_t>(page.value.conversations_size());
      request.set_page_token(page.value.next_page_token());
    } while (!request.page_token().empty());
    return n;
  }

  boost::json::object report_;
};

TEST_F(LoadgenTest, CountsWhatTheServerStored) {
  ASSERT_EQ(run_loadgen({"--requests", std::to_string(kRequests), "--customers", std::to_string(kCustomers),
                         "--concurrency", "8", "--channels", "2", "--subscribers", std::to_string(kSubscribers)}),
            0);
  EXPECT_EQ(reported("sent"), kRequests);
  EXPECT_EQ(reported("ok"), kRequests);
  EXPECT_EQ(reported("failed"), 0u);
  EXPECT_EQ(reported("measured"), kRequests);
  EXPECT_EQ(report_.at("latency").as_object().at("samples").to_number<uint64_t>(), kRequests);
  // Each subscriber got every message of the run (and probes, which it may have got
  // in part before it attached).
  EXPECT_GE(reported("event_arrivals"), uint64_t{kSubscribers} * kRequests);
  EXPECT_TRUE(report_.at("subscribers_ended_early").as_object().empty());

  const uint64_t setup = reported("setup_ingests");  // one per customer, then the probes
  ASSERT_GT(setup, kCustomers);
  EXPECT_EQ(stored_inbound_messages(), setup + kRequests);
  // One conversation per customer across chat, email and phone; one per probe and
  // the marker (each its own visitor).
  EXPECT_EQ(conversations(), setup + 1);
}

// The lean HTTP/2 client reads the same streams: every message of the run reaches
// every subscriber, and none of them is ended early.
TEST_F(LoadgenTest, Http2SubscribersCountEveryEvent) {
  ASSERT_EQ(run_loadgen({"--requests", "200", "--customers", "10", "--concurrency", "4", "--channels", "2",
                         "--subscribers", std::to_string(kSubscribers), "--subscriber-client", "http2"}),
            0);
  EXPECT_EQ(report_.at("subscriber_client").as_string(), "http2");
  EXPECT_EQ(reported("ok"), 200u);
  EXPECT_GE(reported("event_arrivals"), uint64_t{kSubscribers} * 200);
  EXPECT_EQ(report_.at("event_latency").as_object().at("samples").to_number<uint64_t>(), reported("event_arrivals"));
  EXPECT_TRUE(report_.at("subscribers_ended_early").as_object().empty());
}

TEST_F(LoadgenTest, TimedOpenLoopAnswersEveryCall) {
  ASSERT_EQ(run_loadgen({"--loop", "open", "--rate", "200", "--warmup", "0.2", "--duration", "1", "--customers", "10"}),
            0);
  EXPECT_EQ(reported("ok"), reported("sent"));
  // 200 calls/s for 1.2 s: the schedule, not the clock, decides which calls leave.
  EXPECT_EQ(reported("sent"), 240u);
  EXPECT_EQ(stored_inbound_messages(), reported("setup_ingests") + reported("ok"));
}

TEST_F(LoadgenTest, RefusesBadFlags) {
  EXPECT_EQ(run_loadgen({"--loop", "sideways"}), 2);
  EXPECT_EQ(run_loadgen({"--loop", "open"}), 2);  // no --rate
  EXPECT_EQ(run_loadgen({"--concurrency", "0"}), 2);
  EXPECT_EQ(run_loadgen({"--subscribers", "1", "--subscriber-client", "pigeon"}), 2);
}

}  // namespace
}  // namespace switchboard::testing
