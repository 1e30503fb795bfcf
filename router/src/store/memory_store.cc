// The in-memory Store: an append-only log of events with a per-conversation
// index, and the latest version of every record. Durable only as long as the process
// lives; tests, benchmarks and `memory:`.
//
// Within a commit, records and events are applied first and erasures last, like the
// SQLite store: nothing of an erased contact survives the commit that erases it.

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <ranges>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include <switchboard/router/store.h>

#include "text_hash.h"

namespace switchboard::router {
namespace {

template <typename Record>
std::vector<Record> values_of(const std::map<std::string, Record>& records) {
  std::vector<Record> out;
  out.reserve(records.size());
  for (const auto& [key, record] : records) out.push_back(record);
  return out;
}

// Events in order, by position. A large commit (the router's, under load) is kept
// whole and the log points into its events rather than copying them: a copy of every
// event, its strings allocated anew, was a fifth of an ingest through the Router
// (BM_RouterIngest), and the router hands subscribers the same events
// (Store::keeps_commits). A small one is copied into blocks of the log's own, as
// before: kept, its few events would sit in small blocks among the records the Desk
// makes meanwhile and spread them out (BM_RouterIngest/100000/0, whose contacts are
// made one commit each before it runs, ran a fifth slower, in their lookups).
// Nothing here moves once made: a std::deque grows by blocks, so a million events
// never move as a vector's would (a stall of tens of milliseconds that every append
// behind it waited out), and a block of copies is reserved whole.
class EventLog {
 public:
  static constexpr std::size_t kKeepFrom = 32;  // events in a commit kept whole
  static constexpr std::size_t kBlockEvents = 256;

  // `may_keep`: the commit stays as it is for as long as the log lives.
  void push_back(const std::shared_ptr<const Commit>& commit, bool may_keep) {
    if (may_keep && commit->events.size() >= kKeepFrom) {
      for (const Event& event : commit->events) events_.push_back(&event);
      commits_.push_back(commit);
      return;
    }
    for (const Event& event : commit->events) {
      if (copies_.empty() || copies_.back().size() == kBlockEvents) copies_.emplace_back().reserve(kBlockEvents);
      events_.push_back(&copies_.back().emplace_back(event));
    }
  }
  const Event& operator[](std::size_t i) const { return *events_[i]; }
  // The event at `i` becomes a blank one with its cursor (the log stays ordered). A
  // kept commit is shared and stays as it was, out of reach: nothing reads it through
  // the log again, as a database's deleted rows stay in its free pages.
  void erase(std::size_t i) { events_[i] = &erased_.emplace_back(Event{.cursor = events_[i]->cursor}); }
  std::size_t size() const { return events_.size(); }
  uint64_t head() const { return events_.empty() ? 0 : events_.back()->cursor; }
  // The position of the first event with a cursor above `after` (size() if none).
  std::size_t first_after(uint64_t after) const {
    const auto positions = std::views::iota(std::size_t{0}, size());
    return *std::ranges::upper_bound(positions, after, {}, [this](std::size_t i) { return (*this)[i].cursor; });
  }

 private:
  std::deque<const Event*> events_;                    // into commits_, copies_ or erased_
  std::deque<std::shared_ptr<const Commit>> commits_;  // kept whole
  std::deque<std::vector<Event>> copies_;              // each reserved to kBlockEvents: never reallocated
  std::deque<Event> erased_;
};

bool unfinished(const OutboxEntry& entry) {
  return entry.status == DeliveryStatus::kNone || entry.status == DeliveryStatus::kPending;
}

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(MemoryStoreOptions options) : options_(options) {}

  bool keeps_records() const override { return options_.keep_records; }
  bool keeps_commits() const override { return !options_.keep_records; }

  void append(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) override {
    std::unique_lock lock(mutex_);
    apply(commit);
    // Queued under mutex_ so the order of `done` calls is the order of apply().
    if (!enqueue(std::move(done))) return;
    lock.unlock();
    deliver();
  }

  std::vector<Event> events_after(uint64_t after, std::size_t limit) const override {
    std::shared_lock lock(mutex_);
    std::vector<Event> out;
    for (std::size_t i = log_.first_after(after); i < log_.size() && out.size() < limit; ++i) {
      if (!log_[i].conversation_id.empty()) out.push_back(log_[i]);  // skip erased ones
    }
    return out;
  }

  std::vector<Event> timeline(const std::string& conversation_id, std::size_t limit) const override {
    std::shared_lock lock(mutex_);
    auto it = by_conversation_.find(conversation_id);
    if (it == by_conversation_.end()) return {};
    const auto& positions = it->second;
    const std::size_t first = positions.size() > limit ? positions.size() - limit : 0;
    std::vector<Event> out;
    out.reserve(positions.size() - first);
    for (std::size_t i = first; i < positions.size(); ++i) out.push_back(log_[positions[i]]);
    return out;
  }

  uint64_t head() const override {
    std::shared_lock lock(mutex_);
    return log_.head();
  }

  Result<StoredState> load(std::size_t inbound_seen_limit) override {
    std::shared_lock lock(mutex_);
    StoredState state;
    state.contacts = values_of(contacts_);
    state.conversations = values_of(conversations_);
    for (const auto& [id, entry] : outbox_) {
      if (unfinished(entry)) state.outbox.push_back(entry);
    }
    state.agents = values_of(agents_);
    state.queues = values_of(queues_);
    state.merges = values_of(merges_);
    const std::size_t skip = seen_.size() > inbound_seen_limit ? seen_.size() - inbound_seen_limit : 0;
    for (auto it = std::next(seen_.begin(), static_cast<std::ptrdiff_t>(skip)); it != seen_.end(); ++it) {
      state.inbound_seen.push_back(it->second);
    }
    state.head = log_.head();
    return state;
  }

 private:
  void apply(const std::shared_ptr<const Commit>& given) {
    const Commit& commit = *given;
    // A step's events are one conversation's, one after another: looked up once.
    std::vector<std::size_t>* positions = nullptr;
    for (std::size_t i = 0; i < commit.events.size(); ++i) {
      const std::string& id = commit.events[i].conversation_id;
      if (i == 0 || id != commit.events[i - 1].conversation_id) positions = &by_conversation_[id];
      positions->push_back(log_.size() + i);
    }
    // A commit that carries records is not kept whole: the store keeps only their
    // newest versions, below.
    log_.push_back(given, !options_.keep_records);
    if (!options_.keep_records) {
      for (const auto& id : commit.erased_conversations) erase_conversation(id);
      return;
    }
    for (const auto& c : commit.contacts) contacts_[c.id] = c;
    for (const auto& c : commit.conversations) conversations_[c.id] = c;
    for (const auto& e : commit.outbox) outbox_[e.outbound_id] = e;
    for (const auto& a : commit.agents) agents_[a.id] = a;
    for (const auto& q : commit.queues) queues_[q.name] = q;
    for (const auto& m : commit.merges) merges_[m.id] = m;
    for (const auto& s : commit.inbound_seen) remember(s);
    for (const auto& id : commit.erased_conversations) erase_conversation(id);
    for (const auto& id : commit.erased_contacts) erase_contact(id);
  }

  // A new answer for a key replaces the old one and becomes the newest.
  void remember(const SeenInbound& seen) {
    const std::string key = seen.channel + '\0' + seen.external_id;
    if (auto it = seen_order_.find(key); it != seen_order_.end()) seen_.erase(it->second);
    seen_order_[key] = next_seen_;
    seen_[next_seen_++] = seen;
  }

  // Erasure keeps the cursor (the log stays ordered) and drops everything else.
  void erase_conversation(const std::string& id) {
    if (auto it = by_conversation_.find(id); it != by_conversation_.end()) {
      for (auto pos : it->second) log_.erase(pos);
      by_conversation_.erase(it);
    }
    conversations_.erase(id);
    std::erase_if(outbox_, [&](const auto& entry) { return entry.second.conversation_id == id; });
    forget_seen_if([&](const SeenInbound& s) { return s.result.conversation_id == id; });
  }

  // A contact takes its conversations, and the merges that name it, with it.
  void erase_contact(const std::string& id) {
    std::vector<std::string> conversations;
    for (const auto& [conversation_id, c] : conversations_) {
      if (c.contact_id == id) conversations.push_back(conversation_id);
    }
    for (const auto& conversation_id : conversations) erase_conversation(conversation_id);
    contacts_.erase(id);
    std::erase_if(merges_, [&](const auto& m) { return m.second.target_id == id || m.second.source_id == id; });
    forget_seen_if([&](const SeenInbound& s) { return s.result.contact_id == id; });
  }

  template <typename Predicate>
  void forget_seen_if(Predicate predicate) {
    std::erase_if(seen_, [&](const auto& entry) {
      if (!predicate(entry.second)) return false;
      seen_order_.erase(entry.second.channel + '\0' + entry.second.external_id);
      return true;
    });
  }

  // `done` runs strictly in append order even when appends race, without a lock held
  // while it runs: whoever finds nobody delivering delivers everything queued,
  // including what a `done` appends meanwhile. True when the caller must deliver.
  bool enqueue(std::function<void(Status)> done) {
    std::lock_guard lock(done_mutex_);
    pending_done_.push_back(std::move(done));
    if (delivering_) return false;
    delivering_ = true;
    return true;
  }

  void deliver() {
    for (;;) {
      std::deque<std::function<void(Status)>> ready;
      {
        std::lock_guard lock(done_mutex_);
        if (pending_done_.empty()) {
          delivering_ = false;
          return;
        }
        ready.swap(pending_done_);
      }
      for (auto& d : ready) d(ok_status());
    }
  }

  const MemoryStoreOptions options_;
  mutable std::shared_mutex mutex_;
  EventLog log_;
  // Flat, with absl's hash: a node-based map's std::hash and bucket walk were 5 % of an
  // ingest through the Router (BM_RouterIngest).
  absl::flat_hash_map<std::string, std::vector<std::size_t>, TextHash, SameText> by_conversation_;
  // Ordered maps so load() returns records in key order, as the SQLite store does.
  std::map<std::string, Contact> contacts_;
  std::map<std::string, Conversation> conversations_;
  std::map<std::string, OutboxEntry> outbox_;
  std::map<std::string, Agent> agents_;
  std::map<std::string, Queue> queues_;
  std::map<std::string, Merge> merges_;
  std::map<uint64_t, SeenInbound> seen_;  // by arrival, oldest first
  std::unordered_map<std::string, uint64_t> seen_order_;
  uint64_t next_seen_ = 0;

  std::mutex done_mutex_;  // taken after mutex_; never held while `done` runs
  std::deque<std::function<void(Status)>> pending_done_;
  bool delivering_ = false;
};

}  // namespace

std::unique_ptr<Store> make_memory_store(MemoryStoreOptions options) { return std::make_unique<MemoryStore>(options); }

}  // namespace switchboard::router
