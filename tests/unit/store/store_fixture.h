#pragma once

// What the store tests share: a fresh temporary folder, and a record of `done` calls
// that a test can wait on (bounded, no sleeping).

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <switchboard/router/store.h>

namespace switchboard::router::testing {

// A folder of its own, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The `done` calls of a test, in the order they ran, each with the tag it was given.
class DoneLog {
 public:
  std::function<void(Status)> expect(int tag);
  // Waits until `count` calls ran (at most 30 s, then false: a hung store fails, not hangs).
  bool wait_for(std::size_t count);

  std::vector<int> tags() const;
  std::vector<Status> statuses() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<int> tags_;
  std::vector<Status> statuses_;
};

// Appends `commit` and waits for its `done`.
Status append_and_wait(Store& store, Commit commit);

}  // namespace switchboard::router::testing
