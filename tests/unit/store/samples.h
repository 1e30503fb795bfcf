#pragma once

// Records with every field set to something other than its default (checked by
// every_field_set), so that a store or codec that drops a field is caught.

#include <cstdint>
#include <string>
#include <vector>

#include <switchboard/router/store.h>

namespace switchboard::router::testing {

// A timestamp the codec keeps exactly (it stores microseconds).
Timestamp at_micros(int64_t micros);

// One body of each EventBody alternative, in the variant's order.
std::vector<EventBody> every_event_body();

Event sample_event(uint64_t cursor, const std::string& conversation_id, uint64_t seq, EventBody body);
// A message event; `text` tells events apart.
Event message_event(uint64_t cursor, const std::string& conversation_id, uint64_t seq, const std::string& text);

Contact sample_contact(const std::string& id);
Conversation sample_conversation(const std::string& id, const std::string& contact_id);
OutboxEntry sample_outbox(const std::string& outbound_id, const std::string& conversation_id,
                          DeliveryStatus status = DeliveryStatus::kPending);
Agent sample_agent(const std::string& id);
Queue sample_queue(const std::string& name);
Merge sample_merge(const std::string& id, const std::string& target_id, const std::string& source_id);
SeenInbound sample_seen(const std::string& external_id, const std::string& contact_id,
                        const std::string& conversation_id);

// Two customers (ct-1, ct-2) with a conversation (cv-1, cv-2), events (cursors 1..3),
// an outbound message and a redelivery answer each; ct-3 was merged into both.
Commit two_customers();

}  // namespace switchboard::router::testing
