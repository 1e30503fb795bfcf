// routing_bench: the cost of routing decisions and of pending SLA deadlines in the Desk.
//
//   BM_AssignmentDecisions  10,000 agents (chat capacity 10 each) come online one by
//                           one while 100,000 conversations wait in one queue; each
//                           coming online assigns ten. items_per_second counts
//                           assignments (fire Assign, timeline events, slot, indexes).
//                           Argument: the strategy (0 round_robin, 1 least_busy,
//                           2 longest_idle, 3 skills), and whether records travel
//                           with each commit (1) or not (0, as with `memory:`).
//   BM_SlaDeadlines         1,000,000 conversations whose queue has an SLA (first
//                           response with a warning: two pending deadlines each),
//                           against the same without SLA. Reports the heap bytes per
//                           pending deadline and the time each warning then takes
//                           to fire (run_due_timers, SlaWarning event).
//
// Build and run by hand (not part of ctest), pinned to one core:
//   cmake --build --preset default --target routing_bench
//   taskset -c 0 build/bench/routing_bench

#include <malloc.h>

#include <chrono>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include <switchboard/router/desk.h>

namespace switchboard::router {
namespace {

using namespace std::chrono_literals;

const char* const kStrategies[] = {"round_robin", "least_busy", "longest_idle", "skills"};

struct FakeClock {
  Timestamp now = Timestamp(std::chrono::sys_days(std::chrono::year(2024) / 3 / 4));
};

std::unique_ptr<Desk> make_desk(FakeClock& clock) {
  DeskOptions options;
  options.default_queue = "support";
  options.random_seed = 1;
  options.limits.dedupe_entries = 0;
  return std::make_unique<Desk>(options, [&clock] { return clock.now; });
}

void BM_AssignmentDecisions(benchmark::State& state) {
  constexpr int kAgents = 10'000;
  constexpr int kWaiting = 100'000;
  const char* strategy = kStrategies[state.range(0)];
  const bool with_records = state.range(1) != 0;
  for (auto _ : state) {
    state.PauseTiming();
    FakeClock clock;
    auto desk = make_desk(clock);
    Commit setup;
    setup.with_records = false;
    (void)desk->upsert_queue({.name = "support", .strategy = strategy, .required_skills = {"support"}}, setup);
    for (int i = 0; i < kAgents; ++i) {
      Commit c;
      c.with_records = false;
      (void)desk->upsert_agent({.id = "agent-" + std::to_string(i),
                                .status = AgentStatus::kAway,
                                .skills = {"support", i % 2 ? "de" : "fr"},
                                .capacity = {{"chat", 10}}},
                               c);
    }
    for (int i = 0; i < kWaiting; ++i) {
      Commit c;
      c.with_records = false;
      (void)desk->ingest({.channel = "chat", .address = "visitor-" + std::to_string(i), .text = "hi"}, c);
      clock.now += 1ms;
    }
    state.ResumeTiming();
    for (int i = 0; i < kAgents; ++i) {
      Commit c;
      c.with_records = with_records;
      (void)desk->set_agent_status("agent-" + std::to_string(i), AgentStatus::kOnline, "bench", c);
      benchmark::DoNotOptimize(c.events.data());
    }
    state.PauseTiming();
    desk.reset();  // freeing 100,000 conversations is not a decision
    state.ResumeTiming();
  }
  state.counters["assignments"] =
      benchmark::Counter(static_cast<double>(kWaiting) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AssignmentDecisions)
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_SlaDeadlines(benchmark::State& state) {
  constexpr int kConversations = 1'000'000;
  const bool with_sla = state.range(0) != 0;
  for (auto _ : state) {
    FakeClock clock;
    auto desk = make_desk(clock);
    Commit setup;
    setup.with_records = false;
    Queue queue{.name = "support", .strategy = "manual"};
    if (with_sla) queue.sla.first_response = {.target = 3600s, .warning = 1800s};
    (void)desk->upsert_queue(queue, setup);
    const auto before = mallinfo2().uordblks;
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < kConversations; ++i) {
      Commit c;
      c.with_records = false;
      (void)desk->ingest({.channel = "chat", .address = "v" + std::to_string(i), .text = "hi"}, c);
    }
    const std::chrono::duration<double, std::nano> ingest = std::chrono::steady_clock::now() - started;
    const auto after = mallinfo2().uordblks;
    state.counters["heap_bytes_per_conversation"] = static_cast<double>(after - before) / kConversations;
    state.counters["ns_per_ingest"] = ingest.count() / kConversations;
    if (with_sla) {
      clock.now += 1800s;  // every warning falls due
      Commit fired;
      fired.with_records = false;
      const auto t0 = std::chrono::steady_clock::now();
      desk->run_due_timers(fired);
      const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - t0;
      state.counters["ns_per_warning_fired"] = took.count() / kConversations;
      state.counters["warnings"] = static_cast<double>(fired.events.size());
    }
  }
}
BENCHMARK(BM_SlaDeadlines)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace switchboard::router

BENCHMARK_MAIN();
