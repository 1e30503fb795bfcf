// SLA clocks (docs/routing.md, "SLA"): first response (frt), next response (nrt) and
// resolution (rt). A clock counts only open time of its queue's business hours, stops
// while the conversation is snoozed (and rt, if the policy says so, while the last
// word was the agent's). Its warning and breach are deadlines in the Desk's timer
// list, never polled; when one falls due, SlaWarning or SlaBreached goes on the
// timeline.

#include <algorithm>

#include <switchboard/router/desk.h>

#include "desk_state.h"

namespace switchboard::router {
namespace {

using std::chrono::seconds;

const SlaTarget& target_of(const SlaPolicy& policy, SlaMetric metric) {
  switch (metric) {
    case SlaMetric::kFirstResponse:
      return policy.first_response;
    case SlaMetric::kNextResponse:
      return policy.next_response;
    case SlaMetric::kResolution:
      return policy.resolution;
  }
  return policy.resolution;
}

SlaClock* find_clock(Conversation& c, SlaMetric metric) {
  auto it = std::find_if(c.sla.begin(), c.sla.end(), [&](const SlaClock& k) { return k.metric == metric; });
  return it == c.sla.end() ? nullptr : &*it;
}

void erase_clock(Conversation& c, SlaMetric metric) {
  auto same = [&](const SlaClock& k) { return k.metric == metric; };
  c.sla.erase(std::remove_if(c.sla.begin(), c.sla.end(), same), c.sla.end());
}

// The clock is measured even without a target; only a target gives it deadlines.
void start(Desk::State& s, Conversation& c, SlaMetric metric, Timestamp at) {
  if (find_clock(c, metric) != nullptr) return;
  c.sla.push_back(SlaClock{.metric = metric, .started_at = at, .running_since = at});
  s.sla_schedule(c, c.sla.back(), at);
}

bool waiting_on_customer(const Conversation& c, const SlaPolicy& policy) {
  return policy.pause_while_waiting_on_customer && c.first_response_at &&
         std::none_of(c.sla.begin(), c.sla.end(), [](const SlaClock& k) { return k.metric != SlaMetric::kResolution; });
}

}  // namespace

void Desk::State::sla_schedule(Conversation& c, SlaClock& clock, Timestamp at) {
  clock.warning_at.reset();
  clock.due_at.reset();
  const SlaTarget& target = target_of(queue_of(c.queue).sla, clock.metric);
  if (!clock.running_since || target.target.count() <= 0) return;
  const BusinessCalendar& hours = calendar(c.queue);
  auto when = [&](seconds point) { return hours.add(*clock.running_since, std::max(point - clock.used, seconds(0))); };
  if (!clock.warned && target.warning.count() > 0 && target.warning < target.target) {
    clock.warning_at = when(target.warning);
    if (clock.warning_at) deadlines.emplace(std::max(*clock.warning_at, at), Deadline{c.id, DeadlineKind::kSla});
  }
  if (!clock.breached) {
    clock.due_at = when(target.target);
    if (clock.due_at) deadlines.emplace(std::max(*clock.due_at, at), Deadline{c.id, DeadlineKind::kSla});
  }
}

void Desk::State::sla_customer_waiting(Conversation& c, Timestamp at, Commit& out) {
  start(*this, c, c.first_response_at ? SlaMetric::kNextResponse : SlaMetric::kFirstResponse, at);
  start(*this, c, SlaMetric::kResolution, at);
  if (SlaClock* rt = find_clock(c, SlaMetric::kResolution);
      rt && !rt->running_since && c.state != ConversationState::kSnoozed) {
    rt->running_since = at;  // the customer spoke again
    sla_schedule(c, *rt, at);
  }
  sla_check(c, at, out);
}

void Desk::State::sla_agent_replied(Conversation& c, Timestamp at, Commit&) {
  QueueMeasures& m = routing.measures.queue(c.queue);
  if (SlaClock* frt = find_clock(c, SlaMetric::kFirstResponse)) {
    m.first_response.observe(at - frt->started_at);
    erase_clock(c, SlaMetric::kFirstResponse);
  } else if (SlaClock* nrt = find_clock(c, SlaMetric::kNextResponse)) {
    m.next_response.observe(at - nrt->started_at);
    erase_clock(c, SlaMetric::kNextResponse);
  }
  if (!c.first_response_at) c.first_response_at = at;
  SlaClock* rt = find_clock(c, SlaMetric::kResolution);
  if (rt && rt->running_since && waiting_on_customer(c, queue_of(c.queue).sla)) {
    rt->used += std::chrono::floor<seconds>(calendar(c.queue).between(*rt->running_since, at));
    rt->running_since.reset();
    sla_schedule(c, *rt, at);
  }
}

void Desk::State::sla_pause_all(Conversation& c, Timestamp at) {
  const BusinessCalendar& hours = calendar(c.queue);
  for (auto& clock : c.sla) {
    if (!clock.running_since) continue;
    clock.used += std::chrono::floor<seconds>(hours.between(*clock.running_since, at));
    clock.running_since.reset();
    clock.warning_at.reset();
    clock.due_at.reset();
  }
}

void Desk::State::sla_resume_all(Conversation& c, Timestamp at, Commit& out) {
  const bool rt_waits = waiting_on_customer(c, queue_of(c.queue).sla);
  for (auto& clock : c.sla) {
    if (clock.running_since || (clock.metric == SlaMetric::kResolution && rt_waits)) continue;
    clock.running_since = at;
    sla_schedule(c, clock, at);
  }
  sla_check(c, at, out);
}

void Desk::State::sla_stop_all(Conversation& c, Timestamp) { c.sla.clear(); }

void Desk::State::sla_check(Conversation& c, Timestamp at, Commit& out) {
  QueueMeasures& m = routing.measures.queue(c.queue);
  bool changed = false;
  for (std::size_t i = 0; i < c.sla.size(); ++i) {
    if (!c.sla[i].running_since) continue;
    // Copies: append() may not touch c.sla, but reading after it keeps this obvious.
    const SlaClock clock = c.sla[i];
    if (!clock.warned && clock.warning_at && *clock.warning_at <= at) {
      c.sla[i].warned = true;
      ++m.sla_warnings[to_string(clock.metric)];
      append(c, SlaWarning{to_string(clock.metric), clock.due_at.value_or(*clock.warning_at)}, "system", at, out);
      changed = true;
    }
    if (!clock.breached && clock.due_at && *clock.due_at <= at) {
      c.sla[i].warned = true;
      c.sla[i].breached = true;
      c.sla[i].warning_at.reset();
      ++m.sla_breaches[to_string(clock.metric)];
      append(c, SlaBreached{to_string(clock.metric), *clock.due_at}, "system", at, out);
      changed = true;
    }
  }
  if (changed) save(c, out);
}

}  // namespace switchboard::router
