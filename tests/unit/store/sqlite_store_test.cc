// What only the SQLite store promises: it survives a reopen, commits in groups,
// refuses schemas it does not know, and reports storage faults instead of
// acknowledging what it did not store.

#include "sqlite_store.h"

#include "sqlite_process_config.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sqlite3.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "record_codec.h"
#include "record_equal.h"
#include "samples.h"
#include "store_fixture.h"
#include "store_test_helpers.h"

namespace switchboard::router::testing {
namespace {

using store::SqliteStore;

// chattr +i: an immutable file cannot be written even by root (the tests run as root,
// for whom chmod 0444 changes nothing), including through descriptors already open.
bool set_immutable(const std::string& path, bool on) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  int flags = 0;
  bool ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
  ok = ok && ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  ::close(fd);
  return ok;
}

// Makes files read-only for the length of a scope: mode 0444, and immutable when
// running as root. Undone at the end so that the temporary folder can be removed.
class ReadOnly {
 public:
  explicit ReadOnly(std::vector<std::string> paths) : paths_(std::move(paths)) {
    for (const auto& path : paths_) {
      ::chmod(path.c_str(), 0444);
      if (geteuid() == 0 && !set_immutable(path, true)) works_ = false;
    }
  }
  ~ReadOnly() { writable(); }
  void writable() {
    for (const auto& path : paths_) {
      set_immutable(path, false);
      ::chmod(path.c_str(), 0644);
    }
  }
  bool works() const { return works_; }

 private:
  std::vector<std::string> paths_;
  bool works_ = true;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteOptions options() const { return {.path = dir_.file("store.db")}; }

  std::unique_ptr<SqliteStore> open(SqliteOptions options) {
    auto store = SqliteStore::open(options);
    EXPECT_TRUE(store.ok()) << store.error().describe();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::unique_ptr<SqliteStore> open() { return open(options()); }

  // Runs SQL on the file with a connection of its own, as an operator would.
  void sql(const std::string& statement) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.file("store.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  // The first column of the first row, as an integer.
  int64_t sql_value(const std::string& query) {
    sqlite3* db = nullptr;
    sqlite3_stmt* statement = nullptr;
    int64_t value = -1;
    if (sqlite3_open(dir_.file("store.db").c_str(), &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, query.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      value = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
  }

  // Turns the file's events back into version 3's: one table with a
  // UNIQUE(conversation_id, seq) index, no chain, no heads.
  void events_as_in_version_3() {
    sql("DROP TABLE event_heads;"
        "CREATE TABLE old_events(cursor INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, "
        "body TEXT NOT NULL, UNIQUE(conversation_id, seq));"
        "INSERT INTO old_events SELECT cursor, conversation_id, seq, body FROM events;"
        "DROP TABLE events; ALTER TABLE old_events RENAME TO events; PRAGMA user_version = 3");
  }

  // How many events are not on their conversation's chain, plus chain links that are
  // not one of that conversation's events: 0 when walking the chains from the heads
  // finds exactly the rows a scan by conversation_id finds.
  int64_t events_off_their_chain() {
    return sql_value(
        "WITH RECURSIVE chain(conversation_id, cursor) AS (SELECT conversation_id, cursor FROM event_heads "
        "UNION ALL SELECT chain.conversation_id, e.previous FROM chain JOIN events e ON e.cursor = chain.cursor "
        "WHERE e.previous < e.cursor) "
        "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM chain) - 2 * (SELECT count(*) FROM chain c "
        "JOIN events e ON e.cursor = c.cursor AND e.conversation_id = c.conversation_id)");
  }

  // Appends one Commit of `pages` events to cv-1, each body filling a WAL page, and
  // waits for it.
  static Status append_pages(SqliteStore& store, uint64_t& cursor, int pages) {
    const std::string text(4000, 'x');
    Commit c;
    for (int i = 0; i < pages; ++i) {
      ++cursor;
      c.events.push_back(message_event(cursor, "cv-1", cursor, text));
    }
    return append_and_wait(store, std::move(c));
  }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, ReopeningLoadsTheSameState) {
  expect_reopening_loads_the_same_state([this] { return std::unique_ptr<Store>(open()); });
}

TEST_F(SqliteStoreTest, TheHeadStaysPastErasedEventsAcrossARestart) {
  {
    auto store = open();
    ASSERT_TRUE(append_and_wait(
                    *store, {.events = {message_event(1, "cv-1", 1, "kept"), message_event(2, "cv-2", 1, "erased")}})
                    .ok());
    // Transactions without an erasure leave the head to the events themselves.
    EXPECT_EQ(sql_value("SELECT value FROM meta WHERE key = 'head'"), 0);
    ASSERT_TRUE(append_and_wait(*store, {.erased_conversations = {"cv-2"}}).ok());
  }
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->head(), 2u);
  auto loaded = store->load(10);
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  EXPECT_EQ(loaded->head, 2u);
  EXPECT_EQ(store->events_after(0, 10).size(), 1u);
}

TEST_F(SqliteStoreTest, LoadingInPartsGivesTheSameRecords) {
  SqliteOptions small_parts = options();
  small_parts.rows_per_load_part = 2;
  auto store = open(small_parts);
  ASSERT_TRUE(store);
  expect_parts_add_up_to_the_whole(*store, 4);
}

TEST_F(SqliteStoreTest, KeepsOnlyTheNewestRedeliveryAnswers) {
  SqliteOptions keep_two = options();
  keep_two.keep_redelivery_answers = 2;
  auto store = open(keep_two);
  ASSERT_TRUE(store);
  expect_old_redelivery_answers_are_pruned(*store, 2);
}

// Old answers go a few at a time (redelivery_prune_step), not a tenth of those kept
// in one transaction: at most a step more than kept are ever held.
TEST_F(SqliteStoreTest, OldRedeliveryAnswersGoInSmallSteps) {
  SqliteOptions options = this->options();
  options.synchronous = SqliteOptions::kNormal;
  options.keep_redelivery_answers = 100;
  options.redelivery_prune_step = 3;
  auto store = open(options);
  ASSERT_TRUE(store);
  expect_old_redelivery_answers_go_in_steps_of_3(
      *store, [this](const std::string& where) { return sql_value("SELECT count(*) FROM inbound_seen" + where); });
}

TEST_F(SqliteStoreTest, DestroyingTheStoreCommitsWhatWasAppended) {
  expect_destroying_the_store_commits_what_was_appended([this] { return std::unique_ptr<Store>(open()); }, 500);
}

TEST_F(SqliteStoreTest, ConcurrentAppendsShareTransactions) {
  auto store = open();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<DoneLog> logs(kThreads);
  WriterGate gate;
  gate.close(*store);
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto commit = std::make_shared<Commit>();
        const auto cursor = static_cast<uint64_t>(t * kPerThread + i + 1);
        commit->events.push_back(message_event(cursor, "cv-" + std::to_string(t), i + 1, "m"));
        store->append(commit, logs[t].expect(i));
      }
    });
  }
  for (auto& producer : producers) producer.join();
  gate.open();
  for (auto& log : logs) {
    ASSERT_TRUE(log.wait_for(kPerThread));
    std::vector<int> in_order(kPerThread);
    std::iota(in_order.begin(), in_order.end(), 0);
    EXPECT_EQ(log.tags(), in_order);
  }
  const auto stats = store->stats();
  EXPECT_EQ(stats.events, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(stats.commits, uint64_t{kThreads * kPerThread});
  // The 2,000 queued behind the gate, in one transaction.
  EXPECT_EQ(stats.transactions, 1u);
  EXPECT_EQ(store->events_after(0, 10'000).size(), size_t{kThreads * kPerThread});
}

TEST_F(SqliteStoreTest, TransactionsStopAtMaxBatchEvents) {
  SqliteOptions small = options();
  small.max_batch_events = 100;
  auto store = open(small);
  expect_transactions_stop_at_100_events(*store, 1000);
}

TEST_F(SqliteStoreTest, ARepeatedSequenceFailsOnlyItsOwnCommit) {
  auto store = open();
  expect_a_repeated_sequence_fails_only_its_own_commit(*store,
                                                       "conversation cv-1 already has an event with seq 1 or later");
}

TEST_F(SqliteStoreTest, ASchemaNewerThanTheBinaryIsRefused) {
  open().reset();
  sql("PRAGMA user_version = 99");
  expect_error(SqliteStore::open(options()), ErrorCode::kFailedPrecondition, "schema version 99 is newer");
}

// Version 2 dropped the redelivery answers' secondary indexes: a version 1 file is
// brought up to date when opened, and keeps what it held.
TEST_F(SqliteStoreTest, AVersionOneFileIsMigrated) {
  {
    auto store = open();
    ASSERT_TRUE(append_and_wait(*store, {.inbound_seen = {sample_seen("msg-1", "ct-1", "cv-1")}}).ok());
  }
  // The answers' table as version 1 had it: keyed, with two more indexes.
  events_as_in_version_3();
  sql("CREATE TABLE old_seen(channel TEXT NOT NULL, external_id TEXT NOT NULL, contact_id TEXT NOT NULL, "
      "conversation_id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY(channel, external_id));"
      "INSERT INTO old_seen SELECT * FROM inbound_seen; DROP TABLE inbound_seen;"
      "ALTER TABLE old_seen RENAME TO inbound_seen;"
      "CREATE INDEX inbound_seen_by_conversation ON inbound_seen(conversation_id);"
      "CREATE INDEX inbound_seen_by_contact ON inbound_seen(contact_id); PRAGMA user_version = 1");
  ASSERT_EQ(sql_value("SELECT count(*) FROM sqlite_master WHERE tbl_name = 'inbound_seen' AND type = 'index'"), 3);
  auto store = open();
  ASSERT_TRUE(store);
  auto loaded = store->load(10);
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  ASSERT_EQ(loaded->inbound_seen.size(), 1u);
  EXPECT_EQ(loaded->inbound_seen[0].external_id, "msg-1");
  store.reset();
  EXPECT_EQ(sql_value("PRAGMA user_version"), 4);
  // Answers are appended: no index on the table at all, not even its key's.
  EXPECT_EQ(sql_value("SELECT count(*) FROM sqlite_master WHERE tbl_name = 'inbound_seen' AND type = 'index'"), 0);
}

// What UNIQUE(conversation_id, seq) refused before the chain, the writer refuses: an
// event whose seq the conversation already has, even when a newer one follows it in
// the same commit, and only that commit fails.
TEST_F(SqliteStoreTest, ASeqTheConversationAlreadyHasIsRefusedEvenBeforeANewerOne) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(
      append_and_wait(*store, {.events = {message_event(1, "cv-1", 1, "a"), message_event(2, "cv-1", 2, "b")}}).ok());
  expect_error(
      append_and_wait(*store, {.events = {message_event(3, "cv-1", 2, "again"), message_event(4, "cv-1", 3, "c")}}),
      ErrorCode::kAlreadyExists, "conversation cv-1 already has an event with seq 2 or later");
  ASSERT_TRUE(append_and_wait(*store, {.events = {message_event(3, "cv-1", 3, "c")}}).ok());
  EXPECT_EQ(store->timeline("cv-1", 10).size(), 3u);
  EXPECT_EQ(events_off_their_chain(), 0);
}

// Version 4 chains each conversation's events instead of indexing them: a version 3
// file gets its chains and heads when opened, and reads, erases and refuses a
// repeated seq as before.
TEST_F(SqliteStoreTest, AVersionThreeFileGetsItsEventsChained) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    uint64_t cursor = 0;
    for (uint64_t seq = 1; seq <= 4; ++seq) {
      Commit c;
      for (const char* conversation : {"cv-1", "cv-2", "cv-3"}) {
        c.events.push_back(message_event(++cursor, conversation, seq, conversation));
      }
      ASSERT_TRUE(append_and_wait(*store, std::move(c)).ok());
    }
  }
  events_as_in_version_3();
  ASSERT_EQ(sql_value("SELECT count(*) FROM sqlite_master WHERE name = 'event_heads'"), 0);
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(sql_value("PRAGMA user_version"), 4);
  EXPECT_EQ(sql_value("SELECT count(*) FROM events"), 12);
  EXPECT_EQ(events_off_their_chain(), 0);
  const auto timeline = store->timeline("cv-2", 3);
  ASSERT_EQ(timeline.size(), 3u);
  EXPECT_EQ(timeline[0].seq, 2u);
  EXPECT_EQ(timeline[2].seq, 4u);
  EXPECT_EQ(timeline[2].cursor, 11u);
  expect_error(append_and_wait(*store, {.events = {message_event(13, "cv-2", 4, "again")}}), ErrorCode::kAlreadyExists,
               "conversation cv-2 already has an event with seq 4 or later");
  ASSERT_TRUE(
      append_and_wait(*store, {.events = {message_event(13, "cv-2", 5, "next")}, .erased_conversations = {"cv-1"}})
          .ok());
  EXPECT_EQ(store->timeline("cv-2", 100).size(), 5u);
  EXPECT_EQ(sql_value("SELECT count(*) FROM events WHERE conversation_id = 'cv-1'"), 0);
  EXPECT_EQ(events_off_their_chain(), 0);
}

// Many conversations and contacts, several events of one conversation in a commit and
// in a transaction, erasures between them and a reopen: every event stays on its
// conversation's chain, and an erasure leaves none of its events (GDPR), as a scan of
// the whole table shows.
TEST_F(SqliteStoreTest, EveryEventIsOnItsConversationsChainAndErasureLeavesNone) {
  std::mt19937 random(7);
  std::map<std::string, uint64_t> seqs;
  std::set<std::string> erased;
  uint64_t cursor = 0;
  const auto conversation_of = [](int contact, int n) {
    return "cv-" + std::to_string(contact) + "-" + std::to_string(n);
  };
  for (int round = 0; round < 2; ++round) {
    auto store = open();
    ASSERT_TRUE(store);
    DoneLog log;
    for (int i = 0; i < 300; ++i) {
      Commit c;
      const int contact = static_cast<int>(random() % 20);
      for (int e = 0, n = 1 + static_cast<int>(random() % 3); e < n; ++e) {
        const std::string conversation = conversation_of(contact, static_cast<int>(random() % 3));
        c.events.push_back(message_event(++cursor, conversation, ++seqs[conversation], "m"));
        erased.erase(conversation);
        c.conversations.push_back(sample_conversation(conversation, "ct-" + std::to_string(contact)));
      }
      if (random() % 25 == 0) {
        const std::string conversation = conversation_of(contact, 0);
        c.erased_conversations.push_back(conversation);
        seqs.erase(conversation);
        erased.insert(conversation);
      }
      if (random() % 60 == 0) {
        c.erased_contacts.push_back("ct-" + std::to_string(contact));
        for (int n = 0; n < 3; ++n) {
          seqs.erase(conversation_of(contact, n));
          erased.insert(conversation_of(contact, n));
        }
      }
      store->append(std::make_shared<const Commit>(std::move(c)), log.expect(i));
    }
    ASSERT_TRUE(log.wait_for(300));
    for (const auto& status : log.statuses()) ASSERT_TRUE(status.ok()) << status.error().describe();
  }
  ASSERT_FALSE(erased.empty());
  EXPECT_EQ(events_off_their_chain(), 0);
  for (const auto& conversation : erased) {
    EXPECT_EQ(sql_value("SELECT count(*) FROM events WHERE conversation_id = '" + conversation + "'"), 0)
        << conversation;
  }
  auto store = open();
  ASSERT_TRUE(store);
  for (const auto& [conversation, last] : seqs) {
    const auto timeline = store->timeline(conversation, 1000);
    ASSERT_EQ(timeline.size(), last) << conversation;
    for (std::size_t i = 0; i < timeline.size(); ++i) EXPECT_EQ(timeline[i].seq, i + 1) << conversation;
  }
}

TEST_F(SqliteStoreTest, AMissingDirectoryFailsToOpen) {
  SqliteOptions missing = options();
  missing.path = dir_.file("no/such/dir/store.db");
  expect_error(open_sqlite_store(missing), ErrorCode::kUnavailable, "cannot open '" + missing.path + "'");
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseFailsToOpen) {
  std::ofstream(dir_.file("store.db")) << std::string(8192, 'x');
  expect_error(open_sqlite_store(options()), ErrorCode::kUnavailable, "file is not a database");
}

TEST_F(SqliteStoreTest, AReadOnlyFileFailsToOpen) {
  open().reset();
  ReadOnly read_only({dir_.file("store.db")});
  if (!read_only.works()) GTEST_SKIP() << "this file system cannot make a file immutable (chattr +i)";
  expect_error(open_sqlite_store(options()), ErrorCode::kUnavailable, "is read-only");
}

TEST_F(SqliteStoreTest, AFileTurnedReadOnlyFailsEveryCommitOfTheBatch) {
  auto store = open();
  ASSERT_TRUE(append_and_wait(*store, {.events = {message_event(1, "cv-1", 1, "kept")}}).ok());
  DoneLog log;
  WriterGate gate;
  gate.close(*store);
  for (int i = 0; i < 3; ++i) {
    store->append(std::make_shared<const Commit>(Commit{.events = {message_event(2 + i, "cv-1", 2 + i, "lost")}}),
                  log.expect(i));
  }
  ReadOnly read_only({dir_.file("store.db"), dir_.file("store.db-wal")});
  if (!read_only.works()) {
    gate.open();
    GTEST_SKIP() << "this file system cannot make a file immutable (chattr +i)";
  }
  gate.open();
  ASSERT_TRUE(log.wait_for(3));
  for (const auto& status : log.statuses()) expect_error(status, ErrorCode::kUnavailable, "sqlite: ");
  EXPECT_EQ(store->stats().failed_transactions, 1u);
  EXPECT_EQ(store->head(), 1u);

  // Writable again: the store carries on, and holds exactly what it acknowledged.
  read_only.writable();
  ASSERT_TRUE(append_and_wait(*store, {.events = {message_event(2, "cv-1", 2, "after")}}).ok());
  store.reset();
  store = open();
  const auto events = store->events_after(0, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<Message>(events[1].body).text, "after");
}

TEST_F(SqliteStoreTest, AFullDatabaseFailsAppendsAndKeepsWhatWasAcknowledged) {
  SqliteOptions capped = options();
  capped.max_size_bytes = 256 * 1024;
  auto store = open(capped);
  uint64_t acknowledged = 0;
  Status last = ok_status();
  for (uint64_t cursor = 1; cursor <= 1000 && last.ok(); ++cursor) {
    last = append_and_wait(*store, {.events = {message_event(cursor, "cv-1", cursor, std::string(4000, 'x'))}});
    if (last.ok()) acknowledged = cursor;
  }
  expect_error(last, ErrorCode::kUnavailable, "database or disk is full");
  ASSERT_GT(acknowledged, 10u);
  EXPECT_EQ(store->head(), acknowledged);

  store.reset();
  store = open();
  EXPECT_EQ(store->head(), acknowledged);
  EXPECT_EQ(store->events_after(0, 10'000).size(), acknowledged);
}

TEST_F(SqliteStoreTest, TheWalIsCopiedBackAndStopsGrowing) {
  SqliteOptions normal = options();
  normal.synchronous = SqliteOptions::kNormal;  // fsyncs are not what this is about
  auto store = open(normal);
  // 48 MB through the WAL, six times the size at which the writer checkpoints itself.
  uint64_t cursor = 0;
  for (int commit = 0; commit < 300; ++commit) ASSERT_TRUE(append_pages(*store, cursor, 40).ok());
  EXPECT_GE(store->stats().checkpoints + store->stats().writer_checkpoints, 1u);
  EXPECT_GE(store->stats().wal_frames, 12'000u);  // a page for each event at least, counted across WAL restarts
  EXPECT_LT(std::filesystem::file_size(dir_.file("store.db-wal")), 40u << 20);
  EXPECT_EQ(store->events_after(cursor - 1, 10).size(), 1u);
}

// Past 6,000 WAL pages the checkpoint thread copies the WAL back, so the writer, which
// steps in only past 8,000, never has to: its checkpoint would hold up a commit.
TEST_F(SqliteStoreTest, TheCheckpointThreadCopiesTheWalBackBeforeTheWriterMust) {
  SqliteOptions normal = options();
  normal.synchronous = SqliteOptions::kNormal;
  auto store = open(normal);
  uint64_t cursor = 0;
  // Writes until the WAL holds about 6,500 pages (a WAL frame is a page and 24 bytes):
  // past the thread's 6,000, short of the writer's 8,000.
  const auto wal_pages = [&] { return std::filesystem::file_size(dir_.file("store.db-wal")) / (4096 + 24); };
  while (wal_pages() < 6'500) ASSERT_TRUE(append_pages(*store, cursor, 40).ok());
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->stats().checkpoints == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(store->stats().checkpoints, 1u);
  EXPECT_EQ(store->stats().writer_checkpoints, 0u);
  EXPECT_GT(std::filesystem::file_size(dir_.file("store.db")), 1u << 20);  // pages copied into the file
}

// The thread copies the WAL back in rounds, each one what the writer added during the
// last, until a round finds little left; the writer copies that little (or nothing)
// after a commit, and the WAL starts over from its beginning. Before, a first round
// that the writer outran left the rest until the writer copied it all at 8,000 pages.
TEST_F(SqliteStoreTest, TheCheckpointThreadCatchesUpWithTheWriter) {
  SqliteOptions normal = options();
  normal.synchronous = SqliteOptions::kNormal;
  auto store = open(normal);
  uint64_t cursor = 0;
  // Past 6,000 pages the thread starts; these appends outrun its first round.
  while (store->stats().wal_pages < 6'500) ASSERT_TRUE(append_pages(*store, cursor, 40).ok());
  // Then a trickle (three frames each), as from a quiet router: at this pace the WAL
  // would take seconds to reach 8,000 pages.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->stats().wal_pages >= 6'000 && std::chrono::steady_clock::now() < give_up) {
    ASSERT_TRUE(append_pages(*store, cursor, 1).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto stats = store->stats();
  EXPECT_LT(stats.wal_pages, 6'000u);  // started over
  EXPECT_EQ(stats.writer_checkpoints, 0u);
  EXPECT_GE(stats.checkpoints, 1u);
  EXPECT_EQ(store->events_after(cursor - 1, 10).size(), 1u);
  // A cycle the writer finished was synced twice by the thread first, the second time
  // after its last round, so that the writer's own sync finds few pages to flush.
  EXPECT_GE(stats.database_syncs, 2 * stats.writer_finishes);
  // Every round that copied frames was written back to the disk a chunk at a time.
  EXPECT_EQ(stats.database_writebacks, stats.checkpoints);
}

TEST_F(SqliteStoreTest, WithoutAWritebackChunkTheThreadOnlySyncs) {
  SqliteOptions no_writeback = options();
  no_writeback.synchronous = SqliteOptions::kNormal;
  no_writeback.writeback_chunk_bytes = 0;
  auto store = open(no_writeback);
  uint64_t cursor = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->stats().checkpoints == 0 && std::chrono::steady_clock::now() < give_up) {
    ASSERT_TRUE(append_pages(*store, cursor, 40).ok());
  }
  ASSERT_GE(store->stats().checkpoints, 1u);
  EXPECT_EQ(store->stats().database_writebacks, 0u);
}

TEST_F(SqliteStoreTest, ADamagedRowMakesLoadFailNamingIt) {
  {
    auto store = open();
    ASSERT_TRUE(append_and_wait(*store, {.contacts = {sample_contact("ct-1")}}).ok());
  }
  sql("UPDATE contacts SET body = '{\"created_at\": \"yesterday\"}' WHERE id = 'ct-1'");
  auto store = open();
  auto state = store->load(10);
  expect_error(state, ErrorCode::kFailedPrecondition, "cannot decode contacts 'ct-1'");
}

// A large table: every record arrives in key order, and of two damaged rows the first
// one is named.
TEST_F(SqliteStoreTest, ManyRowsLoadInOrderAndTheFirstDamagedOneIsNamed) {
  constexpr int kContacts = 40'000;
  const auto id_of = [](int i) {
    char id[16];
    std::snprintf(id, sizeof id, "ct-%06d", i);
    return std::string(id);
  };
  {
    auto store = open();
    Commit commit;
    for (int i = 0; i < kContacts; ++i) commit.contacts.push_back(sample_contact(id_of(i)));
    ASSERT_TRUE(append_and_wait(*store, std::move(commit)).ok());
    auto loaded = store->load(10);
    ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
    ASSERT_EQ(loaded->contacts.size(), std::size_t{kContacts});
    for (int i = 0; i < kContacts; ++i) ASSERT_EQ(loaded->contacts[i].id, id_of(i));
  }
  sql("UPDATE contacts SET body = 'not json' WHERE id IN ('ct-039000', 'ct-020000')");
  auto store = open();
  expect_error(store->load(10), ErrorCode::kFailedPrecondition, "cannot decode contacts 'ct-020000'");
}

// --- process-wide settings and the page cache wrapper (sqlite_process_config.h) ------

TEST(SqliteProcessConfig, TookEffectInThisProcess) { EXPECT_TRUE(store::sqlite_configured()); }

TEST(SqlitePageCache, TruncatesOnlyWhenAPageAtOrPastTheLimitMayBeCached) {
  constexpr unsigned kParking = 262'145;
  store::TruncationGuard guard(kParking);
  EXPECT_FALSE(guard.must_truncate(1)) << "nothing cached yet";
  for (unsigned page = 1; page <= 10; ++page) guard.fetched(page);
  // A split swaps pages 4 and 9 through the parking number.
  guard.renumbered(kParking);
  guard.renumbered(4);
  guard.renumbered(9);
  EXPECT_FALSE(guard.must_truncate(11)) << "the parking number is empty again after a swap";
  EXPECT_TRUE(guard.must_truncate(7)) << "pages 7 to 10 are cached";
  EXPECT_FALSE(guard.must_truncate(7)) << "and were dropped";
  guard.fetched(30);
  EXPECT_TRUE(guard.must_truncate(11));
  guard.fetched(kParking);  // fetched for itself, not parked: it counts
  EXPECT_TRUE(guard.must_truncate(100));
}

// Through the wrapped cache: random keys split pages out of order, rollbacks undo
// growth, VACUUM shrinks the file; every read still sees what was committed.
TEST(SqlitePageCache, ADatabaseThroughItReadsBackWhatWasCommitted) {
  TempDir dir;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file("cache.db").c_str(), &db), SQLITE_OK);
  const auto exec = [db](const std::string& statement) {
    EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  };
  exec("PRAGMA journal_mode = WAL");
  exec("CREATE TABLE t(k TEXT PRIMARY KEY, v TEXT NOT NULL)");
  std::mt19937 random(7);
  std::map<std::string, std::string> committed;
  const auto write_round = [&](int rows, bool commit) {
    exec("BEGIN");
    std::map<std::string, std::string> written;
    for (int i = 0; i < rows; ++i) {
      const std::string key = "k" + std::to_string(random());
      const std::string value(200 + random() % 600, static_cast<char>('a' + random() % 26));
      exec("INSERT OR REPLACE INTO t VALUES('" + key + "', '" + value + "')");
      written[key] = value;
    }
    exec(commit ? "COMMIT" : "ROLLBACK");
    if (!commit) return;
    for (auto& [key, value] : written) committed[key] = std::move(value);
  };
  for (int round = 0; round < 20; ++round) write_round(500, round % 3 != 1);
  exec("DELETE FROM t WHERE rowid % 2 = 0");
  exec("VACUUM");
  for (int round = 0; round < 10; ++round) write_round(500, round % 2 == 0);

  std::map<std::string, std::string> found;
  sqlite3_stmt* rows = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT k, v FROM t", -1, &rows, nullptr), SQLITE_OK);
  while (sqlite3_step(rows) == SQLITE_ROW) {
    found[reinterpret_cast<const char*>(sqlite3_column_text(rows, 0))] =
        reinterpret_cast<const char*>(sqlite3_column_text(rows, 1));
  }
  sqlite3_finalize(rows);
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &rows, nullptr);
  ASSERT_EQ(sqlite3_step(rows), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(rows, 0)), "ok");
  sqlite3_finalize(rows);
  sqlite3_close(db);
  // Rows deleted before VACUUM are gone from `found` but not from `committed`.
  for (const auto& [key, value] : found) EXPECT_EQ(committed[key], value) << key;
  EXPECT_GT(found.size(), 3000U);
}

}  // namespace
}  // namespace switchboard::router::testing
