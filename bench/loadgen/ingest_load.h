#pragma once

// Unary Ingest calls on the gRPC callback API: no thread per call, completions run on
// gRPC's own threads, which send the next call (closed loop) or free a slot for the
// pacer (open loop).

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "customers.h"
#include "latency_histogram.h"
#include "options.h"

namespace switchboard::loadgen {

struct LoadResult {
  uint64_t sent = 0;      // every call, warm-up included
  uint64_t ok = 0;        // every call answered OK, warm-up included
  uint64_t measured = 0;  // calls answered OK inside the measured window
  std::chrono::duration<double> window{};
  std::map<std::string, uint64_t> errors;  // "CODE: first message" -> count
  LatencyHistogram latency;                // calls that started inside the window

  double rate() const { return window.count() > 0 ? static_cast<double>(measured) / window.count() : 0; }
};

// Runs the load the options describe and returns once every call answered.
void run_ingest_load(const Options& options, const Customers& customers,
                     const std::vector<std::shared_ptr<grpc::Channel>>& channels, LoadResult& result);

}  // namespace switchboard::loadgen
