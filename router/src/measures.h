#pragma once

// What the Desk measures as it goes (docs/routing.md, "Measures"): per queue
// histograms of response, resolution, wait and handle times, and counters. Kept in
// memory by the Desk on its strand; counted from the start of the process, as
// Prometheus expects of counters. Gauges (open conversations, agents) are computed
// from the Desk's state when asked.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace switchboard::router {

class Histogram {
 public:
  // Upper bounds in seconds, then +Inf.
  static constexpr std::array<double, 14> kBounds = {15,   30,   60,    120,   300,   600,    1800,
                                                     3600, 7200, 14400, 28800, 86400, 259200, 604800};
  void observe(std::chrono::duration<double> value);
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double mean() const { return count_ == 0 ? 0 : sum_ / static_cast<double>(count_); }
  // Cumulative count for each bound, +Inf last.
  std::array<uint64_t, kBounds.size() + 1> cumulative() const;

 private:
  std::array<uint64_t, kBounds.size() + 1> buckets_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

struct QueueMeasures {
  Histogram first_response;  // customer's first message -> first agent reply
  Histogram next_response;   // a later unanswered customer message -> the agent's reply
  Histogram resolution;      // opened -> resolved
  Histogram queue_wait;      // waiting in the queue -> assigned
  Histogram handle;          // first assigned -> resolved
  uint64_t transfers = 0;
  uint64_t reopens = 0;
  uint64_t resolved = 0;
  uint64_t first_contact_resolutions = 0;  // resolved, never transferred nor reopened
  uint64_t overflowed = 0;
  uint64_t out_of_hours_replies = 0;
  uint64_t csat_count = 0;
  uint64_t csat_sum = 0;
  std::array<uint64_t, 3> nps{};                 // detractors (0-6), passives (7-8), promoters (9-10)
  std::map<std::string, uint64_t> sla_warnings;  // by metric
  std::map<std::string, uint64_t> sla_breaches;  // by metric
  double csat_average() const { return csat_count == 0 ? 0 : static_cast<double>(csat_sum) / csat_count; }
  // -100 .. 100; 0 without answers.
  double nps_score() const;
};

struct Measures {
  std::map<std::string, QueueMeasures> queues;
  std::map<std::string, uint64_t> inbound;                             // by channel
  std::map<std::pair<std::string, std::string>, uint64_t> deliveries;  // (channel, status)
  QueueMeasures& queue(const std::string& name) { return queues[name]; }
};

}  // namespace switchboard::router
