// The conversation lifecycle as one Boost.MSM transition table (DESIGN.md, "The
// conversation state machine"). Guards read the facts the Desk gathered; actions only
// record effects for the Desk to carry out, never I/O.

#include <switchboard/router/lifecycle.h>

// The table has more rows than MPL's default vector limit of 20.
#define BOOST_MPL_CFG_NO_PREPROCESSED_HEADERS
#define BOOST_MPL_LIMIT_VECTOR_SIZE 40
#define BOOST_MPL_LIMIT_MAP_SIZE 40

#include <array>

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

namespace switchboard::router {
namespace {

namespace msmf = boost::msm::front;
using CS = ConversationState;
using msmf::none;
using msmf::Row;

// --- events: plain structs carrying what the guards need --------------------------
template <Trigger T>
struct On {
  TriggerFacts facts;
};
using Inbound = On<Trigger::kInbound>;
using AgentReply = On<Trigger::kAgentReply>;
using BotReply = On<Trigger::kBotReply>;
using Handoff = On<Trigger::kHandoff>;
using Assign = On<Trigger::kAssign>;
using Unassign = On<Trigger::kUnassign>;
using Transfer = On<Trigger::kTransfer>;
using Snooze = On<Trigger::kSnooze>;
using Wake = On<Trigger::kWake>;
using Resolve = On<Trigger::kResolve>;
using Reopen = On<Trigger::kReopen>;
using ReopenWindowExpired = On<Trigger::kReopenWindowExpired>;

// --- states: each one tells the machine its name on entry -------------------------
template <CS S>
struct StateOf : msmf::state<> {
  template <class Event, class Fsm>
  void on_entry(const Event&, Fsm& fsm) {
    fsm.state = S;
  }
};
using New = StateOf<CS::kNew>;
using Bot = StateOf<CS::kBot>;
using Queued = StateOf<CS::kQueued>;
using Assigned = StateOf<CS::kAssigned>;
using Snoozed = StateOf<CS::kSnoozed>;
using Resolved = StateOf<CS::kResolved>;
using Closed = StateOf<CS::kClosed>;

// --- guards -------------------------------------------------------------------------
template <bool TriggerFacts::*Fact, bool Want>
struct fact_is {
  template <class Event, class Fsm, class Src, class Dst>
  bool operator()(const Event& event, Fsm&, Src&, Dst&) const {
    return event.facts.*Fact == Want;
  }
};
using has_bot = fact_is<&TriggerFacts::queue_has_bot, true>;
using no_bot = fact_is<&TriggerFacts::queue_has_bot, false>;
using agent_available = fact_is<&TriggerFacts::assignee_available, true>;
using agent_gone = fact_is<&TriggerFacts::assignee_available, false>;
using to_queue = fact_is<&TriggerFacts::to_queue, true>;
using to_agent = fact_is<&TriggerFacts::to_queue, false>;

struct in_window_agent_available {
  template <class Event, class Fsm, class Src, class Dst>
  bool operator()(const Event& e, Fsm&, Src&, Dst&) const {
    return e.facts.within_reopen_window && e.facts.assignee_available;
  }
};
struct in_window_agent_gone {
  template <class Event, class Fsm, class Src, class Dst>
  bool operator()(const Event& e, Fsm&, Src&, Dst&) const {
    return e.facts.within_reopen_window && !e.facts.assignee_available;
  }
};

// --- actions: record what the Desk must do --------------------------------------------
template <uint32_t Effects>
struct record {
  template <class Event, class Fsm, class Src, class Dst>
  void operator()(const Event&, Fsm& fsm, Src&, Dst&) const {
    fsm.effects |= Effects;
  }
};
using route = record<kAskRouting>;
using requeue = record<kClearAssignee | kAskRouting>;
using count_transfer = record<kCountTransfer>;
using transfer_to_queue = record<kCountTransfer | kAskRouting>;
using transfer_away = record<kCountTransfer | kClearAssignee | kAskRouting>;
using start_reopen_window = record<kStartReopenWindow>;
using reopen_to_agent = record<kCountReopen>;
using reopen_to_queue = record<kCountReopen | kClearAssignee | kAskRouting>;

struct LifecycleDef : msmf::state_machine_def<LifecycleDef> {
  using initial_state = New;
  using no_exception_thrown = int;  // actions cannot throw; spare MSM the try/catch
  using no_message_queue = int;     // events are never queued: one fire, one step

  CS state = CS::kNew;
  uint32_t effects = kNoEffect;
  bool refused = false;

  // clang-format off
  struct transition_table : boost::mpl::vector<
  //     Start       Event                 Next        Action               Guard
  Row < New      , Inbound             , Bot      , none               , has_bot                   >,
  Row < New      , Inbound             , Queued   , route              , no_bot                    >,

  Row < Bot      , Inbound             , none     , none               , none                      >,
  Row < Bot      , BotReply            , none     , none               , none                      >,
  Row < Bot      , Handoff             , Queued   , route              , none                      >,
  Row < Bot      , Resolve             , Resolved , start_reopen_window, none                      >,

  Row < Queued   , Inbound             , none     , none               , none                      >,
  Row < Queued   , AgentReply          , none     , none               , none                      >,
  Row < Queued   , Assign              , Assigned , none               , none                      >,
  Row < Queued   , Transfer            , Queued   , transfer_to_queue  , to_queue                  >,
  Row < Queued   , Transfer            , Assigned , count_transfer     , to_agent                  >,
  Row < Queued   , Snooze              , Snoozed  , none               , none                      >,
  Row < Queued   , Resolve             , Resolved , start_reopen_window, none                      >,

  Row < Assigned , Inbound             , none     , none               , none                      >,
  Row < Assigned , AgentReply          , none     , none               , none                      >,
  Row < Assigned , Unassign            , Queued   , requeue            , none                      >,
  Row < Assigned , Transfer            , Assigned , count_transfer     , to_agent                  >,
  Row < Assigned , Transfer            , Queued   , transfer_away      , to_queue                  >,
  Row < Assigned , Snooze              , Snoozed  , none               , none                      >,
  Row < Assigned , Resolve             , Resolved , start_reopen_window, none                      >,

  Row < Snoozed  , Wake                , Assigned , none               , agent_available           >,
  Row < Snoozed  , Wake                , Queued   , requeue            , agent_gone                >,
  Row < Snoozed  , Inbound             , Assigned , none               , agent_available           >,
  Row < Snoozed  , Inbound             , Queued   , requeue            , agent_gone                >,
  Row < Snoozed  , AgentReply          , none     , none               , none                      >,
  Row < Snoozed  , Resolve             , Resolved , start_reopen_window, none                      >,

  Row < Resolved , Inbound             , Assigned , reopen_to_agent    , in_window_agent_available >,
  Row < Resolved , Inbound             , Queued   , reopen_to_queue    , in_window_agent_gone      >,
  Row < Resolved , Reopen              , Assigned , reopen_to_agent    , agent_available           >,
  Row < Resolved , Reopen              , Queued   , reopen_to_queue    , agent_gone                >,
  Row < Resolved , AgentReply          , none     , none               , none                      >,
  Row < Resolved , ReopenWindowExpired , Closed   , none               , none                      >
  > {};
  // clang-format on

  // A refused transition is an answer for the caller, never a silent drop.
  template <class Fsm, class Event>
  void no_transition(const Event&, Fsm&, int) {
    refused = true;
  }
};

using Machine = boost::msm::back::state_machine<LifecycleDef>;

// How a fresh machine reaches each state through legal events, used to restore a
// stored conversation without reaching into MSM's internals.
void drive_to(Machine& machine, CS target) {
  const TriggerFacts bot{.queue_has_bot = true};
  const TriggerFacts available{.assignee_available = true};
  switch (target) {
    case CS::kNew:
      return;
    case CS::kBot:
      machine.process_event(Inbound{bot});
      return;
    case CS::kQueued:
      machine.process_event(Inbound{});
      return;
    case CS::kAssigned:
      drive_to(machine, CS::kQueued);
      machine.process_event(Assign{});
      return;
    case CS::kSnoozed:
      drive_to(machine, CS::kAssigned);
      machine.process_event(Snooze{});
      return;
    case CS::kResolved:
      drive_to(machine, CS::kQueued);
      machine.process_event(Resolve{});
      return;
    case CS::kClosed:
      drive_to(machine, CS::kResolved);
      machine.process_event(ReopenWindowExpired{available});
      return;
  }
}

// A guard that rejects every row is a refusal too, reported through the return
// value rather than no_transition.
template <class Event>
void process(Machine& machine, const TriggerFacts& facts) {
  if (machine.process_event(Event{facts}) != boost::msm::back::HANDLED_TRUE) machine.refused = true;
}

// One machine driven to each state, made once: a fire copies the one for the
// conversation's state, so a conversation keeps a single byte rather than a machine
// of its own on the heap (a million idle conversations), and restoring one costs nothing.
const Machine& prototype(ConversationState state) {
  constexpr std::size_t kStates = static_cast<std::size_t>(ConversationState::kClosed) + 1;
  static const std::array<Machine, kStates> machines = [] {
    std::array<Machine, kStates> all;
    for (std::size_t i = 0; i < all.size(); ++i) {
      all[i].start();
      drive_to(all[i], static_cast<ConversationState>(i));
      all[i].effects = kNoEffect;
    }
    return all;
  }();
  return machines.at(static_cast<std::size_t>(state));
}

}  // namespace

Step Lifecycle::fire(Trigger trigger, const TriggerFacts& facts) {
  Machine m = prototype(state_);
  m.effects = kNoEffect;
  m.refused = false;
  const ConversationState from = m.state;
  switch (trigger) {
    case Trigger::kInbound:
      process<Inbound>(m, facts);
      break;
    case Trigger::kAgentReply:
      process<AgentReply>(m, facts);
      break;
    case Trigger::kBotReply:
      process<BotReply>(m, facts);
      break;
    case Trigger::kHandoff:
      process<Handoff>(m, facts);
      break;
    case Trigger::kAssign:
      process<Assign>(m, facts);
      break;
    case Trigger::kUnassign:
      process<Unassign>(m, facts);
      break;
    case Trigger::kTransfer:
      process<Transfer>(m, facts);
      break;
    case Trigger::kSnooze:
      process<Snooze>(m, facts);
      break;
    case Trigger::kWake:
      process<Wake>(m, facts);
      break;
    case Trigger::kResolve:
      process<Resolve>(m, facts);
      break;
    case Trigger::kReopen:
      process<Reopen>(m, facts);
      break;
    case Trigger::kReopenWindowExpired:
      process<ReopenWindowExpired>(m, facts);
      break;
  }
  if (m.refused) return Step{false, from, from, kNoEffect};
  state_ = m.state;
  return Step{true, from, m.state, m.effects};
}

const char* to_string(Trigger trigger) {
  switch (trigger) {
    case Trigger::kInbound:
      return "Inbound";
    case Trigger::kAgentReply:
      return "AgentReply";
    case Trigger::kBotReply:
      return "BotReply";
    case Trigger::kHandoff:
      return "Handoff";
    case Trigger::kAssign:
      return "Assign";
    case Trigger::kUnassign:
      return "Unassign";
    case Trigger::kTransfer:
      return "Transfer";
    case Trigger::kSnooze:
      return "Snooze";
    case Trigger::kWake:
      return "Wake";
    case Trigger::kResolve:
      return "Resolve";
    case Trigger::kReopen:
      return "Reopen";
    case Trigger::kReopenWindowExpired:
      return "ReopenWindowExpired";
  }
  return "?";
}

}  // namespace switchboard::router
