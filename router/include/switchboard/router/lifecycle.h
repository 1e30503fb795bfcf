#pragma once

// The conversation lifecycle. The transition table itself lives in lifecycle.cc,
// written as one Boost.MSM table (docs/lifecycle.md shows it too); this header keeps
// MSM out of every other translation unit.

#include <cstdint>

#include <switchboard/router/model.h>

namespace switchboard::router {

enum class Trigger : uint8_t {
  kInbound,
  kAgentReply,
  kBotReply,
  kHandoff,
  kAssign,
  kUnassign,
  kTransfer,
  kSnooze,
  kWake,
  kResolve,
  kReopen,
  kReopenWindowExpired,
};
const char* to_string(Trigger trigger);

// What the guards need to know, gathered by the caller before firing.
struct TriggerFacts {
  bool queue_has_bot = false;        // Inbound on New
  bool assignee_available = false;   // Wake, Inbound on Snoozed/Resolved, Reopen
  bool within_reopen_window = true;  // Inbound on Resolved
  bool to_queue = false;             // Transfer: to a queue rather than an agent
};

// What the actions asked for; the Desk carries them out. Bit flags.
enum Effect : uint32_t {
  kNoEffect = 0,
  kAskRouting = 1u << 0,     // the conversation now waits in a queue
  kClearAssignee = 1u << 1,  // it left its agent
  kCountTransfer = 1u << 2,
  kCountReopen = 1u << 3,
  kStartReopenWindow = 1u << 4,  // resolved: remember when, close after the window
  kRecordFirstOpen = 1u << 5,
};

struct Step {
  bool accepted = false;
  ConversationState from = ConversationState::kNew;
  ConversationState to = ConversationState::kNew;
  uint32_t effects = kNoEffect;
};

// One conversation's machine. Not thread-safe: the Desk owns it and touches it only
// on its executor. It keeps only the state; each fire runs the MSM table on a copy
// of a machine already in that state (lifecycle.cc).
class Lifecycle {
 public:
  Lifecycle() = default;
  // A machine already in `state`, as when loading a stored conversation.
  explicit Lifecycle(ConversationState state) : state_(state) {}

  // Fires `trigger`. A refused transition leaves the state as it was and returns
  // accepted == false (the API reports it as FAILED_PRECONDITION).
  Step fire(Trigger trigger, const TriggerFacts& facts = {});
  ConversationState state() const { return state_; }

 private:
  ConversationState state_ = ConversationState::kNew;
};

}  // namespace switchboard::router
