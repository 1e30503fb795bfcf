#pragma once

// What a group-committing store does the same whatever its database: append() encodes
// a commit on the caller's thread and queues it; one writer thread takes everything
// queued (up to a number of events) and writes it in one transaction; a completion
// thread then runs the `done` callbacks in append order, while the writer already
// writes the next batch (answering a caller, a gRPC Finish, costs as much as writing).
// A writer with nothing left to write and nothing left unanswered answers by itself.
//
// The SQLite and PostgreSQL stores both use it: what differs between them is only
// how a batch is written (the `write` given to commit_in_group).

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <switchboard/router/error.h>
#include <switchboard/router/store.h>

#include "../hand_off_queue.h"

namespace switchboard::router::store {

// A queued commit with its records already encoded (record_codec.h), so the writer
// only sends text.
struct EncodedCommit {
  std::shared_ptr<const Commit> commit;
  std::function<void(Status)> done;
  std::vector<std::string> events, contacts, conversations, outbox, agents, queues, merges, inbound_seen;

  static EncodedCommit encode(std::shared_ptr<const Commit> commit, std::function<void(Status)> done);

  // What it counts for against a batch's event limit: an empty commit still counts.
  std::size_t weight() const;
};

// The queue between the appending threads and the one writer.
class CommitQueue {
 public:
  explicit CommitQueue(std::size_t max_batch_events) : max_batch_events_(max_batch_events) {}

  void push(EncodedCommit commit);

  // Waits for work, then takes the oldest commits up to max_batch_events (a commit is
  // never split, so a large one goes alone). Empty once stopped and drained.
  std::vector<EncodedCommit> take();

  // take() returns what is left, then nothing.
  void stop();

  // Nothing waits to be taken.
  bool empty();

  // For tests: while held, take() waits (unless stopped), so that what is appended
  // meanwhile queues up and goes in as few transactions as the batch limit allows.
  void hold();
  void release();

 private:
  const std::size_t max_batch_events_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<EncodedCommit> queue_;
  bool stopping_ = false;
  bool held_ = false;
};

// Writes `batch` with `write` (one transaction for all of it) and gives each commit's
// outcome, in order. When the transaction broke a uniqueness constraint
// (kAlreadyExists: a repeated (conversation, seq)) or lost a race with another node
// (kAborted), each commit is written alone so that only the one at fault fails, not
// the strangers it was batched with.
std::vector<Status> commit_in_group(std::span<const EncodedCommit> batch,
                                    const std::function<Status(std::span<const EncodedCommit>)>& write);

// Runs the `done` of written batches, in the order they were written, on a thread of
// its own. Nothing is answered before its batch was written: push() takes outcomes.
class Completions {
 public:
  Completions();
  ~Completions();  // answers everything pushed, then joins

  void push(std::vector<EncodedCommit> batch, std::vector<Status> outcomes);

  // On the writer's thread. When nothing waits to be written and every batch pushed
  // before is answered, answers `batch` right here: at low load the completion
  // thread's wake-up, one of an Ingest's three hand-offs between threads, costs more
  // than the answers. Otherwise push(), so that the writer goes on writing. Either
  // way answers keep their order: only the writer pushes.
  void answer(std::vector<EncodedCommit> batch, std::vector<Status> outcomes, bool more_to_write);

 private:
  struct Written {
    std::vector<EncodedCommit> batch;
    std::vector<Status> outcomes;
  };
  void answer_loop();

  static void answer_all(Written& written);

  HandOffQueue<Written> written_;           // no bound: the writer never waits for answers
  std::atomic<std::size_t> unanswered_{0};  // batches pushed and not yet answered
  std::thread thread_;                      // last: starts once everything above exists
};

}  // namespace switchboard::router::store
