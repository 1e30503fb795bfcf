// Commands on one conversation (assign, transfer, snooze, resolve, ...) and the
// agents and queues they name.

#include <algorithm>
#include <set>

#include <switchboard/router/desk.h>

#include "desk_state.h"

namespace switchboard::router {
namespace {

constexpr int32_t kMaxPriority = 100;
const std::set<std::string> kStrategies = {"round_robin", "least_busy", "longest_idle", "skills", "manual"};

Status check_reason(const std::string& reason, const Limits& limits) {
  if (reason.size() > limits.max_reason_bytes || !valid_utf8(reason)) {
    return invalid_argument("reason", "longer than " + std::to_string(limits.max_reason_bytes) + " bytes or not UTF-8");
  }
  return ok_status();
}

// The conversation after a command, with the events this command wrote on it (routing
// may have written on others too).
ConversationUpdate updated(const Conversation& c, const Commit& out, std::size_t first_event) {
  ConversationUpdate u{c, {}};
  std::copy_if(out.events.begin() + static_cast<std::ptrdiff_t>(first_event), out.events.end(),
               std::back_inserter(u.events), [&](const Event& e) { return e.conversation_id == c.id; });
  return u;
}

}  // namespace

// Runs one command against a conversation: `apply` may refuse (nothing changes, as
// the Commit is only appended to after every check); then the conversation is saved
// and answered with the events the command wrote.
template <typename Apply>
Result<ConversationUpdate> run_command(Desk::State& s, const std::string& conversation_id, Commit& out, Apply apply) {
  auto slot = s.find_conversation(conversation_id);
  if (!slot) return slot.error();
  const std::size_t first = out.events.size();
  if (Status ok = apply(**slot); !ok) return ok.error();
  s.save(**slot, out);
  s.dispatch((*slot)->data.updated_at, out);  // a freed slot or a new waiter: match at once
  return updated((*slot)->data, out, first);
}

Result<ConversationUpdate> Desk::add_note(const std::string& conversation_id, const std::string& text,
                                          const std::string& actor, Commit& out) {
  if (auto ok = check_text(text, true, options_.limits, "text"); !ok) return ok.error();
  return run_command(*state_, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    Message note{Direction::kNote, {}, {}, text, {}, {}, DeliveryStatus::kNone, actor, {}};
    state_->append(slot.data, std::move(note), actor, now_(), out);
    return ok_status();
  });
}

Result<ConversationUpdate> Desk::assign(const std::string& conversation_id, const std::string& agent_id,
                                        const std::string& actor, Commit& out) {
  State& s = *state_;
  if (agent_id.empty()) return invalid_argument("agent_id", "required");
  if (!s.agents.contains(agent_id)) return not_found("agent_id", "no agent '" + agent_id + "'");
  return run_command(s, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    const Timestamp at = now_();
    auto step = s.fire(slot, Trigger::kAssign, s.facts_for(slot.data), actor, at, options_.limits.reopen_window, out);
    if (!step) return step.error();
    slot.data.assignee_id = agent_id;
    s.append(slot.data, Assigned{agent_id}, actor, at, out);
    return ok_status();
  });
}

Result<ConversationUpdate> Desk::transfer(const TransferCommand& cmd, const std::string& actor, Commit& out) {
  State& s = *state_;
  if (cmd.agent_id.empty() == cmd.queue.empty()) return invalid_argument("target", "give either agent_id or queue");
  if (!cmd.agent_id.empty() && !s.agents.contains(cmd.agent_id)) {
    return not_found("agent_id", "no agent '" + cmd.agent_id + "'");
  }
  if (!cmd.queue.empty() && !s.queues.contains(cmd.queue)) return not_found("queue", "no queue '" + cmd.queue + "'");
  if (auto ok = check_reason(cmd.reason, options_.limits); !ok) return ok.error();
  return run_command(s, cmd.conversation_id, out, [&](ConversationSlot& slot) -> Status {
    Conversation& c = slot.data;
    const std::string from_agent = c.assignee_id;
    TriggerFacts facts = s.facts_for(c);
    facts.to_queue = !cmd.queue.empty();
    const Timestamp at = now_();
    // The context travels with the conversation: only the owner changes.
    auto step = s.fire(slot, Trigger::kTransfer, facts, actor, at, options_.limits.reopen_window, out);
    if (!step) return step.error();
    if (facts.to_queue) {
      c.queue = cmd.queue;
      s.on_queue_changed(c, at);
    } else {
      c.assignee_id = cmd.agent_id;
    }
    s.append(c, Transferred{from_agent, cmd.agent_id, cmd.queue, cmd.reason, c.extras->transfer_count}, actor, at, out);
    return ok_status();
  });
}

Result<ConversationUpdate> Desk::handoff(const std::string& conversation_id, const std::string& reason,
                                         const std::string& queue, const std::string& actor, Commit& out) {
  State& s = *state_;
  if (auto ok = check_reason(reason, options_.limits); !ok) return ok.error();
  if (!queue.empty() && !s.queues.contains(queue)) return not_found("queue", "no queue '" + queue + "'");
  return run_command(s, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    Conversation& c = slot.data;
    const Timestamp at = now_();
    auto step = s.fire(slot, Trigger::kHandoff, s.facts_for(c), actor, at, options_.limits.reopen_window, out);
    if (!step) return step.error();
    // No queue named: the selection rules may pick one now that the bot set labels
    // and attributes; else the conversation stays where it is.
    c.queue = queue.empty() ? s.select_queue(c.active_channel, c.legs.empty() ? "" : c.leg(c.active_channel)->address,
                                             c.extras->attributes, c.extras->labels, c.queue)
                            : queue;
    s.on_queue_changed(c, at);
    s.append(c, HandedOff{reason, c.queue}, actor, at, out);
    return ok_status();
  });
}

Result<ConversationUpdate> Desk::snooze(const std::string& conversation_id, Timestamp until, const std::string& actor,
                                        Commit& out) {
  State& s = *state_;
  const Timestamp at = now_();
  if (until <= at) return invalid_argument("until", "must be in the future");
  return run_command(s, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    auto step = s.fire(slot, Trigger::kSnooze, s.facts_for(slot.data), actor, at, options_.limits.reopen_window, out);
    if (!step) return step.error();
    slot.data.extras.edit().snoozed_until = until;
    s.deadlines.emplace(until, Deadline{slot.data.id, DeadlineKind::kWake});
    s.append(slot.data, Snoozed{until}, actor, at, out);
    return ok_status();
  });
}

Result<ConversationUpdate> Desk::resolve(const std::string& conversation_id, const std::string& actor, Commit& out) {
  State& s = *state_;
  return run_command(s, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    const Timestamp at = now_();
    auto step = s.fire(slot, Trigger::kResolve, s.facts_for(slot.data), actor, at, options_.limits.reopen_window, out);
    if (!step) return step.error();
    s.append(slot.data, Resolved{actor}, actor, at, out);
    s.after_resolve(slot.data, at, out);
    return ok_status();
  });
}

Result<ConversationUpdate> Desk::reopen(const std::string& conversation_id, const std::string& actor, Commit& out) {
  State& s = *state_;
  return run_command(s, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    auto step =
        s.fire(slot, Trigger::kReopen, s.facts_for(slot.data), actor, now_(), options_.limits.reopen_window, out);
    return step ? ok_status() : Status(step.error());
  });
}

Result<ConversationUpdate> Desk::set_attributes(const std::string& conversation_id, const Attributes& set,
                                                const std::vector<std::string>& remove, const std::string& actor,
                                                Commit& out) {
  State& s = *state_;
  auto slot = s.find_conversation(conversation_id);
  if (!slot) return slot.error();
  auto next = apply_attributes((*slot)->data.extras->attributes, set, remove, options_.limits, "set");
  if (!next) return next.error();
  return run_command(s, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    slot.data.extras.edit().attributes = std::move(next.value());
    s.append(slot.data, AttributesChanged{set, remove}, actor, now_(), out);
    return ok_status();
  });
}

Result<ConversationUpdate> Desk::set_labels(const std::string& conversation_id, const std::vector<std::string>& labels,
                                            const std::string& actor, Commit& out) {
  const Limits& limits = options_.limits;
  if (labels.size() > limits.max_labels) {
    return invalid_argument("labels", "at most " + std::to_string(limits.max_labels) + " labels");
  }
  std::vector<std::string> unique;
  for (const auto& label : labels) {
    auto ok = normalizer_.normalize_channel(label, "labels");  // labels follow the same naming rule
    if (!ok || label.size() > limits.max_label_bytes) {
      return invalid_argument("labels", "'" + label.substr(0, 64) + "' must be 1 to " +
                                            std::to_string(limits.max_label_bytes) +
                                            " of lowercase letters, digits, '_' and '-'");
    }
    if (std::find(unique.begin(), unique.end(), label) == unique.end()) unique.push_back(label);
  }
  return run_command(*state_, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    slot.data.extras.edit().labels = unique;
    state_->append(slot.data, LabelsChanged{unique}, actor, now_(), out);
    return ok_status();
  });
}

Result<ConversationUpdate> Desk::set_priority(const std::string& conversation_id, int32_t priority,
                                              const std::string& actor, Commit& out) {
  if (priority < 0 || priority > kMaxPriority) {
    return invalid_argument("priority", "must be from 0 to " + std::to_string(kMaxPriority));
  }
  return run_command(*state_, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    slot.data.priority = priority;
    state_->append(slot.data, PriorityChanged{priority}, actor, now_(), out);
    return ok_status();
  });
}

// --- agents and queues ------------------------------------------------------------------

namespace {

constexpr uint32_t kMaxCapacity = 1000;
constexpr std::size_t kMaxSkills = 64;
constexpr std::size_t kMaxRules = 64;
constexpr auto kMaxWrapUp = std::chrono::hours(24);

Status check_names(const std::vector<std::string>& names, const std::string& field, const IdentityNormalizer& rule) {
  if (names.size() > kMaxSkills) return invalid_argument(field, "at most " + std::to_string(kMaxSkills));
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (auto ok = rule.normalize_channel(names[i], field); !ok || *ok != names[i]) {
      return invalid_argument(field + "[" + std::to_string(i) + "]",
                              "'" + names[i].substr(0, 64) + "' must be lowercase letters, digits, '_' and '-'");
    }
  }
  return ok_status();
}

Status check_target(const SlaTarget& target, const std::string& field) {
  if (target.target.count() < 0) return invalid_argument(field + ".target", "must not be negative");
  if (target.warning.count() < 0 || (target.warning.count() > 0 && target.warning >= target.target)) {
    return invalid_argument(field + ".warning", "must be below the target (it is the elapsed time that warns)");
  }
  return ok_status();
}

}  // namespace

namespace {

// Where calls for the agent go: a SIP or tel URI a PBX can dial, or empty.
Status check_sip_uri(const std::string& uri, const Limits& limits) {
  if (uri.empty()) return ok_status();
  if (uri.size() > limits.max_address_bytes) {
    return invalid_argument("agent.sip_uri", "longer than " + std::to_string(limits.max_address_bytes) + " bytes");
  }
  const bool scheme = uri.starts_with("sip:") || uri.starts_with("sips:") || uri.starts_with("tel:");
  const bool printable = std::all_of(uri.begin(), uri.end(), [](char ch) { return ch > ' ' && ch < 0x7f; });
  if (!scheme || !printable || uri.find_first_of("<>\"") != std::string::npos || uri.back() == ':') {
    return invalid_argument("agent.sip_uri", "'" + uri.substr(0, 64) + "' is not a sip:, sips: or tel: URI");
  }
  return ok_status();
}

}  // namespace

Result<Agent> Desk::upsert_agent(const Agent& agent, Commit& out) {
  State& s = *state_;
  if (auto id = normalizer_.normalize_channel(agent.id, "agent.id"); !id) return id.error();
  if (agent.name.size() > options_.limits.max_display_name_bytes) {
    return invalid_argument("agent.name", "longer than " + std::to_string(options_.limits.max_display_name_bytes));
  }
  if (auto ok = check_names(agent.skills, "agent.skills", normalizer_); !ok) return ok.error();
  for (const auto& [kind, capacity] : agent.capacity) {
    if (auto ok = normalizer_.normalize_channel(kind, "agent.capacity"); !ok || *ok != kind) {
      return invalid_argument("agent.capacity",
                              "'" + kind.substr(0, 64) + "' is not a channel kind (chat, voice, ...)");
    }
    if (capacity > kMaxCapacity) {
      return invalid_argument("agent.capacity[" + kind + "]", "must be from 0 to " + std::to_string(kMaxCapacity));
    }
  }
  if (auto ok = check_sip_uri(agent.sip_uri, options_.limits); !ok) return ok.error();
  if (agent.wrap_up.count() < 0 || agent.wrap_up > kMaxWrapUp) {
    return invalid_argument("agent.wrap_up_seconds", "must be from 0 to 86400");
  }
  const Timestamp at = now_();
  auto [it, created] = s.agents.try_emplace(agent.id, agent);
  if (created) {
    it->second.status_since = at;
    it->second.idle_since = at;
    it->second.wrap_up_until.reset();
  } else {
    // Status changes only through set_agent_status, so it can unassign on the way;
    // wrap-up and idle time are the Desk's to keep.
    Agent updated = agent;
    updated.status = it->second.status;
    updated.status_since = it->second.status_since;
    updated.wrap_up_until = it->second.wrap_up_until;
    updated.idle_since = it->second.idle_since;
    it->second = std::move(updated);
  }
  out.agents.push_back(it->second);
  Agent answer = it->second;
  s.refresh_agent(it->second, at);
  s.dispatch(at, out);
  return answer;
}

Result<Agent> Desk::set_agent_status(const std::string& agent_id, AgentStatus status, const std::string& actor,
                                     Commit& out) {
  State& s = *state_;
  auto it = s.agents.find(agent_id);
  if (it == s.agents.end()) return not_found("agent_id", "no agent '" + agent_id + "'");
  Agent& agent = it->second;
  const Timestamp at = now_();
  if (agent.status != status) {
    agent.status_since = at;
    if (status == AgentStatus::kOnline) agent.idle_since = at;
  }
  agent.status = status;
  out.agents.push_back(agent);
  s.refresh_agent(agent, at);
  if (status == AgentStatus::kOffline) {
    // Nobody is left waiting on an agent who went home: back to the queue, keeping
    // their place (the front, by how long they have waited).
    for (const ConversationSlot& in_set : s.conversations) {
      ConversationSlot& slot = held(in_set);
      if (slot.data.assignee_id != agent_id || slot.data.state != ConversationState::kAssigned) continue;
      s.fire(slot, Trigger::kUnassign, s.facts_for(slot.data), actor, at, options_.limits.reopen_window, out).value();
      s.append(slot.data, Unassigned{agent_id, "agent went offline"}, actor, at, out);
      s.save(slot, out);
    }
  }
  Agent answer = agent;
  s.dispatch(at, out);
  return answer;
}

std::vector<Agent> Desk::agents() const {
  std::vector<Agent> out;
  for (const auto& [_, agent] : state_->agents) out.push_back(agent);
  std::sort(out.begin(), out.end(), [](const Agent& a, const Agent& b) { return a.id < b.id; });
  return out;
}

std::vector<AgentView> Desk::agent_views() const {
  std::vector<AgentView> out;
  for (auto& agent : agents()) {
    std::string id = agent.id;
    out.push_back({std::move(agent), agent_load(id)});
  }
  return out;
}

std::map<std::string, uint32_t> Desk::agent_load(const std::string& agent_id) const {
  auto it = state_->routing.load.find(agent_id);
  if (it == state_->routing.load.end()) return {};
  std::map<std::string, uint32_t> out;
  for (const auto& [kind, n] : it->second) {
    if (n > 0) out[kind] = n;
  }
  return out;
}

Result<Queue> Desk::upsert_queue(const Queue& queue, Commit& out) {
  State& s = *state_;
  if (auto name = normalizer_.normalize_channel(queue.name, "queue.name"); !name) return name.error();
  if (!kStrategies.contains(queue.strategy)) {
    return invalid_argument(
        "queue.strategy",
        "'" + queue.strategy + "' is not one of round_robin, least_busy, longest_idle, skills, manual");
  }
  if (auto ok = check_names(queue.required_skills, "queue.required_skills", normalizer_); !ok) return ok.error();
  if (!queue.overflow_queue.empty() && !s.queues.contains(queue.overflow_queue)) {
    return not_found("queue.overflow_queue", "no queue '" + queue.overflow_queue + "'");
  }
  if (queue.overflow_queue == queue.name) {
    return invalid_argument("queue.overflow_queue", "a queue cannot overflow into itself");
  }
  if (queue.overflow_after.count() < 0) return invalid_argument("queue.overflow_after_seconds", "must not be negative");
  auto hours = BusinessCalendar::compile(queue.business_hours, "queue.business_hours");
  if (!hours) return hours.error();
  if (auto ok = check_target(queue.sla.first_response, "queue.sla.first_response"); !ok) return ok.error();
  if (auto ok = check_target(queue.sla.next_response, "queue.sla.next_response"); !ok) return ok.error();
  if (auto ok = check_target(queue.sla.resolution, "queue.sla.resolution"); !ok) return ok.error();
  if (!queue.survey.kind.empty() && queue.survey.kind != "csat" && queue.survey.kind != "nps") {
    return invalid_argument("queue.survey.kind", "'" + queue.survey.kind + "' is not csat or nps");
  }
  if (queue.survey.window.count() < 0) return invalid_argument("queue.survey.window_seconds", "must not be negative");
  if (auto ok = check_text(queue.survey.text, false, options_.limits, "queue.survey.text"); !ok) return ok.error();
  if (auto ok = check_text(queue.out_of_hours_reply, false, options_.limits, "queue.out_of_hours_reply"); !ok) {
    return ok.error();
  }
  if (queue.wait_updates.enabled && queue.wait_updates.interval < std::chrono::seconds(10)) {
    return invalid_argument("queue.wait_updates.interval_seconds", "must be at least 10 seconds");
  }
  if (auto ok = check_text(queue.wait_updates.text, false, options_.limits, "queue.wait_updates.text"); !ok) {
    return ok.error();
  }
  if (queue.rules.size() > kMaxRules) {
    return invalid_argument("queue.rules", "at most " + std::to_string(kMaxRules) + " rules");
  }
  for (std::size_t i = 0; i < queue.rules.size(); ++i) {
    const QueueRule& rule = queue.rules[i];
    if (rule.channel.empty() && rule.address.empty() && rule.label.empty() && rule.attribute.empty()) {
      return invalid_argument("queue.rules[" + std::to_string(i) + "]",
                              "give at least one of channel, address, label, attribute");
    }
  }
  Queue stored = queue;
  if (auto old = s.queues.find(queue.name); old != s.queues.end()) {
    stored.last_assigned_agent = old->second.last_assigned_agent;  // the Desk's to keep
    // A change by API keeps the mark of the config it came from: the config applies
    // again only when the config itself changes (docs/routing.md).
    if (stored.config_digest.empty()) stored.config_digest = old->second.config_digest;
  }
  s.queues[queue.name] = stored;
  out.queues.push_back(stored);
  const Timestamp at = now_();
  s.rebuild_routing(at);  // strategy, skills or hours may have changed every lane's order
  s.dispatch(at, out);
  return stored;
}

std::vector<Queue> Desk::queues() const {
  std::vector<Queue> out;
  for (const auto& [_, q] : state_->queues) out.push_back(q);
  return out;
}

}  // namespace switchboard::router
