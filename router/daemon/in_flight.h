#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace switchboard::daemon {

// Counts the unary calls that have started and not yet been finished, so that
// shutdown knows when nothing is left to drain. Thread-safe.
class InFlight {
 public:
  void begin() {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void end() {
    std::lock_guard lock(mutex_);
    if (--count_ == 0) idle_.notify_all();
  }
  // Waits until no call is in flight or `until` passed; true when none is.
  template <typename Clock, typename Duration>
  bool wait_idle(std::chrono::time_point<Clock, Duration> until) {
    std::unique_lock lock(mutex_);
    return idle_.wait_until(lock, until, [this] { return count_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t count_ = 0;
};

}  // namespace switchboard::daemon
