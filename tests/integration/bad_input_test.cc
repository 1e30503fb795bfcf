// Bad input is refused with the field named, and changes nothing (DESIGN.md "The gRPC API").

#include "fixture.h"

namespace switchboard::testing {
namespace {

class BadInputTest : public SwitchboarddTest {
 protected:
  void SetUp() override {
    SwitchboarddTest::SetUp();
    if (HasFatalFailure()) return;
    auto in = admin_->ingest("chat", "visitor-ok", "a good message");
    ASSERT_OK(in);
    conversation_ = in->conversation_id();
    auto now = admin_->get_conversation(conversation_);
    ASSERT_OK(now);
    last_seq_ = now->last_seq();
  }

  // The refusal has `code` and names `field` first; then nothing has changed.
  void expect_refused(const grpc::Status& status, grpc::StatusCode code, const std::string& field) {
    EXPECT_EQ(status.error_code(), code) << describe(status);
    EXPECT_EQ(status.error_message().rfind(field + ": ", 0), 0u)
        << "'" << status.error_message() << "' names " << field;
    auto all = admin_->list_conversations();
    ASSERT_OK(all);
    EXPECT_EQ(all->conversations_size(), 1);
    auto now = admin_->get_conversation(conversation_);
    ASSERT_OK(now);
    EXPECT_EQ(now->last_seq(), last_seq_);
  }

  void expect_invalid(const grpc::Status& status, const std::string& field) {
    expect_refused(status, grpc::StatusCode::INVALID_ARGUMENT, field);
  }

  std::string conversation_;
  uint64_t last_seq_ = 0;
};

TEST_F(BadInputTest, EmptyText) { expect_invalid(admin_->ingest("chat", "visitor-x", "").status, "message.text"); }

TEST_F(BadInputTest, OversizedText) {
  expect_invalid(admin_->ingest("chat", "visitor-x", std::string(kMaxTextBytes + 1, 'a')).status, "message.text");
  v1::SendMessageRequest reply;
  reply.set_conversation_id(conversation_);
  reply.set_text(std::string(kMaxTextBytes + 1, 'b'));
  expect_invalid(admin_->call(&v1::ConversationService::Stub::SendMessage, reply).status, "text");
}

TEST_F(BadInputTest, UnknownConversationIsNotFound) {
  expect_refused(admin_->get_conversation("cv_does_not_exist").status, grpc::StatusCode::NOT_FOUND, "conversation_id");
  expect_refused(admin_->resolve("cv_does_not_exist").status, grpc::StatusCode::NOT_FOUND, "conversation_id");
}

TEST_F(BadInputTest, MalformedEmail) {
  expect_invalid(admin_->ingest("email", "not-an-email", "hello").status, "message.address");
}

TEST_F(BadInputTest, MalformedPhone) {
  expect_invalid(admin_->ingest("phone", "call me maybe", "hello").status, "message.address");
}

TEST_F(BadInputTest, BadChannelName) {
  expect_invalid(admin_->ingest("Bad Channel!", "someone", "hello").status, "message.channel");
  expect_invalid(admin_->ingest("", "someone", "hello").status, "message.channel");
}

TEST_F(BadInputTest, MissingFields) {
  expect_invalid(admin_->call(&v1::IngestService::Stub::Ingest, v1::IngestRequest{}).status, "message");
  expect_invalid(admin_->get_conversation("").status, "conversation_id");
  expect_invalid(admin_->call(&v1::ConversationService::Stub::GetContext, v1::GetContextRequest{}).status, "key");
  v1::SnoozeRequest snooze;
  snooze.set_conversation_id(conversation_);
  expect_invalid(admin_->call(&v1::ConversationService::Stub::Snooze, snooze).status, "until");
  snooze.mutable_until()->set_seconds(1);  // 1970
  expect_invalid(admin_->call(&v1::ConversationService::Stub::Snooze, snooze).status, "until");
  v1::TransferRequest transfer;
  transfer.set_conversation_id(conversation_);
  expect_invalid(admin_->call(&v1::ConversationService::Stub::Transfer, transfer).status, "target");
  expect_invalid(admin_->link_identity("", "email", "a@example.org").status, "contact_id");
}

}  // namespace
}  // namespace switchboard::testing
