// API keys and roles, health and the refusals of each (DESIGN.md "Access").

#include <grpcpp/generic/generic_stub.h>

#include <future>

#include "fixture.h"

namespace switchboard::testing {
namespace {

using AccessTest = SwitchboarddTest;

TEST_F(AccessTest, CallsWithoutAValidKeyAreUnauthenticated) {
  for (const std::string key : {"", "not-a-key"}) {
    auto reply = client(key).list_conversations();
    EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << "key '" << key << "'";
  }
}

TEST_F(AccessTest, ServiceKeyReadsContextButMayNotResolve) {
  auto in = admin_->ingest("chat", "visitor-9", "hello");
  ASSERT_OK(in);
  const Client service = client(kServiceKey);

  auto denied = service.resolve(in->conversation_id());
  EXPECT_EQ(denied.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(denied.status);
  EXPECT_NE(denied.status.error_message().find("service"), std::string::npos);
  EXPECT_NE(denied.status.error_message().find("Resolve"), std::string::npos);

  auto context = service.get_context(in->conversation_id());
  ASSERT_OK(context);
  EXPECT_EQ(context->conversation().id(), in->conversation_id());
  auto still_open = admin_->get_conversation(in->conversation_id());
  ASSERT_OK(still_open);
  EXPECT_EQ(still_open->state(), v1::QUEUED);
}

TEST_F(AccessTest, AdapterKeyIngestsButReadsNothing) {
  const Client adapter = client(kAdapterKey);
  auto in = adapter.ingest("chat", "visitor-10", "from an adapter");
  ASSERT_OK(in);
  auto denied = adapter.get_conversation(in->conversation_id());
  EXPECT_EQ(denied.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(denied.status);
}

TEST_F(AccessTest, AgentKeyActsAsItsPrincipal) {
  auto in = admin_->ingest("chat", "visitor-11", "hello");
  ASSERT_OK(in);
  v1::AddNoteRequest note;
  note.set_conversation_id(in->conversation_id());
  note.set_text("checked the order");
  auto noted = client(kAgentKey).call(&v1::ConversationService::Stub::AddNote, note);
  ASSERT_OK(noted);
  ASSERT_GT(noted->events_size(), 0);
  EXPECT_EQ(noted->events(noted->events_size() - 1).actor(), "agent-a");

  v1::DeleteContactRequest erase;
  erase.set_contact_id(in->contact_id());
  auto denied = client(kAgentKey).call(&v1::ContactService::Stub::DeleteContact, erase);
  EXPECT_EQ(denied.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(denied.status);
}

TEST_F(AccessTest, HealthCheckIsServing) {
  // grpc.health.v1.HealthCheckRequest{} is empty on the wire; the response is
  // HealthCheckResponse{status = SERVING (1)}: field 1, varint 1.
  grpc::GenericStub stub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  grpc::ByteBuffer request;
  grpc::Slice empty;
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  const auto status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << describe(status);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace switchboard::testing
