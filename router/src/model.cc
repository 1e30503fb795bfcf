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

const char* to_string(AgentStatus status) {
  switch (status) {
    case AgentStatus::kOnline:
      return "online";
    case AgentStatus::kAway:
      return "away";
    case AgentStatus::kOffline:
      return "offline";
  }
  return "?";
}

const char* to_string(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kNone:
      return "none";
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kSent:
      return "sent";
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kRead:
      return "read";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "?";
}

const char* to_string(CallState state) {
  switch (state) {
    case CallState::kRinging:
      return "ringing";
    case CallState::kInProgress:
      return "in_progress";
    case CallState::kOnHold:
      return "on_hold";
    case CallState::kEnded:
      return "ended";
    case CallState::kMissed:
      return "missed";
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
