// The completion side of group commit (group_commit.h): who answers a written batch,
// and in what order.

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "group_commit.h"

namespace switchboard::router::store {
namespace {

// A written batch of one commit whose `done` records the thread it ran on and its
// turn, and may wait for a gate first (to hold the completion thread busy).
struct Answers {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  bool gate_open = true;

  std::vector<EncodedCommit> batch(int turn) {
    std::vector<EncodedCommit> batch(1);
    batch[0].commit = std::make_shared<const Commit>();
    batch[0].done = [this, turn](Status) {
      std::unique_lock lock(mutex);
      changed.wait(lock, [this] { return gate_open; });
      order.push_back(turn);
      threads.push_back(std::this_thread::get_id());
      changed.notify_all();
    };
    return batch;
  }
  void wait_for(std::size_t answered) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return order.size() >= answered; });
  }
  void open_gate() {
    std::lock_guard lock(mutex);
    gate_open = true;
    changed.notify_all();
  }
};

std::vector<Status> ok_outcomes() { return {ok_status()}; }

TEST(Completions, AnIdleWriterAnswersItsBatchItself) {
  Answers answers;
  Completions completions;
  completions.answer(answers.batch(1), ok_outcomes(), /*more_to_write=*/false);
  ASSERT_EQ(answers.order, std::vector<int>{1});  // answered before answer() returned
  EXPECT_EQ(answers.threads[0], std::this_thread::get_id());
}

TEST(Completions, AWriterWithMoreToWriteHandsItsAnswersOver) {
  Answers answers;
  Completions completions;
  completions.answer(answers.batch(1), ok_outcomes(), /*more_to_write=*/true);
  answers.wait_for(1);
  EXPECT_NE(answers.threads[0], std::this_thread::get_id());
}

TEST(Completions, ABatchIsNotAnsweredBeforeTheOnesHandedOverEarlier) {
  Answers answers;
  Completions completions;
  answers.gate_open = false;  // the completion thread stays inside the first answer
  completions.answer(answers.batch(1), ok_outcomes(), /*more_to_write=*/true);
  completions.answer(answers.batch(2), ok_outcomes(), /*more_to_write=*/false);
  {
    std::lock_guard lock(answers.mutex);
    EXPECT_TRUE(answers.order.empty());  // 2 did not overtake 1 on this thread
  }
  answers.open_gate();
  answers.wait_for(2);
  EXPECT_EQ(answers.order, (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace switchboard::router::store
