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

// The conversation after a command, with the events this command wrote.
ConversationUpdate updated(const Conversation& c, const Commit& out, std::size_t first_event) {
  ConversationUpdate u{c, {}};
  u.events.assign(out.events.begin() + static_cast<std::ptrdiff_t>(first_event), out.events.end());
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
  s.save((*slot)->data, out);
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
    } else {
      c.assignee_id = cmd.agent_id;
    }
    s.append(c, Transferred{from_agent, cmd.agent_id, cmd.queue, cmd.reason, c.transfer_count}, actor, at, out);
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
    if (!queue.empty()) c.queue = queue;
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
    slot.data.snoozed_until = until;
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
  auto next = apply_attributes((*slot)->data.attributes, set, remove, options_.limits, "set");
  if (!next) return next.error();
  return run_command(s, conversation_id, out, [&](ConversationSlot& slot) -> Status {
    slot.data.attributes = std::move(next.value());
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
    slot.data.labels = unique;
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

Result<Agent> Desk::upsert_agent(const Agent& agent, Commit& out) {
  State& s = *state_;
  if (auto id = normalizer_.normalize_channel(agent.id, "agent.id"); !id) return id.error();
  if (agent.name.size() > options_.limits.max_display_name_bytes) {
    return invalid_argument("agent.name", "longer than " + std::to_string(options_.limits.max_display_name_bytes));
  }
  auto [it, created] = s.agents.try_emplace(agent.id, agent);
  if (created) {
    it->second.status_since = now_();
  } else {
    // Status changes only through set_agent_status, so it can unassign on the way.
    Agent updated = agent;
    updated.status = it->second.status;
    updated.status_since = it->second.status_since;
    it->second = std::move(updated);
  }
  out.agents.push_back(it->second);
  return it->second;
}

Result<Agent> Desk::set_agent_status(const std::string& agent_id, AgentStatus status, const std::string& actor,
                                     Commit& out) {
  State& s = *state_;
  auto it = s.agents.find(agent_id);
  if (it == s.agents.end()) return not_found("agent_id", "no agent '" + agent_id + "'");
  Agent& agent = it->second;
  const Timestamp at = now_();
  if (agent.status != status) agent.status_since = at;
  agent.status = status;
  out.agents.push_back(agent);
  if (status == AgentStatus::kOffline) {
    // Nobody is left waiting on an agent who went home: back to the queue.
    for (auto& [id, slot] : s.conversations) {
      if (slot.data.assignee_id != agent_id || slot.data.state != ConversationState::kAssigned) continue;
      s.fire(slot, Trigger::kUnassign, s.facts_for(slot.data), actor, at, options_.limits.reopen_window, out).value();
      s.append(slot.data, Unassigned{agent_id, "agent went offline"}, actor, at, out);
      s.save(slot.data, out);
    }
  }
  return agent;
}

std::vector<Agent> Desk::agents() const {
  std::vector<Agent> out;
  for (const auto& [_, agent] : state_->agents) out.push_back(agent);
  std::sort(out.begin(), out.end(), [](const Agent& a, const Agent& b) { return a.id < b.id; });
  return out;
}

Result<Queue> Desk::upsert_queue(const Queue& queue, Commit& out) {
  if (auto name = normalizer_.normalize_channel(queue.name, "queue.name"); !name) return name.error();
  if (!kStrategies.contains(queue.strategy)) {
    return invalid_argument(
        "queue.strategy",
        "'" + queue.strategy + "' is not one of round_robin, least_busy, longest_idle, skills, manual");
  }
  if (!queue.overflow_queue.empty() && !state_->queues.contains(queue.overflow_queue)) {
    return not_found("queue.overflow_queue", "no queue '" + queue.overflow_queue + "'");
  }
  state_->queues[queue.name] = queue;
  out.queues.push_back(queue);
  return queue;
}

std::vector<Queue> Desk::queues() const {
  std::vector<Queue> out;
  for (const auto& [_, q] : state_->queues) out.push_back(q);
  return out;
}

Result<QueueStats> Desk::queue_stats(const std::string& queue) const {
  const State& s = *state_;
  if (!s.queues.contains(queue)) return not_found("queue", "no queue '" + queue + "'");
  QueueStats stats{queue, {}, 0};
  for (const auto& [_, slot] : s.conversations) {
    if (slot.data.queue == queue && slot.data.open()) ++stats.conversations_by_state[to_string(slot.data.state)];
  }
  for (const auto& [_, agent] : s.agents) stats.agents_online += agent.available() ? 1 : 0;
  return stats;
}

}  // namespace switchboard::router
