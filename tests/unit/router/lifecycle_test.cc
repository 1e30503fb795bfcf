#include <switchboard/router/lifecycle.h>

#include <array>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::router {
namespace {

using S = ConversationState;
using T = Trigger;

constexpr std::array kAllStates = {S::kNew, S::kBot, S::kQueued, S::kAssigned, S::kSnoozed, S::kResolved, S::kClosed};
constexpr std::array kAllTriggers = {T::kInbound, T::kAgentReply, T::kBotReply, T::kHandoff,
                                     T::kAssign,  T::kUnassign,   T::kTransfer, T::kSnooze,
                                     T::kWake,    T::kResolve,    T::kReopen,   T::kReopenWindowExpired};

// A guard over the facts: each field either does not matter or must have the value.
struct Guard {
  std::optional<bool> queue_has_bot;
  std::optional<bool> assignee_available;
  std::optional<bool> within_reopen_window;
  std::optional<bool> to_queue;

  bool admits(const TriggerFacts& f) const {
    auto ok = [](const std::optional<bool>& want, bool have) { return !want || *want == have; };
    return ok(queue_has_bot, f.queue_has_bot) && ok(assignee_available, f.assignee_available) &&
           ok(within_reopen_window, f.within_reopen_window) && ok(to_queue, f.to_queue);
  }
};

constexpr Guard kAny{};
constexpr Guard kBot{.queue_has_bot = true};
constexpr Guard kNoBot{.queue_has_bot = false};
constexpr Guard kAvailable{.assignee_available = true};
constexpr Guard kUnavailable{.assignee_available = false};
constexpr Guard kToQueue{.to_queue = true};
constexpr Guard kToAgent{.to_queue = false};
constexpr Guard kWithinAvailable{.assignee_available = true, .within_reopen_window = true};
constexpr Guard kWithinUnavailable{.assignee_available = false, .within_reopen_window = true};

struct Row {
  S from;
  T trigger;
  Guard guard;
  S to;
  uint32_t effects;
};

// The intended transition table (the spec this test holds the implementation to).
// Every (state, trigger, facts) not admitted by exactly one row must be refused.
// clang-format off
const std::vector<Row> kTable = {
  //  From         Trigger                  Guard               To           Effects
  {S::kNew,      T::kInbound,             kBot,               S::kBot,      kNoEffect},
  {S::kNew,      T::kInbound,             kNoBot,             S::kQueued,   kAskRouting},

  {S::kBot,      T::kInbound,             kAny,               S::kBot,      kNoEffect},
  {S::kBot,      T::kBotReply,            kAny,               S::kBot,      kNoEffect},
  {S::kBot,      T::kHandoff,             kAny,               S::kQueued,   kAskRouting},
  {S::kBot,      T::kResolve,             kAny,               S::kResolved, kStartReopenWindow},

  {S::kQueued,   T::kInbound,             kAny,               S::kQueued,   kNoEffect},
  {S::kQueued,   T::kAgentReply,          kAny,               S::kQueued,   kNoEffect},
  {S::kQueued,   T::kAssign,              kAny,               S::kAssigned, kNoEffect},
  {S::kQueued,   T::kTransfer,            kToQueue,           S::kQueued,   kCountTransfer | kAskRouting},
  {S::kQueued,   T::kTransfer,            kToAgent,           S::kAssigned, kCountTransfer},
  {S::kQueued,   T::kSnooze,              kAny,               S::kSnoozed,  kNoEffect},
  {S::kQueued,   T::kResolve,             kAny,               S::kResolved, kStartReopenWindow},

  {S::kAssigned, T::kInbound,             kAny,               S::kAssigned, kNoEffect},
  {S::kAssigned, T::kAgentReply,          kAny,               S::kAssigned, kNoEffect},
  {S::kAssigned, T::kUnassign,            kAny,               S::kQueued,   kClearAssignee | kAskRouting},
  {S::kAssigned, T::kTransfer,            kToAgent,           S::kAssigned, kCountTransfer},
  {S::kAssigned, T::kTransfer,            kToQueue,           S::kQueued,   kCountTransfer | kClearAssignee | kAskRouting},
  {S::kAssigned, T::kSnooze,              kAny,               S::kSnoozed,  kNoEffect},
  {S::kAssigned, T::kResolve,             kAny,               S::kResolved, kStartReopenWindow},

  {S::kSnoozed,  T::kWake,                kAvailable,         S::kAssigned, kNoEffect},
  {S::kSnoozed,  T::kWake,                kUnavailable,       S::kQueued,   kClearAssignee | kAskRouting},
  {S::kSnoozed,  T::kInbound,             kAvailable,         S::kAssigned, kNoEffect},
  {S::kSnoozed,  T::kInbound,             kUnavailable,       S::kQueued,   kClearAssignee | kAskRouting},
  {S::kSnoozed,  T::kAgentReply,          kAny,               S::kSnoozed,  kNoEffect},
  {S::kSnoozed,  T::kResolve,             kAny,               S::kResolved, kStartReopenWindow},

  {S::kResolved, T::kInbound,             kWithinAvailable,   S::kAssigned, kCountReopen},
  {S::kResolved, T::kInbound,             kWithinUnavailable, S::kQueued,   kCountReopen | kClearAssignee | kAskRouting},
  {S::kResolved, T::kReopen,              kAvailable,         S::kAssigned, kCountReopen},
  {S::kResolved, T::kReopen,              kUnavailable,       S::kQueued,   kCountReopen | kClearAssignee | kAskRouting},
  {S::kResolved, T::kAgentReply,          kAny,               S::kResolved, kNoEffect},
  {S::kResolved, T::kReopenWindowExpired, kAny,               S::kClosed,   kNoEffect},
  // Closed: no rows, it refuses everything.
};
// clang-format on

// All 16 combinations of the four facts.
std::vector<TriggerFacts> all_facts() {
  std::vector<TriggerFacts> out;
  for (unsigned bits = 0; bits < 16; ++bits) {
    out.push_back({.queue_has_bot = (bits & 1) != 0,
                   .assignee_available = (bits & 2) != 0,
                   .within_reopen_window = (bits & 4) != 0,
                   .to_queue = (bits & 8) != 0});
  }
  return out;
}

std::vector<const Row*> rows_for(S from, T trigger, const TriggerFacts& facts) {
  std::vector<const Row*> out;
  for (const Row& row : kTable) {
    if (row.from == from && row.trigger == trigger && row.guard.admits(facts)) out.push_back(&row);
  }
  return out;
}

std::string describe(S from, T trigger, const TriggerFacts& f) {
  return std::string(to_string(from)) + " --" + to_string(trigger) + "--> [bot=" + std::to_string(f.queue_has_bot) +
         " available=" + std::to_string(f.assignee_available) + " within=" + std::to_string(f.within_reopen_window) +
         " to_queue=" + std::to_string(f.to_queue) + "]";
}

TEST(LifecycleTableTest, SpecTableIsUnambiguous) {
  for (S from : kAllStates) {
    for (T trigger : kAllTriggers) {
      for (const TriggerFacts& facts : all_facts()) {
        EXPECT_LE(rows_for(from, trigger, facts).size(), 1u) << describe(from, trigger, facts);
      }
    }
  }
}

// The whole 7 x 12 grid, under every combination of facts: a row's transition when
// one admits the facts, a refusal that changes nothing otherwise.
TEST(LifecycleTableTest, EveryStateTriggerAndFactsMatchesTheTable) {
  std::set<const Row*> rows_seen;
  for (S from : kAllStates) {
    for (T trigger : kAllTriggers) {
      for (const TriggerFacts& facts : all_facts()) {
        SCOPED_TRACE(describe(from, trigger, facts));
        Lifecycle machine(from);
        ASSERT_EQ(machine.state(), from);
        const Step step = machine.fire(trigger, facts);
        EXPECT_EQ(step.from, from);
        const auto rows = rows_for(from, trigger, facts);
        if (rows.empty()) {
          EXPECT_FALSE(step.accepted);
          EXPECT_EQ(machine.state(), from);
          EXPECT_EQ(step.effects, kNoEffect);
          continue;
        }
        const Row& row = *rows.front();
        rows_seen.insert(&row);
        EXPECT_TRUE(step.accepted);
        EXPECT_EQ(step.to, row.to);
        EXPECT_EQ(machine.state(), row.to);
        EXPECT_EQ(step.effects, row.effects);
      }
    }
  }
  EXPECT_EQ(rows_seen.size(), kTable.size());
}

TEST(LifecycleTableTest, ClosedRefusesEverything) {
  for (T trigger : kAllTriggers) {
    for (const TriggerFacts& facts : all_facts()) {
      Lifecycle machine(S::kClosed);
      EXPECT_FALSE(machine.fire(trigger, facts).accepted) << describe(S::kClosed, trigger, facts);
      EXPECT_EQ(machine.state(), S::kClosed);
    }
  }
}

TEST(LifecycleTableTest, ResolvedRefusesInboundAfterTheReopenWindow) {
  Lifecycle machine(S::kResolved);
  const Step step = machine.fire(T::kInbound, {.assignee_available = true, .within_reopen_window = false});
  EXPECT_FALSE(step.accepted);
  EXPECT_EQ(machine.state(), S::kResolved);
}

// Paths through one machine, checking the state after each step, as MSM's own tests
// do. A refusal on the way must not disturb the steps after it.
struct PathStep {
  T trigger;
  TriggerFacts facts;
  bool accepted;
  S state_after;
};

void walk(Lifecycle& machine, const std::vector<PathStep>& path) {
  for (std::size_t i = 0; i < path.size(); ++i) {
    const PathStep& p = path[i];
    SCOPED_TRACE("step " + std::to_string(i) + ": " + to_string(p.trigger));
    EXPECT_EQ(machine.fire(p.trigger, p.facts).accepted, p.accepted);
    EXPECT_EQ(machine.state(), p.state_after);
  }
}

TEST(LifecyclePathTest, StartsNew) { EXPECT_EQ(Lifecycle().state(), S::kNew); }

TEST(LifecyclePathTest, BotHandsOffThenAgentResolvesAndWindowCloses) {
  Lifecycle machine;
  walk(machine, {
                    {T::kInbound, {.queue_has_bot = true}, true, S::kBot},
                    {T::kBotReply, {}, true, S::kBot},
                    {T::kAssign, {}, false, S::kBot},
                    {T::kHandoff, {}, true, S::kQueued},
                    {T::kAssign, {}, true, S::kAssigned},
                    {T::kAgentReply, {}, true, S::kAssigned},
                    {T::kResolve, {}, true, S::kResolved},
                    {T::kReopenWindowExpired, {}, true, S::kClosed},
                    {T::kInbound, {}, false, S::kClosed},
                });
}

TEST(LifecyclePathTest, TransfersSnoozesAndReopens) {
  Lifecycle machine;
  walk(machine, {
                    {T::kInbound, {}, true, S::kQueued},
                    {T::kTransfer, {.to_queue = false}, true, S::kAssigned},
                    {T::kTransfer, {.to_queue = true}, true, S::kQueued},
                    {T::kAssign, {}, true, S::kAssigned},
                    {T::kSnooze, {}, true, S::kSnoozed},
                    {T::kInbound, {.assignee_available = true}, true, S::kAssigned},
                    {T::kSnooze, {}, true, S::kSnoozed},
                    {T::kWake, {.assignee_available = false}, true, S::kQueued},
                    {T::kResolve, {}, true, S::kResolved},
                    {T::kInbound, {.assignee_available = true, .within_reopen_window = true}, true, S::kAssigned},
                    {T::kUnassign, {}, true, S::kQueued},
                    {T::kResolve, {}, true, S::kResolved},
                    {T::kReopen, {.assignee_available = false}, true, S::kQueued},
                });
}

TEST(LifecycleTest, RestoresAnyState) {
  for (S state : kAllStates) {
    EXPECT_EQ(Lifecycle(state).state(), state);
  }
}

TEST(LifecycleTest, MovesKeepTheState) {
  Lifecycle source(S::kSnoozed);
  Lifecycle moved(std::move(source));
  EXPECT_EQ(moved.state(), S::kSnoozed);
  Lifecycle assigned(S::kQueued);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.state(), S::kSnoozed);
  EXPECT_TRUE(assigned.fire(T::kWake, {.assignee_available = true}).accepted);
  EXPECT_EQ(assigned.state(), S::kAssigned);
}

TEST(LifecycleTest, NamesStatesAsTheDesignDoes) {
  const std::vector<std::pair<S, std::string>> names = {
      {S::kNew, "New"},         {S::kBot, "Bot"},           {S::kQueued, "Queued"}, {S::kAssigned, "Assigned"},
      {S::kSnoozed, "Snoozed"}, {S::kResolved, "Resolved"}, {S::kClosed, "Closed"},
  };
  for (const auto& [state, name] : names) EXPECT_EQ(to_string(state), name);
}

TEST(LifecycleTest, NamesTriggersAsTheDesignDoes) {
  const std::vector<std::pair<T, std::string>> names = {
      {T::kInbound, "Inbound"},   {T::kAgentReply, "AgentReply"}, {T::kBotReply, "BotReply"},
      {T::kHandoff, "Handoff"},   {T::kAssign, "Assign"},         {T::kUnassign, "Unassign"},
      {T::kTransfer, "Transfer"}, {T::kSnooze, "Snooze"},         {T::kWake, "Wake"},
      {T::kResolve, "Resolve"},   {T::kReopen, "Reopen"},         {T::kReopenWindowExpired, "ReopenWindowExpired"},
  };
  for (const auto& [trigger, name] : names) EXPECT_EQ(to_string(trigger), name);
}

}  // namespace
}  // namespace switchboard::router
