#pragma once

// A small gRPC client for the tests: one API key, real stubs, a deadline on every call
// so that a server that never answers fails the test instead of hanging it.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "switchboard/v1/contact.grpc.pb.h"
#include "switchboard/v1/conversation.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/ingest.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"

namespace switchboard::testing {

namespace v1 = ::switchboard::v1;

inline constexpr auto kCallTimeout = std::chrono::seconds(10);

// The status of a call and, when it is OK, its response.
template <typename Response>
struct Reply {
  grpc::Status status;
  Response value;

  bool ok() const { return status.ok(); }
  const Response* operator->() const { return &value; }
  const Response& operator*() const { return value; }
};

// For gtest messages: "NOT_FOUND: conversation_id: no conversation 'x'".
std::string describe(const grpc::Status& status);

class EventStream;

class Client {
 public:
  // `key` empty sends no authorization header.
  Client(std::shared_ptr<grpc::Channel> channel, std::string key);

  // Any unary RPC: call(&v1::IngestService::Stub::Ingest, request).
  template <typename Stub, typename Request, typename Response>
  Reply<Response> call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                       const Request& request) const {
    grpc::ClientContext context;
    prepare(context);
    Reply<Response> reply;
    reply.status = (stub<Stub>().*method)(&context, request, &reply.value);
    return reply;
  }

  // --- shorthands for what most tests do ----------------------------------------
  Reply<v1::IngestResponse> ingest(const std::string& channel, const std::string& address, const std::string& text,
                                   const std::string& external_id = "", const std::string& queue = "") const;
  Reply<v1::Conversation> get_conversation(const std::string& id) const;
  Reply<v1::ListConversationsResponse> list_conversations() const;
  Reply<v1::GetContextResponse> get_context(const std::string& conversation_id) const;
  Reply<v1::GetContextResponse> get_context(const std::string& channel, const std::string& address) const;
  Reply<v1::Contact> link_identity(const std::string& contact_id, const std::string& channel,
                                   const std::string& address) const;
  Reply<v1::ConversationUpdate> resolve(const std::string& conversation_id) const;
  // UpsertAgent + SetAgentStatus ONLINE. Without capacity the agent gets no automatic
  // offers (routing leaves them to Assign); with it, routing assigns by the queue's strategy.
  Reply<v1::Agent> online_agent(const std::string& id, const std::map<std::string, uint32_t>& capacity = {}) const;

  // Subscribe; the stream ends (or Read fails) after `timeout`.
  std::unique_ptr<EventStream> subscribe(const v1::SubscribeRequest& request,
                                         std::chrono::seconds timeout = kCallTimeout) const;

 private:
  void prepare(grpc::ClientContext& context) const;

  template <typename Stub>
  Stub& stub() const;

  std::string key_;
  std::unique_ptr<v1::IngestService::Stub> ingest_;
  std::unique_ptr<v1::ConversationService::Stub> conversations_;
  std::unique_ptr<v1::ContactService::Stub> contacts_;
  std::unique_ptr<v1::RoutingService::Stub> routing_;
  std::unique_ptr<v1::EventService::Stub> events_;
};

template <>
inline v1::IngestService::Stub& Client::stub() const {
  return *ingest_;
}
template <>
inline v1::ConversationService::Stub& Client::stub() const {
  return *conversations_;
}
template <>
inline v1::ContactService::Stub& Client::stub() const {
  return *contacts_;
}
template <>
inline v1::RoutingService::Stub& Client::stub() const {
  return *routing_;
}

// A Subscribe call in progress. Destroying it cancels the call.
class EventStream {
 public:
  EventStream(v1::EventService::Stub& stub, const v1::SubscribeRequest& request, const std::string& key,
              std::chrono::seconds timeout);
  ~EventStream();

  // The next event; nothing when the stream ended (see finish()).
  std::optional<v1::Event> next();
  // Reads until an event of `kind` arrives (others are skipped); nothing if the stream ends.
  std::optional<v1::Event> next_of(v1::Event::KindCase kind);
  // The status the server ended the stream with; call after next() gave nothing.
  grpc::Status finish();

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader_;
  bool finished_ = false;
};

}  // namespace switchboard::testing
