#pragma once

// Helpers for the tests of one durable store (sqlite_store_test.cc,
// postgres_store_test.cc): a gate on the writer thread, error checks, and the checks
// both durable stores promise alike, each written once.

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <switchboard/router/store.h>

#include "record_equal.h"
#include "samples.h"
#include "store_fixture.h"

namespace switchboard::router::testing {

// Holds the store's writer until released, so that whatever is appended meanwhile is
// queued, deterministically, for the next transaction.
class WriterGate {
 public:
  // From now on the store's writer takes nothing: appends queue up behind the gate.
  template <typename DurableStore>
  void close(DurableStore& store) {
    store.hold_writes();
    release_ = [&store] { store.release_writes(); };
  }
  void open() { release_(); }

 private:
  std::function<void()> release_;
};

template <typename T>
void expect_error(const Result<T>& result, ErrorCode code, const std::string& says) {
  ASSERT_FALSE(result.ok()) << "succeeded although it should have failed";
  EXPECT_EQ(result.error().code, code) << result.error().describe();
  EXPECT_NE(result.error().message.find(says), std::string::npos) << result.error().describe();
}

// Opens the store under test on the test's database, the same one every time.
using OpenStore = std::function<std::unique_ptr<Store>()>;

// What one store stored, the next one on the same database loads and reads alike.
inline void expect_reopening_loads_the_same_state(const OpenStore& open) {
  StoredState before;
  std::vector<Event> events_before;
  {
    auto store = open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(append_and_wait(*store, two_customers()).ok());
    ASSERT_TRUE(append_and_wait(*store, {.agents = {sample_agent("agent-7")}, .queues = {sample_queue("q")}}).ok());
    before = std::move(*store->load(100));
    events_before = store->events_after(0, 100);
  }
  auto store = open();
  ASSERT_TRUE(store);
  auto after = store->load(100);
  ASSERT_TRUE(after.ok()) << after.error().describe();
  EXPECT_TRUE(same(before, *after));
  EXPECT_EQ(after->contacts.size(), 3u);
  EXPECT_EQ(after->head, 3u);
  EXPECT_EQ(store->head(), 3u);
  EXPECT_EQ(events_before.size(), 3u);
  EXPECT_TRUE(same(events_before, store->events_after(0, 100)));
}

// load_in_parts gives what load() gives, in at least `min_parts` parts, in order,
// with the head on the last one.
inline void expect_parts_add_up_to_the_whole(Store& store, std::size_t min_parts) {
  ASSERT_TRUE(append_and_wait(store, two_customers()).ok());
  ASSERT_TRUE(append_and_wait(store, {.agents = {sample_agent("agent-7")}, .queues = {sample_queue("q")}}).ok());
  StoredState joined;
  std::size_t parts = 0;
  const auto append = [](auto& to, auto& from) { to.insert(to.end(), from.begin(), from.end()); };
  const Status read = store.load_in_parts(100, [&](StoredState part) {
    ++parts;
    EXPECT_EQ(joined.head, 0u) << "the head comes with the last part only";
    append(joined.contacts, part.contacts);
    append(joined.conversations, part.conversations);
    append(joined.outbox, part.outbox);
    append(joined.agents, part.agents);
    append(joined.queues, part.queues);
    append(joined.merges, part.merges);
    append(joined.inbound_seen, part.inbound_seen);
    joined.head = part.head;
    joined.position = part.position;
  });
  ASSERT_TRUE(read.ok()) << read.error().describe();
  EXPECT_GE(parts, min_parts);
  auto whole = store.load(100);
  ASSERT_TRUE(whole.ok()) << whole.error().describe();
  EXPECT_TRUE(same(*whole, joined));
  EXPECT_EQ(joined.head, 3u);
}

// Destroying a store with `count` commits still queued stores them all and calls
// every `done` with OK first.
inline void expect_destroying_the_store_commits_what_was_appended(const OpenStore& open, int count) {
  DoneLog log;
  {
    auto store = open();
    ASSERT_TRUE(store);
    for (int i = 1; i <= count; ++i) {
      auto commit = std::make_shared<Commit>();
      commit->events.push_back(message_event(i, "cv-1", i, "m"));
      store->append(commit, log.expect(i));
    }
  }
  EXPECT_EQ(log.tags().size(), static_cast<std::size_t>(count));
  for (const auto& status : log.statuses()) EXPECT_TRUE(status.ok());
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->head(), static_cast<uint64_t>(count));
  EXPECT_EQ(store->events_after(0, 10 * count).size(), static_cast<std::size_t>(count));
}

// `count` one-event commits queued behind a gate go in transactions of at most 100
// events (the store was opened with max_batch_events = 100).
template <typename DurableStore>
void expect_transactions_stop_at_100_events(DurableStore& store, int count) {
  DoneLog log;
  WriterGate gate;
  gate.close(store);
  for (int i = 1; i <= count; ++i) {
    auto commit = std::make_shared<Commit>();
    commit->events.push_back(message_event(i, "cv-1", i, "m"));
    store.append(commit, log.expect(i));
  }
  gate.open();
  ASSERT_TRUE(log.wait_for(count));
  EXPECT_EQ(store.stats().transactions, (static_cast<uint64_t>(count) + 99) / 100);
  EXPECT_EQ(store.stats().largest_batch, 100u);
}

// Three commits in one batch, the second repeating the first's (conversation, seq):
// only the second fails, with kAlreadyExists saying `says`; the others are stored.
template <typename DurableStore>
void expect_a_repeated_sequence_fails_only_its_own_commit(DurableStore& store, const std::string& says) {
  DoneLog log;
  WriterGate gate;
  gate.close(store);
  const Event events[] = {message_event(1, "cv-1", 1, "a"), message_event(2, "cv-1", 1, "same seq"),
                          message_event(3, "cv-2", 1, "b")};
  for (int i = 0; i < 3; ++i)
    store.append(std::make_shared<const Commit>(Commit{.events = {events[i]}}), log.expect(i));
  gate.open();
  ASSERT_TRUE(log.wait_for(3));
  const auto statuses = log.statuses();
  EXPECT_TRUE(statuses[0].ok());
  expect_error(statuses[1], ErrorCode::kAlreadyExists, says);
  EXPECT_TRUE(statuses[2].ok());
  const auto stored = store.events_after(0, 10);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].cursor, 1u);
  EXPECT_EQ(stored[1].cursor, 3u);
}

// A store keeping 100 redelivery answers and deleting old ones in steps of 3, after
// 155 answers: at most 2 more than 100 were ever held, and at some point more than
// 100 (the steps waited), and the newest are the ones left. `count(where)` counts the
// store's inbound_seen rows matching an SQL condition ("" for all).
inline void expect_old_redelivery_answers_go_in_steps_of_3(Store& store,
                                                           const std::function<int64_t(const std::string&)>& count) {
  int64_t most_held = 0;
  for (int i = 1; i <= 155; ++i) {
    ASSERT_TRUE(
        append_and_wait(store, {.inbound_seen = {sample_seen("msg-" + std::to_string(i), "ct-1", "cv-1")}}).ok());
    most_held = std::max(most_held, count(""));
  }
  EXPECT_LE(most_held, 102);
  EXPECT_GT(most_held, 100);
  EXPECT_EQ(count(" WHERE external_id = 'msg-155'"), 1);
  EXPECT_EQ(count(" WHERE external_id = 'msg-52'"), 0);
}

// A store keeping `keep` redelivery answers: old ones go as new ones come, one commit
// at a time, and load() gives back the newest.
inline void expect_old_redelivery_answers_are_pruned(Store& store, std::size_t keep) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(
        append_and_wait(store, {.inbound_seen = {sample_seen("msg-" + std::to_string(i), "ct-1", "cv-1")}}).ok());
  }
  auto loaded = store.load(100);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->inbound_seen.size(), keep);
  EXPECT_EQ(loaded->inbound_seen.back().external_id, "msg-5");
  EXPECT_EQ(loaded->inbound_seen.front().external_id, "msg-" + std::to_string(6 - keep));
}

}  // namespace switchboard::router::testing
