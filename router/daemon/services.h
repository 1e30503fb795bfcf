#pragma once

// The gRPC services of switchboard.v1, on the callback API. Each handler checks the
// caller's key, validates what the router does not (required fields), hands the
// request to the Router and returns at once; the Router's callback finishes the call.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <memory>
#include <mutex>
#include <vector>

#include <switchboard/router/identity.h>
#include <switchboard/router/router.h>

#include "auth.h"
#include "in_flight.h"
#include "switchboard/v1/adapter.grpc.pb.h"
#include "switchboard/v1/contact.grpc.pb.h"
#include "switchboard/v1/conversation.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/ingest.grpc.pb.h"
#include "switchboard/v1/routing.grpc.pb.h"
#include "unary_call.h"

namespace switchboard::daemon {

namespace v1 = ::switchboard::v1;
using Ctx = grpc::CallbackServerContext;
using Unary = grpc::ServerUnaryReactor;

// What every service holds: the router it drives, the key check and the count of calls
// in flight. All outlive the gRPC server.
template <typename Generated, typename Base = typename Generated::CallbackService>
class ServiceBase : public Base {
 public:
  ServiceBase(router::Router& router, const Authenticator& auth, InFlight& in_flight)
      : router_(router), auth_(auth), in_flight_(in_flight) {}

 protected:
  // Admits a unary call to `method` ("Service.Method") and counts it until it finishes.
  UnaryCall start(Ctx* context, std::string_view method) { return UnaryCall(context, auth_, in_flight_, method); }

  router::Router& router_;
  const Authenticator& auth_;
  InFlight& in_flight_;
};

class IngestService final : public ServiceBase<v1::IngestService> {
 public:
  using ServiceBase::ServiceBase;
  Unary* Ingest(Ctx*, const v1::IngestRequest*, v1::IngestResponse*) override;
};

class ConversationService final : public ServiceBase<v1::ConversationService> {
 public:
  using ServiceBase::ServiceBase;
  Unary* GetConversation(Ctx*, const v1::GetConversationRequest*, v1::Conversation*) override;
  Unary* ListConversations(Ctx*, const v1::ListConversationsRequest*, v1::ListConversationsResponse*) override;
  Unary* GetContext(Ctx*, const v1::GetContextRequest*, v1::GetContextResponse*) override;
  Unary* SendMessage(Ctx*, const v1::SendMessageRequest*, v1::SendMessageResponse*) override;
  Unary* AddNote(Ctx*, const v1::AddNoteRequest*, v1::ConversationUpdate*) override;
  Unary* Assign(Ctx*, const v1::AssignRequest*, v1::ConversationUpdate*) override;
  Unary* Transfer(Ctx*, const v1::TransferRequest*, v1::ConversationUpdate*) override;
  Unary* Handoff(Ctx*, const v1::HandoffRequest*, v1::ConversationUpdate*) override;
  Unary* Snooze(Ctx*, const v1::SnoozeRequest*, v1::ConversationUpdate*) override;
  Unary* Resolve(Ctx*, const v1::ResolveRequest*, v1::ConversationUpdate*) override;
  Unary* Reopen(Ctx*, const v1::ReopenRequest*, v1::ConversationUpdate*) override;
  Unary* SetAttributes(Ctx*, const v1::SetAttributesRequest*, v1::ConversationUpdate*) override;
  Unary* SetLabels(Ctx*, const v1::SetLabelsRequest*, v1::ConversationUpdate*) override;
  Unary* SetPriority(Ctx*, const v1::SetPriorityRequest*, v1::ConversationUpdate*) override;
};

class ContactService final : public ServiceBase<v1::ContactService> {
 public:
  using ServiceBase::ServiceBase;
  Unary* GetContact(Ctx*, const v1::GetContactRequest*, v1::Contact*) override;
  Unary* FindContact(Ctx*, const v1::FindContactRequest*, v1::Contact*) override;
  Unary* UpdateContact(Ctx*, const v1::UpdateContactRequest*, v1::Contact*) override;
  Unary* LinkIdentity(Ctx*, const v1::LinkIdentityRequest*, v1::Contact*) override;
  Unary* UnlinkIdentity(Ctx*, const v1::UnlinkIdentityRequest*, v1::Contact*) override;
  Unary* MergeContacts(Ctx*, const v1::MergeContactsRequest*, v1::MergeContactsResponse*) override;
  Unary* UnmergeContact(Ctx*, const v1::UnmergeContactRequest*, v1::UnmergeContactResponse*) override;
  Unary* DeleteContact(Ctx*, const v1::DeleteContactRequest*, v1::DeleteContactResponse*) override;
};

class RoutingService final : public ServiceBase<v1::RoutingService> {
 public:
  using ServiceBase::ServiceBase;
  Unary* UpsertAgent(Ctx*, const v1::UpsertAgentRequest*, v1::Agent*) override;
  Unary* SetAgentStatus(Ctx*, const v1::SetAgentStatusRequest*, v1::Agent*) override;
  Unary* ListAgents(Ctx*, const v1::ListAgentsRequest*, v1::ListAgentsResponse*) override;
  Unary* UpsertQueue(Ctx*, const v1::UpsertQueueRequest*, v1::Queue*) override;
  Unary* ListQueues(Ctx*, const v1::ListQueuesRequest*, v1::ListQueuesResponse*) override;
  Unary* GetQueueStats(Ctx*, const v1::GetQueueStatsRequest*, v1::QueueStats*) override;
};

class SubscribeStream;

// Subscribe is registered raw: its request is parsed here, and each event is
// serialised once for every stream it is written to (event_service.cc).
class EventService final
    : public ServiceBase<v1::EventService,
                         v1::EventService::WithRawCallbackMethod_Subscribe<v1::EventService::Service>> {
 public:
  EventService(router::Router& router, const Authenticator& auth, InFlight& in_flight, boost::asio::io_context& io);
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(Ctx*, const grpc::ByteBuffer*) override;

  // Ends every open stream with UNAVAILABLE so that shutdown need not wait for
  // subscribers to leave; they resume from their last cursor elsewhere.
  void close_all();

 private:
  friend class SubscribeStream;
  struct Registry;
  class Encoded;  // each event's bytes, serialised once for all streams (event_service.cc)

  boost::asio::io_context& io_;
  std::shared_ptr<Registry> registry_;
  std::shared_ptr<Encoded> encoded_;
};

// Bounds of one AdapterService stream (config `limits.adapter_max_*`).
struct AdapterStreamLimits {
  std::size_t max_in_flight = 64;  // outbound messages unanswered at once
  std::size_t max_unacked = 1024;  // upstream messages read ahead of their answers
};

// AdapterService.Connect: one stream per out-of-process adapter (adapter_service.cc,
// docs/adapters.md). Each stream attaches a remote::RemoteAdapter to the router for
// its channel while it lasts.
class AdapterService final : public ServiceBase<v1::AdapterService> {
 public:
  AdapterService(router::Router& router, const Authenticator& auth, InFlight& in_flight, AdapterStreamLimits limits,
                 router::IdentityNormalizer normalizer)
      : ServiceBase(router, auth, in_flight), limits_(limits), normalizer_(std::move(normalizer)) {}
  grpc::ServerBidiReactor<v1::AdapterUpstream, v1::AdapterDownstream>* Connect(Ctx*) override;

 private:
  const AdapterStreamLimits limits_;
  const router::IdentityNormalizer normalizer_;
};

}  // namespace switchboard::daemon
