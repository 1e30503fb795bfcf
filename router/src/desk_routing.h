#pragma once

// The routing indexes the Desk keeps beside its records (docs/routing.md): which
// conversations wait in which queue, in order; which agents could take one now; who
// holds what. Derived from the records alone, so a restart rebuilds them.
//
// A lane is one queue's waiting conversations of one capacity kind (chat, voice,
// email, ...) and the agents with room for that kind, ordered by the queue's strategy:
// an assignment is the front of both sets, O(log n), however many wait.

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include <absl/container/btree_set.h>
#include <absl/container/flat_hash_map.h>

#include <switchboard/router/model.h>

#include "compact_key.h"
#include "measures.h"
#include "routing/business_hours.h"
#include "text_hash.h"

namespace switchboard::router {

// The capacity kind a channel counts against: voice for calls, email, and chat for
// every conversational channel (web chat, SMS, WhatsApp, Messenger, Instagram,
// Telegram); any other channel is its own kind.
std::string capacity_kind(const std::string& channel);

// Queue order: higher priority first, then longest waiting.
struct WaitKey {
  int32_t neg_priority = 0;
  Timestamp since;
  CompactKey conversation_id;  // 16 bytes: one key per waiting conversation
  auto operator<=>(const WaitKey&) const = default;
};

// Rough, and said so in docs/routing.md: each capacity slot of the agents online for
// a queue serves one conversation per the queue's average handle time (5 minutes
// before anything was handled). No slots: 0, "unknown".
struct WaitEstimate {
  double handle_seconds = 300;
  uint32_t slots = 0;
  std::chrono::seconds expected_wait(std::size_t position) const {
    if (slots == 0) return std::chrono::seconds(0);
    return std::chrono::seconds(static_cast<int64_t>(handle_seconds * static_cast<double>(position) / slots));
  }
};

using AgentKey = std::array<int64_t, 3>;  // the strategy's order; the agent id breaks ties

struct Lane {
  std::string queue;
  std::string kind;
  // A B-tree: keys sit side by side in nodes rather than in a node each (an std::set
  // node took 80 bytes, 96 from malloc, per waiting conversation). A change moves its
  // neighbours, so a pointer to a key lasts only until the next change.
  absl::btree_set<WaitKey> waiting;
  std::set<std::pair<AgentKey, std::string>> free_agents;
  absl::flat_hash_map<std::string, AgentKey> agent_keys;  // agents in free_agents
};

struct Routing {
  std::map<std::pair<std::string, std::string>, Lane> lanes;  // (queue, kind); nodes never move
  // Where a conversation waits: kept in its slot (ConversationSlot::waiting), not in a
  // map keyed by its id, which cost 54 bytes per waiting conversation at 100,000 and
  // about 86 at a million (an open-addressing table just past a doubling). With the
  // conversation id, the key it went into its lane with.
  struct Waiting {
    Lane* lane = nullptr;  // null: not waiting
    int32_t neg_priority = 0;
    Timestamp since;
    WaitKey key(const std::string& conversation_id) const { return {neg_priority, since, conversation_id}; }
  };
  struct Hold {
    std::string agent_id;
    std::string kind;
  };
  // assigned conversation -> its agent's slot
  absl::flat_hash_map<CompactKey, Hold, TextHash, SameText> holds;
  absl::flat_hash_map<std::string, std::map<std::string, uint32_t>> load;  // agent -> kind -> assigned
  absl::flat_hash_map<std::string, uint32_t> open_of;                      // agent -> assigned, all kinds
  std::map<std::string, BusinessCalendar> calendars;                       // queues with business hours
  Measures measures;
  bool rebuilding = false;  // restoring: assignments found are not new ones
};

}  // namespace switchboard::router
