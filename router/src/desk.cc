// The Desk's message path: ingest, replies, delivery reports, timers and queries.
// Conversation commands are in desk_commands.cc, contacts in desk_contacts.cc.

#include <switchboard/router/desk.h>
#include <switchboard/router/identity.h>
#include <switchboard/router/utf8.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "desk_state.h"

namespace switchboard::router {
namespace {

std::string too_long(std::size_t limit) { return "longer than " + std::to_string(limit) + " bytes"; }

// `field` is a view, as in check_text: "message.metadata" was a malloc on every ingest.
Status check_map(const std::map<std::string, std::string>& map, std::size_t max_entries, const Limits& limits,
                 std::string_view field) {
  if (map.size() > max_entries) {
    return invalid_argument(std::string(field), "more than " + std::to_string(max_entries) + " entries");
  }
  for (const auto& [k, v] : map) {
    if (k.empty()) return invalid_argument(std::string(field), "empty key");
    if (k.size() > limits.max_attribute_bytes || v.size() > limits.max_attribute_bytes) {
      return invalid_argument(std::string(field) + "[" + k.substr(0, 64) + "]", too_long(limits.max_attribute_bytes));
    }
  }
  return ok_status();
}

void touch_leg(Conversation& c, const std::string& channel, const std::string& address, Timestamp at) {
  for (auto& leg : c.legs) {
    if (leg.channel == channel) {
      leg.address = address;
      leg.last_at = at;
      return;
    }
  }
  c.legs.push_back(ChannelLeg{channel, address, at, at});
}

// A number on a phone channel that the channel verified (WhatsApp: Meta checked that
// the customer holds it) is the same person as that number on another phone channel
// (they called, or texted): it joins that contact. Caller ids and SMS senders prove
// nothing, so only a verified newcomer is linked, and only to a number already known.
ContactSlot* contact_with_same_number(Desk::State& s, const Identity& identity) {
  if (!identity.verified || !is_phone_channel(identity.channel)) return nullptr;
  for (const std::string_view channel : {"phone", "sms", "whatsapp", "voice"}) {
    if (channel == identity.channel) continue;
    if (ContactSlot* owner = s.identity_owner.find(channel, identity.address)) return owner;
  }
  return nullptr;
}

}  // namespace

IdSource::IdSource(uint64_t seed) : random_(seed != 0 ? seed : std::random_device{}()) {}

std::string IdSource::next(const char* prefix, Timestamp at) {
  // 64 digits in ASCII order, so ids sort as the numbers they spell; URL-safe.
  static constexpr char kDigits[] = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  constexpr int64_t kMaxMs = (int64_t{1} << kMillisecondBits) - 1;
  const int64_t ms = std::clamp<int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count(), 0, kMaxMs);
  last_tail_ = ms == last_ms_ ? last_tail_ + 1 : static_cast<uint32_t>(random_() >> (64 - kRandomBits));
  last_ms_ = ms;
  unsigned __int128 value =
      static_cast<unsigned __int128>(ms) << kTailBits | (last_tail_ & ((uint32_t{1} << kTailBits) - 1));
  std::string id(prefix);
  const std::size_t start = id.size();
  id.resize(start + kDigitCount);
  for (std::size_t i = kDigitCount; i-- > 0; value >>= 6) id[start + i] = kDigits[static_cast<unsigned>(value & 63)];
  return id;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t length = utf8_sequence_length(s, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

Result<Attributes> apply_attributes(const Attributes& current, const Attributes& set,
                                    const std::vector<std::string>& remove, const Limits& limits,
                                    const std::string& field) {
  Attributes next = current;
  for (const auto& key : remove) next.erase(key);
  for (const auto& [k, v] : set) {
    if (k.empty() || k.size() > limits.max_attribute_bytes || v.size() > limits.max_attribute_bytes) {
      return invalid_argument(
          field + "[" + k.substr(0, 64) + "]",
          "keys must be 1 to " + std::to_string(limits.max_attribute_bytes) + " bytes, values at most as long");
    }
    next[k] = v;
  }
  if (next.size() > limits.max_attribute_entries) {
    return invalid_argument(field, "at most " + std::to_string(limits.max_attribute_entries) + " attributes");
  }
  return next;
}

Status check_text(const std::string& text, bool required, const Limits& limits, std::string_view field) {
  if (required && text.empty()) return invalid_argument(std::string(field), "required");
  if (text.size() > limits.max_text_bytes) return invalid_argument(std::string(field), too_long(limits.max_text_bytes));
  if (!valid_utf8(text)) return invalid_argument(std::string(field), "not valid UTF-8");
  return ok_status();
}

// --- State helpers --------------------------------------------------------------------

Result<ConversationSlot*> Desk::State::find_conversation(const std::string& id, const char* field) {
  if (id.empty()) return invalid_argument(field, "required");
  ConversationSlot* slot = find_slot(id);
  if (slot == nullptr) return not_found(field, "no conversation '" + id + "'");
  return slot;
}

ConversationSlot* Desk::State::find_slot(std::string_view id) {
  auto it = conversations.find(id);
  return it == conversations.end() ? nullptr : &held(*it);
}

ConversationSlot& Desk::State::slot_at(std::string_view id) {
  ConversationSlot* slot = find_slot(id);
  if (slot == nullptr) throw std::out_of_range("no conversation " + std::string(id));
  return *slot;
}

Result<Contact*> Desk::State::find_contact(const std::string& id, const char* field) {
  if (id.empty()) return invalid_argument(field, "required");
  ContactSlot* slot = find_contact_slot(id);
  if (slot == nullptr || !slot->has_record) return not_found(field, "no contact '" + id + "'");
  return &slot->data;
}

ContactSlot* Desk::State::find_contact_slot(std::string_view id) {
  auto it = contacts.find(id);
  return it == contacts.end() ? nullptr : &held(*it);
}

ContactSlot& Desk::State::contact_at(std::string_view id) {
  ContactSlot* slot = find_contact_slot(id);
  if (slot == nullptr) throw std::out_of_range("no contact " + std::string(id));
  return *slot;
}

ContactSlot& Desk::State::contact_slot(std::string_view id) {
  if (ContactSlot* slot = find_contact_slot(id)) return *slot;
  return held(*contacts.insert(ContactSlot{.data = {.id = std::string(id)}}).first);
}

bool Desk::State::agent_available(const std::string& agent_id) const {
  auto it = agents.find(agent_id);
  return it != agents.end() && it->second.available();
}

TriggerFacts Desk::State::facts_for(const Conversation& c) const {
  TriggerFacts facts;
  auto q = queues.find(c.queue);
  facts.queue_has_bot = q != queues.end() && !q->second.bot_id.empty();
  facts.assignee_available = !c.assignee_id.empty() && agent_available(c.assignee_id);
  return facts;
}

const Event& Desk::State::append(Conversation& c, EventBody body, const std::string& actor, Timestamp at, Commit& out) {
  c.updated_at = at;
  Event& e = out.events.emplace_back();
  e.cursor = next_cursor++;
  e.conversation_id = c.id;
  e.seq = ++c.last_seq;
  e.at = at;
  e.actor = actor;
  e.queue = c.queue;
  e.assignee_id = c.assignee_id;
  e.body = std::move(body);
  return e;
}

Result<Step> Desk::State::fire(ConversationSlot& slot, Trigger trigger, const TriggerFacts& facts,
                               const std::string& actor, Timestamp at, std::chrono::seconds reopen_window,
                               Commit& out) {
  Conversation& c = slot.data;
  const Step step = Lifecycle(c.state).fire(trigger, facts);
  if (!step.accepted) {
    return failed_precondition("conversation " + c.id + " is " + to_string(c.state) + "; " + to_string(trigger) +
                               " is not allowed there");
  }
  c.state = step.to;
  if (step.effects & kClearAssignee) c.assignee_id.clear();
  if (step.effects & kCountTransfer) ++c.extras.edit().transfer_count;
  if (step.effects & kStartReopenWindow) {
    c.resolved_at = at;
    c.extras.reset(&ConversationExtras::snoozed_until);
    deadlines.emplace(at + reopen_window, Deadline{c.id, DeadlineKind::kClose});
  }
  if (step.from == ConversationState::kSnoozed) c.extras.reset(&ConversationExtras::snoozed_until);
  if (step.effects & kCountReopen) {
    const uint32_t reopens = ++c.extras.edit().reopen_count;
    c.resolved_at.reset();
    append(c, Reopened{reopens}, actor, at, out);
  }
  if (step.from != step.to) append(c, StateChanged{step.from, step.to, to_string(trigger)}, actor, at, out);
  on_step(c, step, trigger, at, out);
  return step;
}

void Desk::State::close(ConversationSlot& slot, Timestamp at, Commit& out) {
  Conversation& c = slot.data;
  fire(slot, Trigger::kReopenWindowExpired, {}, "system", at, {}, out).value();
  append(c, Closed{}, "system", at, out);
  save(slot, out);
  if (ContactSlot* owner = find_contact_slot(c.contact_id); owner != nullptr && owner->current == &slot) {
    owner->current = nullptr;
  }
}

ConversationSlot* Desk::State::latest_of(const std::string& contact_id) {
  ContactSlot* owner = find_contact_slot(contact_id);
  if (owner == nullptr || owner->conversations.empty()) return nullptr;
  return &slot_at(owner->conversations.back());
}

ConversationSlot* Desk::State::current_of(const std::string& contact_id) {
  ContactSlot* owner = find_contact_slot(contact_id);
  return owner == nullptr ? nullptr : owner->current;
}

void Desk::State::recompute_current(const std::string& contact_id) {
  ContactSlot* owner = find_contact_slot(contact_id);
  if (owner == nullptr) return;
  ConversationSlot* latest = latest_of(contact_id);
  const bool open = latest && latest->data.state != ConversationState::kClosed;
  owner->current = open ? latest : nullptr;
}

void Desk::State::detach(const std::string& contact_id, const std::string& conversation_id) {
  ContactSlot* owner = find_contact_slot(contact_id);
  if (owner == nullptr) return;
  auto& ids = owner->conversations;
  ids.erase(std::remove(ids.begin(), ids.end(), conversation_id), ids.end());
  recompute_current(contact_id);
  if (!owner->has_record && ids.empty()) contacts.erase(contact_id);
}

ConversationSlot& Desk::State::join(Contact*& contact, ConversationSlot* slot, bool own_identity,
                                    const Identity& identity, const std::string& display_name, const std::string& queue,
                                    Timestamp at, std::chrono::seconds reopen_window, Commit& out) {
  bool contact_saved = true;
  if (contact == nullptr) {
    const std::string id = ids.next("ct_", at);
    ContactSlot& fresh =
        held(*contacts.insert(ContactSlot{.data = {id, display_name, {identity}, at}, .has_record = true}).first);
    contact = &fresh.data;
    identity_owner.set(identity, &fresh);
    save(*contact, out);
  } else if (own_identity && contact->display_name.empty() && !display_name.empty()) {
    contact->display_name = display_name;
    save(*contact, out);
  } else {
    contact_saved = false;
  }

  // Which conversation? The contact's current one, unless its reopen window ended.
  if (slot != nullptr && slot->data.state == ConversationState::kResolved && slot->data.resolved_at &&
      at > *slot->data.resolved_at + reopen_window) {
    close(*slot, at, out);
    slot = nullptr;
  }
  if (slot != nullptr) return *slot;
  const std::string id = ids.next("cv_", at);
  ConversationSlot fresh;
  fresh.data.id = id;
  fresh.data.contact_id = contact->id;
  fresh.data.queue = queue;
  fresh.data.created_at = at;
  if (ConversationSlot* previous = latest_of(contact->id)) {
    fresh.data.extras.edit().previous_conversation_id = previous->data.id;
  }
  slot = &held(*conversations.insert(std::move(fresh)).first);
  ContactSlot& owner = contact_at(contact->id);
  owner.conversations.push_back(id);
  owner.current = slot;
  append(slot->data, ConversationOpened{contact->id, queue, slot->data.extras->previous_conversation_id}, "customer",
         at, out);
  // Written with its new conversation even when unchanged: nodes sharing a store
  // then conflict on the contact, and never open two conversations for one.
  if (!contact_saved) save(*contact, out);
  return *slot;
}

void Desk::State::arrive(Conversation& c, const Identity& identity, Timestamp at, Commit& out) {
  if (!c.active_channel.empty() && c.active_channel != identity.channel) {
    append(c, ChannelSwitched{c.active_channel, identity.channel}, "customer", at, out);
  }
  c.active_channel = identity.channel;
  touch_leg(c, identity.channel, identity.address, at);
}

// --- Desk -------------------------------------------------------------------------------

Desk::Desk(DeskOptions options, Now now)
    : normalizer_(options.default_phone_region, options.limits),
      options_(std::move(options)),
      now_(std::move(now)),
      state_(std::make_unique<State>(options_.limits, options_.random_seed)) {
  state_->queues.emplace(options_.default_queue, Queue{.name = options_.default_queue});
}

Desk::~Desk() = default;

std::size_t Desk::conversation_count() const { return state_->conversations.size(); }
std::size_t Desk::contact_count() const {
  // Counted rather than kept: only tests ask, and slots without a record are rare.
  return std::count_if(state_->contacts.begin(), state_->contacts.end(),
                       [](const ContactSlot& slot) { return slot.has_record; });
}

namespace {

Status check_inbound(const InboundMessage& m, const Limits& limits) {
  if (auto s = check_text(m.text, m.attachments.empty(), limits, "message.text"); !s) return s;
  if (m.external_id.size() > limits.max_external_id_bytes) {
    return invalid_argument("message.external_id", too_long(limits.max_external_id_bytes));
  }
  if (m.display_name.size() > limits.max_display_name_bytes || !valid_utf8(m.display_name)) {
    return invalid_argument("message.display_name",
                            "longer than " + std::to_string(limits.max_display_name_bytes) + " bytes or not UTF-8");
  }
  return check_map(m.metadata, limits.max_metadata_entries, limits, "message.metadata");
}

}  // namespace

Result<IngestResult> Desk::ingest(const InboundMessage& m, Commit& out) {
  State& s = *state_;
  auto identity = normalizer_.normalize(m.channel, m.address, m.verified, "message.address");
  if (!identity) {
    Error e = identity.error();
    if (e.field == "channel") e.field = "message.channel";
    return e;
  }
  if (auto ok = check_inbound(m, options_.limits); !ok) return ok.error();
  const std::string queue =
      m.queue.empty() ? s.select_queue(identity->channel, identity->address, m.metadata, {}, options_.default_queue)
                      : m.queue;
  if (!s.queues.contains(queue)) return invalid_argument("message.queue", "no queue '" + queue + "'");

  std::string dedupe_key;
  if (!m.external_id.empty()) {
    dedupe_key = identity->channel + '\0' + m.external_id;
    if (std::optional<IngestResult> seen = s.inbound_seen.find(dedupe_key)) {
      seen->duplicate = true;
      return *std::move(seen);
    }
  }
  const Timestamp at = now_();

  // Whose message is it? A channel's threading proof names the conversation, hence the
  // contact; otherwise a new identity is a new contact (linking is explicit or verified).
  const ConversationSlot* hinted = nullptr;
  if (!m.conversation_id.empty()) {
    hinted = s.find_slot(m.conversation_id);
  }
  ContactSlot* owner = s.identity_owner.find(*identity);
  if (owner == nullptr && hinted == nullptr && !m.require_conversation_id) {
    ContactSlot* same = contact_with_same_number(s, *identity);
    if (same != nullptr && same->data.identities.size() < options_.limits.max_identities_per_contact) {
      same->data.identities.push_back(*identity);
      s.identity_owner.set(*identity, same);
      owner = same;
      s.save(same->data, out);
    }
  }
  Contact* contact = nullptr;
  if (hinted != nullptr) {
    contact = &s.contact_at(hinted->data.contact_id).data;
  } else if (owner != nullptr) {
    contact = &owner->data;
  }
  // The sender is the contact's own identity (not a colleague writing with the token).
  const bool own_identity = contact == nullptr || (owner != nullptr && &owner->data == contact);

  ConversationSlot* slot = contact != nullptr ? s.current_of(contact->id) : nullptr;
  const auto window_ended = [&](const Conversation& c) {
    return c.state == ConversationState::kResolved && c.resolved_at &&
           at > *c.resolved_at + options_.limits.reopen_window;
  };
  if (m.require_conversation_id && slot != nullptr && !window_ended(slot->data) &&
      (hinted == nullptr || hinted->data.id != slot->data.id)) {
    return failed_precondition("contact " + contact->id + " has conversation " + slot->data.id +
                               " open; joining it needs proof from the channel (a reply token), not the address alone");
  }
  // The message on `target`, then (after `before_save`) the conversation saved and the
  // answer remembered for redeliveries.
  const auto record = [&](ConversationSlot& target, const auto& before_save) {
    Conversation& c = target.data;
    Message message{Direction::kInbound, identity->channel,     identity->address, m.text,    m.attachments,
                    m.external_id,       DeliveryStatus::kNone, "customer",        m.metadata};
    const uint64_t seq = s.append(c, std::move(message), "customer", at, out).seq;
    before_save();
    s.save(target, out);
    IngestResult result{contact->id, c.id, seq, false};
    if (!dedupe_key.empty()) {
      s.inbound_seen.remember(dedupe_key, result);
      if (out.with_records) out.inbound_seen.push_back(SeenInbound{identity->channel, m.external_id, result});
    }
    return result;
  };
  if (m.automatic) {
    if (slot == nullptr && contact != nullptr) slot = s.latest_of(contact->id);
    if (slot == nullptr) return failed_precondition("an automatic message with no conversation to record it on");
    return record(*slot, [] {});
  }

  slot = &s.join(contact, slot, own_identity, *identity, m.display_name, queue, at, options_.limits.reopen_window, out);
  Conversation& c = slot->data;
  // A colleague's mail joins, but replies keep going to the customer's own addresses.
  if (own_identity) s.arrive(c, *identity, at, out);
  c.last_inbound_at = at;

  ++s.routing.measures.inbound[identity->channel];
  IngestResult result = record(*slot, [&] {
    // A score answering the survey is recorded and does not reopen (docs/routing.md).
    if (s.record_survey_answer(c, m.text, at, out)) return;
    TriggerFacts facts = s.facts_for(c);
    facts.within_reopen_window = true;  // an expired window was handled above
    // Inbound is accepted in every state a current conversation can be in.
    s.fire(*slot, Trigger::kInbound, facts, "customer", at, options_.limits.reopen_window, out).value();
    s.reply_if_closed(c, *identity, at, out);
  });
  s.dispatch(at, out);
  return result;
}

// --- replies -------------------------------------------------------------------------------

namespace {

struct ReplyTarget {
  std::string channel;
  std::string address;
  bool adapter_running = false;
};

// Why `channel` cannot carry the reply now, or empty when it can.
std::string refusal(const ChannelCapabilities& caps, const Conversation& c, const std::string& address,
                    std::size_t text_bytes, const ChannelDirectory& channels, Timestamp now) {
  if (caps.synchronous && !channels.has_live_session(caps.channel, address)) {
    return caps.channel + ": the customer is not connected";
  }
  if (caps.reply_window.count() > 0) {
    const ChannelLeg* leg = c.leg(caps.channel);
    if (!leg || now > leg->last_at + caps.reply_window) {
      return caps.channel + ": outside its " + std::to_string(caps.reply_window.count()) + "s reply window";
    }
  }
  if (caps.max_text_length > 0 && text_bytes > caps.max_text_length) {
    return caps.channel + ": text longer than " + std::to_string(caps.max_text_length);
  }
  return {};
}

// The customer's addresses, best first: the active channel, then the legs by how
// recently the customer used them, then identities never used in this conversation.
std::vector<ReplyTarget> candidates(const Conversation& c, const Contact& contact) {
  std::vector<const ChannelLeg*> legs;
  for (const auto& leg : c.legs) legs.push_back(&leg);
  std::stable_sort(legs.begin(), legs.end(), [&](const ChannelLeg* a, const ChannelLeg* b) {
    if ((a->channel == c.active_channel) != (b->channel == c.active_channel)) return a->channel == c.active_channel;
    return a->last_at > b->last_at;
  });
  std::vector<ReplyTarget> out;
  for (const auto* leg : legs) out.push_back({leg->channel, leg->address});
  for (const auto& id : contact.identities) {
    if (!c.leg(id.channel)) out.push_back({id.channel, id.address});
  }
  return out;
}

Result<ReplyTarget> choose_reply_channel(const Conversation& c, const Contact& contact, const std::string& requested,
                                         std::size_t text_bytes, const ChannelDirectory& channels, Timestamp now) {
  auto targets = candidates(c, contact);
  if (!requested.empty()) {
    auto it = std::find_if(targets.begin(), targets.end(), [&](const auto& t) { return t.channel == requested; });
    if (it == targets.end()) return invalid_argument("channel", "the customer has no address on '" + requested + "'");
    if (auto caps = channels.capabilities(requested)) {
      if (auto why = refusal(*caps, c, it->address, text_bytes, channels, now); !why.empty()) {
        return failed_precondition("cannot reply on " + why);
      }
      it->adapter_running = true;
    }
    return *it;
  }
  std::string reasons;
  std::optional<ReplyTarget> without_adapter;
  for (auto& t : targets) {
    auto caps = channels.capabilities(t.channel);
    if (!caps) {
      if (!without_adapter) without_adapter = t;
      continue;
    }
    if (auto why = refusal(*caps, c, t.address, text_bytes, channels, now); !why.empty()) {
      reasons += (reasons.empty() ? "" : "; ") + why;
      continue;
    }
    t.adapter_running = true;
    return t;
  }
  if (without_adapter) return *without_adapter;
  return failed_precondition("no channel can carry this reply: " + (reasons.empty() ? "no address" : reasons));
}

}  // namespace

Result<SendMessageResult> Desk::send_message(const SendMessageCommand& cmd, const ChannelDirectory& channels,
                                             const std::string& actor, Commit& out) {
  State& s = *state_;
  auto slot = s.find_conversation(cmd.conversation_id);
  if (!slot) return slot.error();
  if (auto ok = check_text(cmd.text, cmd.attachments.empty(), options_.limits, "text"); !ok) return ok.error();
  if (cmd.request_id.size() > options_.limits.max_request_id_bytes) {
    return invalid_argument("request_id", too_long(options_.limits.max_request_id_bytes));
  }
  std::string requested;
  if (!cmd.channel.empty()) {
    auto ch = normalizer_.normalize_channel(cmd.channel);
    if (!ch) return ch.error();
    requested = std::move(ch.value());
  }
  std::string request_key;
  if (!cmd.request_id.empty()) {
    request_key = cmd.conversation_id + '\0' + cmd.request_id;
    if (std::optional<SendMessageResult> seen = s.requests_seen.find(request_key)) {
      seen->duplicate = true;
      return *std::move(seen);
    }
  }
  Conversation& c = (*slot)->data;
  const Timestamp at = now_();
  auto target = choose_reply_channel(c, s.contact_at(c.contact_id).data, requested, cmd.text.size(), channels, at);
  if (!target) return target.error();

  const Trigger trigger = cmd.from_bot ? Trigger::kBotReply : Trigger::kAgentReply;
  const std::string author = cmd.author_id.empty() ? actor : cmd.author_id;
  if (auto step = s.fire(**slot, trigger, s.facts_for(c), author, at, options_.limits.reopen_window, out); !step) {
    return step.error();
  }
  Message message{Direction::kOutbound,
                  target->channel,
                  target->address,
                  cmd.text,
                  cmd.attachments,
                  {},
                  DeliveryStatus::kPending,
                  author,
                  {}};
  const uint64_t seq = s.append(c, std::move(message), author, at, out).seq;
  s.save(**slot, out);

  OutboxEntry entry{s.ids.next("ob_", at), c.id, seq, target->channel, target->address, cmd.text, cmd.attachments};
  entry.claimed_by = options_.node_id;
  s.outbox[entry.outbound_id] = entry;
  out.outbox.push_back(entry);
  out.deliveries.push_back(entry);

  SendMessageResult result{seq, target->channel, target->address, entry.outbound_id, DeliveryStatus::kPending};
  result.adapter_running = target->adapter_running;
  if (!target->adapter_running) {
    result.detail =
        "no adapter is running for channel '" + target->channel + "'; the message stays pending until one starts";
  }
  if (!request_key.empty()) s.requests_seen.remember(request_key, result);
  return result;
}

namespace {

bool final_status(DeliveryStatus status) {
  return status != DeliveryStatus::kNone && status != DeliveryStatus::kPending;
}

// first, 2 first, 4 first, ... up to the cap.
std::chrono::milliseconds retry_delay(uint32_t failed_attempts, const Limits& limits) {
  auto delay = limits.first_retry_delay;
  for (uint32_t i = 1; i < failed_attempts && delay < limits.max_retry_delay; ++i) delay *= 2;
  return std::min(delay, limits.max_retry_delay);
}

}  // namespace

// Writes the delivery's new status on the conversation's timeline and in the outbox.
Status Desk::State::record_delivery(OutboxEntry& entry, DeliveryStatus status, std::string reason, Timestamp at,
                                    std::size_t max_reason_bytes, Commit& out) {
  auto slot = find_conversation(entry.conversation_id);
  if (!slot) return slot.error();
  if (reason.size() > max_reason_bytes) reason.resize(max_reason_bytes);
  entry.status = status;
  if (status == DeliveryStatus::kSent && !entry.sent_at) entry.sent_at = at;
  index_receipts(entry);
  ++routing.measures.deliveries[{entry.channel, to_string(status)}];
  Conversation& c = (*slot)->data;
  append(c, DeliveryUpdated{entry.seq, status, std::move(reason)}, "adapter", at, out);
  save(**slot, out);
  out.outbox.push_back(entry);
  return ok_status();
}

Status Desk::report_delivery(const std::string& outbound_id, DeliveryStatus status, const std::string& reason,
                             Commit& out) {
  State& s = *state_;
  auto it = s.outbox.find(outbound_id);
  if (it == s.outbox.end()) return not_found("outbound_id", "no outbound message '" + outbound_id + "'");
  if (!final_status(status)) return invalid_argument("status", "must be sent, delivered, read or failed");
  return s.record_delivery(it->second, status, reason, now_(), options_.limits.max_reason_bytes, out);
}

Status Desk::report_retryable_failure(const std::string& outbound_id, const std::string& reason, Commit& out) {
  State& s = *state_;
  const Limits& limits = options_.limits;
  auto it = s.outbox.find(outbound_id);
  if (it == s.outbox.end()) return not_found("outbound_id", "no outbound message '" + outbound_id + "'");
  OutboxEntry& entry = it->second;
  if (final_status(entry.status)) return failed_precondition("outbound message " + outbound_id + " is already final");
  const Timestamp at = now_();
  const uint32_t attempts = ++entry.attempts;
  if (attempts >= limits.max_delivery_attempts) {
    return s.record_delivery(entry, DeliveryStatus::kFailed,
                             "gave up after " + std::to_string(attempts) + " attempts: " + reason, at,
                             limits.max_reason_bytes, out);
  }
  const auto delay = retry_delay(attempts, limits);
  s.deadlines.emplace(at + delay, Deadline{entry.conversation_id, DeadlineKind::kRetryDelivery, outbound_id});
  return s.record_delivery(entry, DeliveryStatus::kPending,
                           "attempt " + std::to_string(attempts) + " failed: " + reason + "; next in " +
                               std::to_string(delay.count()) + " ms",
                           at, limits.max_reason_bytes, out);
}

// --- timers --------------------------------------------------------------------------------

std::optional<Timestamp> Desk::run_due_timers(Commit& out) {
  State& s = *state_;
  const Timestamp at = now_();
  while (!s.deadlines.empty() && s.deadlines.begin()->first <= at) {
    auto node = s.deadlines.extract(s.deadlines.begin());
    const Timestamp due = node.key();
    const Deadline& d = node.mapped();
    if (d.kind == DeadlineKind::kSla || d.kind == DeadlineKind::kOverflow || d.kind == DeadlineKind::kWrapUpEnd) {
      s.run_routing_deadline(d, at, out);
      continue;
    }
    if (d.kind == DeadlineKind::kWaitUpdates) {
      s.send_wait_updates(d.queue, due, at, out);
      continue;
    }
    ConversationSlot* found = s.find_slot(d.conversation_id);
    if (found == nullptr) continue;  // erased since
    ConversationSlot& slot = *found;
    Conversation& c = slot.data;
    // A deadline that no longer matches (woken early, reopened) is stale: skip it.
    if (d.kind == DeadlineKind::kWake && c.state == ConversationState::kSnoozed && c.extras->snoozed_until == due) {
      s.append(c, Woke{}, "system", at, out);
      s.fire(slot, Trigger::kWake, s.facts_for(c), "system", at, options_.limits.reopen_window, out).value();
      s.save(slot, out);
    } else if (d.kind == DeadlineKind::kClose && c.state == ConversationState::kResolved && c.resolved_at &&
               *c.resolved_at + options_.limits.reopen_window == due) {
      s.close(slot, at, out);
    } else if (d.kind == DeadlineKind::kRetryDelivery) {
      auto entry = s.outbox.find(d.outbound_id);
      if (entry != s.outbox.end() && entry->second.status == DeliveryStatus::kPending) {
        out.deliveries.push_back(entry->second);
      }
    }
  }
  s.dispatch(at, out);  // wake-ups, ended wrap-ups and overflows may have made matches
  return next_deadline();
}

std::optional<Timestamp> Desk::next_deadline() const {
  if (state_->deadlines.empty()) return std::nullopt;
  return state_->deadlines.begin()->first;
}

// --- queries -------------------------------------------------------------------------------

Result<Conversation> Desk::conversation(const std::string& conversation_id) const {
  auto slot = state_->find_conversation(conversation_id);
  if (!slot) return slot.error();
  return (*slot)->data;
}

Result<ConversationView> Desk::conversation_view(const std::string& conversation_id) const {
  auto slot = state_->find_conversation(conversation_id);
  if (!slot) return slot.error();
  return ConversationView{(*slot)->data, state_->place_of((*slot)->data)};
}

namespace {

bool matches(const ConversationFilter& f, const Conversation& c) {
  if (!f.states.empty() && !f.states.contains(c.state)) return false;
  if (!f.queue.empty() && c.queue != f.queue) return false;
  if (!f.assignee_id.empty() && c.assignee_id != f.assignee_id) return false;
  if (!f.contact_id.empty() && c.contact_id != f.contact_id) return false;
  if (!f.channel.empty() && !c.leg(f.channel)) return false;
  const std::vector<std::string>& labels = c.extras->labels;
  if (!f.label.empty() && std::find(labels.begin(), labels.end(), f.label) == labels.end()) return false;
  return true;
}

}  // namespace

Result<ConversationPage> Desk::list_conversations(const ConversationFilter& filter, std::size_t page_size,
                                                  const std::string& page_token) const {
  if (!page_token.empty() && page_token.rfind("cv_", 0) != 0) {
    return invalid_argument("page_token", "not a token this server gave out");
  }
  const std::size_t size = page_size == 0 ? 50 : std::min(page_size, options_.limits.max_page_size);
  const auto& all = state_->conversations;
  ConversationPage page;
  for (auto it = page_token.empty() ? all.begin() : all.upper_bound(page_token); it != all.end(); ++it) {
    if (!matches(filter, it->data)) continue;
    if (page.conversations.size() == size) {
      page.next_page_token = page.conversations.back().id;
      break;
    }
    page.conversations.push_back(it->data);
  }
  return page;
}

Result<Conversation> Desk::current_conversation(const Identity& identity) const {
  auto contact = find_contact(identity);
  if (!contact) return contact.error();
  State& s = *state_;
  if (ConversationSlot* cur = s.current_of(contact->id)) return cur->data;
  if (ConversationSlot* latest = s.latest_of(contact->id)) return latest->data;
  return not_found("identity", "contact " + contact->id + " has no conversation");
}

std::vector<Conversation> Desk::earlier_conversations(const Conversation& conversation) const {
  std::vector<Conversation> out;
  const ContactSlot* owner = state_->find_contact_slot(conversation.contact_id);
  if (owner == nullptr) return out;
  const auto& ids = owner->conversations;
  for (auto id = ids.rbegin(); id != ids.rend(); ++id) {
    if (*id != conversation.id) out.push_back(state_->slot_at(*id).data);
  }
  return out;
}

}  // namespace switchboard::router
