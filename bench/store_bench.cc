// store_bench: durable appends through the SQLite store, against a raw SQLite insert
// loop with the same durability, in the same run.
//
//   BM_RawInsert/<sync>     the baseline: one prepared INSERT into a table shaped like
//                           the store's events table, a transaction per 100 rows, WAL,
//                           the same synchronous setting. items_per_second = rows/s.
//   BM_StoreAppend/<sync>   SqliteStore::append of Commits of one event each, from the
//                           benchmark thread as fast as it can, timed until the last
//                           `done` ran. items_per_second = durable events/s;
//                           events_per_txn = events per transaction (= per fsync at FULL);
//                           wal_pages_per_event = pages written to the WAL per event.
//   BM_StoreLatency/<sync>  appends paced at half the rate BM_StoreAppend reached just
//                           before, in bursts each millisecond; p50_us / p99_us = time
//                           from append to `done`; writer_busy = share of the time the
//                           writer spent in transactions; ckpt_held_ms = time it spent
//                           checkpointing (or waiting to) instead of writing; ckpt_* =
//                           checkpoints by kind (sqlite_checkpointer.h); steal = share
//                           of the machine's CPU time the hypervisor took meanwhile.
//   <sync>: 0 = synchronous FULL, 1 = NORMAL.
//   BM_PostgresAppend/<mode> the PostgreSQL store, as BM_StoreAppend, on a throwaway
//                           PostgreSQL 15 (tests/unit/store/postgres_server.h: initdb
//                           into a temporary folder, fsync on) in a database of its own;
//                           events_per_txn = events per transaction, each one commit
//                           and one WAL flush of the server. <mode>: 0 = shared (as
//                           switchboardd opens it: cursors handed out, conflicts
//                           checked), 1 = exclusive. Built with the tests.
//
// The summary at the end gives the store's rate as a fraction of the raw loop's (the
// goal is at least 0.5). Files go to $TMPDIR (default /tmp): put it on the disk you
// mean to measure. Build and run (Release; not part of ctest):
//   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
//   ninja -C build-bench store_bench
//   build-bench/bench/store_bench

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <switchboard/router/sqlite_store.h>

#include "record_codec.h"
#include "sqlite_store.h"
#ifdef SWITCHBOARD_BENCH_POSTGRES
#include "postgres_server.h"
#include "postgres_store.h"
#endif

namespace switchboard::router {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kConversations = 1000;
constexpr int64_t kEventsPerIteration = 100'000;
constexpr int kRawRowsPerTransaction = 100;

const char* sync_name(int64_t sync) { return sync == 0 ? "FULL" : "NORMAL"; }

// A fresh database file per benchmark, removed afterwards.
class ScratchFile {
 public:
  ScratchFile() {
    std::string pattern = (std::filesystem::temp_directory_path() / "store-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~ScratchFile() { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "bench.db").string(); }

 private:
  std::filesystem::path dir_;
};

// A customer's message as the router would append it: about 300 bytes of JSON.
Event make_event(uint64_t cursor) {
  Message message{.direction = Direction::kInbound,
                  .channel = "chat",
                  .address = "visitor-" + std::to_string(cursor % kConversations),
                  .text = "Hello, my order A-" + std::to_string(cursor) + " has not arrived yet, can you help?",
                  .external_id = "ext-" + std::to_string(cursor)};
  return {.cursor = cursor,
          .conversation_id = "cv-" + std::to_string(cursor % kConversations),
          .seq = cursor / kConversations + 1,
          .at = Timestamp(std::chrono::microseconds(1'700'000'000'000'000 + cursor)),
          .actor = "customer",
          .queue = "support",
          .body = std::move(message)};
}

std::vector<std::shared_ptr<const Commit>> make_commits(uint64_t first_cursor, int64_t count) {
  std::vector<std::shared_ptr<const Commit>> commits;
  commits.reserve(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    commits.push_back(std::make_shared<const Commit>(Commit{.events = {make_event(first_cursor + i)}}));
  }
  return commits;
}

SqliteOptions options_for(const ScratchFile& file, int64_t sync) {
  return {.path = file.path(), .synchronous = sync == 0 ? SqliteOptions::kFull : SqliteOptions::kNormal};
}

std::unique_ptr<store::SqliteStore> open_store(const SqliteOptions& options) {
  auto store = store::SqliteStore::open(options);
  if (!store) throw std::runtime_error(store.error().describe());
  return std::move(*store);
}

// The peak append rate per synchronous setting, measured by BM_StoreAppend, paced at
// half by BM_StoreLatency.
std::map<int64_t, double> g_peak_rate;

// --- the baseline --------------------------------------------------------------------

void check(int rc, sqlite3* db) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) throw std::runtime_error(sqlite3_errmsg(db));
}

void BM_RawInsert(benchmark::State& state) {
  ScratchFile file;
  sqlite3* db = nullptr;
  check(sqlite3_open(file.path().c_str(), &db), db);
  const std::string pragmas =
      std::string("PRAGMA journal_mode = WAL; PRAGMA synchronous = ") + sync_name(state.range(0)) + ";";
  check(sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr), db);
  check(sqlite3_exec(db,
                     // The store's events table (schema 4), without the chain's head
                     // table: a raw loop does not keep one.
                     "CREATE TABLE events(cursor INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, "
                     "seq INTEGER NOT NULL, previous INTEGER, body TEXT NOT NULL)",
                     nullptr, nullptr, nullptr),
        db);
  sqlite3_stmt* insert = nullptr;
  check(sqlite3_prepare_v2(db, "INSERT INTO events(cursor, conversation_id, seq, body) VALUES(?1, ?2, ?3, ?4)", -1,
                           &insert, nullptr),
        db);
  // The same row the store writes: the JSON of a representative event.
  const std::string body = store::encode(make_event(1));
  uint64_t cursor = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < kEventsPerIteration; ++i) {
      if (i % kRawRowsPerTransaction == 0) check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db);
      ++cursor;
      const std::string conversation = "cv-" + std::to_string(cursor % kConversations);
      sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(cursor));
      sqlite3_bind_text(insert, 2, conversation.data(), static_cast<int>(conversation.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert, 3, static_cast<sqlite3_int64>(cursor / kConversations + 1));
      sqlite3_bind_text(insert, 4, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      check(sqlite3_step(insert), db);
      sqlite3_reset(insert);
      if (i % kRawRowsPerTransaction == kRawRowsPerTransaction - 1) {
        check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db);
      }
    }
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);
  state.SetItemsProcessed(state.iterations() * kEventsPerIteration);
}
BENCHMARK(BM_RawInsert)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// --- the store -----------------------------------------------------------------------

// Appends `commits` as fast as possible and returns once the last `done` ran (they
// run in append order).
void append_all(Store& store, const std::vector<std::shared_ptr<const Commit>>& commits) {
  std::promise<void> last_done;
  std::atomic<bool> failed{false};
  for (std::size_t i = 0; i < commits.size(); ++i) {
    store.append(commits[i], [&, last = i + 1 == commits.size()](Status s) {
      if (!s) failed = true;
      if (last) last_done.set_value();
    });
  }
  last_done.get_future().wait();
  if (failed) throw std::runtime_error("an append failed");
}

// A batch of `per_iteration` one-event commits per iteration, made untimed, appended
// timed; returns the time spent appending.
SteadyClock::duration append_batches(benchmark::State& state, Store& store, int64_t per_iteration) {
  uint64_t cursor = 1;
  SteadyClock::duration appending{};
  for (auto _ : state) {
    state.PauseTiming();
    const auto commits = make_commits(cursor, per_iteration);
    cursor += per_iteration;
    state.ResumeTiming();
    const auto start = SteadyClock::now();
    append_all(store, commits);
    appending += SteadyClock::now() - start;
  }
  state.SetItemsProcessed(state.iterations() * per_iteration);
  return appending;
}

void BM_StoreAppend(benchmark::State& state) {
  ScratchFile file;
  auto store = open_store(options_for(file, state.range(0)));
  const SteadyClock::duration appending = append_batches(state, *store, kEventsPerIteration);
  const auto stats = store->stats();
  state.counters["events_per_txn"] = static_cast<double>(stats.events) / static_cast<double>(stats.transactions);
  state.counters["wal_pages_per_event"] = static_cast<double>(stats.wal_frames) / static_cast<double>(stats.events);
  g_peak_rate[state.range(0)] =
      static_cast<double>(state.iterations() * kEventsPerIteration) / std::chrono::duration<double>(appending).count();
}
BENCHMARK(BM_StoreAppend)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

#ifdef SWITCHBOARD_BENCH_POSTGRES
// Fewer than BM_StoreAppend's: the shared store makes a round trip per statement.
constexpr int64_t kPostgresEventsPerIteration = 20'000;

void BM_PostgresAppend(benchmark::State& state) {
  auto& server = testing::PostgresServer::get();
  auto uri = server.running() ? server.create_database()
                              : Result<std::string>(Error{ErrorCode::kUnavailable, {}, server.error()});
  if (!uri) {
    state.SkipWithError(("PostgreSQL: " + uri.error().describe()).c_str());
    return;
  }
  auto store = store::PostgresStore::open({.uri = *uri, .exclusive = state.range(0) == 1, .node_id = "bench"});
  if (!store) {
    state.SkipWithError(store.error().describe().c_str());
    return;
  }
  append_batches(state, **store, kPostgresEventsPerIteration);
  const auto stats = (*store)->stats();
  state.counters["events_per_txn"] = static_cast<double>(stats.events) / static_cast<double>(stats.transactions);
}
BENCHMARK(BM_PostgresAppend)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

// The machine's CPU time so far and the part of it the hypervisor took (steal), in
// jiffies, from /proc/stat's "cpu" line: on a shared VM steal moves the tail more than
// the code does, so the latency figures carry it.
struct MachineCpu {
  uint64_t total = 0;
  uint64_t steal = 0;
  static MachineCpu now() {
    std::ifstream stat("/proc/stat");
    std::string label;
    stat >> label;
    MachineCpu cpu;
    uint64_t value = 0;
    for (int field = 1; field <= 10 && stat >> value; ++field) {
      cpu.total += value;
      if (field == 8) cpu.steal = value;
    }
    return cpu;
  }
  double steal_share_since(const MachineCpu& before) const {
    return total > before.total ? static_cast<double>(steal - before.steal) / static_cast<double>(total - before.total)
                                : 0;
  }
};

double percentile(std::vector<double>& values, double p) {
  const auto n = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n), values.end());
  return values[n];
}

// Appends at a steady rate (half the peak), each at its scheduled time, and keeps the
// time from append to `done` of every one.
void BM_StoreLatency(benchmark::State& state) {
  ScratchFile file;
  auto store = open_store(options_for(file, state.range(0)));
  const double rate = g_peak_rate.contains(state.range(0)) ? g_peak_rate[state.range(0)] / 2 : 50'000;
  const auto count = static_cast<int64_t>(rate);  // one second's worth
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  uint64_t cursor = 1;
  std::vector<double> latencies_us;
  SteadyClock::duration timed{};
  const MachineCpu machine_before = MachineCpu::now();
  for (auto _ : state) {
    state.PauseTiming();
    const auto commits = make_commits(cursor, count);
    cursor += static_cast<uint64_t>(count);
    std::vector<SteadyClock::time_point> appended(commits.size());
    std::vector<double> took_us(commits.size());
    std::promise<void> last_done;
    state.ResumeTiming();
    const auto start = SteadyClock::now();
    for (std::size_t i = 0; i < commits.size(); ++i) {
      // Due times are rounded to 1 ms ticks and slept for: spinning between appends
      // tens of microseconds apart would take a core from the writer.
      const auto due = start + std::chrono::duration_cast<std::chrono::milliseconds>(interval * static_cast<double>(i));
      if (SteadyClock::now() < due) std::this_thread::sleep_until(due);
      appended[i] = SteadyClock::now();
      store->append(commits[i], [&, i, last = i + 1 == commits.size()](Status) {
        took_us[i] = std::chrono::duration<double, std::micro>(SteadyClock::now() - appended[i]).count();
        if (last) last_done.set_value();
      });
    }
    last_done.get_future().wait();
    timed += SteadyClock::now() - start;
    latencies_us.insert(latencies_us.end(), took_us.begin(), took_us.end());
  }
  const auto stats = store->stats();
  state.SetItemsProcessed(state.iterations() * count);
  state.counters["events_per_txn"] = static_cast<double>(stats.events) / static_cast<double>(stats.transactions);
  state.counters["rate"] = rate;
  state.counters["wal_pages_per_event"] = static_cast<double>(stats.wal_frames) / static_cast<double>(stats.events);
  // How close to its limit this rate is: the share of the time the writer was writing.
  state.counters["writer_busy"] =
      static_cast<double>(stats.writing_us) / std::chrono::duration<double, std::micro>(timed).count();
  // What held the writer up besides writing: the checkpoints it ran itself.
  state.counters["ckpt_held_ms"] = static_cast<double>(stats.writer_checkpoint_us) / 1000;
  // Checkpoints: the thread's rounds, the writer finishing a cycle after them, the
  // writer copying what was left when the WAL outgrew the thread.
  state.counters["ckpt_rounds"] = static_cast<double>(stats.checkpoints);
  state.counters["ckpt_finish"] = static_cast<double>(stats.writer_finishes);
  state.counters["ckpt_outgrown"] = static_cast<double>(stats.writer_checkpoints);
  state.counters["steal"] = MachineCpu::now().steal_share_since(machine_before);
  state.counters["p50_us"] = percentile(latencies_us, 0.50);
  state.counters["p99_us"] = percentile(latencies_us, 0.99);
}
BENCHMARK(BM_StoreLatency)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

// Prints each run as usual and keeps items_per_second by name for the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  // Tabular counters, no colours: the output goes into BENCHMARKS.md as it is.
  SummaryReporter() : ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (auto it = run.counters.find("items_per_second"); it != run.counters.end()) {
        rates_[run.benchmark_name()] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void print_summary() const {
    std::printf("\nstore / raw SQLite loop (goal >= 0.5):\n");
    for (int sync = 0; sync <= 1; ++sync) {
      const std::string suffix = "/" + std::to_string(sync) + "/real_time";
      const double raw = rate("BM_RawInsert" + suffix);
      const double store = rate("BM_StoreAppend" + suffix);
      if (raw > 0 && store > 0) {
        std::printf("  %-6s store %9.0f events/s, raw %9.0f rows/s, ratio %.2f\n", sync_name(sync), store, raw,
                    store / raw);
      }
    }
  }

 private:
  double rate(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? 0 : it->second;
  }

  std::map<std::string, double> rates_;
};

}  // namespace
}  // namespace switchboard::router

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  switchboard::router::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_summary();
  benchmark::Shutdown();
  return 0;
}
