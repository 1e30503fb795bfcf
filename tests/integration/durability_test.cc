// Acknowledged means durable: switchboardd on SQLite and on PostgreSQL, restarted
// cleanly and killed with SIGKILL under load, keeps every message it acknowledged,
// exactly once.

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "fixture.h"
#include "postgres_server.h"

namespace switchboard::testing {
namespace {

// Runs on the embedded default (SQLite) and on a throwaway PostgreSQL 15 server.
class DurabilityTest : public SwitchboarddTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      auto& server = router::testing::PostgresServer::get();
      ASSERT_TRUE(server.running()) << server.error();
      auto database = server.create_database();
      ASSERT_TRUE(database.ok()) << database.error().describe();
      postgres_uri_ = database.value();
    }
    SwitchboarddTest::SetUp();
  }

  std::string store_uri() const override {
    return GetParam() == "postgresql" ? postgres_uri_ : "sqlite:" + (dir_ / "switchboard.db").string();
  }

  // Every message on the log, read from the beginning up to a marker message sent now:
  // external_id -> how many times it is there.
  std::map<std::string, int> messages_on_log() {
    auto marker = admin_->ingest("email", "marker@example.org", "end of the log", "marker");
    EXPECT_OK(marker);
    v1::SubscribeRequest request;
    request.set_from_beginning(true);
    request.add_kinds(v1::EVENT_KIND_MESSAGE);
    auto stream = admin_->subscribe(request, std::chrono::seconds(60));
    std::map<std::string, int> seen;
    while (auto event = stream->next()) {
      const std::string& id = event->message().external_id();
      if (id == "marker") break;
      ++seen[id];
    }
    return seen;
  }

  std::string postgres_uri_;
};

INSTANTIATE_TEST_SUITE_P(Stores, DurabilityTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(DurabilityTest, ARestartKeepsConversationsStatesCursorsAndRedeliveryAnswers) {
  auto chat = admin_->ingest("chat", "visitor-7", "hi, my order is late", "chat-1");
  ASSERT_OK(chat);
  ASSERT_OK(admin_->link_identity(chat->contact_id(), "email", "ana@example.org"));
  auto mail = admin_->ingest("email", "ana@example.org", "order 1234", "mail-1");
  ASSERT_OK(mail);
  ASSERT_OK(admin_->online_agent("agent-a"));
  v1::AssignRequest assign;
  assign.set_conversation_id(chat->conversation_id());
  assign.set_agent_id("agent-a");
  ASSERT_OK(admin_->call(&v1::ConversationService::Stub::Assign, assign));
  auto before = admin_->get_context(chat->conversation_id());
  ASSERT_OK(before);
  const std::string last_cursor = before->events(before->events_size() - 1).cursor();

  restart_daemon();

  auto after = admin_->get_context(chat->conversation_id());
  ASSERT_OK(after);
  EXPECT_EQ(after->conversation().state(), v1::ASSIGNED);
  EXPECT_EQ(after->conversation().assignee_id(), "agent-a");
  EXPECT_EQ(after->conversation().legs_size(), 2);
  EXPECT_EQ(after->contact().identities_size(), 2);
  ASSERT_EQ(after->events_size(), before->events_size());
  for (int i = 0; i < after->events_size(); ++i) {
    EXPECT_EQ(after->events(i).cursor(), before->events(i).cursor());
    EXPECT_EQ(after->events(i).seq(), before->events(i).seq());
  }

  // A redelivery is still recognised, and the next message joins the same conversation.
  auto again = admin_->ingest("email", "ana@example.org", "order 1234", "mail-1");
  ASSERT_OK(again);
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->seq(), mail->seq());
  auto next = admin_->ingest("chat", "visitor-7", "still waiting", "chat-2");
  ASSERT_OK(next);
  EXPECT_EQ(next->conversation_id(), chat->conversation_id());
  EXPECT_GT(next->seq(), after->conversation().last_seq());

  // A subscriber resumes across the restart from the cursor it had.
  v1::SubscribeRequest resume;
  resume.set_cursor(last_cursor);
  auto stream = admin_->subscribe(resume);
  auto first_new = stream->next_of(v1::Event::kMessage);
  ASSERT_TRUE(first_new.has_value());
  EXPECT_EQ(first_new->message().external_id(), "chat-2");
}

TEST_P(DurabilityTest, KillNineUnderLoadLosesNothingAcknowledged) {
  constexpr int kWriters = 4;
  constexpr int kCustomers = 40;
  constexpr int kKillAfterAcks = 400;
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<bool> killed = false;

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w, client = client(kAdminKey)] {
      for (int i = 0; !killed; ++i) {
        const std::string id = "w" + std::to_string(w) + "-" + std::to_string(i);
        const std::string customer = "customer-" + std::to_string((w * 7 + i) % kCustomers) + "@example.org";
        auto reply = client.ingest("email", customer, "message " + id, id);
        if (!reply.ok()) return;  // the daemon is gone: this one was never acknowledged
        std::lock_guard lock(mutex);
        acknowledged.insert(id);
      }
    });
  }
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (acknowledged.size() >= kKillAfterAcks) break;
    }
    std::this_thread::yield();
  }
  daemon_.kill_hard();
  killed = true;
  for (auto& writer : writers) writer.join();

  start_daemon();
  const auto on_log = messages_on_log();
  for (const auto& id : acknowledged) {
    auto it = on_log.find(id);
    ASSERT_NE(it, on_log.end()) << id << " was acknowledged and is lost";
    EXPECT_EQ(it->second, 1) << id;
  }
  for (const auto& [id, count] : on_log) EXPECT_EQ(count, 1) << id << " is on the log twice";

  // Each customer still has one conversation, and redeliveries are still dropped.
  auto list = admin_->list_conversations();
  ASSERT_OK(list);
  EXPECT_LE(list->conversations_size(), kCustomers + 1);  // + the marker's
  const std::string some = *acknowledged.begin();
  auto again = admin_->ingest("email", "customer-0@example.org", "again", some);
  ASSERT_OK(again);
  EXPECT_TRUE(again->duplicate());
}

}  // namespace
}  // namespace switchboard::testing
