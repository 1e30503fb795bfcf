// Contacts and their identities: lookup, linking, merge and its undo, erasure.
// A merge is refused when it would leave one contact with two open conversations,
// and records exactly what it moved so that unmerge puts back just that.

#include <algorithm>
#include <utility>

#include <switchboard/router/desk.h>

#include "desk_state.h"

namespace switchboard::router {
namespace {

void sort_by_id(absl::InlinedVector<CompactKey, 1>& ids) { std::sort(ids.begin(), ids.end()); }

// As absl::string_views, which absl hashes itself (see hash_text).
std::size_t hash_of(std::string_view channel, std::string_view address) {
  return absl::HashOf(absl::string_view(channel.data(), channel.size()),
                      absl::string_view(address.data(), address.size()));
}

}  // namespace

IdentityOwners::Name IdentityOwners::name_of(const Identity& identity) {
  const std::string_view channel = identity.channel;
  const std::string_view address = identity.address;
  return {channel, address, hash_of(channel, address)};
}

bool IdentityOwners::Same::holds(const Entry& entry, const Name& name) {
  if (entry.hash != name.hash) return false;
  const auto& listed = entry.owner->data.identities;
  return std::any_of(listed.begin(), listed.end(),
                     [&](const Identity& i) { return i.channel == name.channel && i.address == name.address; });
}

ContactSlot* IdentityOwners::find(std::string_view channel, std::string_view address) const {
  const Name name{channel, address, hash_of(channel, address)};
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->owner;
}

void IdentityOwners::set(const Identity& identity, ContactSlot* owner) {
  const Name name = name_of(identity);
  // Built only when there is no entry: one found changes hands in place.
  auto it = entries_.lazy_emplace(name, [&](const auto& make) { make(Entry{owner, name.hash}); });
  it->owner = owner;
}

void IdentityOwners::erase(const Identity& identity, const ContactSlot* only_from) {
  auto it = entries_.find(name_of(identity));
  if (it != entries_.end() && (only_from == nullptr || it->owner == only_from)) entries_.erase(it);
}

Result<Contact> Desk::contact(const std::string& contact_id) const {
  auto c = state_->find_contact(contact_id);
  if (!c) return c.error();
  return **c;
}

Result<Contact> Desk::find_contact(const Identity& identity) const {
  auto id = normalizer_.normalize(identity.channel, identity.address, identity.verified, "identity.address");
  if (!id) return id.error();
  const ContactSlot* owner = state_->identity_owner.find(*id);
  if (owner == nullptr) return not_found("identity", "no contact has " + id->key());
  return owner->data;
}

Result<Contact> Desk::update_contact(const std::string& contact_id, const ContactUpdate& update, Commit& out) {
  State& s = *state_;
  const Limits& limits = options_.limits;
  auto contact = s.find_contact(contact_id);
  if (!contact) return contact.error();
  if (update.display_name.size() > limits.max_display_name_bytes || !valid_utf8(update.display_name)) {
    return invalid_argument("display_name",
                            "longer than " + std::to_string(limits.max_display_name_bytes) + " bytes or not UTF-8");
  }
  auto next = apply_attributes((*contact)->extras->attributes, update.set_attributes, update.remove_attributes, limits,
                               "set_attributes");
  if (!next) return next.error();
  Contact& c = **contact;
  if (!update.display_name.empty()) c.display_name = update.display_name;
  c.extras.edit().attributes = std::move(next.value());
  s.save(c, out);
  return c;
}

namespace {

// Tells the contact's current conversation, if any, what happened to the contact.
void note_on_timeline(Desk::State& s, const std::string& contact_id, ContactChanged change, const std::string& actor,
                      Timestamp at, Commit& out) {
  ConversationSlot* cur = s.current_of(contact_id);
  if (cur == nullptr) return;
  s.append(cur->data, std::move(change), actor, at, out);
  s.save(*cur, out);
}

}  // namespace

Result<Contact> Desk::link_identity(const std::string& contact_id, const Identity& identity, const std::string& actor,
                                    Commit& out) {
  State& s = *state_;
  auto contact = s.find_contact(contact_id);
  if (!contact) return contact.error();
  Contact& c = **contact;
  if (const std::string& merged_into = c.extras->merged_into; !merged_into.empty()) {
    return failed_precondition("contact " + c.id + " is merged into " + merged_into + "; link to that one");
  }
  auto id = normalizer_.normalize(identity.channel, identity.address, identity.verified, "identity.address");
  if (!id) return id.error();
  if (const ContactSlot* owner = s.identity_owner.find(*id)) {
    if (&owner->data == &c) return c;  // already linked: linking again changes nothing
    return already_exists("identity", id->key() + " belongs to contact " + owner->data.id +
                                          "; use MergeContacts to bring the two together");
  }
  if (c.identities.size() >= options_.limits.max_identities_per_contact) {
    return Error{ErrorCode::kResourceExhausted, "identity",
                 "a contact has at most " + std::to_string(options_.limits.max_identities_per_contact) + " identities"};
  }
  c.identities.push_back(*id);
  s.identity_owner.set(*id, &s.contact_at(c.id));
  s.save(c, out);
  note_on_timeline(s, c.id, ContactChanged{c.id, "linked", {}}, actor, now_(), out);
  return c;
}

Result<Contact> Desk::unlink_identity(const std::string& contact_id, const Identity& identity, const std::string& actor,
                                      Commit& out) {
  State& s = *state_;
  auto contact = s.find_contact(contact_id);
  if (!contact) return contact.error();
  Contact& c = **contact;
  auto id = normalizer_.normalize(identity.channel, identity.address, identity.verified, "identity.address");
  if (!id) return id.error();
  auto it = std::find(c.identities.begin(), c.identities.end(), *id);
  if (it == c.identities.end()) return not_found("identity", id->key() + " is not linked to contact " + c.id);
  s.identity_owner.erase(*id);  // while the contact lists it, so that it is found
  c.identities.erase(it);
  s.save(c, out);
  note_on_timeline(s, c.id, ContactChanged{c.id, "unlinked", {}}, actor, now_(), out);
  return c;
}

Result<MergeResult> Desk::merge_contacts(const std::string& target_id, const std::string& source_id,
                                         const std::string& actor, Commit& out) {
  State& s = *state_;
  auto target = s.find_contact(target_id, "target_contact_id");
  if (!target) return target.error();
  auto source = s.find_contact(source_id, "source_contact_id");
  if (!source) return source.error();
  Contact& t = **target;
  Contact& src = **source;
  if (t.id == src.id) return invalid_argument("source_contact_id", "is the target itself");
  const std::string& t_merged_into = t.extras->merged_into;
  const std::string& src_merged_into = src.extras->merged_into;
  if (!t_merged_into.empty() || !src_merged_into.empty()) {
    return failed_precondition("contact " + (t_merged_into.empty() ? src.id : t.id) + " is already merged into " +
                               (t_merged_into.empty() ? src_merged_into : t_merged_into));
  }
  ContactSlot& mine = s.contact_at(t.id);
  ContactSlot& theirs = s.contact_at(src.id);
  if (mine.current != nullptr && theirs.current != nullptr) {
    return failed_precondition("both contacts have a conversation that is not closed (" + mine.current->data.id + ", " +
                               theirs.current->data.id + "); resolve and close one first, or transfer its work");
  }
  if (t.identities.size() + src.identities.size() > options_.limits.max_identities_per_contact) {
    return Error{ErrorCode::kResourceExhausted, "source_contact_id",
                 "the merged contact would have too many identities"};
  }

  Merge record{
      s.ids.next("mg_", now_()), t.id, src.id, {src.identities.begin(), src.identities.end()}, {}, false, false};
  for (const auto& id : src.identities) s.identity_owner.set(id, &mine);
  t.identities.insert(t.identities.end(), src.identities.begin(), src.identities.end());
  src.identities.clear();
  if (t.display_name.empty() && !src.display_name.empty()) {
    t.display_name = src.display_name;
    record.took_display_name = true;
  }
  for (const auto& id : theirs.conversations) {
    ConversationSlot& moved = s.slot_at(id);
    moved.data.contact_id = t.id;
    s.save(moved, out);
  }
  for (const auto& id : theirs.conversations) record.moved_conversations.emplace_back(id.view());
  mine.conversations.insert(mine.conversations.end(), theirs.conversations.begin(), theirs.conversations.end());
  sort_by_id(mine.conversations);  // ids grow with time: this keeps "latest" meaningful
  theirs.conversations.clear();
  if (theirs.current != nullptr) mine.current = std::exchange(theirs.current, nullptr);
  src.extras.edit().merged_into = t.id;
  s.save(t, out);
  s.save(src, out);
  note_on_timeline(s, t.id, ContactChanged{t.id, "merged", src.id}, actor, now_(), out);
  MergeResult result{t, record.id};
  out.merges.push_back(record);
  s.merges.emplace(record.id, std::move(record));
  return result;
}

Result<UnmergeResult> Desk::unmerge_contact(const std::string& merge_id, const std::string& actor, Commit& out) {
  State& s = *state_;
  auto it = s.merges.find(merge_id);
  if (it == s.merges.end()) return not_found("merge_id", "no merge '" + merge_id + "'");
  Merge& record = it->second;
  if (record.undone) return failed_precondition("merge " + merge_id + " was already undone");
  auto target = s.find_contact(record.target_id);
  auto source = s.find_contact(record.source_id);
  if (!target || !source) return failed_precondition("a contact of merge " + merge_id + " was deleted since");
  Contact& t = **target;
  Contact& src = **source;
  ContactSlot& target_slot = s.contact_at(t.id);
  ContactSlot& source_slot = s.contact_at(src.id);

  // Put back what the merge moved and is still where the merge left it.
  for (const auto& id : record.moved_identities) {
    if (s.identity_owner.find(id) != &target_slot) continue;  // unlinked since
    s.identity_owner.set(id, &source_slot);
    t.identities.erase(std::remove(t.identities.begin(), t.identities.end(), id), t.identities.end());
    src.identities.push_back(id);
  }
  auto& mine = target_slot.conversations;
  auto& theirs = source_slot.conversations;
  for (const auto& id : record.moved_conversations) {
    ConversationSlot* slot = s.find_slot(id);
    if (slot == nullptr) continue;  // erased since
    slot->data.contact_id = src.id;
    mine.erase(std::remove(mine.begin(), mine.end(), id), mine.end());
    theirs.push_back(id);
    s.save(*slot, out);
  }
  sort_by_id(theirs);
  if (record.took_display_name) src.display_name = t.display_name, t.display_name.clear();
  src.extras.reset(&ContactExtras::merged_into);
  record.undone = true;
  out.merges.push_back(record);
  s.recompute_current(t.id);
  s.recompute_current(src.id);
  s.save(t, out);
  s.save(src, out);
  const Timestamp at = now_();
  note_on_timeline(s, t.id, ContactChanged{t.id, "unmerged", src.id}, actor, at, out);
  note_on_timeline(s, src.id, ContactChanged{src.id, "unmerged", t.id}, actor, at, out);
  return UnmergeResult{t, src};
}

Result<EraseResult> Desk::delete_contact(const std::string& contact_id, Commit& out) {
  State& s = *state_;
  auto contact = s.find_contact(contact_id);
  if (!contact) return contact.error();
  // Erasure covers the person, so the husks merged into them go too.
  std::vector<std::string> erase = {contact_id};
  for (const ContactSlot& slot : s.contacts) {
    if (slot.data.extras->merged_into == contact_id) erase.push_back(slot.data.id);
  }
  EraseResult result;
  for (const auto& id : erase) {
    const ContactSlot& gone = s.contact_at(id);
    for (const auto& identity : gone.data.identities) s.identity_owner.erase(identity);
    for (const auto& conversation_id : gone.conversations) {
      result.events += static_cast<uint32_t>(s.slot_at(conversation_id).data.last_seq);
      ++result.conversations;
      s.forget(conversation_id, now_());
      s.unindex_calls(s.slot_at(conversation_id).data);
      s.conversations.erase(s.conversations.find(conversation_id.view()));
      std::erase_if(s.outbox,
                    [&](const auto& entry) { return entry.second.conversation_id == conversation_id.view(); });
      out.erased_conversations.emplace_back(conversation_id.view());
    }
    s.contacts.erase(id);
    out.erased_contacts.push_back(id);
  }
  return result;
}

}  // namespace switchboard::router
