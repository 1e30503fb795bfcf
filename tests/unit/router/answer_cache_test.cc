// The Desk's memory of answers given (desk_state.h): redeliveries get the same
// answer, the oldest are forgotten first, and a redelivery answer is kept compact.

#include <string>

#include <gtest/gtest.h>

#include "desk_state.h"

namespace switchboard::router {
namespace {

TEST(AnswerCache, GivesBackARedeliveryAnswerWholeFromItsCompactForm) {
  AnswerCache<IngestResult> seen(2);
  const IngestResult long_ids{"ct_0123456789abcdef0123", "cv_0123456789abcdef0123", 7, false};  // earlier id form
  seen.remember(std::string("email\0m1", 8), {"ct_P7CbcSrB3UOJ", "cv_P7CbcSrB3UOK", 3, false});
  seen.remember(std::string("email\0m2", 8), long_ids);
  auto first = seen.find(std::string("email\0m1", 8));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->contact_id, "ct_P7CbcSrB3UOJ");
  EXPECT_EQ(first->conversation_id, "cv_P7CbcSrB3UOK");
  EXPECT_EQ(first->seq, 3u);
  EXPECT_FALSE(first->duplicate) << "the finder marks a duplicate";
  auto second = seen.find(std::string("email\0m2", 8));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->contact_id, long_ids.contact_id);
  EXPECT_EQ(second->conversation_id, long_ids.conversation_id);
  EXPECT_EQ(second->seq, 7u);
  EXPECT_FALSE(seen.find("email").has_value());
}

TEST(AnswerCache, ForgetsTheOldestBeyondItsCapacityAndReplacesAnAnswer) {
  AnswerCache<IngestResult> seen(2);
  seen.remember("a", {"ct_a", "cv_a", 1, false});
  seen.remember("b", {"ct_b", "cv_b", 1, false});
  seen.remember("a", {"ct_a", "cv_a", 2, false});  // the same key: replaced in place
  EXPECT_EQ(seen.find("a")->seq, 2u);
  seen.remember("c", {"ct_c", "cv_c", 1, false});
  EXPECT_FALSE(seen.find("a").has_value()) << "the oldest goes first";
  EXPECT_TRUE(seen.find("b").has_value());
  EXPECT_TRUE(seen.find("c").has_value());
  seen.forget("b");
  EXPECT_FALSE(seen.find("b").has_value());
}

TEST(AnswerCache, KeepsOtherAnswersAsTheyAre) {
  AnswerCache<SendMessageResult> seen(1);
  SendMessageResult result{.seq = 4, .channel = "email", .address = "ana@example.org", .outbound_id = "ob_1"};
  result.detail = "no adapter is running";
  seen.remember("cv_1\0r1", result);
  auto found = seen.find("cv_1\0r1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->outbound_id, "ob_1");
  EXPECT_EQ(found->detail, "no adapter is running");
  EXPECT_EQ(found->seq, 4u);
}

}  // namespace
}  // namespace switchboard::router
