#include "measures.h"

#include <algorithm>

namespace switchboard::router {

void Histogram::observe(std::chrono::duration<double> value) {
  const double seconds = std::max(0.0, value.count());
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  ++buckets_[i];
  ++count_;
  sum_ += seconds;
}

std::array<uint64_t, Histogram::kBounds.size() + 1> Histogram::cumulative() const {
  std::array<uint64_t, kBounds.size() + 1> out{};
  uint64_t running = 0;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = running += buckets_[i];
  return out;
}

double QueueMeasures::nps_score() const {
  const uint64_t answers = nps[0] + nps[1] + nps[2];
  if (answers == 0) return 0;
  return 100.0 * (static_cast<double>(nps[2]) - static_cast<double>(nps[0])) / static_cast<double>(answers);
}

}  // namespace switchboard::router
