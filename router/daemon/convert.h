#pragma once

// Translation between the public API (switchboard.v1 protos) and the router's model.
// Pure functions, no state; the services call them on whatever thread they run on.

#include <grpcpp/support/status.h>

#include <optional>
#include <string_view>

#include <google/protobuf/timestamp.pb.h>
#include <switchboard/router/desk.h>
#include <switchboard/router/error.h>
#include <switchboard/router/event_bus.h>
#include <switchboard/router/model.h>
#include <switchboard/router/router.h>

#include "switchboard/v1/common.pb.h"
#include "switchboard/v1/contact.pb.h"
#include "switchboard/v1/conversation.pb.h"
#include "switchboard/v1/events.pb.h"
#include "switchboard/v1/ingest.pb.h"
#include "switchboard/v1/routing.pb.h"

namespace switchboard::daemon {

namespace v1 = ::switchboard::v1;
namespace model = ::switchboard::router;

// --- errors -------------------------------------------------------------------
grpc::Status to_grpc(const model::Error& error);
// INVALID_ARGUMENT "field: message", for checks made at the API's edge.
grpc::Status invalid_argument(std::string_view field, std::string_view message);

// --- time ---------------------------------------------------------------------
void to_proto(model::Timestamp time, google::protobuf::Timestamp& out);
model::Timestamp from_proto(const google::protobuf::Timestamp& time);

// --- enums --------------------------------------------------------------------
v1::ConversationState to_proto(model::ConversationState state);
std::optional<model::ConversationState> from_proto(v1::ConversationState state);
v1::DeliveryStatus to_proto(model::DeliveryStatus status);
v1::AgentStatus to_proto(model::AgentStatus status);
std::optional<model::AgentStatus> from_proto(v1::AgentStatus status);
// EventKind values name the alternatives of router::EventBody, in order.
std::optional<std::size_t> event_body_index(v1::EventKind kind);

// --- model -> proto -----------------------------------------------------------
void to_proto(const model::Identity& identity, v1::Identity& out);
void to_proto(const model::Contact& contact, v1::Contact& out);
void to_proto(const model::Conversation& conversation, v1::Conversation& out);
void to_proto(const model::ConversationView& view, v1::Conversation& out);  // with its place in line
void to_proto(const model::Event& event, v1::Event& out);
void to_proto(const model::ConversationUpdate& update, v1::ConversationUpdate& out);
void to_proto(const model::ConversationContext& context, v1::GetContextResponse& out);
void to_proto(const model::IngestResult& result, v1::IngestResponse& out);
void to_proto(const model::SendMessageResult& result, v1::SendMessageResponse& out);
void to_proto(const model::Agent& agent, v1::Agent& out);
void to_proto(const model::AgentView& view, v1::Agent& out);  // with its load
void to_proto(const model::Queue& queue, v1::Queue& out);
void to_proto(const model::BusinessHours& hours, v1::BusinessHours& out);
void to_proto(const model::SlaPolicy& sla, v1::SlaPolicy& out);
void to_proto(const model::QueueStats& stats, v1::QueueStats& out);

// --- proto -> model -----------------------------------------------------------
model::Identity from_proto(const v1::Identity& identity);
model::InboundMessage from_proto(const v1::InboundMessage& message);
model::AttachmentRef from_proto(const v1::Attachment& attachment);
model::Queue from_proto(const v1::Queue& queue);
model::BusinessHours from_proto(const v1::BusinessHours& hours);
model::SlaPolicy from_proto(const v1::SlaPolicy& sla);
model::Survey from_proto(const v1::Survey& survey);
model::QueueRule from_proto(const v1::QueueRule& rule);
model::WaitUpdates from_proto(const v1::WaitUpdates& updates);
// The status is validated by the caller (from_proto(AgentStatus)); unknown -> offline.
model::Agent from_proto(const v1::Agent& agent);

}  // namespace switchboard::daemon
