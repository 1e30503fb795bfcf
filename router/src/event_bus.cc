#include <switchboard/router/event_bus.h>

#include <algorithm>

namespace switchboard::router {
namespace {

constexpr std::size_t kCatchUpPage = 256;

template <typename Set, typename Key>
bool allows(const Set& set, const Key& key) {
  return set.empty() || set.contains(key);
}

}  // namespace

bool EventFilter::matches(const Event& event) const {
  return allows(queues, event.queue) && allows(agent_ids, event.assignee_id) &&
         allows(conversation_ids, event.conversation_id) && allows(kinds, event.body.index());
}

Subscription::Subscription(const Store& store, EventFilter filter, uint64_t after, uint64_t live_from,
                           std::size_t buffer, Wakeup wakeup)
    : store_(store),
      filter_(std::move(filter)),
      buffer_limit_(buffer),
      live_from_(live_from),
      last_cursor_(after),
      wakeup_(std::move(wakeup)) {}

SharedEvent Subscription::next() {
  // Stored events first: everything up to live_from_ was durable before we joined.
  while (last_cursor_ < live_from_) {
    if (catch_up_.empty()) {
      auto page = store_.events_after(last_cursor_, kCatchUpPage);
      std::erase_if(page, [&](const Event& e) { return e.cursor > live_from_; });
      if (page.empty()) {
        last_cursor_ = live_from_;
        break;
      }
      catch_up_.assign(std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
    }
    Event event = std::move(catch_up_.front());
    catch_up_.pop_front();
    last_cursor_ = event.cursor;
    if (filter_.matches(event)) return std::make_shared<const Event>(std::move(event));
  }
  std::lock_guard lock(mutex_);
  while (!live_.empty()) {
    SharedEvent event = std::move(live_.front());
    live_.pop_front();
    if (event->cursor <= last_cursor_) continue;  // also came from the store
    last_cursor_ = event->cursor;
    return event;
  }
  return nullptr;
}

bool Subscription::overflowed() const {
  std::lock_guard lock(mutex_);
  return overflowed_;
}

void Subscription::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  live_.clear();
  wakeup_ = nullptr;
}

void Subscription::offer(const std::vector<SharedEvent>& events) {
  Wakeup wakeup;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_ || overflowed_) return;
    bool news = false;  // something to read, or to learn it was cut off
    for (const auto& event : events) {
      if (!filter_.matches(*event)) continue;
      news = true;
      if (live_.size() >= buffer_limit_) {
        // Cut the laggard off rather than grow without bound or slow the router.
        overflowed_ = true;
        live_.clear();
        break;
      }
      live_.push_back(event);
    }
    if (news) wakeup = wakeup_;
  }
  if (wakeup) wakeup();
}

EventBus::EventBus(const Store& store, std::size_t buffer_per_subscriber)
    : store_(store), buffer_(buffer_per_subscriber) {}

std::shared_ptr<Subscription> EventBus::subscribe(EventFilter filter, std::optional<uint64_t> after,
                                                  Subscription::Wakeup wakeup) {
  std::lock_guard lock(mutex_);
  // Under the lock no publish runs, so every event above `head` reaches us live.
  const uint64_t head = store_.head();
  const uint64_t start = after.value_or(head);
  std::shared_ptr<Subscription> sub(
      new Subscription(store_, std::move(filter), std::min(start, head), head, buffer_, std::move(wakeup)));
  subscribers_.push_back(sub);
  return sub;
}

template <typename Share>
void EventBus::publish_with(const std::vector<Event>& events, Share share) {
  if (events.empty()) return;
  std::lock_guard lock(mutex_);
  std::erase_if(subscribers_, [](const auto& weak) { return weak.expired(); });
  if (subscribers_.empty()) return;
  // One of each event for every subscriber, not one per subscriber.
  std::vector<SharedEvent> shared;
  shared.reserve(events.size());
  for (const auto& event : events) shared.push_back(share(event));
  for (const auto& weak : subscribers_) {
    if (auto sub = weak.lock()) sub->offer(shared);
  }
}

void EventBus::publish(const std::vector<Event>& events) {
  publish_with(events, [](const Event& event) { return std::make_shared<const Event>(event); });
}

void EventBus::publish(std::shared_ptr<const std::vector<Event>> events) {
  publish_with(*events, [&events](const Event& event) { return SharedEvent(events, &event); });
}

std::size_t EventBus::subscriber_count() const {
  std::lock_guard lock(mutex_);
  return std::count_if(subscribers_.begin(), subscribers_.end(), [](const auto& w) { return !w.expired(); });
}

}  // namespace switchboard::router
