// Wait updates (Queue::wait_updates, docs/routing.md): a customer waiting in a queue
// that enables them is told their place in line and the expected wait, soon after
// they join, then again only when the expected wait moved meaningfully. Customers who
// know how long they will wait leave less often, and a message that repeats the same
// number every minute is noise.
//
// One timer per queue, not per conversation: a tick works out the whole line once
// (O(n log n)), where per-conversation timers would each need their own place in it.

#include <cstdlib>

#include "desk_state.h"

namespace switchboard::router {
namespace {

using std::chrono::seconds;

// A new arrival hears from us within this long; arrivals close together share a tick.
constexpr seconds kFirstUpdateWithin{10};
// Messages one tick sends at most; the rest go at the next tick, soon after.
constexpr std::size_t kMaxUpdatesPerTick = 1000;
constexpr char kDefaultText[] = "You are number {position} in line. The expected wait is {wait}.";

std::string describe_wait(seconds wait, bool known) {
  if (!known) return "not known yet: nobody is available right now";
  const auto minutes = (wait.count() + 59) / 60;
  if (minutes <= 1) return "about a minute";
  if (minutes < 90) return "about " + std::to_string(minutes) + " minutes";
  return "about " + std::to_string((minutes + 30) / 60) + " hours";
}

// Worth telling: the first time, or the expected wait moved by a quarter and a minute.
bool worth_telling(const Conversation& c, const QueuePlace& place) {
  const ConversationExtras& told = *c.extras;
  if (!told.wait_update_at) return true;
  if (place.position == told.wait_update_position) return false;
  const int64_t before = told.wait_update_expected.count();
  const int64_t moved = std::llabs(place.expected_wait.count() - before);
  return moved >= 60 && moved * 4 >= before;
}

}  // namespace

void Desk::State::arm_wait_updates(const Conversation& c, Timestamp at) {
  if (c.state != ConversationState::kQueued || !queue_of(c.queue).wait_updates.enabled) return;
  const Timestamp want = at + kFirstUpdateWithin;
  auto next = next_wait_update.find(c.queue);
  if (next != next_wait_update.end() && next->second <= want) return;  // a tick comes soon enough
  next_wait_update[c.queue] = want;
  deadlines.emplace(want, Deadline{{}, DeadlineKind::kWaitUpdates, {}, {}, c.queue});
}

void Desk::State::send_wait_updates(const std::string& queue_name, Timestamp due, Timestamp at, Commit& out) {
  auto armed = next_wait_update.find(queue_name);
  if (armed == next_wait_update.end() || armed->second != due) return;
  next_wait_update.erase(armed);
  const Queue& queue = queue_of(queue_name);
  if (!queue.wait_updates.enabled) return;
  const std::vector<const WaitKey*> line = waiting_line(queue_name);
  if (line.empty()) return;  // the next arrival arms the next tick
  const bool open = calendar(queue_name).always_open() || calendar(queue_name).open_at(at);
  const WaitEstimate estimate = wait_estimate(queue);
  std::size_t sent = 0;
  for (std::size_t i = 0; i < line.size() && open && sent < kMaxUpdatesPerTick; ++i) {
    ConversationSlot* slot = find_slot(std::string(line[i]->conversation_id.view()));
    if (slot == nullptr) continue;
    Conversation& c = slot->data;
    const auto position = static_cast<uint32_t>(i + 1);
    const QueuePlace place{position, estimate.expected_wait(position)};
    const OptionalTime& told_at = c.extras->wait_update_at;
    if (told_at && at - *told_at < queue.wait_updates.interval) continue;
    const ChannelLeg* leg = c.leg(c.active_channel);
    if (leg == nullptr || !worth_telling(c, place)) continue;
    std::string text = queue.wait_updates.text.empty() ? kDefaultText : queue.wait_updates.text;
    text = replace_all(std::move(text), "{position}", std::to_string(position));
    text = replace_all(std::move(text), "{wait}", describe_wait(place.expected_wait, estimate.slots > 0));
    send_system_message(c, leg->channel, leg->address, text, at, out);
    ConversationExtras& told = c.extras.edit();
    told.wait_update_at = at;
    told.wait_update_position = position;
    told.wait_update_expected = place.expected_wait;
    save(*slot, out);
    ++sent;
  }
  // Outside business hours the out-of-hours reply has said when we open; look again then.
  const Timestamp next = sent == kMaxUpdatesPerTick ? at + kFirstUpdateWithin : at + queue.wait_updates.interval;
  next_wait_update[queue_name] = next;
  deadlines.emplace(next, Deadline{{}, DeadlineKind::kWaitUpdates, {}, {}, queue_name});
}

}  // namespace switchboard::router
