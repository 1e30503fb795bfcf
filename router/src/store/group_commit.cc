#include "group_commit.h"

#include <switchboard/router/thread_name.h>

#include <algorithm>
#include <utility>

#include "record_codec.h"

namespace switchboard::router::store {
namespace {

template <typename T>
std::vector<std::string> encode_all(const std::vector<T>& records) {
  std::vector<std::string> out;
  out.reserve(records.size());
  for (const auto& record : records) out.push_back(encode(record));
  return out;
}

}  // namespace

EncodedCommit EncodedCommit::encode(std::shared_ptr<const Commit> commit, std::function<void(Status)> done) {
  const Commit& c = *commit;
  return EncodedCommit{.commit = std::move(commit),
                       .done = std::move(done),
                       .events = encode_all(c.events),
                       .contacts = encode_all(c.contacts),
                       .conversations = encode_all(c.conversations),
                       .outbox = encode_all(c.outbox),
                       .agents = encode_all(c.agents),
                       .queues = encode_all(c.queues),
                       .merges = encode_all(c.merges),
                       .inbound_seen = encode_all(c.inbound_seen)};
}

std::size_t EncodedCommit::weight() const { return std::max<std::size_t>(1, commit->events.size()); }

void CommitQueue::push(EncodedCommit commit) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(commit));
  }
  ready_.notify_one();
}

std::vector<EncodedCommit> CommitQueue::take() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [this] { return stopping_ || (!held_ && !queue_.empty()); });
  std::vector<EncodedCommit> batch;
  std::size_t events = 0;
  while (!queue_.empty() && (batch.empty() || events + queue_.front().weight() <= max_batch_events_)) {
    events += queue_.front().weight();
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

void CommitQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_one();
}

bool CommitQueue::empty() {
  std::lock_guard lock(mutex_);
  return queue_.empty();
}

void CommitQueue::hold() {
  std::lock_guard lock(mutex_);
  held_ = true;
}

void CommitQueue::release() {
  {
    std::lock_guard lock(mutex_);
    held_ = false;
  }
  ready_.notify_one();
}

std::vector<Status> commit_in_group(std::span<const EncodedCommit> batch,
                                    const std::function<Status(std::span<const EncodedCommit>)>& write) {
  const Status status = write(batch);
  const bool one_at_fault =
      !status && (status.error().code == ErrorCode::kAlreadyExists || status.error().code == ErrorCode::kAborted);
  if (one_at_fault && batch.size() > 1) {
    std::vector<Status> outcomes;
    outcomes.reserve(batch.size());
    for (const auto& pending : batch) outcomes.push_back(write({&pending, 1}));
    return outcomes;
  }
  return std::vector<Status>(batch.size(), status);
}

Completions::Completions() : thread_([this] { answer_loop(); }) {}

Completions::~Completions() {
  written_.close();
  thread_.join();
}

void Completions::push(std::vector<EncodedCommit> batch, std::vector<Status> outcomes) {
  unanswered_.fetch_add(1, std::memory_order_relaxed);
  written_.push({std::move(batch), std::move(outcomes)});
}

void Completions::answer(std::vector<EncodedCommit> batch, std::vector<Status> outcomes, bool more_to_write) {
  // Acquire: the answers of earlier batches happen before this batch's.
  if (more_to_write || unanswered_.load(std::memory_order_acquire) != 0) {
    return push(std::move(batch), std::move(outcomes));
  }
  Written written{std::move(batch), std::move(outcomes)};
  answer_all(written);
}

void Completions::answer_all(Written& written) {
  for (std::size_t i = 0; i < written.batch.size(); ++i) written.batch[i].done(std::move(written.outcomes[i]));
}

void Completions::answer_loop() {
  name_this_thread("sb-store-answer");
  // Ends once closed and everything pushed is answered.
  while (auto written = written_.pop()) {
    answer_all(*written);
    unanswered_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace switchboard::router::store
