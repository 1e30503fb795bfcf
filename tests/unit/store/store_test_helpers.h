#pragma once

// Helpers for the tests of one durable store (postgres_store_test.cc). The same
// WriterGate and expect_error are also in sqlite_store_test.cc, which can include
// this header instead.

#include <future>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <switchboard/router/store.h>

namespace switchboard::router::testing {

// Holds the writer thread inside one `done` until released, so that whatever is
// appended meanwhile is queued, deterministically, for the next transaction.
class WriterGate {
 public:
  // Appends an empty commit whose `done` waits; returns once the writer is inside it.
  void close(Store& store) {
    store.append(std::make_shared<const Commit>(), [this](Status) {
      entered_.set_value();
      released_.get_future().wait();
    });
    entered_.get_future().wait();
  }
  void open() { released_.set_value(); }

 private:
  std::promise<void> entered_;
  std::promise<void> released_;
};

template <typename T>
void expect_error(const Result<T>& result, ErrorCode code, const std::string& says) {
  ASSERT_FALSE(result.ok()) << "succeeded although it should have failed";
  EXPECT_EQ(result.error().code, code) << result.error().describe();
  EXPECT_NE(result.error().message.find(says), std::string::npos) << result.error().describe();
}

}  // namespace switchboard::router::testing
