// startup_bench: how long switchboardd takes to pick up a large store, and how much
// memory each conversation then costs (issues "Durable storage" and "Performance").
//
// Fills a SQLite store (synchronous=NORMAL, to fill it quickly) with N customers, each
// with one email conversation of one message (contact, identity, conversation, two
// events, a redelivery answer: what an idle conversation leaves behind), through the
// Desk as the router would. Then, in the same process, opens the file again and times
// open, Store::load and Desk::restore, and reads the resident memory before and after.
//
//   build/bench/startup_bench [N] [FILE] [ANSWERS]     (default 1000000)
//
// ANSWERS: how many redelivery answers the Desk loads (default 100,000, as every
// figure in BENCHMARKS.md until 2026-11-24 was measured). switchboardd loads
// Limits::dedupe_entries (1,000,000): pass 1000000 to measure what it holds.
//
// With FILE, the store is filled there unless the file already exists, and kept: a
// second run measures the same data again without waiting for the fill.
//
// Prints one JSON object. The store keeps records (current state), not only the event
// log, so start-up reads each record once and replays nothing: that is the snapshot.

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>

#include <switchboard/router/desk.h>
#include <switchboard/router/sqlite_store.h>

namespace sr = switchboard::router;
using SteadyClock = std::chrono::steady_clock;

namespace {

uint64_t resident_bytes() {
  malloc_trim(0);  // freed vectors of the load should not count
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

std::unique_ptr<sr::Store> open(const std::string& path) {
  auto store = sr::open_sqlite_store({.path = path, .synchronous = sr::SqliteOptions::kNormal});
  if (!store) {
    std::fprintf(stderr, "startup_bench: %s\n", store.error().describe().c_str());
    std::exit(1);
  }
  return std::move(*store);
}

void fill(const std::string& path, int customers) {
  auto store = open(path);
  sr::Timestamp now = sr::Clock::now();
  sr::Desk desk({.random_seed = 7}, [&now] { return now; });
  std::promise<void> all_done;
  std::atomic<int> left{customers};
  for (int i = 0; i < customers; ++i) {
    auto commit = std::make_shared<sr::Commit>();
    sr::InboundMessage message{.channel = "email",
                               .address = "customer" + std::to_string(i) + "@example.org",
                               .external_id = "msg-" + std::to_string(i),
                               .text = "Hello, my order A-" + std::to_string(i) + " has not arrived yet."};
    if (!desk.ingest(message, *commit)) std::exit(1);
    store->append(commit, [&](sr::Status stored) {
      if (!stored) {
        std::fprintf(stderr, "startup_bench: %s\n", stored.error().describe().c_str());
        std::exit(1);
      }
      if (--left == 0) all_done.set_value();
    });
    now += std::chrono::microseconds(1);
  }
  all_done.get_future().wait();
}

}  // namespace

int main(int argc, char** argv) {
  const int customers = argc > 1 ? std::stoi(argv[1]) : 1'000'000;
  std::string pattern = (std::filesystem::temp_directory_path() / "startup-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) return 1;
  const bool keep = argc > 2;
  const std::size_t answers = argc > 3 ? std::stoul(argv[3]) : 100'000;
  const std::string path = keep ? argv[2] : pattern + "/switchboard.db";

  auto started = SteadyClock::now();
  if (!keep || !std::filesystem::exists(path)) fill(path, customers);
  const double fill_s = seconds_since(started);

  const uint64_t before = resident_bytes();
  started = SteadyClock::now();
  auto store = open(path);
  const double open_s = seconds_since(started);
  started = SteadyClock::now();
  // Never destroyed: tearing a million records down measures nothing, and a heap
  // profiler (heaptrack) then reports what the Desk holds as still allocated.
  auto* desk = new sr::Desk({}, [] { return sr::Clock::now(); });
  // As switchboardd starts: the store reads on one thread, the Desk takes it in on this one.
  if (auto restored = sr::restore_from(*store, *desk, answers); !restored) {
    std::fprintf(stderr, "startup_bench: %s\n", restored.error().describe().c_str());
    return 1;
  }
  const double restore_s = seconds_since(started);
  const std::size_t conversations = desk->conversation_count();
  const uint64_t after = resident_bytes();

  std::printf(
      "{\"conversations\": %zu, \"fill_s\": %.1f, \"open_s\": %.3f, \"load_and_restore_s\": %.2f, "
      "\"startup_s\": %.2f, \"desk_bytes\": %llu, \"bytes_per_conversation\": %.0f, \"file_bytes\": %llu}\n",
      conversations, fill_s, open_s, restore_s, open_s + restore_s, static_cast<unsigned long long>(after - before),
      static_cast<double>(after - before) / conversations,
      static_cast<unsigned long long>(std::filesystem::file_size(path)));
  store.reset();
  std::filesystem::remove_all(pattern);
  std::fflush(stdout);
  std::_Exit(0);
}
