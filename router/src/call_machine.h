#pragma once

// The per-call machine (DESIGN.md: "a second, small machine per phone call"). A
// table of allowed steps rather than Boost.MSM: a call has no guards, no actions and
// no entry/exit behaviour, its state lives on the conversation's record (Call), and a
// constexpr table reads as plainly as an MSM one without a machine object per call or
// MSM's compile time in one more translation unit. The Desk writes the CallEvent.

#include <array>

#include <switchboard/router/model.h>

namespace switchboard::router {

struct CallStep {
  CallState from;
  CallState to;
};

//         Start                   Next
inline constexpr std::array kCallSteps = {
    CallStep{CallState::kRinging, CallState::kInProgress},  // answered
    CallStep{CallState::kRinging, CallState::kMissed},      // busy, no-answer, canceled, failed
    CallStep{CallState::kInProgress, CallState::kOnHold},   //
    CallStep{CallState::kOnHold, CallState::kInProgress},   // resumed
    CallStep{CallState::kInProgress, CallState::kEnded},    //
    CallStep{CallState::kOnHold, CallState::kEnded},        // hung up while on hold
};

constexpr bool call_step_allowed(CallState from, CallState to) {
  for (const auto& step : kCallSteps) {
    if (step.from == from && step.to == to) return true;
  }
  return false;
}

// Ended and Missed take no further step: the call is over.
constexpr bool call_live(CallState state) { return state != CallState::kEnded && state != CallState::kMissed; }

}  // namespace switchboard::router
