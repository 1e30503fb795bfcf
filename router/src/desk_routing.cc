// Routing (docs/routing.md): queue order, strategies, capacity, wrap-up, overflow,
// queue selection rules, out-of-hours replies, surveys, and the measures taken on the
// way. SLA clocks are in desk_sla.cc.

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <set>
#include <string_view>

#include <switchboard/router/desk.h>

#include "desk_state.h"

namespace switchboard::router {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::seconds;

constexpr char kRouting[] = "routing";
constexpr auto kDefaultSurveyWindow = std::chrono::hours(24);
constexpr std::size_t kListedWaiting = 20;

int64_t micros(Timestamp t) { return duration_cast<microseconds>(t.time_since_epoch()).count(); }

bool covers(const std::vector<std::string>& skills, const std::vector<std::string>& required) {
  return std::all_of(required.begin(), required.end(),
                     [&](const auto& skill) { return std::find(skills.begin(), skills.end(), skill) != skills.end(); });
}

uint32_t held(const Routing& r, const std::string& agent_id, const std::string& kind) {
  auto it = r.load.find(agent_id);
  if (it == r.load.end()) return 0;
  auto k = it->second.find(kind);
  return k == it->second.end() ? 0 : k->second;
}

uint32_t open_count(const Routing& r, const std::string& agent_id) {
  auto it = r.open_of.find(agent_id);
  return it == r.open_of.end() ? 0 : it->second;
}

// Where `agent` stands in the lane's order, or nothing when it cannot take one of the
// lane's conversations now.
std::optional<AgentKey> offer_key(const Routing& r, const Agent& agent, const Queue& queue, const std::string& kind,
                                  Timestamp now) {
  if (!agent.available() || queue.strategy == "manual") return std::nullopt;
  if (agent.wrap_up_until && *agent.wrap_up_until > now) return std::nullopt;
  auto capacity = agent.capacity.find(kind);
  if (capacity == agent.capacity.end() || held(r, agent.id, kind) >= capacity->second) return std::nullopt;
  if (!covers(agent.skills, queue.required_skills)) return std::nullopt;
  const int64_t open = open_count(r, agent.id);
  const int64_t idle = micros(agent.idle_since);
  if (queue.strategy == "least_busy") return AgentKey{open, idle, 0};
  if (queue.strategy == "longest_idle") return AgentKey{idle, 0, 0};
  // The most specialised first, keeping generalists free for what only they can take.
  if (queue.strategy == "skills") return AgentKey{static_cast<int64_t>(agent.skills.size()), open, idle};
  return AgentKey{0, 0, 0};  // round_robin: by id, from where it left off
}

bool glob_match(const std::string& pattern, const std::string& text) {
  if (pattern.empty()) return true;
  if (pattern.back() == '*') return text.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  if (pattern.front() == '*') {
    const std::string suffix = pattern.substr(1);
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return pattern == text;
}

bool rule_matches(const QueueRule& rule, const std::string& channel, const std::string& address,
                  const Attributes& attributes, const std::vector<std::string>& labels) {
  if (!rule.channel.empty() && rule.channel != channel) return false;
  if (!glob_match(rule.address, address)) return false;
  if (!rule.label.empty() && std::find(labels.begin(), labels.end(), rule.label) == labels.end()) return false;
  if (!rule.attribute.empty()) {
    const auto eq = rule.attribute.find('=');
    const std::string key = rule.attribute.substr(0, eq);
    auto it = attributes.find(key);
    if (it == attributes.end()) return false;
    if (eq != std::string::npos && it->second != rule.attribute.substr(eq + 1)) return false;
  }
  return true;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n.!");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n.!");
  return text.substr(first, last - first + 1);
}

std::optional<int32_t> score_in(const std::string& text, int32_t low, int32_t high) {
  const std::string t = trimmed(text);
  int32_t score = 0;
  const auto [end, error] = std::from_chars(t.data(), t.data() + t.size(), score);
  if (t.empty() || error != std::errc() || end != t.data() + t.size() || score < low || score > high) {
    return std::nullopt;
  }
  return score;
}

// OutOfLine::reset allocates nothing for what was never set: most conversations never
// have an overflow deadline or a survey, and keep no extras.
void clear_overflow(Conversation& c) { c.extras.reset(&ConversationExtras::overflow_at); }

void clear_survey(Conversation& c) {
  c.extras.reset(&ConversationExtras::survey_kind);
  c.extras.reset(&ConversationExtras::survey_until);
}

// Sets when the conversation moves on to the queue's overflow queue, if it has one.
void arm_overflow(Desk::State& s, Conversation& c, const Queue& queue, Timestamp at) {
  clear_overflow(c);
  if (queue.overflow_queue.empty() || queue.overflow_after.count() <= 0) return;
  const Timestamp due = at + queue.overflow_after;
  c.extras.edit().overflow_at = due;
  s.deadlines.emplace(due, Deadline{c.id, DeadlineKind::kOverflow});
}

}  // namespace

std::string replace_all(std::string text, const std::string& what, const std::string& with) {
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
  return text;
}

std::string capacity_kind(const std::string& channel) {
  // Searched in place, most names told apart by their length alone: a std::set of them
  // cost a walk of string compares on every save of a conversation.
  static constexpr std::array<std::string_view, 6> kChat = {"chat",      "sms",       "whatsapp",
                                                            "messenger", "instagram", "telegram"};
  if (channel == "voice" || channel == "phone") return "voice";
  if (std::find(kChat.begin(), kChat.end(), channel) != kChat.end()) return "chat";
  return channel;
}

// --- the indexes ------------------------------------------------------------------------

Lane& Desk::State::lane(const std::string& queue, const std::string& kind, Timestamp now) {
  auto [it, created] = routing.lanes.try_emplace({queue, kind});
  Lane& l = it->second;
  if (created) {
    l.queue = queue;
    l.kind = kind;
    if (auto q = queues.find(queue); q != queues.end()) {
      for (const auto& [id, agent] : agents) {
        if (auto key = offer_key(routing, agent, q->second, kind, now)) {
          l.free_agents.emplace(*key, id);
          l.agent_keys.emplace(id, *key);
        }
      }
    }
  }
  return l;
}

void Desk::State::refresh_agent(const Agent& agent, Timestamp now) {
  for (auto& [key, l] : routing.lanes) {
    auto q = queues.find(l.queue);
    const auto want = q == queues.end() ? std::nullopt : offer_key(routing, agent, q->second, l.kind, now);
    auto have = l.agent_keys.find(agent.id);
    if (have != l.agent_keys.end()) {
      if (want && *want == have->second) continue;
      l.free_agents.erase({have->second, agent.id});
      l.agent_keys.erase(have);
    }
    if (want) {
      l.free_agents.emplace(*want, agent.id);
      l.agent_keys.emplace(agent.id, *want);
    }
  }
}

void Desk::State::track(Conversation& c, Commit& out) {
  if (ConversationSlot* slot = find_slot(c.id)) {
    track(*slot, c, out);
    return;
  }
  // Erased (forget): it waits nowhere, since a slot leaves its lane before it goes,
  // but may still hold an agent's slot. Only a conversation with a slot waits.
  assert(c.state != ConversationState::kQueued);
  ConversationSlot none;
  track(none, c, out);
}

void Desk::State::leave_lane(ConversationSlot& slot) {
  Routing::Waiting& waiting = slot.waiting;
  if (waiting.lane == nullptr) return;
  waiting.lane->waiting.erase(waiting.key(slot.data.id));
  waiting = {};
}

void Desk::State::track(ConversationSlot& slot, const Conversation& c, Commit& out) {
  Routing& r = routing;
  const Timestamp now = c.updated_at;
  Routing::Waiting& waiting = slot.waiting;
  if (c.state == ConversationState::kQueued) {
    const WaitKey key{-c.priority, c.queued_since.value_or(c.created_at), c.id};
    const std::string kind = capacity_kind(c.active_channel);
    if (waiting.lane == nullptr || waiting.lane->queue != c.queue || waiting.lane->kind != kind ||
        !(waiting.key(c.id) == key)) {
      leave_lane(slot);
      Lane& l = lane(c.queue, kind, now);
      l.waiting.insert(key);
      waiting = {&l, key.neg_priority, key.since};
      arm_wait_updates(c, now);
    }
  } else {
    leave_lane(slot);
  }

  auto hold = r.holds.find(c.id);
  const bool holds_slot = c.state == ConversationState::kAssigned && !c.assignee_id.empty();
  // A conversation that moved to another kind of channel (a chat that became a call)
  // holds a slot of the new kind from then on.
  if (hold != r.holds.end() &&
      (!holds_slot || hold->second.agent_id != c.assignee_id || hold->second.kind != capacity_kind(c.active_channel))) {
    const std::string agent_id = hold->second.agent_id;
    --r.load[agent_id][hold->second.kind];
    --r.open_of[agent_id];
    r.holds.erase(hold);
    hold = r.holds.end();
    if (auto a = agents.find(agent_id); a != agents.end()) refresh_agent(a->second, now);
  }
  if (holds_slot && hold == r.holds.end()) {
    const std::string kind = capacity_kind(c.active_channel);
    ++r.load[c.assignee_id][kind];
    ++r.open_of[c.assignee_id];
    r.holds.emplace(c.id, Routing::Hold{c.assignee_id, kind});
    if (auto a = agents.find(c.assignee_id); a != agents.end()) {
      if (!r.rebuilding) {
        a->second.idle_since = now;
        if (out.with_records) out.agents.push_back(a->second);
      }
      refresh_agent(a->second, now);
    }
  }
}

void Desk::State::forget(std::string_view conversation_id, Timestamp now) {
  Conversation gone;
  gone.id = std::string(conversation_id);
  gone.updated_at = now;
  gone.state = ConversationState::kClosed;
  Commit ignored;
  ignored.with_records = false;
  track(gone, ignored);
}

void Desk::State::rebuild_routing(Timestamp now) {
  Routing& r = routing;
  for (const ConversationSlot& slot : conversations) held(slot).waiting = {};
  r.lanes.clear();
  r.holds.clear();
  r.load.clear();
  r.open_of.clear();
  r.calendars.clear();
  for (const auto& [name, queue] : queues) {
    auto calendar = BusinessCalendar::compile(queue.business_hours, "queue.business_hours");
    if (calendar && !calendar->always_open()) r.calendars.emplace(name, std::move(calendar.value()));
  }
  Commit ignored;
  ignored.with_records = false;
  r.rebuilding = true;
  for (const ConversationSlot& slot : conversations) track(held(slot), slot.data, ignored);
  r.rebuilding = false;
  for (const auto& [id, agent] : agents) refresh_agent(agent, now);
}

void Desk::State::arm_routing_deadlines(const Conversation& c) {
  for (const auto& clock : c.sla) {
    if (clock.warning_at) deadlines.emplace(*clock.warning_at, Deadline{c.id, DeadlineKind::kSla});
    if (clock.due_at) deadlines.emplace(*clock.due_at, Deadline{c.id, DeadlineKind::kSla});
  }
  if (c.state == ConversationState::kQueued && c.extras->overflow_at) {
    deadlines.emplace(*c.extras->overflow_at, Deadline{c.id, DeadlineKind::kOverflow});
  }
}

void Desk::State::follow(const Conversation& c, Timestamp now) {
  Commit ignored;
  ignored.with_records = false;
  routing.rebuilding = true;  // another node's change: no idle clocks restarted here
  Conversation copy = c;
  copy.updated_at = std::max(copy.updated_at, now);
  track(copy, ignored);
  routing.rebuilding = false;
  arm_routing_deadlines(c);
}

void Desk::State::restore_routing(Timestamp now) {
  rebuild_routing(now);
  for (const ConversationSlot& slot : conversations) arm_routing_deadlines(slot.data);
  for (const auto& [id, agent] : agents) {
    if (agent.wrap_up_until) deadlines.emplace(*agent.wrap_up_until, Deadline{{}, DeadlineKind::kWrapUpEnd, {}, id});
  }
}

const Queue& Desk::State::queue_of(const std::string& name) const {
  // A conversation stored in a queue the config no longer has: treated as a plain one.
  static const Queue kPlain;
  auto it = queues.find(name);
  return it == queues.end() ? kPlain : it->second;
}

const BusinessCalendar& Desk::State::calendar(const std::string& queue) const {
  static const BusinessCalendar kAlwaysOpen;
  auto it = routing.calendars.find(queue);
  return it == routing.calendars.end() ? kAlwaysOpen : it->second;
}

// --- assignment ---------------------------------------------------------------------------

const std::string& Desk::State::next_agent(const Lane& l, const Queue& queue) const {
  auto pick = l.free_agents.begin();
  if (queue.strategy == "round_robin" && !queue.last_assigned_agent.empty()) {
    pick = l.free_agents.upper_bound({AgentKey{}, queue.last_assigned_agent});
    if (pick == l.free_agents.end()) pick = l.free_agents.begin();
  }
  return pick->second;
}

void Desk::State::assign_by_routing(ConversationSlot& slot, const std::string& agent_id, Queue& queue, Timestamp at,
                                    Commit& out) {
  fire(slot, Trigger::kAssign, facts_for(slot.data), kRouting, at, {}, out).value();
  slot.data.assignee_id = agent_id;
  append(slot.data, Assigned{agent_id}, kRouting, at, out);
  save(slot, out);  // leaves the lane, takes the agent's slot
  if (queue.strategy == "round_robin") queue.last_assigned_agent = agent_id;
}

void Desk::State::dispatch(Timestamp at, Commit& out) {
  std::set<std::string> moved;  // round_robin queues whose position changed
  for (auto& [key, l] : routing.lanes) {
    auto q = queues.find(l.queue);
    if (q == queues.end()) continue;
    Queue& queue = q->second;
    const bool round_robin = queue.strategy == "round_robin";
    while (!l.waiting.empty() && !l.free_agents.empty()) {
      const std::string conversation_id(l.waiting.begin()->conversation_id.view());
      const std::string agent_id = next_agent(l, queue);
      // The lane holds only Queued conversations, which always accept Assign.
      assign_by_routing(slot_at(conversation_id), agent_id, queue, at, out);
      if (round_robin) moved.insert(queue.name);
    }
  }
  if (out.with_records) {
    for (const auto& name : moved) out.queues.push_back(queues.at(name));
  }
}

void Desk::State::on_step(Conversation& c, const Step& step, Trigger trigger, Timestamp at, Commit& out) {
  using S = ConversationState;
  QueueMeasures& m = routing.measures.queue(c.queue);
  if (step.effects & kCountTransfer) ++m.transfers;
  if (step.effects & kCountReopen) {
    ++m.reopens;
    // It was counted as resolved at first contact; it was not.
    if (c.extras->reopen_count == 1 && c.extras->transfer_count == 0 && m.first_contact_resolutions > 0) {
      --m.first_contact_resolutions;
    }
    clear_survey(c);
  }
  if (step.effects & kAskRouting) {
    // Back from an agent who went offline: keeps its place, at the front by waiting time.
    if (trigger != Trigger::kUnassign || !c.queued_since) c.queued_since = at;
    arm_overflow(*this, c, queue_of(c.queue), at);
  }
  if (step.from == S::kQueued && step.to == S::kAssigned) {
    if (c.queued_since) m.queue_wait.observe(at - *c.queued_since);
    if (!c.first_assigned_at) c.first_assigned_at = at;
    clear_overflow(c);
  }

  if (step.to == S::kSnoozed && step.from != S::kSnoozed) sla_pause_all(c, at);
  if (step.from == S::kSnoozed && step.to != S::kSnoozed && step.to != S::kResolved) sla_resume_all(c, at, out);
  if (step.to == S::kResolved && step.from != S::kResolved) sla_stop_all(c, at);
  const bool with_people = step.to == S::kQueued || step.to == S::kAssigned;
  if (with_people && (trigger == Trigger::kInbound || trigger == Trigger::kHandoff || trigger == Trigger::kReopen)) {
    sla_customer_waiting(c, at, out);
  }
  if (trigger == Trigger::kAgentReply && c.open()) sla_agent_replied(c, at, out);
}

void Desk::State::on_queue_changed(Conversation& c, Timestamp at) {
  if (c.state == ConversationState::kQueued) arm_overflow(*this, c, queue_of(c.queue), at);
  // Another queue, another policy and other hours: deadlines again, from what the
  // clocks used so far.
  for (auto& clock : c.sla) {
    if (clock.running_since) sla_schedule(c, clock, at);
  }
}

void Desk::State::run_routing_deadline(const Deadline& d, Timestamp at, Commit& out) {
  if (d.kind == DeadlineKind::kWrapUpEnd) {
    auto it = agents.find(d.agent_id);
    if (it == agents.end() || !it->second.wrap_up_until || *it->second.wrap_up_until > at) return;  // stale
    it->second.wrap_up_until.reset();
    out.agents.push_back(it->second);
    refresh_agent(it->second, at);
    return;
  }
  ConversationSlot* slot = find_slot(d.conversation_id);
  if (slot == nullptr) return;  // erased since
  Conversation& c = slot->data;
  if (d.kind == DeadlineKind::kSla) {
    sla_check(c, at, out);
    return;
  }
  // kOverflow: still waiting in the queue that set it?
  const OptionalTime& overflow_at = c.extras->overflow_at;
  if (c.state != ConversationState::kQueued || !overflow_at || *overflow_at > at) return;
  const std::string from = c.queue;
  const std::string to = queue_of(from).overflow_queue;
  clear_overflow(c);
  if (to.empty() || to == from || !queues.contains(to)) return;
  ++routing.measures.queue(from).overflowed;
  c.queue = to;
  append(c, Overflowed{from, to}, kRouting, at, out);
  on_queue_changed(c, at);
  save(*slot, out);
}

// --- resolve, surveys, out-of-hours ---------------------------------------------------------

void Desk::State::after_resolve(Conversation& c, Timestamp at, Commit& out) {
  QueueMeasures& m = routing.measures.queue(c.queue);
  ++m.resolved;
  if (c.extras->reopen_count == 0 && c.extras->transfer_count == 0) ++m.first_contact_resolutions;
  m.resolution.observe(at - c.created_at);
  if (c.first_assigned_at) m.handle.observe(at - *c.first_assigned_at);
  if (auto a = agents.find(c.assignee_id); a != agents.end()) {
    Agent& agent = a->second;
    agent.idle_since = at;
    if (agent.wrap_up.count() > 0) {
      agent.wrap_up_until = at + agent.wrap_up;
      deadlines.emplace(*agent.wrap_up_until, Deadline{{}, DeadlineKind::kWrapUpEnd, {}, agent.id});
    }
    out.agents.push_back(agent);
  }
  const Survey& survey = queue_of(c.queue).survey;
  const ChannelLeg* leg = c.leg(c.active_channel);
  if (survey.kind.empty() || leg == nullptr) return;
  std::string text = survey.text;
  if (text.empty()) {
    text = survey.kind == "nps" ? "How likely are you to recommend us to a friend? Reply with a number from 0 to 10."
                                : "How did we do? Reply with a number from 1 (poor) to 5 (great).";
  }
  send_system_message(c, leg->channel, leg->address, text, at, out);
  ConversationExtras& x = c.extras.edit();
  x.survey_kind = survey.kind;
  x.survey_until = at + (survey.window.count() > 0 ? survey.window : seconds(kDefaultSurveyWindow));
}

bool Desk::State::record_survey_answer(Conversation& c, const std::string& text, Timestamp at, Commit& out) {
  const ConversationExtras& asked = *c.extras;
  if (c.state != ConversationState::kResolved || asked.survey_kind.empty() || !asked.survey_until ||
      at > *asked.survey_until) {
    return false;
  }
  const bool nps = asked.survey_kind == "nps";
  const auto score = nps ? score_in(text, 0, 10) : score_in(text, 1, 5);
  if (!score) return false;
  QueueMeasures& m = routing.measures.queue(c.queue);
  if (nps) {
    c.extras.edit().nps = *score;
    ++m.nps[*score <= 6 ? 0 : *score <= 8 ? 1 : 2];
  } else {
    c.extras.edit().csat = *score;
    ++m.csat_count;
    m.csat_sum += static_cast<uint64_t>(*score);
  }
  append(c, SurveyAnswered{c.extras->survey_kind, *score}, "customer", at, out);
  clear_survey(c);
  return true;
}

void Desk::State::reply_if_closed(Conversation& c, const Identity& to, Timestamp at, Commit& out) {
  if (c.state != ConversationState::kQueued) return;
  const BusinessCalendar& hours = calendar(c.queue);
  if (hours.always_open() || hours.open_at(at)) return;
  // Once per closed spell: not again until the queue has been open in between.
  const OptionalTime& replied_at = c.extras->auto_replied_at;
  if (replied_at && hours.between(*replied_at, at) == Clock::duration::zero()) return;
  const Queue& queue = queue_of(c.queue);
  const auto next = hours.next_open(at);
  const std::string when = next ? hours.describe(*next) : "as soon as we can";
  std::string text = queue.out_of_hours_reply.empty()
                         ? "Thanks for your message. We are closed right now and will answer from {next_open}."
                         : queue.out_of_hours_reply;
  send_system_message(c, to.channel, to.address, replace_all(std::move(text), "{next_open}", when), at, out);
  c.extras.edit().auto_replied_at = at;
  ++routing.measures.queue(c.queue).out_of_hours_replies;
}

void Desk::State::send_system_message(Conversation& c, const std::string& channel, const std::string& address,
                                      const std::string& text, Timestamp at, Commit& out) {
  Message message{Direction::kOutbound, channel, address, text, {}, {}, DeliveryStatus::kPending, "system", {}};
  const uint64_t seq = append(c, std::move(message), "system", at, out).seq;
  OutboxEntry entry{ids.next("ob_", at), c.id, seq, channel, address, text, {}};
  outbox[entry.outbound_id] = entry;
  out.outbox.push_back(entry);
  out.deliveries.push_back(std::move(entry));
}

std::string Desk::State::select_queue(const std::string& channel, const std::string& address,
                                      const Attributes& attributes, const std::vector<std::string>& labels,
                                      const std::string& fallback) const {
  const QueueRule* best = nullptr;
  const std::string* best_queue = nullptr;
  for (const auto& [name, queue] : queues) {  // by name: ties go to the first name
    for (const auto& rule : queue.rules) {
      if ((best == nullptr || rule.order < best->order) && rule_matches(rule, channel, address, attributes, labels)) {
        best = &rule;
        best_queue = &name;
      }
    }
  }
  return best_queue != nullptr ? *best_queue : fallback;
}

// --- queries ----------------------------------------------------------------------------------

uint32_t Desk::State::agents_serving(const Queue& queue) const {
  uint32_t online = 0;
  for (const auto& [_, agent] : agents) online += agent.available() && covers(agent.skills, queue.required_skills);
  return online;
}

WaitEstimate Desk::State::wait_estimate(const Queue& queue) const {
  WaitEstimate estimate;
  for (const auto& [_, agent] : agents) {
    if (!agent.available() || !covers(agent.skills, queue.required_skills)) continue;
    for (const auto& [kind, capacity] : agent.capacity) estimate.slots += capacity;
  }
  if (auto m = routing.measures.queues.find(queue.name); m != routing.measures.queues.end()) {
    const double handle = m->second.handle.mean();
    if (handle >= 1) estimate.handle_seconds = handle;
  }
  return estimate;
}

std::vector<const WaitKey*> Desk::State::waiting_line(const std::string& queue) const {
  std::vector<const WaitKey*> line;
  for (const auto& [key, l] : routing.lanes) {
    if (l.queue != queue) continue;
    for (const auto& w : l.waiting) line.push_back(&w);
  }
  std::sort(line.begin(), line.end(), [](const WaitKey* a, const WaitKey* b) { return *a < *b; });
  return line;
}

std::optional<QueuePlace> Desk::State::place_of(const Conversation& c) const {
  auto slot = conversations.find(c.id);
  if (slot == conversations.end() || slot->waiting.lane == nullptr) return std::nullopt;
  const WaitKey place = slot->waiting.key(c.id);
  std::size_t ahead = 0;
  for (const auto& [key, l] : routing.lanes) {
    if (l.queue != c.queue) continue;
    ahead += static_cast<std::size_t>(std::distance(l.waiting.begin(), l.waiting.lower_bound(place)));
  }
  const auto position = static_cast<uint32_t>(ahead + 1);
  return QueuePlace{position, wait_estimate(queue_of(c.queue)).expected_wait(position)};
}

Result<QueueStats> Desk::queue_stats(const std::string& queue_name) const {
  const State& s = *state_;
  auto q = s.queues.find(queue_name);
  if (q == s.queues.end()) return not_found("queue", "no queue '" + queue_name + "'");
  const Queue& queue = q->second;
  const Timestamp now = now_();
  QueueStats stats;
  stats.queue = queue_name;
  for (const ConversationSlot& slot : s.conversations) {
    if (slot.data.queue == queue_name && slot.data.open()) ++stats.conversations_by_state[to_string(slot.data.state)];
  }
  stats.agents_online = s.agents_serving(queue);
  const Routing& r = s.routing;
  if (auto m = r.measures.queues.find(queue_name); m != r.measures.queues.end()) {
    const QueueMeasures& qm = m->second;
    stats.resolved = qm.resolved;
    stats.first_contact_resolutions = qm.first_contact_resolutions;
    stats.transfers = qm.transfers;
    stats.reopens = qm.reopens;
    stats.overflowed = qm.overflowed;
    for (const auto& [_, n] : qm.sla_breaches) stats.sla_breaches += n;
    for (const auto& [_, n] : qm.sla_warnings) stats.sla_warnings += n;
    stats.average_first_response = seconds(static_cast<int64_t>(qm.first_response.mean()));
    stats.average_next_response = seconds(static_cast<int64_t>(qm.next_response.mean()));
    stats.average_resolution = seconds(static_cast<int64_t>(qm.resolution.mean()));
    stats.average_queue_wait = seconds(static_cast<int64_t>(qm.queue_wait.mean()));
    stats.average_handle = seconds(static_cast<int64_t>(qm.handle.mean()));
    stats.csat_average = qm.csat_average();
    stats.csat_responses = qm.csat_count;
    stats.nps = qm.nps_score();
    stats.nps_responses = qm.nps[0] + qm.nps[1] + qm.nps[2];
  }
  const std::vector<const WaitKey*> line = s.waiting_line(queue_name);
  stats.waiting = static_cast<uint32_t>(line.size());
  const WaitEstimate estimate = s.wait_estimate(queue);
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto waited = std::chrono::floor<seconds>(now - line[i]->since);
    stats.longest_wait = std::max(stats.longest_wait, waited);
    if (i < kListedWaiting) {
      stats.next_waiting.push_back({std::string(line[i]->conversation_id.view()), static_cast<uint32_t>(i + 1), waited,
                                    estimate.expected_wait(i + 1)});
    }
  }
  stats.expected_wait = estimate.expected_wait(line.size() + 1);
  stats.open_now = s.calendar(queue_name).open_at(now);
  return stats;
}

// --- Prometheus -------------------------------------------------------------------------------

namespace {

std::string escaped(const std::string& value) {
  std::string out;
  for (char ch : value) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += help;
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
  }
  void sample(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels, double value) {
    text_ += name;
    if (!labels.empty()) {
      text_ += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) text_ += ',';
        text_ += labels[i].first + "=\"" + escaped(labels[i].second) + '"';
      }
      text_ += '}';
    }
    char number[64];
    std::snprintf(number, sizeof number, " %.17g\n", value);
    text_ += number;
  }
  void histogram(const std::string& name, const std::string& queue, const Histogram& h) {
    const auto cumulative = h.cumulative();
    for (std::size_t i = 0; i < cumulative.size(); ++i) {
      char bound[32];
      if (i < Histogram::kBounds.size()) {
        std::snprintf(bound, sizeof bound, "%g", Histogram::kBounds[i]);
      } else {
        std::snprintf(bound, sizeof bound, "+Inf");
      }
      sample(name + "_bucket", {{"queue", queue}, {"le", bound}}, static_cast<double>(cumulative[i]));
    }
    sample(name + "_sum", {{"queue", queue}}, h.sum());
    sample(name + "_count", {{"queue", queue}}, static_cast<double>(h.count()));
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

std::string Desk::prometheus_metrics() const {
  const State& s = *state_;
  const Routing& r = s.routing;
  const Timestamp now = now_();
  Exposition x;
  struct HistogramFamily {
    const char* name;
    Histogram QueueMeasures::*member;
    const char* help;
  };
  static const HistogramFamily kHistograms[] = {
      {"switchboard_first_response_seconds", &QueueMeasures::first_response,
       "Customer's first message to the first agent reply."},
      {"switchboard_next_response_seconds", &QueueMeasures::next_response,
       "A later customer message to the agent's reply."},
      {"switchboard_resolution_seconds", &QueueMeasures::resolution, "Conversation opened to resolved."},
      {"switchboard_queue_wait_seconds", &QueueMeasures::queue_wait, "Waiting in the queue to assigned."},
      {"switchboard_handle_seconds", &QueueMeasures::handle, "First assigned to resolved."},
  };
  for (const auto& family : kHistograms) {
    x.family(family.name, "histogram", family.help);
    for (const auto& [queue, m] : r.measures.queues) x.histogram(family.name, queue, m.*family.member);
  }
  struct CounterFamily {
    const char* name;
    uint64_t QueueMeasures::*member;
    const char* help;
  };
  static const CounterFamily kCounters[] = {
      {"switchboard_transfers_total", &QueueMeasures::transfers, "Transfers to another agent or queue."},
      {"switchboard_reopens_total", &QueueMeasures::reopens, "Resolved conversations reopened."},
      {"switchboard_resolved_total", &QueueMeasures::resolved, "Resolutions."},
      {"switchboard_first_contact_resolutions_total", &QueueMeasures::first_contact_resolutions,
       "Resolutions without a transfer or a reopen."},
      {"switchboard_overflowed_total", &QueueMeasures::overflowed, "Conversations moved to the overflow queue."},
      {"switchboard_out_of_hours_replies_total", &QueueMeasures::out_of_hours_replies,
       "Automatic replies sent outside business hours."},
      {"switchboard_csat_responses_total", &QueueMeasures::csat_count, "CSAT survey answers."},
      {"switchboard_csat_score_total", &QueueMeasures::csat_sum, "Sum of CSAT scores (1-5)."},
  };
  for (const auto& family : kCounters) {
    x.family(family.name, "counter", family.help);
    for (const auto& [queue, m] : r.measures.queues) {
      x.sample(family.name, {{"queue", queue}}, static_cast<double>(m.*family.member));
    }
  }
  x.family("switchboard_csat_average", "gauge", "Average CSAT score (1-5); 0 without answers.");
  for (const auto& [queue, m] : r.measures.queues)
    x.sample("switchboard_csat_average", {{"queue", queue}}, m.csat_average());
  x.family("switchboard_nps_responses_total", "counter", "NPS answers by group.");
  static const char* kGroups[] = {"detractor", "passive", "promoter"};
  for (const auto& [queue, m] : r.measures.queues) {
    for (std::size_t g = 0; g < 3; ++g) {
      x.sample("switchboard_nps_responses_total", {{"queue", queue}, {"group", kGroups[g]}},
               static_cast<double>(m.nps[g]));
    }
  }
  x.family("switchboard_nps", "gauge", "Net promoter score (-100 to 100); 0 without answers.");
  for (const auto& [queue, m] : r.measures.queues) x.sample("switchboard_nps", {{"queue", queue}}, m.nps_score());
  x.family("switchboard_sla_warnings_total", "counter", "SLA clocks that reached their warning point.");
  for (const auto& [queue, m] : r.measures.queues) {
    for (const auto& [metric, n] : m.sla_warnings) {
      x.sample("switchboard_sla_warnings_total", {{"queue", queue}, {"metric", metric}}, static_cast<double>(n));
    }
  }
  x.family("switchboard_sla_breaches_total", "counter", "SLA clocks that reached their target.");
  for (const auto& [queue, m] : r.measures.queues) {
    for (const auto& [metric, n] : m.sla_breaches) {
      x.sample("switchboard_sla_breaches_total", {{"queue", queue}, {"metric", metric}}, static_cast<double>(n));
    }
  }

  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> open;
  for (const ConversationSlot& slot : s.conversations) {
    const Conversation& c = slot.data;
    if (c.open()) ++open[{to_string(c.state), c.queue, c.active_channel}];
  }
  x.family("switchboard_open_conversations", "gauge", "Conversations not resolved or closed.");
  for (const auto& [key, n] : open) {
    const auto& [state, queue, channel] = key;
    x.sample("switchboard_open_conversations", {{"state", state}, {"queue", queue}, {"channel", channel}},
             static_cast<double>(n));
  }
  std::map<std::string, std::pair<uint64_t, Timestamp>> waiting;  // queue -> count, oldest
  for (const auto& [key, l] : r.lanes) {
    if (l.waiting.empty()) continue;
    auto& [count, oldest] = waiting.try_emplace(l.queue, 0, now).first->second;
    count += l.waiting.size();
    oldest = std::min(oldest, l.waiting.begin()->since);
  }
  x.family("switchboard_waiting_conversations", "gauge", "Conversations waiting in a queue.");
  for (const auto& [queue, w] : waiting) {
    x.sample("switchboard_waiting_conversations", {{"queue", queue}}, static_cast<double>(w.first));
  }
  x.family("switchboard_longest_wait_seconds", "gauge", "How long the longest-waiting conversation has waited.");
  for (const auto& [queue, w] : waiting) {
    x.sample("switchboard_longest_wait_seconds", {{"queue", queue}},
             std::chrono::duration<double>(now - w.second).count());
  }
  std::map<std::string, uint64_t> by_status = {{"online", 0}, {"away", 0}, {"offline", 0}};
  for (const auto& [_, agent] : s.agents) ++by_status[to_string(agent.status)];
  x.family("switchboard_agents", "gauge", "Agents by status.");
  for (const auto& [status, n] : by_status)
    x.sample("switchboard_agents", {{"status", status}}, static_cast<double>(n));
  x.family("switchboard_agent_load", "gauge", "Conversations assigned to an agent, by capacity kind.");
  x.family("switchboard_agent_capacity", "gauge", "An agent's capacity, by capacity kind.");
  for (const auto& [id, agent] : s.agents) {
    for (const auto& [kind, capacity] : agent.capacity) {
      x.sample("switchboard_agent_load", {{"agent", id}, {"kind", kind}}, held(r, id, kind));
      x.sample("switchboard_agent_capacity", {{"agent", id}, {"kind", kind}}, capacity);
    }
  }
  x.family("switchboard_inbound_messages_total", "counter", "Customer messages received, by channel.");
  for (const auto& [channel, n] : r.measures.inbound) {
    x.sample("switchboard_inbound_messages_total", {{"channel", channel}}, static_cast<double>(n));
  }
  x.family("switchboard_outbound_deliveries_total", "counter",
           "Delivery reports from adapters, by channel and status (failed counts errors).");
  for (const auto& [key, n] : r.measures.deliveries) {
    x.sample("switchboard_outbound_deliveries_total", {{"channel", key.first}, {"status", key.second}},
             static_cast<double>(n));
  }
  return x.take();
}

}  // namespace switchboard::router
