// INVITEs per second answered with a routing decision, and how long each waited for
// it: sipp (Debian sip-tester) in rate mode against the "phone" adapter of an
// in-process Router, every INVITE from a new caller (a new contact and conversation),
// routed to one of the agents and answered 302.
//
//   build/bench/phone/sip_bench [--rate 5000] [--calls 50000] [--store memory|sqlite|sqlite-normal]
//
// It prints the sipp command, then one line: calls sent, answered with a decision
// (302/480/486), refused (503), failed, the rate reached, and the INVITE -> final
// answer times (p50, p99, max) that sipp measured, and this process's CPU per INVITE:
// in all, on the router's thread (strand and store answers), and on the others (the
// SIP front's thread; a SQLite writer); and sipp's, which shares the machine. sipp and the router share the machine, so
// on 2 cores the figure is a floor.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <switchboard/router/router.h>
#include <switchboard/router/sqlite_store.h>

#include "phone/phone_adapter.h"

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace switchboard;

constexpr int kAgents = 100;
constexpr uint32_t kVoicePerAgent = 1000;  // the most UpsertAgent takes: room for 100,000 calls

template <typename T>
T wait_for(std::function<void(router::Callback<T>)> call) {
  std::promise<router::Result<T>> promise;
  auto answer = promise.get_future();
  call([&](router::Result<T> r) { promise.set_value(std::move(r)); });
  auto result = answer.get();
  if (!result.ok()) {
    std::cerr << result.error().describe() << "\n";
    std::exit(1);
  }
  return std::move(result).value();
}

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

// A counter from sipp's final screen ("Successful call", "Failed call").
long screen_counter(const std::string& screen, const std::string& name) {
  std::smatch m;
  if (std::regex_search(screen, m, std::regex(name + R"(\s*\|\s*\d+\s*\|\s*(\d+))"))) return std::stol(m[1]);
  return -1;
}

// How many times a response code was received ("  302 <----------  4999  0 ...").
long received(const std::string& screen, int code) {
  std::smatch m;
  if (std::regex_search(screen, m, std::regex(std::to_string(code) + R"( <-+\s+(?:E-RTD\d+\s+)?(\d+))")))
    return std::stol(m[1]);
  return 0;
}

// CPU seconds of one thread of this process (user + system), from /proc.
double thread_cpu_seconds(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto after_name = stat.rfind(')');
  if (after_name == std::string::npos) return 0;
  std::istringstream fields(stat.substr(after_name + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  const int rate = std::stoi(arg(argc, argv, "--rate", "5000"));
  const int calls = std::stoi(arg(argc, argv, "--calls", "50000"));
  const std::string store_kind = arg(argc, argv, "--store", "memory");
  const fs::path dir = fs::temp_directory_path() / ("switchboard-sip-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);

  std::unique_ptr<router::Store> store;
  if (store_kind == "memory") {
    store = router::make_memory_store({.keep_records = false});  // as switchboardd's memory:
  } else {
    router::SqliteOptions options;
    options.path = (dir / "bench.db").string();
    if (store_kind == "sqlite-normal") options.synchronous = router::SqliteOptions::kNormal;
    auto opened = router::open_sqlite_store(options);
    if (!opened) {
      std::cerr << opened.error().describe() << "\n";
      return 1;
    }
    store = std::move(opened.value());
  }

  asio::io_context io;
  router::RouterOptions options;
  options.desk.default_queue = "support";
  router::Router router(io, std::move(store), options);
  const std::string settings = R"({"listen":"127.0.0.1:0","listening_file":")" + (dir / "sip.addr").string() +
                               R"(","invites_per_second_per_source":1000000,"invite_burst_per_source":1000000,)"
                               R"("max_in_flight":100000,"max_transactions":2000000})";
  auto adapter = adapters::phone::make_factory()->create(settings, router);
  if (!adapter) {
    std::cerr << adapter.error().describe() << "\n";
    return 1;
  }
  router.add_adapter(std::move(adapter.value()));
  auto work = asio::make_work_guard(io);
  std::atomic<pid_t> router_tid{0};
  std::thread router_thread([&] {  // the router's strand and the store's answers
    router_tid = ::gettid();
    io.run();
  });
  wait_for<router::Done>([&](auto done) { router.recover(done); });
  if (!router.start_adapters().ok()) return 1;
  for (int i = 0; i < kAgents; ++i) {
    router::Agent a;
    a.id = "agent-" + std::to_string(i);
    a.capacity = {{"voice", kVoicePerAgent}};
    a.sip_uri = "sip:" + a.id + "@pbx.example.org";
    wait_for<router::Agent>([&](auto done) { router.upsert_agent(a, done); });
    wait_for<router::Agent>(
        [&](auto done) { router.set_agent_status(a.id, router::AgentStatus::kOnline, "bench", done); });
  }
  std::string address;
  std::getline(std::ifstream(dir / "sip.addr"), address);

  {
    std::ofstream callers(dir / "callers.csv");
    callers << "SEQUENTIAL\n";
    for (int i = 0; i < calls; ++i) {  // +1 212 555 xxxx is not enough: spread over area codes
      callers << "+1" << (201 + i / 10000 % 700) << "555" << (1000 + i % 9000) << "\n";
    }
  }
  const std::string command =
      "cd " + dir.string() + " && sipp " + address + " -sf " + SIPP_SCENARIOS +
      "/flood.xml -inf callers.csv -i 127.0.0.1 -r " + std::to_string(rate) + " -m " + std::to_string(calls) +
      " -l 100000 -nostdin -timeout 300s -recv_timeout 10000" +
      " -buff_size 4194304 -trace_rtt -rtt_freq 1000 -trace_screen -screen_file screen_screen.log";
  std::cout << command << "\n";
  // CPU of this process alone (router, store, SIP front), not sipp's.
  const auto cpu_seconds = [] {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  const pid_t main_tid = ::gettid();
  const auto children_cpu_seconds = [] {  // sipp, once it has exited
    rusage usage{};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  const double sipp_before = children_cpu_seconds();
  const double cpu_before = cpu_seconds();
  const double router_before = thread_cpu_seconds(router_tid);
  const double main_before = thread_cpu_seconds(main_tid);
  const auto started = std::chrono::steady_clock::now();
  const std::string output = run(command);
  const double cpu = cpu_seconds() - cpu_before;
  const double sipp_cpu = children_cpu_seconds() - sipp_before;
  const double router_cpu = thread_cpu_seconds(router_tid) - router_before;
  const double others_cpu = cpu - router_cpu - (thread_cpu_seconds(main_tid) - main_before);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::string screen;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with("_screen.log")) {
      std::stringstream s;
      s << std::ifstream(entry.path()).rdbuf();
      screen = s.str();
    }
  }
  // Response times: sipp's rtt file, one line per call: date_ms;response_time_ms;rtd_no.
  // The answers' dates also give the rate in steady state: from the first INVITE
  // (its answer's date less its wait) to the last answer, without sipp's start-up and
  // exit, which the elapsed time includes.
  std::vector<double> times;
  double first_sent_ms = 0, last_answered_ms = 0;
  // The 100 ms windows in which the INVITEs that waited over 20 ms were sent: a few
  // means one stall (the VM's steal, a page-fault burst), many means a slow path.
  std::set<int64_t> slow_windows;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.path().filename().string().ends_with("_rtt.csv")) continue;
    std::ifstream in(entry.path());
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      const auto first = line.find(';');
      const auto second = line.find(';', first + 1);
      if (first == std::string::npos || second == std::string::npos) continue;
      const double answered_ms = std::stod(line.substr(0, first));
      const double waited_ms = std::stod(line.substr(first + 1, second - first - 1));
      times.push_back(waited_ms);
      if (waited_ms > 20) slow_windows.insert(static_cast<int64_t>((answered_ms - waited_ms) / 100));
      if (times.size() == 1 || answered_ms - waited_ms < first_sent_ms) first_sent_ms = answered_ms - waited_ms;
      last_answered_ms = std::max(last_answered_ms, answered_ms);
    }
  }
  std::sort(times.begin(), times.end());
  const auto pct = [&](double p) {
    return times.empty() ? 0.0 : times[std::min(times.size() - 1, static_cast<std::size_t>(p * times.size()))];
  };
  const long decided = received(screen, 302) + received(screen, 480) + received(screen, 486);
  const double steady_s = (last_answered_ms - first_sent_ms) / 1000;
  std::printf(
      "store=%s rate=%d calls=%d: decided=%ld (302=%ld 480=%ld 486=%ld) refused_503=%ld failed=%ld "
      "elapsed=%.2fs decided_per_s=%.0f (first INVITE to last answer %.2fs: %.0f/s) latency_ms p50=%.2f p99=%.2f "
      "max=%.2f (n=%zu) "
      "over_20ms=%ld sent_in_%zu_windows_of_100ms switchboard_cpu_us_per_invite=%.1f (router thread %.1f, sip and "
      "other threads %.1f) "
      "sipp_cpu_us_per_invite=%.1f\n",
      store_kind.c_str(), rate, calls, decided, received(screen, 302), received(screen, 480), received(screen, 486),
      received(screen, 503), screen_counter(screen, "Failed call"), elapsed, decided / elapsed, steady_s,
      steady_s > 0 ? static_cast<double>(decided) / steady_s : 0.0, pct(0.5), pct(0.99),
      times.empty() ? 0.0 : times.back(), times.size(),
      static_cast<long>(times.end() - std::upper_bound(times.begin(), times.end(), 20.0)), slow_windows.size(),
      calls > 0 ? cpu * 1e6 / calls : 0.0, calls > 0 ? router_cpu * 1e6 / calls : 0.0,
      calls > 0 ? others_cpu * 1e6 / calls : 0.0, calls > 0 ? sipp_cpu * 1e6 / calls : 0.0);
  if (decided == 0 || std::getenv("SIP_BENCH_SCREEN")) std::cout << (screen.empty() ? output : screen) << "\n";

  router.stop();
  work.reset();
  io.stop();
  router_thread.join();
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return 0;
}
