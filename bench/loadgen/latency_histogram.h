#pragma once

// Latencies in log-linear buckets, the HdrHistogram idea without the library: each
// power of two is cut into 32 equal buckets, so a percentile is exact to about 3 %
// whatever the range (a nanosecond to an hour), memory is fixed (a few KiB), and
// recording is one relaxed atomic increment, so completion threads never take a lock.

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>

namespace switchboard::loadgen {

class LatencyHistogram {
 public:
  using Duration = std::chrono::nanoseconds;

  // Thread-safe. Negative durations (clocks of two processes a hair apart) count as 0.
  void record(Duration latency) {
    const auto ns = latency.count() < 0 ? uint64_t{0} : static_cast<uint64_t>(latency.count());
    buckets_[index_of(ns)].fetch_add(1, std::memory_order_relaxed);
  }

  uint64_t count() const {
    uint64_t n = 0;
    for (const auto& bucket : buckets_) n += bucket.load(std::memory_order_relaxed);
    return n;
  }

  // The smallest recorded value at or above fraction `q` (0..1) of the samples, as the
  // middle of its bucket; zero when nothing was recorded. Read once recording stopped.
  Duration percentile(double q) const {
    const uint64_t total = count();
    if (total == 0) return Duration::zero();
    const auto rank = static_cast<uint64_t>(q * static_cast<double>(total - 1)) + 1;
    uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return Duration(middle_of(i));
    }
    return Duration(middle_of(kBuckets - 1));
  }

  Duration max() const {
    for (std::size_t i = kBuckets; i-- > 0;) {
      if (buckets_[i].load(std::memory_order_relaxed) != 0) return Duration(middle_of(i));
    }
    return Duration::zero();
  }

 private:
  static constexpr unsigned kSubBits = 5;  // 32 buckets per power of two
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr unsigned kMaxExponent = 42;  // 2^42 ns is over an hour
  static constexpr std::size_t kBuckets = (kMaxExponent - kSubBits + 2) * kSub;

  static std::size_t index_of(uint64_t ns) {
    if (ns < kSub) return static_cast<std::size_t>(ns);
    const unsigned exponent = std::bit_width(ns) - 1;
    if (exponent > kMaxExponent) return kBuckets - 1;
    const unsigned shift = exponent - kSubBits;
    return static_cast<std::size_t>((shift + 1) * kSub + ((ns >> shift) - kSub));
  }

  static uint64_t middle_of(std::size_t index) {
    if (index < kSub) return index;
    const uint64_t shift = index / kSub - 1;
    const uint64_t low = (kSub + index % kSub) << shift;
    return low + (uint64_t{1} << shift) / 2;
  }

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
};

}  // namespace switchboard::loadgen
