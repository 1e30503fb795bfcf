#include "samples.h"

namespace switchboard::router::testing {

using std::chrono::seconds;

Timestamp at_micros(int64_t micros) {
  return Timestamp(std::chrono::duration_cast<Timestamp::duration>(std::chrono::microseconds(micros)));
}

namespace {

constexpr int64_t kMonday = 1'700'000'000'123'456;  // 2023-11-14, with microseconds

AttachmentRef sample_attachment() {
  return {.url = "https://files.example/a.png", .content_type = "image/png", .filename = "a.png", .size_bytes = 2048};
}

}  // namespace

std::vector<EventBody> every_event_body() {
  return {
      Message{.direction = Direction::kOutbound,
              .channel = "email",
              .address = "ana@example.com",
              .text = "Your order shipped \"today\" \xE2\x9C\x93\n",
              .attachments = {sample_attachment()},
              .external_id = "msg-1",
              .status = DeliveryStatus::kDelivered,
              .author_id = "agent-7",
              .metadata = {{"subject", "Order"}}},
      StateChanged{.from = ConversationState::kQueued, .to = ConversationState::kAssigned, .trigger = "assign"},
      ChannelSwitched{.from_channel = "chat", .to_channel = "email"},
      Assigned{.agent_id = "agent-7"},
      Unassigned{.agent_id = "agent-7", .reason = "went offline"},
      Transferred{.from_agent_id = "agent-7",
                  .to_agent_id = "agent-8",
                  .to_queue = "billing",
                  .reason = "refund",
                  .transfer_count = 2},
      HandedOff{.reason = "asked for a human", .queue = "support"},
      Snoozed{.until = at_micros(kMonday + 3'600'000'000)},
      Woke{},
      Resolved{.by = "agent-8"},
      Reopened{.reopen_count = 3},
      Closed{},
      ConversationOpened{.contact_id = "ct-1", .queue = "support", .previous_conversation_id = "cv-0"},
      AttributesChanged{.set = {{"tier", "gold"}}, .removed = {"trial"}},
      LabelsChanged{.labels = {"vip", "refund"}},
      PriorityChanged{.priority = -2},
      DeliveryUpdated{.message_seq = 4, .status = DeliveryStatus::kFailed, .reason = "mailbox full"},
      ContactChanged{.contact_id = "ct-1", .change = "merged", .other_contact_id = "ct-2"},
      SlaWarning{.metric = "frt", .due_at = at_micros(kMonday + 60'000'000)},
      SlaBreached{.metric = "rt", .due_at = at_micros(kMonday + 120'000'000)},
      SurveyAnswered{.survey = "csat", .score = 4},
      Overflowed{.from_queue = "support", .to_queue = "general"},
      CallEvent{.call_id = "a84b4c76e66710@pbx.example.org",
                .channel = "phone",
                .address = "+14155550100",
                .state = CallState::kEnded,
                .agent_id = "agent-7",
                .duration = seconds(184),
                .reason = "no-answer"},
  };
}

Event sample_event(uint64_t cursor, const std::string& conversation_id, uint64_t seq, EventBody body) {
  return {.cursor = cursor,
          .conversation_id = conversation_id,
          .seq = seq,
          .at = at_micros(kMonday + static_cast<int64_t>(cursor)),
          .actor = "agent-7",
          .queue = "support",
          .assignee_id = "agent-7",
          .body = std::move(body)};
}

Event message_event(uint64_t cursor, const std::string& conversation_id, uint64_t seq, const std::string& text) {
  Message message = std::get<Message>(every_event_body().front());
  message.text = text;
  return sample_event(cursor, conversation_id, seq, std::move(message));
}

Contact sample_contact(const std::string& id) {
  Contact c{.id = id,
            .display_name = "Ana " + id,
            .identities = {{.channel = "email", .address = id + "@example.com", .verified = true},
                           {.channel = "sms", .address = "+4915112345678", .verified = true}},
            .created_at = at_micros(kMonday)};
  c.extras.edit() = {.attributes = {{"plan", "pro"}}, .merged_into = "ct-target"};
  return c;
}

Conversation sample_conversation(const std::string& id, const std::string& contact_id) {
  Conversation c{.id = id,
                 .contact_id = contact_id,
                 .state = ConversationState::kSnoozed,
                 .priority = 3,
                 .active_channel = "email",
                 .legs = {{.channel = "email",
                           .address = "ana@example.com",
                           .first_at = at_micros(kMonday),
                           .last_at = at_micros(kMonday + 5)}},
                 .assignee_id = "agent-7",
                 .queue = "support",
                 .created_at = at_micros(kMonday),
                 .updated_at = at_micros(kMonday + 9),
                 .last_seq = 9,
                 .resolved_at = at_micros(kMonday + 7),
                 .last_inbound_at = at_micros(kMonday + 8),
                 .queued_since = at_micros(kMonday + 1),
                 .first_assigned_at = at_micros(kMonday + 2),
                 .first_response_at = at_micros(kMonday + 3),
                 .sla = {{.metric = SlaMetric::kResolution,
                          .warned = true,
                          .breached = true,
                          .started_at = at_micros(kMonday + 1),
                          .used = seconds(90),
                          .running_since = at_micros(kMonday + 4),
                          .warning_at = at_micros(kMonday + 5'000'000),
                          .due_at = at_micros(kMonday + 9'000'000)}}};
  c.extras.edit() = {.labels = {"vip"},
                     .attributes = {{"order", "A-17"}},
                     .transfer_count = 1,
                     .reopen_count = 2,
                     .previous_conversation_id = "cv-0",
                     .snoozed_until = at_micros(kMonday + 86'400'000'000),
                     .overflow_at = at_micros(kMonday + 600'000'000),
                     .auto_replied_at = at_micros(kMonday + 6),
                     .survey_kind = "nps",
                     .survey_until = at_micros(kMonday + 86'400'000'000),
                     .csat = 5,
                     .nps = 9,
                     .wait_update_at = at_micros(kMonday + 60'000'000),
                     .wait_update_position = 4,
                     .wait_update_expected = seconds(480),
                     .calls = {{.call_id = "CA0123456789abcdef",
                                .channel = "phone",
                                .state = CallState::kOnHold,
                                .agent_id = "agent-7",
                                .agent_sip_uri = "sip:agent-7@pbx.example.org",
                                .reason = "busy",
                                .seq = 6,
                                .last_seq = 8,
                                .started_at = at_micros(kMonday + 6)}}};
  return c;
}

OutboxEntry sample_outbox(const std::string& outbound_id, const std::string& conversation_id, DeliveryStatus status) {
  return {.outbound_id = outbound_id,
          .conversation_id = conversation_id,
          .seq = 5,
          .channel = "email",
          .address = "ana@example.com",
          .text = "Hello",
          .attachments = {sample_attachment()},
          .status = status,
          .attempts = 2,
          .claimed_by = "node-a",
          .external_id = "SM" + outbound_id,
          .sent_at = at_micros(1'700'000'100'000'000)};
}

Agent sample_agent(const std::string& id) {
  return {.id = id,
          .name = "Bo",
          .status = AgentStatus::kAway,
          .skills = {"billing", "de"},
          .capacity = {{"chat", 3}, {"voice", 1}},
          .wrap_up = seconds(30),
          .sip_uri = "sip:bo@pbx.example.org;transport=tcp",
          .status_since = at_micros(kMonday),
          .wrap_up_until = at_micros(kMonday + 30'000'000),
          .idle_since = at_micros(kMonday + 1)};
}

Queue sample_queue(const std::string& name) {
  return {
      .name = name,
      .strategy = "least_busy",
      .required_skills = {"billing"},
      .bot_id = "faq-bot",
      .overflow_queue = "general",
      .overflow_after = seconds(120),
      .business_hours = {.time_zone = "Europe/Berlin",
                         .weekly = {{.weekday = 1, .open_minute = 540, .close_minute = 1020}},
                         .holidays = {"2023-12-25"}},
      .sla = {.first_response = {.target = seconds(3600), .warning = seconds(2700)},
              .next_response = {.target = seconds(1800), .warning = seconds(1200)},
              .resolution = {.target = seconds(86400), .warning = seconds(72000)},
              .pause_while_waiting_on_customer = true},
      .out_of_hours_reply = "We are closed; we answer from {next_open}.",
      .survey = {.kind = "csat", .text = "How did we do? Reply 1-5.", .window = seconds(86400)},
      .wait_updates = {.enabled = true, .interval = seconds(300), .text = "You are number {position}."},
      .rules = {{.order = 1, .channel = "email", .address = "*@example.org", .label = "vip", .attribute = "tier=gold"}},
      .last_assigned_agent = "agent-7",
      .config_digest = "0123456789abcdef"};
}

Merge sample_merge(const std::string& id, const std::string& target_id, const std::string& source_id) {
  return {.id = id,
          .target_id = target_id,
          .source_id = source_id,
          .moved_identities = {{.channel = "chat", .address = "visitor-9", .verified = true}},
          .moved_conversations = {"cv-9"},
          .took_display_name = true,
          .undone = true};
}

SeenInbound sample_seen(const std::string& external_id, const std::string& contact_id,
                        const std::string& conversation_id) {
  return {.channel = "email",
          .external_id = external_id,
          .result = {.contact_id = contact_id, .conversation_id = conversation_id, .seq = 4, .duplicate = true}};
}

Commit two_customers() {
  return {.events = {message_event(1, "cv-1", 1, "from ana"), message_event(2, "cv-2", 1, "from bo"),
                     message_event(3, "cv-1", 2, "to ana")},
          .contacts = {sample_contact("ct-1"), sample_contact("ct-2"), sample_contact("ct-3")},
          .conversations = {sample_conversation("cv-1", "ct-1"), sample_conversation("cv-2", "ct-2")},
          .outbox = {sample_outbox("ob-1", "cv-1"), sample_outbox("ob-2", "cv-2")},
          .merges = {sample_merge("mg-1", "ct-1", "ct-3"), sample_merge("mg-2", "ct-2", "ct-3")},
          .inbound_seen = {sample_seen("msg-1", "ct-1", "cv-1"), sample_seen("msg-2", "ct-2", "cv-2")}};
}

}  // namespace switchboard::router::testing
