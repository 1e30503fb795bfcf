// The in-memory Store: an append-only vector of events with a per-conversation
// index. Durable only as long as the process lives; tests, benchmarks and `memory:`.

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include <switchboard/router/store.h>

namespace switchboard::router {
namespace {

class MemoryStore final : public Store {
 public:
  void append(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) override {
    {
      std::unique_lock lock(mutex_);
      for (const auto& id : commit->erased_conversations) erase_conversation(id);
      for (const auto& event : commit->events) {
        by_conversation_[event.conversation_id].push_back(log_.size());
        log_.push_back(event);
      }
      for (const auto& entry : commit->outbox) outbox_[entry.outbound_id] = entry;
    }
    done(ok_status());
  }

  std::vector<Event> events_after(uint64_t after, std::size_t limit) const override {
    std::shared_lock lock(mutex_);
    auto it = std::upper_bound(log_.begin(), log_.end(), after,
                               [](uint64_t cursor, const Event& e) { return cursor < e.cursor; });
    std::vector<Event> out;
    for (; it != log_.end() && out.size() < limit; ++it) {
      if (!it->conversation_id.empty()) out.push_back(*it);  // skip erased ones
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

  // Records are not kept yet: a memory store is only ever loaded fresh.
  Result<StoredState> load(std::size_t /*inbound_seen_limit*/) override {
    StoredState state;
    state.head = head();
    return state;
  }

  uint64_t head() const override {
    std::shared_lock lock(mutex_);
    return log_.empty() ? 0 : log_.back().cursor;
  }

 private:
  // Erasure keeps the cursor (the log stays ordered) and drops everything else.
  void erase_conversation(const std::string& id) {
    auto it = by_conversation_.find(id);
    if (it == by_conversation_.end()) return;
    for (auto pos : it->second) log_[pos] = Event{.cursor = log_[pos].cursor};
    by_conversation_.erase(it);
  }

  mutable std::shared_mutex mutex_;
  std::vector<Event> log_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_conversation_;
  std::unordered_map<std::string, OutboxEntry> outbox_;
};

}  // namespace

std::unique_ptr<Store> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace switchboard::router
