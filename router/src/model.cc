#include <switchboard/router/model.h>

namespace switchboard::router {

const char* to_string(ConversationState state) {
  switch (state) {
    case ConversationState::kNew:
      return "New";
    case ConversationState::kBot:
      return "Bot";
    case ConversationState::kQueued:
      return "Queued";
    case ConversationState::kAssigned:
      return "Assigned";
    case ConversationState::kSnoozed:
      return "Snoozed";
    case ConversationState::kResolved:
      return "Resolved";
    case ConversationState::kClosed:
      return "Closed";
  }
  return "?";
}

const ChannelLeg* Conversation::leg(const std::string& channel) const {
  for (const auto& l : legs) {
    if (l.channel == channel) return &l;
  }
  return nullptr;
}

}  // namespace switchboard::router
