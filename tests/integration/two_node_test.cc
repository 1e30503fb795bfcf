// Two switchboardd on one PostgreSQL database (DESIGN.md "Storage"): messages for the
// same customers arriving at both nodes at once end in one conversation per customer
// with unique, gap-free sequence numbers, and a subscriber on one node receives what
// the other wrote.

#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "adapter_connection.h"
#include "fixture.h"
#include "postgres_server.h"

namespace switchboard::testing {
namespace {

constexpr int kCustomers = 8;
constexpr int kWritersPerNode = 2;
constexpr int kMessagesPerWriter = 6;

class TwoNodeTest : public SwitchboarddTest {
 protected:
  void SetUp() override {
    auto& server = router::testing::PostgresServer::get();
    ASSERT_TRUE(server.running()) << server.error();
    auto database = server.create_database();
    ASSERT_TRUE(database.ok()) << database.error().describe();
    postgres_uri_ = database.value();
    SwitchboarddTest::SetUp();  // node A, named by the host
    ASSERT_FALSE(HasFatalFailure());
    // Node B: the same config under a node id of its own.
    std::ifstream shared(dir_ / "switchboardd.yaml");
    std::ofstream(dir_ / "node-b.yaml") << shared.rdbuf() << "node_id: node-b\ndelivery_takeover_seconds: 5\n";
    const std::string error = node_b_.start(
        SWITCHBOARDD_PATH,
        {"--grpc-listen", "127.0.0.1:0", "--store", postgres_uri_, "--config", (dir_ / "node-b.yaml").string()},
        {{"SWITCHBOARD_ADMIN_KEY", kAdminKey}});
    ASSERT_EQ(error, "");
    channel_b_ = grpc::CreateChannel(node_b_.address(), grpc::InsecureChannelCredentials());
    admin_b_ = std::make_unique<Client>(channel_b_, kAdminKey);
  }

  void TearDown() override {
    admin_b_.reset();
    channel_b_.reset();
    if (node_b_.running() && !node_b_.address().empty()) EXPECT_EQ(node_b_.terminate(), std::optional<int>(0));
    SwitchboarddTest::TearDown();
  }

  std::string store_uri() const override { return postgres_uri_; }

  static std::string address_of(int customer) { return "customer" + std::to_string(customer) + "@example.org"; }

  std::string postgres_uri_;
  DaemonProcess node_b_;
  std::shared_ptr<grpc::Channel> channel_b_;
  std::unique_ptr<Client> admin_b_;
};

TEST_F(TwoNodeTest, TheSameCustomersWritingToBothNodesGetOneConversationEachWithGapFreeSeqs) {
  // Live from now on node B: it must also carry what node A acknowledges.
  v1::SubscribeRequest live;
  live.add_kinds(v1::EVENT_KIND_MESSAGE);
  auto on_b = admin_b_->subscribe(live, std::chrono::seconds(120));

  std::mutex mutex;
  std::map<int, std::set<std::string>> conversations_of;  // customer -> conversation ids answered
  std::set<std::string> acknowledged;                     // external ids
  std::vector<std::string> failures;
  std::vector<std::thread> writers;
  for (int node = 0; node < 2; ++node) {
    for (int w = 0; w < kWritersPerNode; ++w) {
      writers.emplace_back([&, node, w] {
        const Client& client = node == 0 ? *admin_ : *admin_b_;
        for (int m = 0; m < kMessagesPerWriter; ++m) {
          for (int customer = 0; customer < kCustomers; ++customer) {
            const std::string id = "n" + std::to_string(node) + "-w" + std::to_string(w) + "-m" + std::to_string(m) +
                                   "-c" + std::to_string(customer);
            auto reply = client.ingest("email", address_of(customer), "message " + id, id);
            std::lock_guard lock(mutex);
            if (!reply.ok()) {
              failures.push_back(id + ": " + reply.status.error_message());
              continue;
            }
            conversations_of[customer].insert(reply->conversation_id());
            acknowledged.insert(id);
          }
        }
      });
    }
  }
  for (auto& writer : writers) writer.join();
  ASSERT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();

  const int per_customer = 2 * kWritersPerNode * kMessagesPerWriter;
  for (int customer = 0; customer < kCustomers; ++customer) {
    ASSERT_EQ(conversations_of[customer].size(), 1u) << address_of(customer) << " got several conversations";
    // Every seq once, none missing: ConversationOpened, then one message each.
    auto context = admin_->get_context(*conversations_of[customer].begin());
    ASSERT_OK(context);
    std::set<uint64_t> seqs;
    int messages = 0;
    for (const auto& event : context->events()) {
      EXPECT_TRUE(seqs.insert(event.seq()).second) << "seq " << event.seq() << " twice";
      if (event.has_message()) ++messages;
    }
    EXPECT_EQ(messages, per_customer) << address_of(customer);
    ASSERT_FALSE(seqs.empty());
    EXPECT_EQ(*seqs.begin(), 1u);
    EXPECT_EQ(*seqs.rbegin(), seqs.size()) << "a gap in " << address_of(customer) << "'s seqs";
  }

  // Node B's subscriber got every message, both nodes' (node A's within a second or
  // so; the stream's deadline bounds the wait).
  std::set<std::string> seen_on_b;
  while (seen_on_b.size() < acknowledged.size()) {
    auto event = on_b->next();
    ASSERT_TRUE(event) << "stream ended after " << seen_on_b.size() << " of " << acknowledged.size();
    EXPECT_TRUE(seen_on_b.insert(event->message().external_id()).second)
        << event->message().external_id() << " twice on node B";
  }
  EXPECT_EQ(seen_on_b, acknowledged);
}

TEST_F(TwoNodeTest, ANodeKnowsTheContactsAndConversationsTheOtherCreated) {
  auto on_a = admin_->ingest("chat", "visitor-1", "hello from node A", "a-1");
  ASSERT_OK(on_a);
  // Node B takes in node A's changes within its tail interval; its answer to the same
  // customer joins the same conversation whatever it had seen.
  auto on_b = admin_b_->ingest("chat", "visitor-1", "and again through node B", "b-1");
  ASSERT_OK(on_b);
  EXPECT_EQ(on_b->contact_id(), on_a->contact_id());
  EXPECT_EQ(on_b->conversation_id(), on_a->conversation_id());
  EXPECT_GT(on_b->seq(), on_a->seq());
  // A redelivery of node A's message through node B is a duplicate, not a new one.
  auto again = admin_b_->ingest("chat", "visitor-1", "hello from node A", "a-1");
  ASSERT_OK(again);
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->seq(), on_a->seq());
}

// Connects an out-of-process adapter for `channel` to one node.
std::unique_ptr<AdapterConnection> connect_adapter(const std::shared_ptr<grpc::Channel>& node, const char* channel) {
  auto adapter = std::make_unique<AdapterConnection>(node, kAdapterKey);
  EXPECT_TRUE(adapter->send(register_message(channel)));
  auto answer = adapter->read();
  EXPECT_TRUE(answer && answer->has_registered()) << (answer ? answer->DebugString() : "no answer");
  return adapter;
}

// Takes `count` outbound messages, confirms each, and fails on any more that arrive
// meanwhile: a reply handed out twice shows up here.
std::vector<v1::OutboundMessage> deliver_all(AdapterConnection& adapter, std::size_t count) {
  EXPECT_TRUE(adapter.wait_outbound(count)) << "only " << adapter.outbound.size() << " of " << count;
  const std::vector<v1::OutboundMessage> taken = adapter.outbound;
  uint64_t correlation = 100;
  for (const auto& message : taken) {
    EXPECT_TRUE(adapter.send(report_message(++correlation, message.outbound_id(), v1::DELIVERED)));
    auto answer = adapter.answer_to(correlation);
    EXPECT_TRUE(answer.has_value()) << "no answer to the report of " << message.outbound_id();
  }
  EXPECT_EQ(adapter.outbound.size(), count) << "more deliveries than replies";
  return taken;
}

TEST_F(TwoNodeTest, EachReplyIsDeliveredOnceByTheNodeThatWroteIt) {
  constexpr char kKiosk[] = "kiosk";
  constexpr int kRepliesPerNode = 4;
  auto kiosk_a = connect_adapter(channel_, kKiosk);
  auto kiosk_b = connect_adapter(channel_b_, kKiosk);
  ASSERT_FALSE(HasFailure());
  std::vector<std::string> conversations;
  for (int customer = 0; customer < kCustomers; ++customer) {
    const std::string id = std::to_string(customer);
    auto opened = admin_->ingest(kKiosk, "kiosk-" + id, "hello", "k-" + id);
    ASSERT_OK(opened);
    conversations.push_back(opened->conversation_id());
  }
  // Node B takes node A's writes in within its tail interval.
  for (const auto& conversation : conversations) {
    bool known = false;
    for (int attempt = 0; attempt < 100 && !known; ++attempt) {
      known = admin_b_->get_conversation(conversation).ok();
      if (!known) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(known) << conversation << " never reached node B";
  }

  // Agents on both nodes answer the same conversations at once.
  std::mutex mutex;
  std::map<int, std::set<std::string>> written_by;  // node -> "conversation/seq"
  std::vector<std::string> failures;
  std::vector<std::thread> agents;
  for (int node = 0; node < 2; ++node) {
    agents.emplace_back([&, node] {
      const Client& client = node == 0 ? *admin_ : *admin_b_;
      for (int r = 0; r < kRepliesPerNode; ++r) {
        for (const auto& conversation : conversations) {
          v1::SendMessageRequest request;
          request.set_conversation_id(conversation);
          request.set_text("reply " + std::to_string(r) + " from node " + std::to_string(node));
          auto sent = client.call(&v1::ConversationService::Stub::SendMessage, request);
          std::lock_guard lock(mutex);
          if (!sent.ok()) {
            failures.push_back(describe(sent.status));
            continue;
          }
          written_by[node].insert(conversation + "/" + std::to_string(sent->seq()));
        }
      }
    });
  }
  for (auto& agent : agents) agent.join();
  ASSERT_TRUE(failures.empty()) << failures.size() << " replies failed, first: " << failures.front();

  // Each node's adapter gets exactly the replies its node wrote, once each.
  for (int node = 0; node < 2; ++node) {
    AdapterConnection& kiosk = node == 0 ? *kiosk_a : *kiosk_b;
    std::set<std::string> delivered;
    for (const auto& message : deliver_all(kiosk, written_by[node].size())) {
      const std::string key = message.conversation_id() + "/" + std::to_string(message.seq());
      EXPECT_TRUE(delivered.insert(key).second) << key << " delivered twice by node " << node;
    }
    EXPECT_EQ(delivered, written_by[node]) << "node " << node;
  }
  kiosk_a->finish();
  kiosk_b->finish();
}

TEST_F(TwoNodeTest, ANodeThatDiesHasItsPendingRepliesDeliveredByAnother) {
  auto kiosk_b = connect_adapter(channel_b_, "kiosk");
  ASSERT_FALSE(HasFailure());
  // Replies written through node A, which carries no kiosk adapter: they wait in its outbox.
  std::set<std::string> written;
  for (int customer = 0; customer < 3; ++customer) {
    const std::string id = std::to_string(customer);
    auto opened = admin_->ingest("kiosk", "kiosk-" + id, "hello", "k-" + id);
    ASSERT_OK(opened);
    v1::SendMessageRequest request;
    request.set_conversation_id(opened->conversation_id());
    request.set_text("we are on it");
    auto sent = admin_->call(&v1::ConversationService::Stub::SendMessage, request);
    ASSERT_OK(sent);
    EXPECT_EQ(sent->status(), v1::PENDING);
    written.insert(opened->conversation_id() + "/" + std::to_string(sent->seq()));
  }
  daemon_.kill_hard();

  // Node B hears nothing from A for 5 s, takes its replies over and delivers each once.
  std::set<std::string> delivered;
  for (const auto& message : deliver_all(*kiosk_b, written.size())) {
    delivered.insert(message.conversation_id() + "/" + std::to_string(message.seq()));
  }
  EXPECT_EQ(delivered, written);
  kiosk_b->finish();
}

}  // namespace
}  // namespace switchboard::testing
