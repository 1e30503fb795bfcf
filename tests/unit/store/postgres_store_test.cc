// What only the PostgreSQL store promises, against a real server started by the test
// (postgres_server.h): it survives a reopen, refuses schemas it does not know, never
// lets a tailing reader pass a row that is yet to commit, notifies once per
// transaction, reports a lost server instead of acknowledging, then reconnects, and
// lets only one store at a time use a database.

#include "postgres_store.h"

#include <chrono>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "postgres_server.h"
#include "record_codec.h"
#include "record_equal.h"
#include "samples.h"
#include "store_fixture.h"
#include "store_test_helpers.h"

namespace switchboard::router::testing {
namespace {

using store::PostgresStore;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto uri = server().create_database();
    ASSERT_TRUE(uri.ok()) << uri.error().describe();
    uri_ = *uri;
  }

  static PostgresServer& server() { return PostgresServer::get(); }

  PostgresOptions options() const { return {.uri = uri_}; }

  std::unique_ptr<PostgresStore> open(const PostgresOptions& options) {
    auto store = PostgresStore::open(options);
    EXPECT_TRUE(store.ok()) << store.error().describe();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::unique_ptr<PostgresStore> open() { return open(options()); }

  // Runs SQL with a connection of its own, as an operator (or another node) would.
  void sql(const std::string& statement) {
    pqxx::connection db(uri_);
    pqxx::work tx(db);
    tx.exec0(statement);
    tx.commit();
  }

  // The first column of the first row, as an integer.
  int64_t sql_value(const std::string& query) {
    pqxx::connection db(uri_);
    pqxx::work tx(db);
    return tx.exec1(query)[0].as<int64_t>();
  }

  std::string uri_;
};

// Counts NOTIFY switchboard_events on a connection of its own.
class Listener : public pqxx::notification_receiver {
 public:
  explicit Listener(pqxx::connection& db) : pqxx::notification_receiver(db, "switchboard_events") {}
  void operator()(const std::string&, int) override { ++received; }
  int received = 0;
};

TEST_F(PostgresStoreTest, ReopeningLoadsTheSameState) {
  expect_reopening_loads_the_same_state([this] { return std::unique_ptr<Store>(open()); });
}

TEST_F(PostgresStoreTest, LoadingInPartsGivesTheSameRecords) {
  auto store = open();
  ASSERT_TRUE(store);
  expect_parts_add_up_to_the_whole(*store, 1);
}

TEST_F(PostgresStoreTest, DestroyingTheStoreCommitsWhatWasAppended) {
  expect_destroying_the_store_commits_what_was_appended([this] { return std::unique_ptr<Store>(open()); }, 300);
}

TEST_F(PostgresStoreTest, QueuedCommitsShareATransactionUpToMaxBatchEvents) {
  PostgresOptions small = options();
  small.max_batch_events = 100;
  auto store = open(small);
  ASSERT_TRUE(store);
  expect_transactions_stop_at_100_events(*store, 250);  // 100 + 100 + 50
}

TEST_F(PostgresStoreTest, OneNotificationPerTransactionNotPerEvent) {
  pqxx::connection listening(uri_);
  Listener listener(listening);
  auto store = open();
  ASSERT_TRUE(store);
  DoneLog log;
  WriterGate gate;
  gate.close(*store);
  for (int i = 1; i <= 20; ++i) {
    auto commit = std::make_shared<Commit>();
    commit->events.push_back(message_event(i, "cv-1", i, "m"));
    store->append(commit, log.expect(i));
  }
  gate.open();
  ASSERT_TRUE(log.wait_for(20));
  while (listening.await_notification(0, 300'000) != 0) {
  }
  EXPECT_EQ(listener.received, 1);
  EXPECT_EQ(store->stats().notifications, 1u);
}

TEST_F(PostgresStoreTest, ARepeatedSequenceFailsOnlyItsOwnCommit) {
  auto store = open();
  ASSERT_TRUE(store);
  expect_a_repeated_sequence_fails_only_its_own_commit(*store, "postgresql: ");
}

// The tailing rule: a row committed after another transaction took a lower cursor
// stays hidden from events_after until that transaction ends, so a reader moving its
// cursor past what it got cannot skip the slower row.
TEST_F(PostgresStoreTest, EventsAfterNeverPassesARowStillBeingCommitted) {
  auto store = open();
  ASSERT_TRUE(store);
  pqxx::connection other_node(uri_);
  pqxx::work slow(other_node);
  slow.exec_params0("INSERT INTO events(cursor, conversation_id, seq, body) VALUES($1, $2, $3, $4)", 1, "cv-1", 1,
                    store::encode(message_event(1, "cv-1", 1, "slow")));

  ASSERT_TRUE(append_and_wait(*store, {.events = {message_event(2, "cv-2", 1, "fast")}}).ok());
  EXPECT_EQ(store->head(), 2u);
  EXPECT_TRUE(store->events_after(0, 100).empty()) << "passed cursor 1 while it was still being committed";
  EXPECT_EQ(store->timeline("cv-2", 10).size(), 1u);  // committed rows are there, only the tail waits

  slow.commit();
  const auto events = store->events_after(0, 100);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].cursor, 1u);
  EXPECT_EQ(events[1].cursor, 2u);
}

TEST_F(PostgresStoreTest, KeepsOnlyTheNewestRedeliveryAnswers) {
  PostgresOptions keep_two = options();
  keep_two.keep_redelivery_answers = 2;
  auto store = open(keep_two);
  ASSERT_TRUE(store);
  expect_old_redelivery_answers_are_pruned(*store, 2);
}

TEST_F(PostgresStoreTest, OldRedeliveryAnswersGoInSteps) {
  PostgresOptions options = this->options();
  options.keep_redelivery_answers = 100;
  options.redelivery_prune_step = 3;
  auto store = open(options);
  ASSERT_TRUE(store);
  expect_old_redelivery_answers_go_in_steps_of_3(
      *store, [this](const std::string& where) { return sql_value("SELECT count(*) FROM inbound_seen" + where); });
}

TEST_F(PostgresStoreTest, ASchemaNewerThanTheBinaryIsRefused) {
  open().reset();
  sql("UPDATE schema_version SET version = 99");
  expect_error(PostgresStore::open(options()), ErrorCode::kFailedPrecondition, "schema version 99 is newer");
}

TEST_F(PostgresStoreTest, AnUnreachableServerFailsToOpen) {
  const std::string nobody = "postgresql://postgres@127.0.0.1:" + std::to_string(PostgresServer::free_port()) + "/x";
  expect_error(PostgresStore::open({.uri = nobody}), ErrorCode::kUnavailable, "postgresql: cannot connect");
}

// An exclusive store (tools, tests) is the only writer of its database: the second store
// is refused while the first holds the advisory lock, and opens once it is gone.
TEST_F(PostgresStoreTest, ASecondStoreOnTheSameDatabaseIsRefusedWhileTheFirstIsOpen) {
  auto first = open();
  ASSERT_TRUE(first);
  expect_error(PostgresStore::open(options()), ErrorCode::kFailedPrecondition,
               "another switchboardd is using this database");
  // Refused before it wrote anything: the first store carries on alone.
  ASSERT_TRUE(append_and_wait(*first, {.events = {message_event(1, "cv-1", 1, "first")}}).ok());

  first.reset();
  auto second = open();
  ASSERT_TRUE(second);
  ASSERT_TRUE(append_and_wait(*second, {.events = {message_event(2, "cv-1", 2, "second")}}).ok());
  EXPECT_EQ(second->events_after(0, 10).size(), 2u);
}

TEST_F(PostgresStoreTest, ANonExclusiveStoreDoesNotTakeTheLock) {
  PostgresOptions shared = options();
  shared.exclusive = false;
  auto first = open(shared);
  ASSERT_TRUE(first);
  auto exclusive = open();  // the non-exclusive one holds nothing
  ASSERT_TRUE(exclusive);
  auto also_shared = open(shared);  // and does not ask
  ASSERT_TRUE(also_shared);
  expect_error(PostgresStore::open(options()), ErrorCode::kFailedPrecondition, "another switchboardd");
}

// After a reconnect the writer takes the lock again before it writes: while another
// session holds it, every batch fails with kUnavailable and nothing is written.
TEST_F(PostgresStoreTest, AWriterThatCannotTakeTheLockAgainFailsItsBatches) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(append_and_wait(*store, {.events = {message_event(1, "cv-1", 1, "before")}}).ok());
  ASSERT_TRUE(server().stop().ok());
  const Status started = server().start();
  ASSERT_TRUE(started.ok()) << started.error().describe();

  pqxx::connection other(uri_);
  pqxx::nontransaction holding(other);
  ASSERT_TRUE(holding.exec_params1("SELECT pg_try_advisory_lock($1)", kPostgresExclusiveLockKey)[0].as<bool>());
  // The first append may only find the old connection gone; the next one reconnects.
  expect_error(append_and_wait(*store, {.events = {message_event(2, "cv-1", 2, "lost")}}), ErrorCode::kUnavailable,
               "postgresql: ");
  expect_error(append_and_wait(*store, {.events = {message_event(3, "cv-1", 3, "lost")}}), ErrorCode::kUnavailable,
               "another switchboardd is using this database");

  ASSERT_TRUE(holding.exec_params1("SELECT pg_advisory_unlock($1)", kPostgresExclusiveLockKey)[0].as<bool>());
  const Status stored = append_and_wait(*store, {.events = {message_event(4, "cv-1", 2, "after")}});
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  const auto events = store->events_after(0, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].cursor, 4u);
  // The store holds the lock again: another one is refused.
  expect_error(PostgresStore::open(options()), ErrorCode::kFailedPrecondition, "another switchboardd");
}

TEST_F(PostgresStoreTest, AStoppedServerFailsAppendsAndTheStoreReconnectsWhenItIsBack) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(append_and_wait(*store, {.events = {message_event(1, "cv-1", 1, "before")}}).ok());

  ASSERT_TRUE(server().stop().ok());
  expect_error(append_and_wait(*store, {.events = {message_event(2, "cv-1", 2, "lost")}}), ErrorCode::kUnavailable,
               "postgresql: ");
  // Still down: connecting again fails too, and is reported the same way.
  expect_error(append_and_wait(*store, {.contacts = {sample_contact("ct-1")}}), ErrorCode::kUnavailable,
               "postgresql: ");

  const Status started = server().start();
  ASSERT_TRUE(started.ok()) << started.error().describe();
  const Status stored = append_and_wait(*store, {.events = {message_event(3, "cv-1", 2, "after")}});
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_GE(store->stats().connects, 1u);
  const auto events = store->events_after(0, 10);  // the reader reconnects too
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].cursor, 1u);
  EXPECT_EQ(events[1].cursor, 3u);
  EXPECT_TRUE(store->load(10).ok());
}

}  // namespace
}  // namespace switchboard::router::testing

namespace switchboard::router::testing {
namespace {

// Several nodes on one database (PostgresOptions::exclusive off): what each commit is
// checked against, and what a node reads of the others.
class SharedPostgresStoreTest : public PostgresStoreTest {
 protected:
  std::unique_ptr<PostgresStore> node(const std::string& id) {
    return open({.uri = uri_, .exclusive = false, .node_id = id});
  }
};

TEST_F(SharedPostgresStoreTest, ACommitBuiltOnWhatAnotherNodeChangedIsRefusedUntilTheNodeHasReloaded) {
  auto a = node("a");
  auto b = node("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(append_and_wait(*a, {.events = {message_event(7, "cv-1", 1, "to a")},
                                   .contacts = {sample_contact("ct-1")},
                                   .conversations = {sample_conversation("cv-1", "ct-1")}})
                  .ok());

  // Node b had not seen that: its write to the same conversation loses, stores nothing.
  Commit stale{.events = {message_event(1, "cv-1", 2, "to b")}, .conversations = {sample_conversation("cv-1", "ct-1")}};
  expect_error(append_and_wait(*b, stale), ErrorCode::kAborted, "another node changed conversation cv-1");
  // It reads what a changed, and from where it may write again.
  auto changes = b->changes_since(0);
  ASSERT_TRUE(changes.ok()) << changes.error().describe();
  ASSERT_EQ(changes->records.contacts.size(), 1u);
  ASSERT_EQ(changes->records.conversations.size(), 1u);
  EXPECT_GT(changes->position, 0u);
  EXPECT_TRUE(b->changes_since(changes->position)->records.conversations.empty());
  EXPECT_TRUE(a->changes_since(0)->records.conversations.empty()) << "a node's own writes are not its changes";

  // Even up to date, the records the lost step wrote stay refused until b says it
  // reloaded them: a step built on the lost one must not slip through.
  Commit retry{.events = {message_event(1, "cv-1", 2, "to b")},
               .conversations = {sample_conversation("cv-1", "ct-1")},
               .based_on = changes->position};
  expect_error(append_and_wait(*b, retry), ErrorCode::kAborted, "written by a step that failed");
  ASSERT_TRUE(append_and_wait(*b, {.reloaded = keys_of(stale)}).ok());
  ASSERT_TRUE(append_and_wait(*b, retry).ok());

  // Cursors follow commit order across nodes, whatever the Desk numbered.
  const auto events = a->events_after(0, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].cursor, 1u);
  EXPECT_EQ(events[1].cursor, 2u);
  EXPECT_EQ(events[1].seq, 2u);
}

TEST_F(SharedPostgresStoreTest, AnIdentityBelongsToOneContactAcrossNodes) {
  auto a = node("a");
  auto b = node("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(append_and_wait(*a, {.contacts = {sample_contact("ct-a")}}).ok());
  Contact twin = sample_contact("ct-b");
  twin.identities = {{.channel = "sms", .address = "+4915112345678"}};  // ct-a's number
  expect_error(append_and_wait(*b, {.contacts = {twin}}), ErrorCode::kAborted,
               "identity sms:+4915112345678 of contact ct-a");
  // What b reloads to recover: the contact holding the identity, and its conversations.
  RecordKeys keys;
  keys.identities = {"sms:+4915112345678"};
  auto records = b->load_records(keys);
  ASSERT_TRUE(records.ok()) << records.error().describe();
  ASSERT_EQ(records->contacts.size(), 1u);
  EXPECT_EQ(records->contacts[0].id, "ct-a");
}

// A sample contact whose identities are its own email address and `number`.
Contact contact_with(const std::string& id, const std::string& number) {
  Contact contact = sample_contact(id);
  contact.identities.resize(1);  // the email address, made of the id
  contact.identities.push_back({.channel = "sms", .address = number});
  return contact;
}

// Commits queued together share one transaction, whose rows go one statement per
// table: a record written by two of them is stored as the later wrote it, and a
// contact's identities as its later version has them, even when another contact of
// the batch takes up one it gave away.
TEST_F(SharedPostgresStoreTest, ABatchStoresEachRecordAsItsLastCommitWroteIt) {
  auto a = node("a");
  ASSERT_TRUE(a);
  Conversation assigned = sample_conversation("cv-1", "ct-1");
  Conversation resolved = assigned;
  resolved.state = ConversationState::kResolved;
  a->hold_writes();
  DoneLog log;
  const Commit commits[] = {
      {.contacts = {contact_with("ct-1", "+491")}, .conversations = {assigned}},
      {.contacts = {contact_with("ct-1", "+492")}, .conversations = {resolved}},
      {.contacts = {contact_with("ct-2", "+491")}},
  };
  for (int i = 0; i < 3; ++i) a->append(std::make_shared<const Commit>(commits[i]), log.expect(i));
  a->release_writes();
  ASSERT_TRUE(log.wait_for(3));
  for (const auto& status : log.statuses()) ASSERT_TRUE(status.ok()) << status.error().describe();
  EXPECT_EQ(a->stats().transactions, 1u);
  auto loaded = a->load(10);
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  ASSERT_EQ(loaded->conversations.size(), 1u);
  EXPECT_EQ(loaded->conversations[0].state, ConversationState::kResolved);
  EXPECT_EQ(sql_value("SELECT count(*) FROM identities WHERE key = 'sms:+491' AND contact_id = 'ct-2'"), 1);
  EXPECT_EQ(sql_value("SELECT count(*) FROM identities WHERE key = 'sms:+492' AND contact_id = 'ct-1'"), 1);
  EXPECT_EQ(sql_value("SELECT count(*) FROM identities WHERE contact_id = 'ct-1'"), 2);
}

// Two commits of one transaction claiming one identity for two contacts: the batch
// fails, each is tried alone, and only the later one is refused.
TEST_F(SharedPostgresStoreTest, OfTwoCommitsOfABatchClaimingOneIdentityTheLaterIsRefused) {
  auto a = node("a");
  ASSERT_TRUE(a);
  a->hold_writes();
  DoneLog log;
  a->append(std::make_shared<const Commit>(Commit{.contacts = {contact_with("ct-3", "+493")}}), log.expect(0));
  a->append(std::make_shared<const Commit>(Commit{.contacts = {contact_with("ct-4", "+493")}}), log.expect(1));
  a->release_writes();
  ASSERT_TRUE(log.wait_for(2));
  const auto statuses = log.statuses();
  EXPECT_TRUE(statuses[0].ok()) << statuses[0].error().describe();
  expect_error(statuses[1], ErrorCode::kAborted, "identity sms:+493 of contact ct-3");
  EXPECT_EQ(sql_value("SELECT count(*) FROM contacts WHERE id = 'ct-4'"), 0);
}

TEST_F(SharedPostgresStoreTest, OtherNodesLearnWhatWasErased) {
  auto a = node("a");
  auto b = node("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(append_and_wait(*a, {.events = {message_event(1, "cv-1", 1, "hi")},
                                   .contacts = {sample_contact("ct-1")},
                                   .conversations = {sample_conversation("cv-1", "ct-1")}})
                  .ok());
  const uint64_t seen = b->changes_since(0)->position;
  ASSERT_TRUE(append_and_wait(*a, {.erased_contacts = {"ct-1"}}).ok());
  auto changes = b->changes_since(seen);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->erased_contacts, std::vector<std::string>{"ct-1"});
  // Writing the erased contact again from a stale view is refused.
  expect_error(append_and_wait(*b, {.contacts = {sample_contact("ct-1")}, .based_on = seen}), ErrorCode::kAborted,
               "contact ct-1 erased");
}

}  // namespace
}  // namespace switchboard::router::testing
