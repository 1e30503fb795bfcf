// Start-up: rebuilds the Desk's indexes, lifecycle machines and deadlines from what
// the Store loaded, so a restart carries on as if nothing happened.

#include <algorithm>

#include <switchboard/router/desk.h>

#include "desk_state.h"

namespace switchboard::router {

void Desk::restore(StoredState stored) {
  State& s = *state_;
  s.next_cursor = stored.head + 1;
  for (auto& contact : stored.contacts) {
    for (const auto& identity : contact.identities) s.identity_owner[identity.key()] = contact.id;
    std::string id = contact.id;
    s.contacts[id] = std::move(contact);
  }
  std::sort(stored.conversations.begin(), stored.conversations.end(),
            [](const Conversation& a, const Conversation& b) { return a.id < b.id; });
  for (auto& c : stored.conversations) {
    if (c.state == ConversationState::kSnoozed && c.snoozed_until) {
      s.deadlines.emplace(*c.snoozed_until, Deadline{c.id, DeadlineKind::kWake});
    }
    if (c.state == ConversationState::kResolved && c.resolved_at) {
      s.deadlines.emplace(*c.resolved_at + options_.limits.reopen_window, Deadline{c.id, DeadlineKind::kClose});
    }
    s.conversations_of[c.contact_id].push_back(c.id);
    if (c.state != ConversationState::kClosed) s.current[c.contact_id] = c.id;  // ids sort by time: last wins
    std::string id = c.id;
    Lifecycle lifecycle(c.state);
    s.conversations.emplace(std::move(id), ConversationSlot{std::move(c), std::move(lifecycle)});
  }
  for (auto& entry : stored.outbox) {
    std::string id = entry.outbound_id;
    s.outbox[id] = std::move(entry);
  }
  for (auto& agent : stored.agents) {
    std::string id = agent.id;
    s.agents[id] = std::move(agent);
  }
  for (auto& queue : stored.queues) {
    std::string name = queue.name;
    s.queues[name] = std::move(queue);
  }
  for (auto& merge : stored.merges) {
    std::string id = merge.id;
    s.merges[id] = std::move(merge);
  }
  for (auto& seen : stored.inbound_seen) {
    s.inbound_seen.remember(seen.channel + '\0' + seen.external_id, std::move(seen.result));
  }
  s.restore_routing(now_());  // queue order, loads, SLA, overflow and wrap-up deadlines
}

std::vector<OutboxEntry> Desk::pending_deliveries() const {
  std::vector<OutboxEntry> out;
  for (const auto& [_, entry] : state_->outbox) {
    if (entry.status == DeliveryStatus::kPending) out.push_back(entry);
  }
  return out;
}

}  // namespace switchboard::router
