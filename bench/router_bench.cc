// router_bench: the in-process message path of switchboard::router.
//
//   BM_LifecycleStep  one Lifecycle::fire (Boost.MSM process_event plus the effects
//                     bookkeeping), cycling through eight accepted transitions;
//                     the `step` counter is the time per step.
//   BM_DeskIngest     Desk::ingest alone: validation, identity normalisation, contact
//                     and conversation lookup, channel switch, state machine, Commit.
//                     Customers are known on chat and on email (linked); messages
//                     rotate over the customers and, round by round, over the two
//                     channels, so every message also records a channel switch.
//   BM_EncodeIngest   encoding one ingest's commit (events and whole records) into the
//                     JSON text a durable store writes; /1 through Boost.JSON's DOM.
//   BM_DecodeConversation  decoding one stored conversation record (start-up).
//   BM_RouterIngest   Router::ingest end to end on an io_context run by the benchmark
//                     thread: strand, Desk, memory store, EventBus publish to one
//                     subscriber (drained after each batch), callback.
//   BM_RouterIngestHere  the same through Router::ingest_here (IngestService's way):
//                     each step runs on the calling thread, one commit each.
//   Arguments: customers, and whether whole records travel with each commit.
//   items_per_second counts messages; events_per_second counts timeline events.
//
// Build and run (the default preset is RelWithDebInfo, -O2; not part of ctest), pinned
// to one core so the figures are per core:
//   cmake --preset default && cmake --build --preset default --target router_bench
//   taskset -c 0 build/bench/router_bench
// Add --benchmark_repetitions=5 --benchmark_report_aggregates_only=true for medians.

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>

#include <switchboard/router/desk.h>
#include <switchboard/router/lifecycle.h>
#include <switchboard/router/router.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include "record_codec.h"

namespace switchboard::router {
namespace {

using namespace std::chrono_literals;

// --- BM_LifecycleStep ------------------------------------------------------------------

struct CycleStep {
  Trigger trigger;
  TriggerFacts facts;
};

// From Queued back to Queued, every step accepted.
constexpr std::array<CycleStep, 8> kCycle = {{
    {Trigger::kInbound, {}},
    {Trigger::kAssign, {}},
    {Trigger::kAgentReply, {}},
    {Trigger::kSnooze, {}},
    {Trigger::kWake, {.assignee_available = true}},
    {Trigger::kResolve, {}},
    {Trigger::kReopen, {.assignee_available = true}},
    {Trigger::kUnassign, {}},
}};

void BM_LifecycleStep(benchmark::State& state) {
  Lifecycle machine(ConversationState::kQueued);
  uint64_t refused = 0;
  for (auto _ : state) {
    for (const CycleStep& step : kCycle) {
      const Step s = machine.fire(step.trigger, step.facts);
      refused += s.accepted ? 0 : 1;
      benchmark::DoNotOptimize(s);
    }
  }
  if (refused != 0) state.SkipWithError("a step of the cycle was refused");
  const auto steps = static_cast<double>(state.iterations() * kCycle.size());
  state.SetItemsProcessed(static_cast<int64_t>(steps));
  state.counters["step"] = benchmark::Counter(steps, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_LifecycleStep);

// --- shared: customers on two channels -------------------------------------------------

// Customer i is "visitor-i" on chat and "customer-i@example.org" on email.
struct Customers {
  explicit Customers(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::string id = std::to_string(i);
      chat.push_back({.channel = "chat", .address = "visitor-" + id, .text = "where is my order?"});
      email.push_back({.channel = "email", .address = "customer-" + id + "@example.org", .text = "any news?"});
    }
  }

  // The k-th message of the run: customers in turn, channels round by round, a fresh
  // external_id as a channel would give.
  InboundMessage& message(uint64_t k) {
    const std::size_t n = chat.size();
    InboundMessage& m = ((k / n) % 2 == 0 ? email : chat)[k % n];
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, k).ptr;
    m.external_id.assign(digits, end);
    return m;
  }

  std::vector<InboundMessage> chat;
  std::vector<InboundMessage> email;
};

Identity identity_of(const InboundMessage& m) { return {.channel = m.channel, .address = m.address}; }

// --- BM_DeskIngest -----------------------------------------------------------------------

// A Desk on a fake clock whose customers are known on chat and on email, linked.
struct LinkedCustomers {
  explicit LinkedCustomers(std::size_t n) : customers(n) {}

  bool link_all() {
    for (std::size_t i = 0; i < customers.chat.size(); ++i) {
      Commit setup;
      auto first = desk.ingest(customers.chat[i], setup);
      if (!first || !desk.link_identity(first->contact_id, identity_of(customers.email[i]), "admin", setup)) {
        return false;
      }
    }
    return true;
  }

  // The next message of the run, and a millisecond passes.
  Result<IngestResult> ingest_next(Commit& commit) {
    auto result = desk.ingest(customers.message(k++), commit);
    now += 1ms;
    return result;
  }

  Timestamp now = Clock::from_time_t(1'700'000'000);
  Desk desk{{}, [this] { return now; }};
  Customers customers;
  uint64_t k = 0;
};

void BM_DeskIngest(benchmark::State& state) {
  LinkedCustomers run(static_cast<std::size_t>(state.range(0)));
  if (!run.link_all()) {
    state.SkipWithError("setup failed");
    return;
  }
  uint64_t events = 0;
  const bool with_records = state.range(1) != 0;
  for (auto _ : state) {
    Commit commit;
    commit.with_records = with_records;
    auto result = run.ingest_next(commit);
    if (!result) {
      state.SkipWithError(result.error().describe().c_str());
      break;
    }
    events += commit.events.size();
    benchmark::DoNotOptimize(commit);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_second"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
// Second argument: whether the commit carries whole records (a durable store wants
// them; switchboardd's memory: store does not).
BENCHMARK(BM_DeskIngest)->ArgsProduct({{1'000, 100'000}, {0, 1}});

// --- BM_EncodeIngest / BM_DecodeConversation ---------------------------------------------

// The commits of `count` ingests as a durable store receives them (whole records).
std::vector<std::shared_ptr<const Commit>> ingest_commits(std::size_t count) {
  LinkedCustomers run(1'000);
  if (!run.link_all()) return {};
  std::vector<std::shared_ptr<const Commit>> commits;
  for (std::size_t i = 0; i < count; ++i) {
    auto commit = std::make_shared<Commit>();
    if (!run.ingest_next(*commit)) return {};
    commits.push_back(std::move(commit));
  }
  return commits;
}

// Encoding one ingest's commit for a durable store (events, conversation, contact,
// redelivery answer), as append() does on the router's strand. Argument 1 encodes
// through Boost.JSON's DOM instead (value_from, then serialize): what the store did
// before, the same text, as a baseline measured in the same run.
template <typename T>
void encode_all(const std::vector<T>& records, bool through_dom, uint64_t& bytes) {
  for (const auto& record : records) {
    const std::string text =
        through_dom ? boost::json::serialize(boost::json::value_from(record)) : store::encode(record);
    bytes += text.size();
    benchmark::DoNotOptimize(text);
  }
}

void BM_EncodeIngest(benchmark::State& state) {
  const auto commits = ingest_commits(2'000);
  if (commits.empty()) return state.SkipWithError("setup failed");
  const bool through_dom = state.range(0) != 0;
  std::size_t i = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    const Commit& c = *commits[i++ % commits.size()];
    encode_all(c.events, through_dom, bytes);
    encode_all(c.contacts, through_dom, bytes);
    encode_all(c.conversations, through_dom, bytes);
    encode_all(c.inbound_seen, through_dom, bytes);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_EncodeIngest)->Arg(0)->Arg(1);

// Decoding a stored conversation record, as start-up does for each one.
void BM_DecodeConversation(benchmark::State& state) {
  std::vector<std::string> texts;
  for (const auto& commit : ingest_commits(2'000)) {
    for (const auto& c : commit->conversations) texts.push_back(store::encode(c));
  }
  if (texts.empty()) return state.SkipWithError("setup failed");
  std::size_t i = 0;
  for (auto _ : state) {
    auto decoded = store::decode<Conversation>(texts[i++ % texts.size()]);
    if (!decoded) return state.SkipWithError(decoded.error().describe().c_str());
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeConversation);

// --- BM_RouterIngest ---------------------------------------------------------------------

class RouterRun {
 public:
  explicit RouterRun(bool keep_records) : router_(io_, make_memory_store({.keep_records = keep_records}), options()) {
    subscription_ = router_.events().subscribe({}, std::nullopt, [] {});
  }

  // Runs the io_context on this thread until every call so far has been answered.
  void settle() {
    io_.restart();
    while (answered_ < asked_ && io_.run_one() > 0) {
    }
  }

  // `here`: Router::ingest_here, the step on this thread (as IngestService does).
  void ingest(const InboundMessage& m, bool here) {
    ++asked_;
    auto done = [this](Result<IngestResult> r) {
      ++answered_;
      if (!r) failure_ = r.error().describe();
    };
    if (here) {
      router_.ingest_here(m, std::move(done));
    } else {
      router_.ingest(m, std::move(done));
    }
  }

  Result<Contact> link(const InboundMessage& first, const InboundMessage& other) {
    auto in = call<IngestResult>([&](auto done) { router_.ingest(first, std::move(done)); });
    if (!in) return in.error();
    return call<Contact>(
        [&](auto done) { router_.link_identity(in->contact_id, identity_of(other), "admin", std::move(done)); });
  }

  // One call, run to its answer. The io_context stops whenever it runs out of work,
  // hence the restart.
  template <typename T, typename Start>
  Result<T> call(Start start) {
    std::optional<Result<T>> answer;
    start([&](Result<T> r) { answer.emplace(std::move(r)); });
    io_.restart();
    while (!answer && io_.run_one() > 0) {
    }
    if (!answer) return Error{ErrorCode::kUnavailable, {}, "no answer"};
    return std::move(*answer);
  }

  // Reads what was published; the subscriber keeps up between batches.
  uint64_t drain_events() {
    uint64_t n = 0;
    while (subscription_->next()) ++n;
    return n;
  }

  Timestamp now = Clock::from_time_t(1'700'000'000);
  const std::string& failure() const { return failure_; }
  bool overflowed() const { return subscription_->overflowed(); }

 private:
  RouterOptions options() {
    RouterOptions o;
    o.now = [this] { return now; };
    return o;
  }

  boost::asio::io_context io_;
  Router router_;
  std::shared_ptr<Subscription> subscription_;
  uint64_t asked_ = 0;
  uint64_t answered_ = 0;
  std::string failure_;
};

void router_ingest(benchmark::State& state, bool here) {
  constexpr int kBatch = 256;
  RouterRun run(state.range(1) != 0);
  Customers customers(static_cast<std::size_t>(state.range(0)));
  for (std::size_t i = 0; i < customers.chat.size(); ++i) {
    if (auto linked = run.link(customers.chat[i], customers.email[i]); !linked) {
      state.SkipWithError(("setup failed: " + linked.error().describe()).c_str());
      return;
    }
    run.drain_events();
  }

  uint64_t k = 0;
  uint64_t events = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) run.ingest(customers.message(k++), here);
    run.settle();
    events += run.drain_events();
    run.now += 1ms;
  }
  if (!run.failure().empty()) state.SkipWithError(run.failure().c_str());
  if (run.overflowed()) state.SkipWithError("the subscriber overflowed");
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["events_per_second"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

// Posted to the strand: the 256 of a round run together on the io_context.
void BM_RouterIngest(benchmark::State& state) { router_ingest(state, false); }
// Router::ingest_here: each step runs and is answered on this thread, one at a time.
void BM_RouterIngestHere(benchmark::State& state) { router_ingest(state, true); }

// Second argument: whether the memory store keeps records (1) or only events (0, as
// switchboardd's memory: store does).
BENCHMARK(BM_RouterIngest)->ArgsProduct({{1'000, 100'000}, {0, 1}});
BENCHMARK(BM_RouterIngestHere)->ArgsProduct({{1'000, 100'000}, {0, 1}});

}  // namespace
}  // namespace switchboard::router

BENCHMARK_MAIN();
