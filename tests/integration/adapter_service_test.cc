// AdapterService.Connect against the real switchboardd: an out-of-process adapter
// registers a channel, pushes inbound messages, takes outbound ones and answers them
// (docs/adapters.md).

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "adapter_connection.h"
#include "fixture.h"

namespace switchboard::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kKiosk[] = "kiosk";

// After a half-close the server answers what is pending, then ends the stream with OK.
void expect_clean_end(const grpc::Status& status) { EXPECT_TRUE(status.ok()) << describe(status); }

class AdapterServiceTest : public SwitchboarddTest {
 protected:
  // Connects and registers `channel`; retries while the server still holds a stream
  // the test just dropped (ALREADY_EXISTS until it has seen the cancel), bounded.
  std::unique_ptr<AdapterConnection> connect(const std::string& channel, uint32_t max_in_flight = 0,
                                             bool synchronous = false) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto connection = std::make_unique<AdapterConnection>(channel_, kAdapterKey);
      EXPECT_TRUE(connection->send(register_message(channel, max_in_flight, synchronous)));
      if (auto answer = connection->read()) {
        EXPECT_TRUE(answer->has_registered()) << answer->DebugString();
        EXPECT_EQ(answer->correlation_id(), 1u);
        return connection;
      }
      const auto status = connection->finish();
      if (status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
        ADD_FAILURE() << "register refused: " << describe(status);
        return nullptr;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "the channel stayed taken";
    return nullptr;
  }

  Reply<v1::SendMessageResponse> reply(const std::string& conversation_id, const std::string& text) const {
    v1::SendMessageRequest request;
    request.set_conversation_id(conversation_id);
    request.set_text(text);
    return admin_->call(&v1::ConversationService::Stub::SendMessage, request);
  }

  // (message seq -> statuses) of the conversation's DeliveryUpdated events, in order.
  std::map<uint64_t, std::vector<v1::DeliveryStatus>> delivery_updates(const std::string& conversation_id) const {
    std::map<uint64_t, std::vector<v1::DeliveryStatus>> out;
    auto context = admin_->get_context(conversation_id);
    EXPECT_OK(context);
    for (const auto& event : context->events()) {
      if (event.has_delivery_updated()) {
        out[event.delivery_updated().message_seq()].push_back(event.delivery_updated().status());
      }
    }
    return out;
  }

  std::vector<std::string> message_texts(const std::string& conversation_id, v1::MessageDirection direction) const {
    std::vector<std::string> out;
    auto context = admin_->get_context(conversation_id);
    EXPECT_OK(context);
    for (const auto& event : context->events()) {
      if (event.has_message() && event.message().direction() == direction) out.push_back(event.message().text());
    }
    return out;
  }
};

TEST_F(AdapterServiceTest, RegistersAndAcknowledgesInboundOnceStored) {
  auto adapter = connect(kKiosk);
  ASSERT_TRUE(adapter);
  ASSERT_TRUE(adapter->send(inbound_message(2, "lobby-3", "Where is the pharmacy?", "k-1")));
  auto ack = adapter->answer_to(2);
  ASSERT_TRUE(ack);
  ASSERT_TRUE(ack->has_ingest_ack()) << ack->DebugString();
  EXPECT_FALSE(ack->ingest_ack().duplicate());

  // Acknowledged means durable: the message is there when the ack arrives.
  auto context = admin_->get_context(kKiosk, "lobby-3");
  ASSERT_OK(context);
  EXPECT_EQ(context->conversation().id(), ack->ingest_ack().conversation_id());
  EXPECT_EQ(context->conversation().active_channel(), kKiosk);
  EXPECT_EQ(message_texts(ack->ingest_ack().conversation_id(), v1::INBOUND),
            std::vector<std::string>{"Where is the pharmacy?"});

  // The same message again (a retry after a lost ack) is answered the same, adds nothing.
  ASSERT_TRUE(adapter->send(inbound_message(3, "lobby-3", "Where is the pharmacy?", "k-1")));
  auto again = adapter->answer_to(3);
  ASSERT_TRUE(again && again->has_ingest_ack());
  EXPECT_TRUE(again->ingest_ack().duplicate());
  EXPECT_EQ(again->ingest_ack().seq(), ack->ingest_ack().seq());
  EXPECT_EQ(message_texts(ack->ingest_ack().conversation_id(), v1::INBOUND).size(), 1u);
  expect_clean_end(adapter->finish());
}

TEST_F(AdapterServiceTest, DeliversRepliesAndRecordsDeliveredAndFailed) {
  auto adapter = connect(kKiosk);
  ASSERT_TRUE(adapter);
  ASSERT_TRUE(adapter->send(inbound_message(2, "lobby-1", "hello")));
  auto ack = adapter->answer_to(2);
  ASSERT_TRUE(ack && ack->has_ingest_ack());
  const std::string conversation = ack->ingest_ack().conversation_id();

  auto first = reply(conversation, "Second floor, on the left");
  ASSERT_OK(first);
  EXPECT_EQ(first->channel(), kKiosk);
  auto second = reply(conversation, "Open until 8 pm");
  ASSERT_OK(second);
  ASSERT_TRUE(adapter->wait_outbound(2));
  const auto& out1 = adapter->outbound[0];
  const auto& out2 = adapter->outbound[1];
  EXPECT_EQ(out1.text(), "Second floor, on the left");
  EXPECT_EQ(out1.channel(), kKiosk);
  EXPECT_EQ(out1.address(), "lobby-1");
  EXPECT_EQ(out1.conversation_id(), conversation);
  EXPECT_EQ(out1.seq(), first->seq());
  EXPECT_EQ(out2.seq(), second->seq());
  EXPECT_NE(out1.outbound_id(), out2.outbound_id());

  ASSERT_TRUE(adapter->send(report_message(3, out1.outbound_id(), v1::DELIVERED)));
  auto delivered = adapter->answer_to(3);
  ASSERT_TRUE(delivered);
  EXPECT_TRUE(delivered->has_ack()) << delivered->DebugString();
  ASSERT_TRUE(adapter->send(report_message(4, out2.outbound_id(), v1::FAILED, "screen switched off")));
  auto failed = adapter->answer_to(4);
  ASSERT_TRUE(failed);
  EXPECT_TRUE(failed->has_ack()) << failed->DebugString();

  // Acknowledged means durable: both statuses are on the timeline.
  auto updates = delivery_updates(conversation);
  EXPECT_EQ(updates[first->seq()], std::vector<v1::DeliveryStatus>{v1::DELIVERED});
  EXPECT_EQ(updates[second->seq()], std::vector<v1::DeliveryStatus>{v1::FAILED});
  expect_clean_end(adapter->finish());
}

TEST_F(AdapterServiceTest, FailureToRetryIsDeliveredAgainWithTheSameId) {
  auto adapter = connect(kKiosk);
  ASSERT_TRUE(adapter);
  ASSERT_TRUE(adapter->send(inbound_message(2, "lobby-2", "hello")));
  auto ack = adapter->answer_to(2);
  ASSERT_TRUE(ack && ack->has_ingest_ack());
  ASSERT_OK(reply(ack->ingest_ack().conversation_id(), "One moment"));
  ASSERT_TRUE(adapter->wait_outbound(1));
  ASSERT_TRUE(adapter->send(report_message(3, adapter->outbound[0].outbound_id(), v1::FAILED, "printer busy", true)));
  auto answer = adapter->answer_to(3);
  ASSERT_TRUE(answer && answer->has_ack()) << (answer ? answer->DebugString() : "stream ended");
  // After the backoff (first_retry_delay, 1 s) it comes again, with the same id.
  ASSERT_TRUE(adapter->wait_outbound(2));
  EXPECT_EQ(adapter->outbound[1].outbound_id(), adapter->outbound[0].outbound_id());
  expect_clean_end(adapter->finish());
}

TEST_F(AdapterServiceTest, NeverAnsweringAdapterIsHeldToItsInFlightBound) {
  auto adapter = connect(kKiosk, 2);
  ASSERT_TRUE(adapter);
  ASSERT_TRUE(adapter->send(inbound_message(2, "lobby-4", "hello")));
  auto ack = adapter->answer_to(2);
  ASSERT_TRUE(ack && ack->has_ingest_ack());
  const std::string conversation = ack->ingest_ack().conversation_id();
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 5; ++i) {
    auto sent = reply(conversation, "reply " + std::to_string(i));
    ASSERT_OK(sent);
    seqs.push_back(sent->seq());
  }
  // A barrier: every outbound message the server would send now is queued on the
  // stream before the answer to an inbound message that reaches the router after them.
  uint64_t correlation = 10;
  auto barrier = [&] {
    ++correlation;
    EXPECT_TRUE(adapter->send(inbound_message(correlation, "lobby-4", "still there?")));
    auto answer = adapter->answer_to(correlation);
    EXPECT_TRUE(answer && answer->has_ingest_ack());
  };
  barrier();
  ASSERT_EQ(adapter->outbound.size(), 2u) << "two in flight, the rest wait";
  EXPECT_EQ(adapter->outbound[0].seq(), seqs[0]);
  EXPECT_EQ(adapter->outbound[1].seq(), seqs[1]);

  // Each answer lets exactly one more through, in order.
  ASSERT_TRUE(adapter->send(report_message(20, adapter->outbound[0].outbound_id(), v1::DELIVERED)));
  ASSERT_TRUE(adapter->answer_to(20));
  barrier();
  ASSERT_EQ(adapter->outbound.size(), 3u);
  EXPECT_EQ(adapter->outbound[2].seq(), seqs[2]);
  expect_clean_end(adapter->finish());
}

TEST_F(AdapterServiceTest, DroppedStreamLosesNothingAndDoublesNothing) {
  std::string conversation;
  std::vector<uint64_t> seqs;
  std::string answered_id;
  {
    auto adapter = connect(kKiosk, 2);
    ASSERT_TRUE(adapter);
    ASSERT_TRUE(adapter->send(inbound_message(2, "lobby-5", "first", "m-1")));
    auto ack = adapter->answer_to(2);
    ASSERT_TRUE(ack && ack->has_ingest_ack());
    conversation = ack->ingest_ack().conversation_id();
    for (int i = 0; i < 3; ++i) {
      auto sent = reply(conversation, "reply " + std::to_string(i));
      ASSERT_OK(sent);
      seqs.push_back(sent->seq());
    }
    ASSERT_TRUE(adapter->wait_outbound(2));
    answered_id = adapter->outbound[0].outbound_id();
    ASSERT_TRUE(adapter->send(report_message(3, answered_id, v1::DELIVERED)));
    ASSERT_TRUE(adapter->answer_to(3));
    // An inbound message whose ack the adapter never sees, then the stream breaks.
    ASSERT_TRUE(adapter->send(inbound_message(4, "lobby-5", "second", "m-2")));
    adapter->cancel();
  }
  std::vector<std::string> first_ids;
  auto adapter = connect(kKiosk, 2);
  ASSERT_TRUE(adapter);
  // The adapter does not know whether "second" arrived, so it sends it again.
  ASSERT_TRUE(adapter->send(inbound_message(2, "lobby-5", "second", "m-2")));
  auto again = adapter->answer_to(2);
  ASSERT_TRUE(again && again->has_ingest_ack());
  ASSERT_TRUE(adapter->wait_outbound(2));
  std::set<uint64_t> redelivered;
  uint64_t correlation = 10;
  for (const auto& out : adapter->outbound) {
    EXPECT_NE(out.outbound_id(), answered_id) << "an answered message came again";
    redelivered.insert(out.seq());
    ASSERT_TRUE(adapter->send(report_message(++correlation, out.outbound_id(), v1::DELIVERED)));
    auto answer = adapter->answer_to(correlation);
    ASSERT_TRUE(answer && answer->has_ack()) << (answer ? answer->DebugString() : "stream ended");
  }
  EXPECT_EQ(redelivered, (std::set<uint64_t>{seqs[1], seqs[2]}));
  expect_clean_end(adapter->finish());

  EXPECT_EQ(message_texts(conversation, v1::INBOUND), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(message_texts(conversation, v1::OUTBOUND).size(), 3u);
  auto updates = delivery_updates(conversation);
  for (uint64_t seq : seqs) EXPECT_EQ(updates[seq], std::vector<v1::DeliveryStatus>{v1::DELIVERED}) << seq;
}

TEST_F(AdapterServiceTest, RepliesWaitForAnAdapterAndFollowItWhenItRegisters) {
  auto first = admin_->ingest(kKiosk, "lobby-6", "hello");
  ASSERT_OK(first);
  auto sent = reply(first->conversation_id(), "sorry for the wait");
  ASSERT_OK(sent);
  EXPECT_EQ(sent->status(), v1::PENDING);
  EXPECT_NE(sent->detail(), "") << "no adapter carries kiosk yet";
  auto adapter = connect(kKiosk);
  ASSERT_TRUE(adapter);
  ASSERT_TRUE(adapter->wait_outbound(1));
  EXPECT_EQ(adapter->outbound[0].seq(), sent->seq());
  expect_clean_end(adapter->finish());
}

TEST_F(AdapterServiceTest, SecondAdapterForAChannelIsRefusedAndTheFirstCarriesOn) {
  auto first = connect(kKiosk);
  ASSERT_TRUE(first);
  AdapterConnection second(channel_, kAdapterKey);
  ASSERT_TRUE(second.send(register_message(kKiosk)));
  EXPECT_FALSE(second.read());
  EXPECT_EQ(second.finish().error_code(), grpc::StatusCode::ALREADY_EXISTS);

  ASSERT_TRUE(first->send(inbound_message(2, "lobby-7", "still working")));
  auto ack = first->answer_to(2);
  ASSERT_TRUE(ack && ack->has_ingest_ack());
  expect_clean_end(first->finish());
}

TEST_F(AdapterServiceTest, KeysWithoutTheAdapterRoleAreRefused) {
  AdapterConnection anonymous(channel_, "");
  anonymous.send(register_message(kKiosk));
  EXPECT_EQ(anonymous.finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  AdapterConnection wrong_key(channel_, "not-a-key");
  wrong_key.send(register_message(kKiosk));
  EXPECT_EQ(wrong_key.finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  AdapterConnection agent(channel_, kAgentKey);
  agent.send(register_message(kKiosk));
  EXPECT_EQ(agent.finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Nothing was registered: a reply to a kiosk customer finds no adapter.
  auto first = admin_->ingest(kKiosk, "lobby-8", "hello");
  ASSERT_OK(first);
  auto sent = reply(first->conversation_id(), "hi");
  ASSERT_OK(sent);
  EXPECT_NE(sent->detail(), "");
}

TEST_F(AdapterServiceTest, StreamThatDoesNotStartWithRegisterIsRefused) {
  AdapterConnection adapter(channel_, kAdapterKey);
  ASSERT_TRUE(adapter.send(inbound_message(1, "lobby-9", "hello")));
  const auto status = adapter.finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(status);
  EXPECT_NE(status.error_message().find("register"), std::string::npos) << status.error_message();

  AdapterConnection bad_name(channel_, kAdapterKey);
  ASSERT_TRUE(bad_name.send(register_message("Kiosk Lobby!")));
  EXPECT_EQ(bad_name.finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  auto all = admin_->list_conversations();
  ASSERT_OK(all);
  EXPECT_EQ(all->conversations_size(), 0) << "nothing was ingested";
}

TEST_F(AdapterServiceTest, BadMessagesAreAnsweredWithAnErrorAndChangeNothing) {
  auto adapter = connect(kKiosk);
  ASSERT_TRUE(adapter);
  auto expect_error = [&](const v1::AdapterUpstream& message, grpc::StatusCode code) {
    ASSERT_TRUE(adapter->send(message));
    auto answer = adapter->answer_to(message.correlation_id());
    ASSERT_TRUE(answer);
    EXPECT_TRUE(answer->has_error()) << answer->DebugString();
    EXPECT_EQ(answer->error_code(), static_cast<int>(code)) << answer->error();
  };
  expect_error(inbound_message(2, "lobby-10", std::string(kMaxTextBytes + 1, 'x')), grpc::StatusCode::INVALID_ARGUMENT);
  expect_error(inbound_message(3, "", "no address"), grpc::StatusCode::INVALID_ARGUMENT);
  auto other_channel = inbound_message(4, "ana@example.org", "hello");
  other_channel.mutable_inbound()->set_channel("email");
  expect_error(other_channel, grpc::StatusCode::INVALID_ARGUMENT);
  expect_error(report_message(5, "ob_nope", v1::DELIVERED), grpc::StatusCode::NOT_FOUND);
  expect_error(report_message(6, "ob_nope", v1::PENDING), grpc::StatusCode::INVALID_ARGUMENT);
  expect_error(report_message(7, "ob_nope", static_cast<v1::DeliveryStatus>(42)), grpc::StatusCode::INVALID_ARGUMENT);
  expect_error(report_message(8, "ob_nope", v1::DELIVERED, "", true), grpc::StatusCode::INVALID_ARGUMENT);
  expect_error(register_message("other"), grpc::StatusCode::FAILED_PRECONDITION);
  v1::AdapterUpstream empty;
  empty.set_correlation_id(9);
  expect_error(empty, grpc::StatusCode::INVALID_ARGUMENT);

  auto all = admin_->list_conversations();
  ASSERT_OK(all);
  EXPECT_EQ(all->conversations_size(), 0) << "nothing was ingested";
  // The stream goes on after each of them.
  ASSERT_TRUE(adapter->send(inbound_message(10, "lobby-10", "a good one")));
  auto ack = adapter->answer_to(10);
  ASSERT_TRUE(ack && ack->has_ingest_ack());
  expect_clean_end(adapter->finish());
}

TEST_F(AdapterServiceTest, SynchronousChannelTakesRepliesOnlyDuringALiveSession) {
  auto adapter = connect(kKiosk, 0, /*synchronous=*/true);
  ASSERT_TRUE(adapter);
  ASSERT_TRUE(adapter->send(inbound_message(2, "lobby-11", "hello")));
  auto ack = adapter->answer_to(2);
  ASSERT_TRUE(ack && ack->has_ingest_ack());
  auto refused = reply(ack->ingest_ack().conversation_id(), "are you there?");
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(refused.status);

  v1::AdapterUpstream session;
  session.set_correlation_id(3);
  session.mutable_session()->set_address("lobby-11");
  session.mutable_session()->set_live(true);
  ASSERT_TRUE(adapter->send(session));
  auto applied = adapter->answer_to(3);
  ASSERT_TRUE(applied && applied->has_ack());
  auto sent = reply(ack->ingest_ack().conversation_id(), "welcome");
  ASSERT_OK(sent);
  ASSERT_TRUE(adapter->wait_outbound(1));
  EXPECT_EQ(adapter->outbound[0].text(), "welcome");
  expect_clean_end(adapter->finish());
}

TEST_F(AdapterServiceTest, ShutdownEndsAConnectedAdapterAndExitsCleanly) {
  auto adapter = connect(kKiosk, 1);
  ASSERT_TRUE(adapter);
  ASSERT_TRUE(adapter->send(inbound_message(2, "lobby-12", "hello")));
  auto ack = adapter->answer_to(2);
  ASSERT_TRUE(ack && ack->has_ingest_ack());
  ASSERT_OK(reply(ack->ingest_ack().conversation_id(), "one"));
  ASSERT_OK(reply(ack->ingest_ack().conversation_id(), "two"));  // waits behind the first
  ASSERT_TRUE(adapter->wait_outbound(1));
  admin_.reset();
  channel_.reset();
  EXPECT_EQ(daemon_.terminate(), std::optional<int>(0)) << "SIGTERM with an adapter connected drains and exits 0";
  EXPECT_FALSE(adapter->read());
  EXPECT_FALSE(adapter->finish().ok());
}

}  // namespace
}  // namespace switchboard::testing
