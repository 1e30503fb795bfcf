#pragma once

// Waiting, bounded, for what an adapter test starts on other threads: a router call's
// answer, or something the router or the adapter's workers do after answering. A lost
// callback fails the test after 10 s instead of hanging it.

#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include <switchboard/router/error.h>

namespace switchboard::testing {

// Starts an asynchronous router call with a callback and waits for its answer.
template <typename T, typename Start>
router::Result<T> await(Start start) {
  std::promise<router::Result<T>> done;
  start([&done](router::Result<T> r) { done.set_value(std::move(r)); });
  auto answer = done.get_future();
  if (answer.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return router::Error{router::ErrorCode::kUnavailable, {}, "timed out"};
  }
  return answer.get();
}

// Polls `condition` every 10 ms for up to 10 s.
inline bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 1000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace switchboard::testing
