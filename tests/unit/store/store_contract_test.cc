// The Store contract (store.h), run against every store: memory, SQLite and a real
// PostgreSQL 15 that the tests start themselves (postgres_server.h).

#include <map>
#include <numeric>
#include <stdexcept>

#include <gtest/gtest.h>

#include <switchboard/router/postgres_store.h>
#include <switchboard/router/sqlite_store.h>
#include <switchboard/router/store.h>

#include "postgres_server.h"
#include "record_codec.h"
#include "record_equal.h"
#include "samples.h"
#include "store_fixture.h"

namespace switchboard::router::testing {
namespace {

struct StoreKind {
  std::string name;
  std::function<std::unique_ptr<Store>(const TempDir&)> open;
};

std::ostream& operator<<(std::ostream& out, const StoreKind& kind) { return out << kind.name; }

std::unique_ptr<Store> open_memory(const TempDir&) { return make_memory_store(); }

std::unique_ptr<Store> open_sqlite(const TempDir& dir) {
  auto store = open_sqlite_store({.path = dir.file("store.db")});
  if (!store) throw std::runtime_error(store.error().describe());
  return std::move(*store);
}

// A database of its own for each test; fails the test when there is no server.
std::unique_ptr<Store> open_postgres(const TempDir&) {
  auto uri = PostgresServer::get().create_database();
  if (!uri) throw std::runtime_error(uri.error().describe());
  auto store = open_postgres_store({.uri = *uri});
  if (!store) throw std::runtime_error(store.error().describe());
  return std::move(*store);
}

class StoreContract : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override { store_ = GetParam().open(dir_); }

  void append(Commit commit) {
    const Status stored = append_and_wait(*store_, std::move(commit));
    ASSERT_TRUE(stored.ok()) << stored.error().describe();
  }

  StoredState load(std::size_t inbound_seen_limit = 1000) {
    auto state = store_->load(inbound_seen_limit);
    EXPECT_TRUE(state.ok()) << state.error().describe();
    return state.ok() ? std::move(*state) : StoredState{};
  }

  // One message event per cursor, alternating between two conversations.
  std::vector<Event> two_conversations(uint64_t count) {
    std::vector<Event> events;
    uint64_t seq[2] = {0, 0};
    for (uint64_t cursor = 1; cursor <= count; ++cursor) {
      const int c = static_cast<int>(cursor % 2);
      events.push_back(message_event(cursor, c ? "cv-odd" : "cv-even", ++seq[c], "m" + std::to_string(cursor)));
    }
    return events;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

template <typename T>
void expect_same(const std::vector<T>& expected, const std::vector<T>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(same(expected[i], actual[i]))
        << "at " << i << "\nexpected: " << store::encode(expected[i]) << "\nactual:   " << store::encode(actual[i]);
  }
}

TEST_P(StoreContract, StartsEmpty) {
  EXPECT_EQ(store_->head(), 0u);
  EXPECT_TRUE(store_->events_after(0, 100).empty());
  const StoredState state = load();
  EXPECT_TRUE(state.contacts.empty());
  EXPECT_EQ(state.head, 0u);
}

TEST_P(StoreContract, EventsReadBackInCursorOrder) {
  const auto events = two_conversations(6);
  append({.events = {events[0], events[1]}});
  append({.events = {events[2], events[3], events[4], events[5]}});

  expect_same(events, store_->events_after(0, 100));
  expect_same({events[2], events[3]}, store_->events_after(2, 2));
  EXPECT_TRUE(store_->events_after(6, 100).empty());
}

TEST_P(StoreContract, TimelineIsTheLastEventsOldestFirst) {
  const auto events = two_conversations(10);  // cv-odd: cursors 1, 3, 5, 7, 9
  append({.events = events});

  expect_same({events[4], events[6], events[8]}, store_->timeline("cv-odd", 3));
  EXPECT_EQ(store_->timeline("cv-odd", 100).size(), 5u);
  EXPECT_TRUE(store_->timeline("cv-none", 100).empty());
}

// Enough events to fill several of the memory store's blocks (256 events each), read
// from across their edges.
TEST_P(StoreContract, ReadsAcrossAThousandEvents) {
  const auto events = two_conversations(1000);  // events[i] has cursor i + 1
  append({.events = std::vector<Event>(events.begin(), events.begin() + 300)});
  append({.events = std::vector<Event>(events.begin() + 300, events.end())});

  expect_same({events.begin() + 255, events.begin() + 258}, store_->events_after(255, 3));
  expect_same({events.begin() + 510, events.end()}, store_->events_after(510, 1000));
  expect_same({events[995], events[997], events[999]}, store_->timeline("cv-even", 3));
  EXPECT_EQ(store_->timeline("cv-odd", 1000).size(), 500u);
  EXPECT_EQ(store_->head(), 1000u);
}

TEST_P(StoreContract, HeadIsTheNewestCursor) {
  const auto events = two_conversations(4);
  append({.events = {events[0], events[1]}});
  EXPECT_EQ(store_->head(), 2u);
  append({.contacts = {sample_contact("ct-1")}});
  EXPECT_EQ(store_->head(), 2u);
  append({.events = {events[2], events[3]}});
  EXPECT_EQ(store_->head(), 4u);
  EXPECT_EQ(load().head, 4u);
}

TEST_P(StoreContract, DoneRunsInAppendOrderAndEmptyCommitsWaitTheirTurn) {
  DoneLog log;
  std::vector<uint64_t> head_seen_by_empty;
  const auto events = two_conversations(50);
  for (int i = 0; i < 100; ++i) {
    auto commit = std::make_shared<Commit>();
    if (i % 2 == 0) {
      commit->events.push_back(events[i / 2]);
      store_->append(commit, log.expect(i));
    } else {
      // An empty commit orders an answer after everything appended before it.
      store_->append(commit, [&, expected = log.expect(i), cursor = events[i / 2].cursor](Status s) {
        EXPECT_GE(store_->head(), cursor);
        EXPECT_EQ(store_->events_after(cursor - 1, 1).size(), 1u);
        expected(std::move(s));
      });
    }
  }
  ASSERT_TRUE(log.wait_for(100));
  std::vector<int> expected(100);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(log.tags(), expected);
  for (const auto& status : log.statuses()) EXPECT_TRUE(status.ok());
}

TEST_P(StoreContract, LoadReturnsEveryKindOfRecord) {
  const Commit commit{
      .contacts = {sample_contact("ct-1"), sample_contact("ct-2")},
      .conversations = {sample_conversation("cv-1", "ct-1"), sample_conversation("cv-2", "ct-2")},
      .outbox = {sample_outbox("ob-1", "cv-1"), sample_outbox("ob-2", "cv-2", DeliveryStatus::kNone)},
      .agents = {sample_agent("agent-7"), sample_agent("agent-8")},
      .queues = {sample_queue("billing"), sample_queue("support")},
      .merges = {sample_merge("mg-1", "ct-1", "ct-2")},
      .inbound_seen = {sample_seen("msg-1", "ct-1", "cv-1"), sample_seen("msg-2", "ct-2", "cv-2")},
  };
  append(commit);

  const StoredState state = load();
  expect_same(commit.contacts, state.contacts);
  expect_same(commit.conversations, state.conversations);
  expect_same(commit.outbox, state.outbox);
  expect_same(commit.agents, state.agents);
  expect_same(commit.queues, state.queues);
  expect_same(commit.merges, state.merges);
  expect_same(commit.inbound_seen, state.inbound_seen);
}

TEST_P(StoreContract, UpsertReplacesTheWholeRecord) {
  append({.contacts = {sample_contact("ct-1")}, .outbox = {sample_outbox("ob-1", "cv-1")}});
  Contact renamed = sample_contact("ct-1");
  renamed.display_name = "Ana B.";
  renamed.identities.pop_back();
  append({.contacts = {renamed}});

  expect_same({renamed}, load().contacts);
}

TEST_P(StoreContract, LoadLeavesOutFinishedDeliveries) {
  append({.outbox = {sample_outbox("ob-1", "cv-1"), sample_outbox("ob-2", "cv-1"), sample_outbox("ob-3", "cv-1")}});
  append({.outbox = {sample_outbox("ob-1", "cv-1", DeliveryStatus::kSent),
                     sample_outbox("ob-3", "cv-1", DeliveryStatus::kFailed)}});

  const StoredState state = load();
  ASSERT_EQ(state.outbox.size(), 1u);
  EXPECT_EQ(state.outbox[0].outbound_id, "ob-2");
}

TEST_P(StoreContract, ErasingAContactRemovesEverythingThatNamesIt) {
  append(two_customers());
  // Only the contact is named: the store finds its conversations itself.
  append({.erased_contacts = {"ct-1"}});

  const StoredState state = load();
  ASSERT_EQ(state.contacts.size(), 2u);
  EXPECT_EQ(state.contacts[0].id, "ct-2");
  ASSERT_EQ(state.conversations.size(), 1u);
  EXPECT_EQ(state.conversations[0].id, "cv-2");
  ASSERT_EQ(state.outbox.size(), 1u);
  EXPECT_EQ(state.outbox[0].outbound_id, "ob-2");
  ASSERT_EQ(state.merges.size(), 1u);
  EXPECT_EQ(state.merges[0].id, "mg-2");
  ASSERT_EQ(state.inbound_seen.size(), 1u);
  EXPECT_EQ(state.inbound_seen[0].external_id, "msg-2");

  EXPECT_TRUE(store_->timeline("cv-1", 100).empty());
  const auto remaining = store_->events_after(0, 100);
  ASSERT_EQ(remaining.size(), 1u);
  EXPECT_EQ(remaining[0].conversation_id, "cv-2");
  // Cursors never go back: subscribers past the erased events must not see them again.
  EXPECT_EQ(store_->head(), 3u);
  EXPECT_EQ(state.head, 3u);
}

TEST_P(StoreContract, ErasingAConversationKeepsItsContact) {
  append(two_customers());
  append({.erased_conversations = {"cv-2"}});

  const StoredState state = load();
  EXPECT_EQ(state.contacts.size(), 3u);
  ASSERT_EQ(state.conversations.size(), 1u);
  EXPECT_EQ(state.conversations[0].id, "cv-1");
  ASSERT_EQ(state.outbox.size(), 1u);
  EXPECT_EQ(state.outbox[0].outbound_id, "ob-1");
  ASSERT_EQ(state.inbound_seen.size(), 1u);
  EXPECT_EQ(state.inbound_seen[0].external_id, "msg-1");
  EXPECT_TRUE(store_->timeline("cv-2", 100).empty());
  EXPECT_EQ(store_->events_after(0, 100).size(), 2u);
}

TEST_P(StoreContract, AConversationMovedToAnotherContactGoesWithThatContact) {
  append({.conversations = {sample_conversation("cv-1", "ct-1"), sample_conversation("cv-2", "ct-1")}});
  Conversation moved = sample_conversation("cv-1", "ct-2");  // as a merge moves it
  moved.queue = "moved";
  append({.conversations = {moved}});
  append({.erased_contacts = {"ct-1"}});
  expect_same({moved}, load().conversations);

  append({.erased_contacts = {"ct-2"}});
  EXPECT_TRUE(load().conversations.empty());
}

TEST_P(StoreContract, ErasureInTheSameCommitWins) {
  append({.contacts = {sample_contact("ct-1")}, .erased_contacts = {"ct-1"}});
  EXPECT_TRUE(load().contacts.empty());
}

// A store may gather a transaction's events and write them together (PostgreSQL does):
// an erasure in the commit that wrote them must still find them.
TEST_P(StoreContract, AConversationErasedByTheCommitThatWroteItsEventsLeavesNone) {
  Commit commit = two_customers();
  commit.erased_conversations = {"cv-2"};
  append(std::move(commit));

  EXPECT_TRUE(store_->timeline("cv-2", 100).empty());
  EXPECT_EQ(store_->timeline("cv-1", 100).size(), 2u);
  const auto remaining = store_->events_after(0, 100);
  ASSERT_EQ(remaining.size(), 2u);
  for (const auto& event : remaining) EXPECT_EQ(event.conversation_id, "cv-1");
}

TEST_P(StoreContract, InboundSeenLimitKeepsTheNewestOldestFirst) {
  for (int i = 1; i <= 10; ++i) append({.inbound_seen = {sample_seen("msg-" + std::to_string(i), "ct-1", "cv-1")}});
  // A key answered again counts as new.
  append({.inbound_seen = {sample_seen("msg-2", "ct-1", "cv-2")}});

  const StoredState state = load(3);
  ASSERT_EQ(state.inbound_seen.size(), 3u);
  EXPECT_EQ(state.inbound_seen[0].external_id, "msg-9");
  EXPECT_EQ(state.inbound_seen[1].external_id, "msg-10");
  EXPECT_EQ(state.inbound_seen[2].external_id, "msg-2");
  EXPECT_EQ(state.inbound_seen[2].result.conversation_id, "cv-2");

  // Every key once, or a re-answered key twice with the newer answer later (Store::load).
  std::map<std::string, std::string> remembered;
  for (const auto& seen : load(1000).inbound_seen) remembered[seen.external_id] = seen.result.conversation_id;
  EXPECT_EQ(remembered.size(), 10u);
  EXPECT_EQ(remembered["msg-2"], "cv-2");
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract,
                         ::testing::Values(StoreKind{"memory", open_memory}, StoreKind{"sqlite", open_sqlite},
                                           StoreKind{"postgres", open_postgres}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace switchboard::router::testing
