#include "client.h"

namespace switchboard::testing {
namespace {

void set_auth_and_deadline(grpc::ClientContext& context, const std::string& key, std::chrono::seconds timeout) {
  if (!key.empty()) context.AddMetadata("authorization", "Bearer " + key);
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

}  // namespace

std::string describe(const grpc::Status& status) {
  static constexpr const char* kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const auto code = static_cast<std::size_t>(status.error_code());
  return std::string(code < std::size(kNames) ? kNames[code] : "?") + ": " + status.error_message();
}

Client::Client(std::shared_ptr<grpc::Channel> channel, std::string key)
    : key_(std::move(key)),
      ingest_(v1::IngestService::NewStub(channel)),
      conversations_(v1::ConversationService::NewStub(channel)),
      contacts_(v1::ContactService::NewStub(channel)),
      routing_(v1::RoutingService::NewStub(channel)),
      events_(v1::EventService::NewStub(channel)) {}

void Client::prepare(grpc::ClientContext& context) const { set_auth_and_deadline(context, key_, kCallTimeout); }

Reply<v1::IngestResponse> Client::ingest(const std::string& channel, const std::string& address,
                                         const std::string& text, const std::string& external_id,
                                         const std::string& queue) const {
  v1::IngestRequest request;
  auto& message = *request.mutable_message();
  message.set_channel(channel);
  message.set_address(address);
  message.set_text(text);
  message.set_external_id(external_id);
  message.set_queue(queue);
  return call(&v1::IngestService::Stub::Ingest, request);
}

Reply<v1::Conversation> Client::get_conversation(const std::string& id) const {
  v1::GetConversationRequest request;
  request.set_conversation_id(id);
  return call(&v1::ConversationService::Stub::GetConversation, request);
}

Reply<v1::ListConversationsResponse> Client::list_conversations() const {
  return call(&v1::ConversationService::Stub::ListConversations, v1::ListConversationsRequest{});
}

Reply<v1::GetContextResponse> Client::get_context(const std::string& conversation_id) const {
  v1::GetContextRequest request;
  request.set_conversation_id(conversation_id);
  return call(&v1::ConversationService::Stub::GetContext, request);
}

Reply<v1::GetContextResponse> Client::get_context(const std::string& channel, const std::string& address) const {
  v1::GetContextRequest request;
  request.mutable_identity()->set_channel(channel);
  request.mutable_identity()->set_address(address);
  return call(&v1::ConversationService::Stub::GetContext, request);
}

Reply<v1::Contact> Client::link_identity(const std::string& contact_id, const std::string& channel,
                                         const std::string& address) const {
  v1::LinkIdentityRequest request;
  request.set_contact_id(contact_id);
  request.mutable_identity()->set_channel(channel);
  request.mutable_identity()->set_address(address);
  return call(&v1::ContactService::Stub::LinkIdentity, request);
}

Reply<v1::ConversationUpdate> Client::resolve(const std::string& conversation_id) const {
  v1::ResolveRequest request;
  request.set_conversation_id(conversation_id);
  return call(&v1::ConversationService::Stub::Resolve, request);
}

Reply<v1::Agent> Client::online_agent(const std::string& id, const std::map<std::string, uint32_t>& capacity) const {
  v1::UpsertAgentRequest upsert;
  upsert.mutable_agent()->set_id(id);
  upsert.mutable_agent()->set_name("Agent " + id);
  for (const auto& [kind, n] : capacity) (*upsert.mutable_agent()->mutable_capacity())[kind] = n;
  if (auto created = call(&v1::RoutingService::Stub::UpsertAgent, upsert); !created.ok()) return created;
  v1::SetAgentStatusRequest status;
  status.set_agent_id(id);
  status.set_status(v1::ONLINE);
  return call(&v1::RoutingService::Stub::SetAgentStatus, status);
}

std::unique_ptr<EventStream> Client::subscribe(const v1::SubscribeRequest& request,
                                               std::chrono::seconds timeout) const {
  return std::make_unique<EventStream>(*events_, request, key_, timeout);
}

EventStream::EventStream(v1::EventService::Stub& stub, const v1::SubscribeRequest& request, const std::string& key,
                         std::chrono::seconds timeout) {
  set_auth_and_deadline(context_, key, timeout);
  reader_ = stub.Subscribe(&context_, request);
}

EventStream::~EventStream() {
  if (!finished_) {
    context_.TryCancel();
    reader_->Finish();
  }
}

std::optional<v1::Event> EventStream::next() {
  v1::Event event;
  if (finished_ || !reader_->Read(&event)) return std::nullopt;
  return event;
}

std::optional<v1::Event> EventStream::next_of(v1::Event::KindCase kind) {
  while (auto event = next()) {
    if (event->kind_case() == kind) return event;
  }
  return std::nullopt;
}

grpc::Status EventStream::finish() {
  finished_ = true;
  return reader_->Finish();
}

}  // namespace switchboard::testing
