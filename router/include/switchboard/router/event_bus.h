#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <switchboard/router/model.h>
#include <switchboard/router/store.h>

namespace switchboard::router {

// Which events a subscriber wants; an empty set matches everything.
struct EventFilter {
  std::set<std::string> queues;
  std::set<std::string> agent_ids;
  std::set<std::string> conversation_ids;
  std::set<std::size_t> kinds;  // EventBody::index() values

  bool matches(const Event& event) const;
};

// An event as the bus hands it out: one copy, shared by every subscriber it reaches.
using SharedEvent = std::shared_ptr<const Event>;

// One subscriber's view of the log: first the stored events after its cursor, then
// live ones, in cursor order, none twice. Live events wait in a bounded buffer; a
// subscriber that lets it overflow is cut off (overflowed() turns true) so that it
// never slows the router; it resumes later from the last cursor it got.
class Subscription {
 public:
  // Called, from a publishing thread, when next() has something new to give.
  using Wakeup = std::function<void()>;

  // The next event, or null for now. Reads stored events while catching up.
  // Not thread-safe: one reader per subscription (the catch-up state is unguarded).
  SharedEvent next();
  // Whether next() is past the stored events, so that it only pops what publish
  // buffered and never reads the store. Same reader as next().
  bool caught_up() const { return last_cursor_ >= live_from_; }
  bool overflowed() const;
  void cancel();

 private:
  friend class EventBus;
  Subscription(const Store& store, EventFilter filter, uint64_t after, uint64_t live_from, std::size_t buffer,
               Wakeup wakeup);
  // From EventBus::publish: the events this subscriber wants, one wake-up for all.
  void offer(const std::vector<SharedEvent>& events);

  const Store& store_;
  const EventFilter filter_;
  const std::size_t buffer_limit_;
  const uint64_t live_from_;  // events up to here come from the store
  uint64_t last_cursor_;      // the last cursor handed out
  std::deque<Event> catch_up_;

  mutable std::mutex mutex_;  // guards what publish touches: live_, overflowed_, cancelled_, wakeup_
  std::deque<SharedEvent> live_;
  bool overflowed_ = false;
  bool cancelled_ = false;
  Wakeup wakeup_;
};

// Fans committed events out to subscriptions. Thread-safe; publish never blocks on
// a subscriber.
class EventBus {
 public:
  EventBus(const Store& store, std::size_t buffer_per_subscriber);

  // `after`: resume after that cursor (0: from the oldest stored event); nothing: only
  // events committed from now on. A cursor beyond the log's head counts as now; the
  // API refuses one before it gets here.
  std::shared_ptr<Subscription> subscribe(EventFilter filter, std::optional<uint64_t> after,
                                          Subscription::Wakeup wakeup);
  // Each subscriber gets a shared copy of each event.
  void publish(const std::vector<Event>& events);
  // Shares `events` themselves, no copy: what a subscriber holds keeps them alive, and
  // nobody may change them any more.
  void publish(std::shared_ptr<const std::vector<Event>> events);
  std::size_t subscriber_count() const;

 private:
  // Offers `share(event)` for each of `events` to every subscriber; none is made when
  // there is nobody to offer it to.
  template <typename Share>
  void publish_with(const std::vector<Event>& events, Share share);

  const Store& store_;
  const std::size_t buffer_;
  mutable std::mutex mutex_;
  std::vector<std::weak_ptr<Subscription>> subscribers_;
};

}  // namespace switchboard::router
