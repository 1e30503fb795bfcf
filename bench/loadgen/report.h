#pragma once

// The results, as text for a person and as JSON for scripts (bench/loadgen/run.sh).

#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "ingest_load.h"
#include "options.h"

namespace switchboard::loadgen {

struct EventLatency {
  uint64_t subscribers = 0;
  uint64_t arrivals = 0;
  const LatencyHistogram* latency = nullptr;
  std::map<std::string, unsigned> ended_early;
};

struct Report {
  const Options& options;
  uint64_t setup_ingests = 0;  // messages the set-up (and the subscribers' probe) stored
  const LoadResult& load;
  std::optional<EventLatency> events;
  // CPU time (user + system) this process spent in the load: the client's share of a
  // machine it shares with the server.
  double client_cpu_s = 0;
};

void print_text(const Report& report, std::ostream& out);
void write_json(const Report& report, std::ostream& out);

}  // namespace switchboard::loadgen
