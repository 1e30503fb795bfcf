#pragma once

// Hands items from producing threads to one consuming thread, in order. With a
// `capacity`, a producer waits while that many are queued, so a fast reader never
// piles up more than that ahead of a slow consumer (start-up's parts); without one,
// producers never wait (the store's answers must not hold up its writer).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>

namespace switchboard::router {

template <typename T>
class HandOffQueue {
 public:
  explicit HandOffQueue(std::size_t capacity = std::numeric_limits<std::size_t>::max())
      : capacity_(capacity == 0 ? 1 : capacity) {}

  void push(T item) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(std::move(item));
    ready_.notify_one();
  }

  // Nothing more will be pushed: pop() gives what is left, then nothing.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
  }

  // The oldest item; waits for one; nullopt once closed and empty.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    room_.notify_one();
    return item;
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable room_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace switchboard::router
