#include "convert.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <type_traits>
#include <variant>

namespace switchboard::daemon {
namespace {

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};

template <typename Map>
void copy_map(const std::map<std::string, std::string>& from, Map& to) {
  for (const auto& [key, value] : from) to[key] = value;
}

template <typename Map>
std::map<std::string, std::string> to_std_map(const Map& from) {
  return {from.begin(), from.end()};
}

grpc::StatusCode code_of(model::ErrorCode code) {
  switch (code) {
    case model::ErrorCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case model::ErrorCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case model::ErrorCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case model::ErrorCode::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case model::ErrorCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case model::ErrorCode::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case model::ErrorCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case model::ErrorCode::kAborted:
      return grpc::StatusCode::ABORTED;
  }
  return grpc::StatusCode::INTERNAL;
}

v1::MessageDirection direction_of(model::Direction direction) {
  switch (direction) {
    case model::Direction::kInbound:
      return v1::INBOUND;
    case model::Direction::kOutbound:
      return v1::OUTBOUND;
    case model::Direction::kNote:
      return v1::NOTE;
  }
  return v1::MESSAGE_DIRECTION_UNSPECIFIED;
}

void fill_message(const model::Message& message, v1::Message& out) {
  out.set_direction(direction_of(message.direction));
  out.set_channel(message.channel);
  out.set_address(message.address);
  out.set_text(message.text);
  for (const auto& attachment : message.attachments) {
    auto& a = *out.add_attachments();
    a.set_url(attachment.url);
    a.set_content_type(attachment.content_type);
    a.set_filename(attachment.filename);
    a.set_size_bytes(attachment.size_bytes);
  }
  out.set_external_id(message.external_id);
  out.set_status(to_proto(message.status));
  out.set_author_id(message.author_id);
  copy_map(message.metadata, *out.mutable_metadata());
}

// Fills the `kind` oneof of an Event from the router's EventBody.
void fill_kind(const model::EventBody& body, v1::Event& out) {
  std::visit(Overloaded{
                 [&](const model::Message& m) { fill_message(m, *out.mutable_message()); },
                 [&](const model::StateChanged& e) {
                   auto& k = *out.mutable_state_changed();
                   k.set_from(to_proto(e.from));
                   k.set_to(to_proto(e.to));
                   k.set_trigger(e.trigger);
                 },
                 [&](const model::ChannelSwitched& e) {
                   auto& k = *out.mutable_channel_switched();
                   k.set_from_channel(e.from_channel);
                   k.set_to_channel(e.to_channel);
                 },
                 [&](const model::Assigned& e) { out.mutable_assigned()->set_agent_id(e.agent_id); },
                 [&](const model::Unassigned& e) {
                   auto& k = *out.mutable_unassigned();
                   k.set_agent_id(e.agent_id);
                   k.set_reason(e.reason);
                 },
                 [&](const model::Transferred& e) {
                   auto& k = *out.mutable_transferred();
                   k.set_from_agent_id(e.from_agent_id);
                   k.set_to_agent_id(e.to_agent_id);
                   k.set_to_queue(e.to_queue);
                   k.set_reason(e.reason);
                   k.set_transfer_count(e.transfer_count);
                 },
                 [&](const model::HandedOff& e) {
                   auto& k = *out.mutable_handed_off();
                   k.set_reason(e.reason);
                   k.set_queue(e.queue);
                 },
                 [&](const model::Snoozed& e) { to_proto(e.until, *out.mutable_snoozed()->mutable_until()); },
                 [&](const model::Woke&) { out.mutable_woke(); },
                 [&](const model::Resolved& e) { out.mutable_resolved()->set_by(e.by); },
                 [&](const model::Reopened& e) { out.mutable_reopened()->set_reopen_count(e.reopen_count); },
                 [&](const model::Closed&) { out.mutable_closed(); },
                 [&](const model::ConversationOpened& e) {
                   auto& k = *out.mutable_opened();
                   k.set_contact_id(e.contact_id);
                   k.set_queue(e.queue);
                   k.set_previous_conversation_id(e.previous_conversation_id);
                 },
                 [&](const model::AttributesChanged& e) {
                   auto& k = *out.mutable_attributes_changed();
                   copy_map(e.set, *k.mutable_set());
                   for (const auto& key : e.removed) k.add_removed(key);
                 },
                 [&](const model::LabelsChanged& e) {
                   auto& k = *out.mutable_labels_changed();  // set even when every label was cleared
                   for (const auto& label : e.labels) k.add_labels(label);
                 },
                 [&](const model::PriorityChanged& e) { out.mutable_priority_changed()->set_priority(e.priority); },
                 [&](const model::DeliveryUpdated& e) {
                   auto& k = *out.mutable_delivery_updated();
                   k.set_message_seq(e.message_seq);
                   k.set_status(to_proto(e.status));
                   k.set_reason(e.reason);
                 },
                 [&](const model::ContactChanged& e) {
                   auto& k = *out.mutable_contact_changed();
                   k.set_contact_id(e.contact_id);
                   k.set_change(e.change);
                   k.set_other_contact_id(e.other_contact_id);
                 },
                 [&](const model::SlaWarning& e) {
                   auto& k = *out.mutable_sla_warning();
                   k.set_metric(e.metric);
                   to_proto(e.due_at, *k.mutable_due_at());
                 },
                 [&](const model::SlaBreached& e) {
                   auto& k = *out.mutable_sla_breached();
                   k.set_metric(e.metric);
                   to_proto(e.due_at, *k.mutable_due_at());
                 },
                 [&](const model::SurveyAnswered& e) {
                   auto& k = *out.mutable_survey_answered();
                   k.set_survey(e.survey);
                   k.set_score(e.score);
                 },
                 [&](const model::Overflowed& e) {
                   auto& k = *out.mutable_overflowed();
                   k.set_from_queue(e.from_queue);
                   k.set_to_queue(e.to_queue);
                 },
                 [&](const model::CallEvent& e) {
                   auto& k = *out.mutable_call();
                   k.set_call_id(e.call_id);
                   k.set_channel(e.channel);
                   k.set_address(e.address);
                   // CallState n is the model's enumerator n - 1 (the asserts below).
                   k.set_state(static_cast<v1::CallState>(static_cast<int>(e.state) + 1));
                   k.set_agent_id(e.agent_id);
                   k.set_duration_seconds(static_cast<uint32_t>(e.duration.count()));
                   k.set_reason(e.reason);
                 },
             },
             body);
}

// EventKind n names EventBody alternative n - 1; these pin the order so that a
// reordering of either breaks the build instead of the filters.
static_assert(std::is_same_v<std::variant_alternative_t<v1::EVENT_KIND_MESSAGE - 1, model::EventBody>, model::Message>);
static_assert(
    std::is_same_v<std::variant_alternative_t<v1::EVENT_KIND_HANDED_OFF - 1, model::EventBody>, model::HandedOff>);
static_assert(
    std::is_same_v<std::variant_alternative_t<v1::EVENT_KIND_OPENED - 1, model::EventBody>, model::ConversationOpened>);
static_assert(std::is_same_v<std::variant_alternative_t<v1::EVENT_KIND_CONTACT_CHANGED - 1, model::EventBody>,
                             model::ContactChanged>);
static_assert(
    std::is_same_v<std::variant_alternative_t<v1::EVENT_KIND_OVERFLOWED - 1, model::EventBody>, model::Overflowed>);
static_assert(std::is_same_v<std::variant_alternative_t<v1::EVENT_KIND_CALL - 1, model::EventBody>, model::CallEvent>);
static_assert(v1::EventKind_MAX == std::variant_size_v<model::EventBody>);
static_assert(v1::CALL_STATE_RINGING == static_cast<int>(model::CallState::kRinging) + 1 &&
              v1::CALL_STATE_MISSED == static_cast<int>(model::CallState::kMissed) + 1);

}  // namespace

grpc::Status to_grpc(const model::Error& error) { return {code_of(error.code), error.describe()}; }

grpc::Status invalid_argument(std::string_view field, std::string_view message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, std::string(field) + ": " + std::string(message)};
}

void to_proto(model::Timestamp time, google::protobuf::Timestamp& out) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  out.set_seconds(seconds.count());
  out.set_nanos(static_cast<int32_t>((since_epoch - seconds).count()));
}

model::Timestamp from_proto(const google::protobuf::Timestamp& time) {
  const auto since_epoch = std::chrono::seconds(time.seconds()) + std::chrono::nanoseconds(time.nanos());
  return model::Timestamp(std::chrono::duration_cast<model::Clock::duration>(since_epoch));
}

v1::ConversationState to_proto(model::ConversationState state) {
  switch (state) {
    case model::ConversationState::kNew:
      return v1::NEW;
    case model::ConversationState::kBot:
      return v1::BOT;
    case model::ConversationState::kQueued:
      return v1::QUEUED;
    case model::ConversationState::kAssigned:
      return v1::ASSIGNED;
    case model::ConversationState::kSnoozed:
      return v1::SNOOZED;
    case model::ConversationState::kResolved:
      return v1::RESOLVED;
    case model::ConversationState::kClosed:
      return v1::CLOSED;
  }
  return v1::CONVERSATION_STATE_UNSPECIFIED;
}

std::optional<model::ConversationState> from_proto(v1::ConversationState state) {
  switch (state) {
    case v1::NEW:
      return model::ConversationState::kNew;
    case v1::BOT:
      return model::ConversationState::kBot;
    case v1::QUEUED:
      return model::ConversationState::kQueued;
    case v1::ASSIGNED:
      return model::ConversationState::kAssigned;
    case v1::SNOOZED:
      return model::ConversationState::kSnoozed;
    case v1::RESOLVED:
      return model::ConversationState::kResolved;
    case v1::CLOSED:
      return model::ConversationState::kClosed;
    default:
      return std::nullopt;
  }
}

v1::DeliveryStatus to_proto(model::DeliveryStatus status) {
  switch (status) {
    case model::DeliveryStatus::kNone:
      return v1::DELIVERY_STATUS_UNSPECIFIED;
    case model::DeliveryStatus::kPending:
      return v1::PENDING;
    case model::DeliveryStatus::kSent:
      return v1::SENT;
    case model::DeliveryStatus::kDelivered:
      return v1::DELIVERED;
    case model::DeliveryStatus::kRead:
      return v1::READ;
    case model::DeliveryStatus::kFailed:
      return v1::FAILED;
  }
  return v1::DELIVERY_STATUS_UNSPECIFIED;
}

v1::AgentStatus to_proto(model::AgentStatus status) {
  switch (status) {
    case model::AgentStatus::kOnline:
      return v1::ONLINE;
    case model::AgentStatus::kAway:
      return v1::AWAY;
    case model::AgentStatus::kOffline:
      return v1::OFFLINE;
  }
  return v1::AGENT_STATUS_UNSPECIFIED;
}

std::optional<model::AgentStatus> from_proto(v1::AgentStatus status) {
  switch (status) {
    case v1::ONLINE:
      return model::AgentStatus::kOnline;
    case v1::AWAY:
      return model::AgentStatus::kAway;
    case v1::OFFLINE:
      return model::AgentStatus::kOffline;
    default:
      return std::nullopt;
  }
}

std::optional<std::size_t> event_body_index(v1::EventKind kind) {
  if (kind <= v1::EVENT_KIND_UNSPECIFIED || kind > v1::EventKind_MAX) return std::nullopt;
  return static_cast<std::size_t>(kind) - 1;
}

void to_proto(const model::Identity& identity, v1::Identity& out) {
  out.set_channel(identity.channel);
  out.set_address(identity.address);
  out.set_verified(identity.verified);
}

void to_proto(const model::Contact& contact, v1::Contact& out) {
  out.set_id(contact.id);
  out.set_display_name(contact.display_name);
  for (const auto& identity : contact.identities) to_proto(identity, *out.add_identities());
  copy_map(contact.extras->attributes, *out.mutable_attributes());
  to_proto(contact.created_at, *out.mutable_created_at());
  out.set_merged_into(contact.extras->merged_into);
}

void to_proto(const model::Conversation& conversation, v1::Conversation& out) {
  out.set_id(conversation.id);
  out.set_contact_id(conversation.contact_id);
  out.set_state(to_proto(conversation.state));
  out.set_active_channel(conversation.active_channel);
  for (const auto& leg : conversation.legs) {
    auto& l = *out.add_legs();
    l.set_channel(leg.channel);
    l.set_address(leg.address);
    to_proto(leg.first_at, *l.mutable_first_at());
    to_proto(leg.last_at, *l.mutable_last_at());
  }
  out.set_assignee_id(conversation.assignee_id);
  out.set_queue(conversation.queue);
  out.set_priority(conversation.priority);
  const model::ConversationExtras& extras = *conversation.extras;
  for (const auto& label : extras.labels) out.add_labels(label);
  copy_map(extras.attributes, *out.mutable_attributes());
  out.set_transfer_count(extras.transfer_count);
  out.set_reopen_count(extras.reopen_count);
  to_proto(conversation.created_at, *out.mutable_created_at());
  to_proto(conversation.updated_at, *out.mutable_updated_at());
  out.set_last_seq(conversation.last_seq);
  out.set_previous_conversation_id(extras.previous_conversation_id);
  if (extras.snoozed_until) to_proto(*extras.snoozed_until, *out.mutable_snoozed_until());
  if (conversation.resolved_at) to_proto(*conversation.resolved_at, *out.mutable_resolved_at());
  for (const auto& clock : conversation.sla) {
    auto& k = *out.add_sla();
    k.set_metric(model::to_string(clock.metric));
    to_proto(clock.started_at, *k.mutable_started_at());
    k.set_paused(!clock.running_since);
    k.set_warned(clock.warned);
    k.set_breached(clock.breached);
    if (clock.warning_at) to_proto(*clock.warning_at, *k.mutable_warning_at());
    if (clock.due_at) to_proto(*clock.due_at, *k.mutable_due_at());
    k.set_used_seconds(static_cast<uint32_t>(std::max<int64_t>(0, clock.used.count())));
  }
  out.set_csat(extras.csat);
  out.set_nps(extras.nps);
  if (conversation.queued_since) to_proto(*conversation.queued_since, *out.mutable_queued_since());
  if (conversation.first_response_at) to_proto(*conversation.first_response_at, *out.mutable_first_response_at());
}

void to_proto(const model::Event& event, v1::Event& out) {
  out.set_cursor(std::to_string(event.cursor));
  out.set_conversation_id(event.conversation_id);
  out.set_seq(event.seq);
  to_proto(event.at, *out.mutable_at());
  out.set_actor(event.actor);
  out.set_queue(event.queue);
  out.set_assignee_id(event.assignee_id);
  fill_kind(event.body, out);
}

void to_proto(const model::ConversationUpdate& update, v1::ConversationUpdate& out) {
  to_proto(update.conversation, *out.mutable_conversation());
  for (const auto& event : update.events) to_proto(event, *out.add_events());
}

void to_proto(const model::ConversationContext& context, v1::GetContextResponse& out) {
  to_proto(context.contact, *out.mutable_contact());
  to_proto(context.conversation, *out.mutable_conversation());
  for (const auto& event : context.events) to_proto(event, *out.add_events());
  for (const auto& earlier : context.earlier_conversations) to_proto(earlier, *out.add_earlier_conversations());
}

void to_proto(const model::IngestResult& result, v1::IngestResponse& out) {
  out.set_contact_id(result.contact_id);
  out.set_conversation_id(result.conversation_id);
  out.set_seq(result.seq);
  out.set_duplicate(result.duplicate);
}

void to_proto(const model::SendMessageResult& result, v1::SendMessageResponse& out) {
  out.set_seq(result.seq);
  out.set_channel(result.channel);
  out.set_status(to_proto(result.status));
  out.set_detail(result.detail);
  out.set_duplicate(result.duplicate);
}

void to_proto(const model::ConversationView& view, v1::Conversation& out) {
  to_proto(view.conversation, out);
  if (!view.place) return;
  out.set_queue_position(view.place->position);
  out.set_expected_wait_seconds(static_cast<uint32_t>(std::max<int64_t>(0, view.place->expected_wait.count())));
}

void to_proto(const model::AgentView& view, v1::Agent& out) {
  to_proto(view.agent, out);
  for (const auto& [kind, held] : view.load) (*out.mutable_load())[kind] = held;
}

void to_proto(const model::Agent& agent, v1::Agent& out) {
  out.set_id(agent.id);
  out.set_name(agent.name);
  out.set_status(to_proto(agent.status));
  for (const auto& skill : agent.skills) out.add_skills(skill);
  for (const auto& [channel, capacity] : agent.capacity) (*out.mutable_capacity())[channel] = capacity;
  out.set_wrap_up_seconds(static_cast<uint32_t>(agent.wrap_up.count()));
  out.set_sip_uri(agent.sip_uri);
  to_proto(agent.status_since, *out.mutable_status_since());
  if (agent.wrap_up_until) to_proto(*agent.wrap_up_until, *out.mutable_wrap_up_until());
  to_proto(agent.idle_since, *out.mutable_idle_since());
}

namespace {

uint32_t seconds_of(std::chrono::seconds s) { return static_cast<uint32_t>(std::max<int64_t>(0, s.count())); }

void to_proto(const model::SlaTarget& target, v1::SlaTarget& out) {
  out.set_target_seconds(seconds_of(target.target));
  out.set_warning_seconds(seconds_of(target.warning));
}

model::SlaTarget from_proto(const v1::SlaTarget& target) {
  return {std::chrono::seconds(target.target_seconds()), std::chrono::seconds(target.warning_seconds())};
}

}  // namespace

void to_proto(const model::BusinessHours& hours, v1::BusinessHours& out) {
  out.set_time_zone(hours.time_zone);
  for (const auto& h : hours.weekly) {
    auto& w = *out.add_weekly();
    w.set_weekday(h.weekday);
    w.set_open_minute(h.open_minute);
    w.set_close_minute(h.close_minute);
  }
  for (const auto& day : hours.holidays) out.add_holidays(day);
}

void to_proto(const model::SlaPolicy& sla, v1::SlaPolicy& out) {
  to_proto(sla.first_response, *out.mutable_first_response());
  to_proto(sla.next_response, *out.mutable_next_response());
  to_proto(sla.resolution, *out.mutable_resolution());
  out.set_pause_while_waiting_on_customer(sla.pause_while_waiting_on_customer);
}

model::BusinessHours from_proto(const v1::BusinessHours& hours) {
  model::BusinessHours out;
  out.time_zone = hours.time_zone();
  for (const auto& h : hours.weekly()) out.weekly.push_back({h.weekday(), h.open_minute(), h.close_minute()});
  out.holidays.assign(hours.holidays().begin(), hours.holidays().end());
  return out;
}

model::SlaPolicy from_proto(const v1::SlaPolicy& sla) {
  return {from_proto(sla.first_response()), from_proto(sla.next_response()), from_proto(sla.resolution()),
          sla.pause_while_waiting_on_customer()};
}

model::Survey from_proto(const v1::Survey& survey) {
  return {survey.kind(), survey.text(), std::chrono::seconds(survey.window_seconds())};
}

model::WaitUpdates from_proto(const v1::WaitUpdates& updates) {
  model::WaitUpdates out;
  out.enabled = updates.enabled();
  if (updates.interval_seconds() != 0) out.interval = std::chrono::seconds(updates.interval_seconds());
  out.text = updates.text();
  return out;
}

model::QueueRule from_proto(const v1::QueueRule& rule) {
  return {rule.order(), rule.channel(), rule.address(), rule.label(), rule.attribute()};
}

void to_proto(const model::Queue& queue, v1::Queue& out) {
  out.set_name(queue.name);
  out.set_strategy(queue.strategy);
  for (const auto& skill : queue.required_skills) out.add_required_skills(skill);
  out.set_bot_id(queue.bot_id);
  out.set_overflow_queue(queue.overflow_queue);
  out.set_overflow_after_seconds(static_cast<uint32_t>(queue.overflow_after.count()));
  if (!queue.business_hours.time_zone.empty()) to_proto(queue.business_hours, *out.mutable_business_hours());
  to_proto(queue.sla, *out.mutable_sla());
  out.set_out_of_hours_reply(queue.out_of_hours_reply);
  if (!queue.survey.kind.empty()) {
    auto& survey = *out.mutable_survey();
    survey.set_kind(queue.survey.kind);
    survey.set_text(queue.survey.text);
    survey.set_window_seconds(seconds_of(queue.survey.window));
  }
  for (const auto& rule : queue.rules) {
    auto& r = *out.add_rules();
    r.set_order(rule.order);
    r.set_channel(rule.channel);
    r.set_address(rule.address);
    r.set_label(rule.label);
    r.set_attribute(rule.attribute);
  }
  if (queue.wait_updates.enabled) {
    auto& updates = *out.mutable_wait_updates();
    updates.set_enabled(true);
    updates.set_interval_seconds(seconds_of(queue.wait_updates.interval));
    updates.set_text(queue.wait_updates.text);
  }
  out.set_last_assigned_agent(queue.last_assigned_agent);
}

void to_proto(const model::QueueStats& stats, v1::QueueStats& out) {
  out.set_queue(stats.queue);
  for (const auto& [state, count] : stats.conversations_by_state)
    (*out.mutable_conversations_by_state())[state] = count;
  out.set_agents_online(stats.agents_online);
  out.set_waiting(stats.waiting);
  out.set_longest_wait_seconds(seconds_of(stats.longest_wait));
  out.set_expected_wait_seconds(seconds_of(stats.expected_wait));
  out.set_open_now(stats.open_now);
  for (const auto& w : stats.next_waiting) {
    auto& n = *out.add_next_waiting();
    n.set_conversation_id(w.conversation_id);
    n.set_position(w.position);
    n.set_waited_seconds(seconds_of(w.waited));
    n.set_expected_wait_seconds(seconds_of(w.expected_wait));
  }
  out.set_resolved(stats.resolved);
  out.set_first_contact_resolutions(stats.first_contact_resolutions);
  out.set_transfers(stats.transfers);
  out.set_reopens(stats.reopens);
  out.set_overflowed(stats.overflowed);
  out.set_sla_warnings(stats.sla_warnings);
  out.set_sla_breaches(stats.sla_breaches);
  out.set_average_first_response_seconds(seconds_of(stats.average_first_response));
  out.set_average_next_response_seconds(seconds_of(stats.average_next_response));
  out.set_average_resolution_seconds(seconds_of(stats.average_resolution));
  out.set_average_queue_wait_seconds(seconds_of(stats.average_queue_wait));
  out.set_average_handle_seconds(seconds_of(stats.average_handle));
  out.set_csat_average(stats.csat_average);
  out.set_csat_responses(stats.csat_responses);
  out.set_nps(stats.nps);
  out.set_nps_responses(stats.nps_responses);
}

model::Identity from_proto(const v1::Identity& identity) {
  return {identity.channel(), identity.address(), identity.verified()};
}

model::AttachmentRef from_proto(const v1::Attachment& attachment) {
  return {attachment.url(), attachment.content_type(), attachment.filename(), attachment.size_bytes()};
}

model::InboundMessage from_proto(const v1::InboundMessage& message) {
  model::InboundMessage out;
  out.channel = message.channel();
  out.address = message.address();
  out.external_id = message.external_id();
  out.text = message.text();
  out.display_name = message.display_name();
  if (message.has_sent_at()) out.sent_at = from_proto(message.sent_at());
  out.metadata = to_std_map(message.metadata());
  out.verified = message.verified();
  out.queue = message.queue();
  return out;
}

model::Queue from_proto(const v1::Queue& queue) {
  model::Queue out;
  out.name = queue.name();
  if (!queue.strategy().empty()) out.strategy = queue.strategy();
  out.required_skills.assign(queue.required_skills().begin(), queue.required_skills().end());
  out.bot_id = queue.bot_id();
  out.overflow_queue = queue.overflow_queue();
  out.overflow_after = std::chrono::seconds(queue.overflow_after_seconds());
  out.business_hours = from_proto(queue.business_hours());
  out.sla = from_proto(queue.sla());
  out.out_of_hours_reply = queue.out_of_hours_reply();
  out.survey = from_proto(queue.survey());
  out.wait_updates = from_proto(queue.wait_updates());
  for (const auto& rule : queue.rules()) out.rules.push_back(from_proto(rule));
  return out;
}

model::Agent from_proto(const v1::Agent& agent) {
  model::Agent out;
  out.id = agent.id();
  out.name = agent.name();
  out.status = from_proto(agent.status()).value_or(model::AgentStatus::kOffline);
  out.skills.assign(agent.skills().begin(), agent.skills().end());
  out.capacity = {agent.capacity().begin(), agent.capacity().end()};
  out.wrap_up = std::chrono::seconds(agent.wrap_up_seconds());
  out.sip_uri = agent.sip_uri();
  return out;
}

}  // namespace switchboard::daemon
