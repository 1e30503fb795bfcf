// Start-up and other nodes: rebuilds the Desk's indexes and deadlines from records as
// the Store holds them, so a restart carries on as if nothing happened, and a node
// sharing its store with others sees what they did.

#include <algorithm>
#include <thread>

#include <switchboard/router/desk.h>
#include <switchboard/router/thread_name.h>

#include "desk_state.h"
#include "hand_off_queue.h"

namespace switchboard::router {

void Desk::State::put(Contact contact) {
  ContactSlot& slot = contact_slot(contact.id);
  for (const auto& identity : slot.data.identities) identity_owner.erase(identity, &slot);
  slot.data = std::move(contact);
  slot.has_record = true;
  for (const auto& identity : slot.data.identities) identity_owner.set(identity, &slot);
}

void Desk::State::put(Conversation c, std::chrono::seconds reopen_window) {
  // Deadlines are checked when due (run_due_timers skips stale ones), so adding the
  // ones this state needs is enough; old ones fall away by themselves.
  if (c.state == ConversationState::kSnoozed && c.extras->snoozed_until) {
    deadlines.emplace(*c.extras->snoozed_until, Deadline{c.id, DeadlineKind::kWake});
  }
  if (c.state == ConversationState::kResolved && c.resolved_at) {
    deadlines.emplace(*c.resolved_at + reopen_window, Deadline{c.id, DeadlineKind::kClose});
  }
  // Start-up puts conversations in id order: each then goes at the end, no search.
  auto at = conversations.empty() || conversations.rbegin()->data.id < c.id ? conversations.end()
                                                                            : conversations.lower_bound(c.id);
  const bool known = at != conversations.end() && at->data.id == c.id;
  if (known) {
    if (const std::string& previous_contact = at->data.contact_id; previous_contact != c.contact_id) {
      detach(previous_contact, c.id);
    }
    unindex_calls(at->data);
  }
  // Ids sort by creation time: keep each contact's list oldest first.
  ContactSlot& owner = contact_slot(c.contact_id);  // without a record until its contact arrives
  auto& ids = owner.conversations;
  if (ids.empty() || ids.back() < c.id) {
    ids.push_back(c.id);
  } else if (auto place = std::lower_bound(ids.begin(), ids.end(), c.id); *place != c.id) {
    ids.insert(place, CompactKey(c.id));
  }
  index_calls(c);
  const bool latest = ids.back() == c.id;
  const bool not_closed = c.state != ConversationState::kClosed;
  if (known) {
    held(*at).data = std::move(c);  // the same id: its place holds
  } else {
    at = conversations.emplace_hint(at, ConversationSlot{std::move(c)});
  }
  // The contact's current conversation is its latest unless that one is Closed; an
  // older one changing leaves it as it was.
  if (!latest) return;
  owner.current = not_closed ? &held(*at) : nullptr;
}

void Desk::State::drop_conversation(std::string_view id) {
  auto it = conversations.find(id);
  if (it == conversations.end()) return;
  const std::string contact_id = it->data.contact_id;
  unindex_calls(it->data);
  leave_lane(held(*it));
  conversations.erase(it);
  detach(contact_id, std::string(id));
}

void Desk::State::drop_contact(const std::string& id) {
  ContactSlot* slot = find_contact_slot(id);
  if (slot == nullptr || !slot->has_record) return;
  const auto owned = slot->conversations;  // a copy: dropping each one changes the list
  for (const auto& conversation_id : owned) drop_conversation(conversation_id);
  for (const auto& identity : slot->data.identities) identity_owner.erase(identity, slot);
  contacts.erase(id);
}

void Desk::restore(StoredState stored) {
  restore_part(std::move(stored));
  finish_restore();
}

void Desk::restore_part(StoredState part) {
  State& s = *state_;
  s.next_cursor = std::max(s.next_cursor, part.head + 1);
  s.put_all(std::move(part), {}, options_.limits.reopen_window);
}

void Desk::finish_restore() {
  state_->restore_routing(now_());  // queue order, loads, SLA, overflow and wrap-up deadlines
}

Result<uint64_t> restore_from(Store& store, Desk& desk, std::size_t inbound_seen_limit) {
  constexpr std::size_t kPartsAhead = 4;
  HandOffQueue<StoredState> parts(kPartsAhead);
  Status read = ok_status();
  std::thread reader([&] {
    name_this_thread("sb-load");
    read = store.load_in_parts(inbound_seen_limit, [&parts](StoredState part) { parts.push(std::move(part)); });
    parts.close();
  });
  uint64_t position = 0;
  while (auto part = parts.pop()) {
    position = part->position;
    desk.restore_part(std::move(*part));
  }
  reader.join();
  if (!read) return read.error();
  desk.finish_restore();
  return position;
}

void Desk::absorb(StoredState stored, const RecordKeys& gone) {
  State& s = *state_;
  const Timestamp now = now_();
  for (const auto& id : gone.conversations) s.forget(id, now);
  std::vector<std::string> taken_in;
  for (const auto& c : stored.conversations) taken_in.push_back(c.id);
  s.put_all(std::move(stored), gone, options_.limits.reopen_window);
  for (const auto& id : taken_in) {
    if (const ConversationSlot* slot = s.find_slot(id)) s.follow(slot->data, now);
  }
}

void Desk::State::put_all(StoredState stored, const RecordKeys& gone, std::chrono::seconds reopen_window) {
  for (const auto& id : gone.conversations) drop_conversation(id);
  for (const auto& id : gone.contacts) drop_contact(id);
  for (const auto& id : gone.outbox) outbox.erase(id);
  for (const auto& id : gone.agents) agents.erase(id);
  for (const auto& name : gone.queues) queues.erase(name);
  for (const auto& id : gone.merges) merges.erase(id);
  for (const auto& key : gone.inbound_seen) inbound_seen.forget(key);

  for (auto& contact : stored.contacts) put(std::move(contact));
  const auto by_id = [](const Conversation& a, const Conversation& b) { return a.id < b.id; };
  if (!std::is_sorted(stored.conversations.begin(), stored.conversations.end(), by_id)) {
    std::sort(stored.conversations.begin(), stored.conversations.end(), by_id);
  }
  for (auto& c : stored.conversations) put(std::move(c), reopen_window);
  for (auto& entry : stored.outbox) {
    index_receipts(entry);
    std::string id = entry.outbound_id;
    outbox[id] = std::move(entry);
  }
  for (auto& agent : stored.agents) {
    std::string id = agent.id;
    agents[id] = std::move(agent);
  }
  for (auto& queue : stored.queues) {
    std::string name = queue.name;
    queues[name] = std::move(queue);
  }
  for (auto& merge : stored.merges) {
    std::string id = merge.id;
    merges[id] = std::move(merge);
  }
  for (auto& seen : stored.inbound_seen) {
    inbound_seen.remember(seen.channel + '\0' + seen.external_id, std::move(seen.result));
  }
}

std::vector<OutboxEntry> Desk::pending_deliveries() const {
  std::vector<OutboxEntry> out;
  for (const auto& [_, entry] : state_->outbox) {
    const bool ours = entry.claimed_by.empty() || entry.claimed_by == options_.node_id;
    if (entry.status == DeliveryStatus::kPending && ours) out.push_back(entry);
  }
  return out;
}

}  // namespace switchboard::router
