#include "store_fixture.h"

#include <cstdlib>
#include <stdexcept>

namespace switchboard::router::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "switchboard-store-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::function<void(Status)> DoneLog::expect(int tag) {
  return [this, tag](Status status) {
    std::lock_guard lock(mutex_);
    tags_.push_back(tag);
    statuses_.push_back(std::move(status));
    changed_.notify_all();
  };
}

bool DoneLog::wait_for(std::size_t count) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return tags_.size() >= count; });
}

std::vector<int> DoneLog::tags() const {
  std::lock_guard lock(mutex_);
  return tags_;
}

std::vector<Status> DoneLog::statuses() const {
  std::lock_guard lock(mutex_);
  return statuses_;
}

Status append_and_wait(Store& store, Commit commit) {
  DoneLog log;
  store.append(std::make_shared<const Commit>(std::move(commit)), log.expect(0));
  if (!log.wait_for(1)) return Error{ErrorCode::kUnavailable, {}, "done never ran"};
  return log.statuses().front();
}

}  // namespace switchboard::router::testing
