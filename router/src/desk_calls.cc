// Phone calls (docs/phone.md): a call joins the caller's one conversation as
// CallEvents, is routed at once to an agent with voice room, and moves along the
// per-call machine of call_machine.h. Known calls live on their conversation's record
// (Conversation::calls), so a restart, or another node, knows them too.

#include <algorithm>

#include <switchboard/router/desk.h>

#include "call_machine.h"
#include "desk_state.h"

namespace switchboard::router {
namespace {

constexpr char kVoice[] = "voice";
constexpr char kRouting[] = "routing";

std::string call_key(const std::string& channel, const std::string& call_id) { return channel + '\0' + call_id; }

Call* find_call(Conversation& c, const std::string& channel, const std::string& call_id) {
  const std::vector<Call>& calls = c.extras->calls;  // reading allocates no extras
  auto it = std::find_if(calls.begin(), calls.end(),
                         [&](const Call& call) { return call.channel == channel && call.call_id == call_id; });
  return it == calls.end() ? nullptr : &c.extras.edit().calls[it - calls.begin()];
}

Status check_call_id(const std::string& call_id, const Limits& limits, const std::string& field) {
  if (call_id.empty()) return invalid_argument(field, "required");
  if (call_id.size() > limits.max_call_id_bytes) {
    return invalid_argument(field, "longer than " + std::to_string(limits.max_call_id_bytes) + " bytes");
  }
  if (!valid_utf8(call_id)) return invalid_argument(field, "not valid UTF-8");
  return ok_status();
}

}  // namespace

void Desk::State::index_calls(const Conversation& c) {
  for (const auto& call : c.extras->calls) calls_by_id[call_key(call.channel, call.call_id)] = c.id;
}

void Desk::State::unindex_calls(const Conversation& c) {
  for (const auto& call : c.extras->calls) {
    auto it = calls_by_id.find(call_key(call.channel, call.call_id));
    if (it != calls_by_id.end() && it->second == c.id) calls_by_id.erase(it);
  }
}

namespace {

// The routing answer a call got, again: for a repeated call id.
CallRouting answer_of(const Call& call, const Conversation& c, bool duplicate) {
  return {IngestResult{c.contact_id, c.id, call.seq, duplicate}, call.agent_id, call.agent_sip_uri, call.reason};
}

}  // namespace

Result<CallRouting> Desk::route_call(const InboundCall& call, Commit& out) {
  State& s = *state_;
  const Limits& limits = options_.limits;
  auto identity = normalizer_.normalize(call.channel, call.address, call.verified, "call.address");
  if (!identity) {
    Error e = identity.error();
    if (e.field == "channel") e.field = "call.channel";
    return e;
  }
  if (auto ok = check_call_id(call.call_id, limits, "call.call_id"); !ok) return ok.error();
  if (call.display_name.size() > limits.max_display_name_bytes || !valid_utf8(call.display_name)) {
    return invalid_argument("call.display_name",
                            "longer than " + std::to_string(limits.max_display_name_bytes) + " bytes or not UTF-8");
  }
  if (call.metadata.size() > limits.max_metadata_entries) {
    return invalid_argument("call.metadata", "more than " + std::to_string(limits.max_metadata_entries) + " entries");
  }
  if (auto known = s.calls_by_id.find(call_key(identity->channel, call.call_id)); known != s.calls_by_id.end()) {
    Conversation& c = s.slot_at(known->second).data;
    return answer_of(*find_call(c, identity->channel, call.call_id), c, true);
  }
  const std::string queue = call.queue.empty() ? s.select_queue(identity->channel, identity->address, call.metadata, {},
                                                                options_.default_queue)
                                               : call.queue;
  if (!s.queues.contains(queue)) return invalid_argument("call.queue", "no queue '" + queue + "'");
  const Timestamp at = now_();

  Contact* contact = nullptr;
  ConversationSlot* slot = nullptr;
  if (ContactSlot* owner = s.identity_owner.find(*identity)) {
    contact = &owner->data;
    slot = s.current_of(contact->id);
  }
  slot = &s.join(contact, slot, true, *identity, call.display_name, queue, at, limits.reopen_window, out);
  Conversation& c = slot->data;
  s.arrive(c, *identity, at, out);
  c.last_inbound_at = at;
  ++s.routing.measures.inbound[identity->channel];

  const auto [agent_id, why_not] = s.call_agent_for(c, at);
  Call record{call.call_id, identity->channel, CallState::kRinging, agent_id, {}, why_not, 0, 0, at};
  if (!agent_id.empty()) record.agent_sip_uri = s.agents.at(agent_id).sip_uri;
  record.seq = record.last_seq =
      s.append(c, CallEvent{call.call_id, identity->channel, identity->address, CallState::kRinging, agent_id},
               "customer", at, out)
          .seq;

  TriggerFacts facts = s.facts_for(c);
  facts.queue_has_bot = false;        // a caller wants a person: calls skip the queue's bot
  facts.within_reopen_window = true;  // join() closed a conversation whose window ended
  s.fire(*slot, Trigger::kInbound, facts, "customer", at, limits.reopen_window, out).value();
  if (c.state == ConversationState::kBot) {  // a bot cannot take a call, nor call back
    s.fire(*slot, Trigger::kHandoff, s.facts_for(c), kRouting, at, limits.reopen_window, out).value();
    s.append(c, HandedOff{"incoming call", c.queue}, kRouting, at, out);
  }
  if (!agent_id.empty()) {
    s.put_call_through(*slot, agent_id, at, out);
  } else {
    record.state = CallState::kMissed;
    record.last_seq =
        s.append(c, CallEvent{call.call_id, identity->channel, identity->address, CallState::kMissed, {}, {}, why_not},
                 kRouting, at, out)
            .seq;
    // Still Queued (or with its agent): the conversation waits for a call back.
  }
  s.remember_call(c, std::move(record), limits.max_calls_per_conversation);
  s.save(*slot, out);
  s.dispatch(at, out);  // a conversation that moved to a voice slot may have freed a chat one
  return answer_of(c.extras->calls.back(), c, false);
}

// The agent to put the call through to, or why there is none ("busy" when agents who
// take calls are online but full, else "nobody-available").
std::pair<std::string, std::string> Desk::State::call_agent_for(const Conversation& c, Timestamp at) {
  const Queue& queue = queue_of(c.queue);
  // The assignee first: the customer reaches the person who already knows the case.
  if (!c.assignee_id.empty()) {
    if (auto a = agents.find(c.assignee_id); a != agents.end() && has_voice_room(a->second, c, at)) {
      return {a->second.id, {}};
    }
  }
  if (queues.contains(c.queue)) {
    Lane& l = lane(c.queue, kVoice, at);
    if (!l.free_agents.empty()) return {next_agent(l, queue), {}};
  }
  const bool anyone_takes_calls = std::any_of(agents.begin(), agents.end(), [](const auto& item) {
    const Agent& agent = item.second;
    auto capacity = agent.capacity.find(kVoice);
    return agent.available() && capacity != agent.capacity.end() && capacity->second > 0;
  });
  return {{}, anyone_takes_calls ? "busy" : "nobody-available"};
}

// Online, out of wrap-up, and a voice slot free (the conversation's own slot counts
// as free for it).
bool Desk::State::has_voice_room(const Agent& agent, const Conversation& c, Timestamp at) const {
  if (!agent.available() || (agent.wrap_up_until && *agent.wrap_up_until > at)) return false;
  auto capacity = agent.capacity.find(kVoice);
  if (capacity == agent.capacity.end()) return false;
  uint32_t held = 0;
  if (auto load = routing.load.find(agent.id); load != routing.load.end()) {
    if (auto k = load->second.find(kVoice); k != load->second.end()) held = k->second;
  }
  if (auto hold = routing.holds.find(c.id);
      hold != routing.holds.end() && hold->second.agent_id == agent.id && hold->second.kind == kVoice && held > 0) {
    --held;
  }
  return held < capacity->second;
}

// The conversation goes to the agent the call went to: assigned when it waits,
// transferred when another agent holds it.
void Desk::State::put_call_through(ConversationSlot& slot, const std::string& agent_id, Timestamp at, Commit& out) {
  Conversation& c = slot.data;
  if (c.state == ConversationState::kAssigned && c.assignee_id == agent_id) return;
  if (c.state == ConversationState::kQueued) {
    Queue& queue = queues.at(c.queue);
    assign_by_routing(slot, agent_id, queue, at, out);
    if (out.with_records && queue.strategy == "round_robin") out.queues.push_back(queue);
    return;
  }
  if (c.state == ConversationState::kAssigned) {
    TriggerFacts facts = facts_for(c);
    facts.to_queue = false;
    const std::string from = c.assignee_id;
    fire(slot, Trigger::kTransfer, facts, kRouting, at, {}, out).value();
    c.assignee_id = agent_id;
    append(c, Transferred{from, agent_id, {}, "incoming call", c.extras->transfer_count}, kRouting, at, out);
  }
}

void Desk::State::remember_call(Conversation& c, Call call, std::size_t keep) {
  std::vector<Call>& calls = c.extras.edit().calls;
  calls.push_back(std::move(call));
  calls_by_id[call_key(calls.back().channel, calls.back().call_id)] = c.id;
  while (calls.size() > std::max<std::size_t>(keep, 1)) {
    calls_by_id.erase(call_key(calls.front().channel, calls.front().call_id));
    calls.erase(calls.begin());
  }
}

Result<IngestResult> Desk::update_call(const CallUpdate& update, Commit& out) {
  State& s = *state_;
  const Limits& limits = options_.limits;
  auto channel = normalizer_.normalize_channel(update.channel, "update.channel");
  if (!channel) return channel.error();
  if (auto ok = check_call_id(update.call_id, limits, "update.call_id"); !ok) return ok.error();
  if (update.duration.count() < 0) return invalid_argument("update.duration", "must not be negative");
  if (update.reason.size() > limits.max_reason_bytes || !valid_utf8(update.reason)) {
    return invalid_argument("update.reason",
                            "longer than " + std::to_string(limits.max_reason_bytes) + " bytes or not UTF-8");
  }
  auto known = s.calls_by_id.find(call_key(*channel, update.call_id));
  if (known == s.calls_by_id.end()) return not_found("update.call_id", "no call '" + update.call_id + "'");
  ConversationSlot& slot = s.slot_at(known->second);
  Conversation& c = slot.data;
  Call& call = *find_call(c, *channel, update.call_id);
  if (call.state == update.state) return IngestResult{c.contact_id, c.id, call.last_seq, true};
  if (!call_step_allowed(call.state, update.state)) {
    return failed_precondition("call " + update.call_id + " is " + to_string(call.state) + "; it cannot become " +
                               to_string(update.state));
  }
  const Timestamp at = now_();
  const ChannelLeg* leg = c.leg(*channel);
  CallEvent event{call.call_id, *channel, leg ? leg->address : std::string{}, update.state, call.agent_id};
  if (update.state == CallState::kEnded) event.duration = update.duration;
  if (update.state == CallState::kMissed) event.reason = update.reason;
  call.state = update.state;
  call.last_seq = s.append(c, std::move(event), "adapter", at, out).seq;
  s.save(slot, out);
  return IngestResult{c.contact_id, c.id, call.last_seq, false};
}

}  // namespace switchboard::router
