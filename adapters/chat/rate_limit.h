#pragma once

// A token bucket: `burst` at once, then `per_second` steady. Not thread-safe; the
// caller holds the lock that guards its owner.

#include <algorithm>
#include <chrono>

namespace switchboard::adapters::chat {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double per_second, double burst, Clock::time_point now = Clock::now())
      : per_second_(per_second), burst_(burst), tokens_(burst), at_(now) {}

  bool take(Clock::time_point now = Clock::now()) {
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }
  // How long until take() can succeed.
  std::chrono::milliseconds wait(Clock::time_point now = Clock::now()) {
    refill(now);
    if (tokens_ >= 1.0 || per_second_ <= 0) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(static_cast<long long>((1.0 - tokens_) / per_second_ * 1000.0) + 1);
  }
  bool full(Clock::time_point now = Clock::now()) {
    refill(now);
    return tokens_ >= burst_;
  }

 private:
  void refill(Clock::time_point now) {
    if (now > at_) {
      tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - at_).count() * per_second_);
      at_ = now;
    }
  }
  double per_second_;
  double burst_;
  double tokens_;
  Clock::time_point at_;
};

}  // namespace switchboard::adapters::chat
