// Which records a commit writes, by key: what a node sharing its store reloads after
// a conflict, and what the store refuses to write again until it has.

#include <switchboard/router/store.h>

namespace switchboard::router {

bool RecordKeys::empty() const {
  return contacts.empty() && conversations.empty() && outbox.empty() && agents.empty() && queues.empty() &&
         merges.empty() && identities.empty() && inbound_seen.empty();
}

RecordKeys keys_of(const Commit& commit) {
  RecordKeys keys;
  for (const auto& contact : commit.contacts) {
    keys.contacts.push_back(contact.id);
    for (const auto& identity : contact.identities) keys.identities.push_back(identity.key());
  }
  keys.contacts.insert(keys.contacts.end(), commit.erased_contacts.begin(), commit.erased_contacts.end());
  for (const auto& conversation : commit.conversations) keys.conversations.push_back(conversation.id);
  for (const auto& event : commit.events) keys.conversations.push_back(event.conversation_id);
  keys.conversations.insert(keys.conversations.end(), commit.erased_conversations.begin(),
                            commit.erased_conversations.end());
  for (const auto& entry : commit.outbox) keys.outbox.push_back(entry.outbound_id);
  for (const auto& agent : commit.agents) keys.agents.push_back(agent.id);
  for (const auto& queue : commit.queues) keys.queues.push_back(queue.name);
  for (const auto& merge : commit.merges) keys.merges.push_back(merge.id);
  for (const auto& seen : commit.inbound_seen) keys.inbound_seen.push_back(seen.channel + '\0' + seen.external_id);
  return keys;
}

}  // namespace switchboard::router
