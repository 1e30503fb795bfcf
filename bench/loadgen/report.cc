#include "report.h"

#include <array>
#include <iomanip>
#include <utility>

namespace switchboard::loadgen {
namespace {

constexpr std::array<std::pair<const char*, double>, 4> kPercentiles = {
    {{"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p99_9", 0.999}}};

double ms(LatencyHistogram::Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void print_latency(const char* what, const LatencyHistogram& latency, std::ostream& out) {
  out << what << " (ms):";
  for (const auto& [name, q] : kPercentiles) out << " " << name << " " << ms(latency.percentile(q));
  out << " max " << ms(latency.max()) << "  (" << latency.count() << " samples)\n";
}

void json_latency(const LatencyHistogram& latency, std::ostream& out) {
  out << "{\"samples\": " << latency.count();
  for (const auto& [name, q] : kPercentiles) out << ", \"" << name << "_ms\": " << ms(latency.percentile(q));
  out << ", \"max_ms\": " << ms(latency.max()) << "}";
}

void json_counts(const std::map<std::string, uint64_t>& counts, std::ostream& out) {
  out << "{";
  const char* sep = "";
  for (const auto& [text, n] : counts) {
    out << sep << quoted(text) << ": " << n;
    sep = ", ";
  }
  out << "}";
}

}  // namespace

void print_text(const Report& report, std::ostream& out) {
  const auto& o = report.options;
  const auto& load = report.load;
  out << std::fixed << std::setprecision(3);
  out << (o.loop == Loop::kClosed ? "closed loop" : "open loop") << ", " << o.concurrency << " in flight over "
      << o.channels << " channels";
  if (o.loop == Loop::kOpen) out << ", " << o.rate << " calls/s scheduled";
  out << "\nIngest: " << std::setprecision(0) << load.rate() << " calls/s (" << load.measured << " in "
      << std::setprecision(2) << load.window.count() << " s); " << load.ok << " of " << load.sent
      << " answered OK, warm-up included\n"
      << std::setprecision(3);
  print_latency("Ingest latency", load.latency, out);
  if (load.sent > 0) {
    out << "Client CPU: " << std::setprecision(1) << report.client_cpu_s * 1e6 / static_cast<double>(load.sent)
        << " us per call\n"
        << std::setprecision(3);
  }
  for (const auto& [error, n] : load.errors) out << "  failed " << n << "x " << error << "\n";
  if (report.events) {
    out << "Events: " << report.events->arrivals << " arrivals at " << report.events->subscribers << " subscribers ("
        << subscriber_client_name(o.subscriber_client) << " client)\n";
    print_latency("Event to arrival", *report.events->latency, out);
    for (const auto& [why, n] : report.events->ended_early) out << "  " << n << " streams ended early: " << why << "\n";
  }
}

void write_json(const Report& report, std::ostream& out) {
  const auto& o = report.options;
  const auto& load = report.load;
  out << std::setprecision(6) << "{\n"
      << "  \"label\": " << quoted(o.label) << ",\n"
      << "  \"target\": " << quoted(o.target) << ",\n"
      << "  \"loop\": \"" << (o.loop == Loop::kClosed ? "closed" : "open") << "\",\n"
      << "  \"rate_scheduled\": " << o.rate << ",\n"
      << "  \"concurrency\": " << o.concurrency << ",\n"
      << "  \"channels\": " << o.channels << ",\n"
      << "  \"customers\": " << o.customers << ",\n"
      << "  \"setup_ingests\": " << report.setup_ingests << ",\n"
      << "  \"sent\": " << load.sent << ",\n"
      << "  \"ok\": " << load.ok << ",\n"
      << "  \"failed\": " << load.sent - load.ok << ",\n"
      << "  \"measured\": " << load.measured << ",\n"
      << "  \"window_s\": " << load.window.count() << ",\n"
      << "  \"calls_per_s\": " << load.rate() << ",\n"
      << "  \"client_cpu_s\": " << report.client_cpu_s << ",\n"
      << "  \"latency\": ";
  json_latency(load.latency, out);
  out << ",\n  \"errors\": ";
  json_counts(load.errors, out);
  if (report.events) {
    out << ",\n  \"subscribers\": " << report.events->subscribers << ",\n"
        << "  \"subscriber_client\": \"" << subscriber_client_name(o.subscriber_client) << "\",\n"
        << "  \"event_arrivals\": " << report.events->arrivals << ",\n"
        << "  \"event_latency\": ";
    json_latency(*report.events->latency, out);
    std::map<std::string, uint64_t> ended(report.events->ended_early.begin(), report.events->ended_early.end());
    out << ",\n  \"subscribers_ended_early\": ";
    json_counts(ended, out);
  }
  out << "\n}\n";
}

}  // namespace switchboard::loadgen
