// The Desk's memory of answers given (answer_cache.h): redeliveries get the same
// answer, the oldest are forgotten first, and an answer is kept as one record of
// bytes in a log whose positions the index holds in 4 bytes.

#include "answer_cache.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace switchboard::router {
namespace {

IngestResult answer(std::string contact, std::string conversation, uint64_t seq) {
  return {std::move(contact), std::move(conversation), seq, false};
}

std::string key_of(int i) { return std::string("email\0msg-", 10) + std::to_string(i); }

TEST(AnswerCache, GivesBackARedeliveryAnswerWhole) {
  AnswerCache<IngestResult> seen(2);
  const IngestResult long_ids = answer("ct_0123456789abcdef0123", "cv_0123456789abcdef0123", 7);  // earlier id form
  seen.remember(std::string("email\0m1", 8), answer("ct_P7CbcSrB3UOJ", "cv_P7CbcSrB3UOK", 3));
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
  EXPECT_FALSE(seen.find(std::string("email\0m", 7)).has_value()) << "a key's prefix is another key";
}

// Lengths and numbers are varints: one byte below 128, more above, and text of any
// length, empty included, comes back byte for byte.
TEST(AnswerCache, KeepsKeysAndAnswersOfAnyLength) {
  AnswerCache<IngestResult> seen(10);
  const std::string sizes[] = {"", std::string(1, 'k'), std::string(127, 'k'), std::string(128, 'k'),
                               std::string(300, '\0')};
  uint64_t seq = 1;
  for (const std::string& key : sizes) seen.remember(key, answer(key + "-ct", "", seq++ << 40));
  seq = 1;
  for (const std::string& key : sizes) {
    auto found = seen.find(key);
    ASSERT_TRUE(found.has_value()) << key.size();
    EXPECT_EQ(found->contact_id, key + "-ct");
    EXPECT_EQ(found->conversation_id, "");
    EXPECT_EQ(found->seq, seq++ << 40);
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST(AnswerCache, ARecordLargerThanABlockGetsABlockOfItsOwn) {
  AnswerCache<IngestResult> seen(3);
  const std::string huge(RecordLog::kBlockBytes + 10, 'x');
  seen.remember("a", answer("ct_a", "cv_a", 1));
  seen.remember(huge, answer("ct_h", "cv_h", 2));
  seen.remember("b", answer("ct_b", "cv_b", 3));
  EXPECT_EQ(seen.find(huge)->seq, 2u);
  EXPECT_EQ(seen.find("a")->seq, 1u);
  EXPECT_EQ(seen.find("b")->seq, 3u);
}

TEST(AnswerCache, ForgetsTheOldestBeyondItsCapacity) {
  AnswerCache<IngestResult> seen(1000);
  for (int i = 0; i < 5000; ++i) seen.remember(key_of(i), answer("ct_" + std::to_string(i), "cv_x", i));
  EXPECT_EQ(seen.size(), 1000u);
  for (int i = 0; i < 5000; ++i) {
    auto found = seen.find(key_of(i));
    ASSERT_EQ(found.has_value(), i >= 4000) << i;
    if (found) EXPECT_EQ(found->contact_id, "ct_" + std::to_string(i));
  }
}

// The stores keep the newest rows, so a key answered again lives as long as its newer
// answer there; here too.
TEST(AnswerCache, AKeyAnsweredAgainCountsFromItsNewerAnswer) {
  AnswerCache<IngestResult> seen(2);
  seen.remember("a", answer("ct_a", "cv_a", 1));
  seen.remember("b", answer("ct_b", "cv_b", 1));
  seen.remember("a", answer("ct_a", "cv_a", 2));
  EXPECT_EQ(seen.find("a")->seq, 2u);
  EXPECT_EQ(seen.size(), 2u);
  seen.remember("c", answer("ct_c", "cv_c", 1));
  EXPECT_FALSE(seen.find("b").has_value()) << "b is now the oldest";
  EXPECT_EQ(seen.find("a")->seq, 2u) << "the older answer to a, dead, went without taking a's newer one";
  EXPECT_TRUE(seen.find("c").has_value());
}

TEST(AnswerCache, AKeyAnsweredAgainAndAgainDoesNotGrowItForever) {
  AnswerCache<IngestResult> seen(3);
  for (int i = 0; i < 10'000; ++i) seen.remember("a", answer("ct_a", "cv_a", i));
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen.find("a")->seq, 9'999u);
  EXPECT_LE(seen.records(), 6u) << "dead records beyond twice the capacity go";
  seen.remember("b", answer("ct_b", "cv_b", 1));
  EXPECT_TRUE(seen.find("a").has_value());
  EXPECT_TRUE(seen.find("b").has_value());
}

TEST(AnswerCache, AForgottenAnswerIsGoneAndTheRestAgeAsBefore) {
  AnswerCache<IngestResult> seen(3);
  for (const char* key : {"a", "b", "c"}) seen.remember(key, answer("ct", "cv", 1));
  seen.forget("b");
  seen.forget("nobody");
  EXPECT_FALSE(seen.find("b").has_value());
  EXPECT_EQ(seen.size(), 2u);
  seen.remember("d", answer("ct", "cv", 1));
  EXPECT_TRUE(seen.find("a").has_value()) << "three kept: the forgotten one made room";
  seen.remember("e", answer("ct", "cv", 1));
  EXPECT_FALSE(seen.find("a").has_value());
  EXPECT_TRUE(seen.find("c").has_value());
  seen.forget("c");  // the oldest: its record goes at once
  seen.remember("b", answer("ct", "cv", 2));
  EXPECT_EQ(seen.find("b")->seq, 2u) << "a forgotten key can be answered again";
  EXPECT_TRUE(seen.find("d").has_value());
  EXPECT_TRUE(seen.find("e").has_value());
}

TEST(AnswerCache, ACapacityOfZeroKeepsNothing) {
  AnswerCache<IngestResult> seen(0);
  seen.remember("a", answer("ct", "cv", 1));
  EXPECT_FALSE(seen.find("a").has_value());
  EXPECT_EQ(seen.size(), 0u);
}

// The index keeps the low 32 bits of each position: answers on both sides of 2^32
// are told apart, and found, as the log moves past it.
TEST(AnswerCache, PositionsCrossing4GiBStillFindTheirRecords) {
  const uint64_t near = (uint64_t{1} << 32) - 500;
  AnswerCache<IngestResult> seen(20, AnswerCache<IngestResult>::kMaxSpan, near);
  for (int i = 0; i < 100; ++i) {
    seen.remember(key_of(i), answer("ct_" + std::to_string(i), "cv", i));
    for (int j = std::max(0, i - 19); j <= i; ++j) ASSERT_EQ(seen.find(key_of(j))->seq, uint64_t(j)) << i << " " << j;
  }
  EXPECT_FALSE(seen.find(key_of(79)).has_value());
}

TEST(AnswerCache, TheLogSpansNoMoreThanItsLimit) {
  AnswerCache<IngestResult> seen(1000, /*max_span=*/200);
  for (int i = 0; i < 50; ++i) seen.remember(key_of(i), answer("ct_0123456789ab", "cv_0123456789ab", i));
  // A record here is 1 + 1 + 12 + 1 + 15 + 1 + 15 + 1 = 47 bytes: four fit in 200.
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_TRUE(seen.find(key_of(49)).has_value());
  EXPECT_TRUE(seen.find(key_of(46)).has_value());
  EXPECT_FALSE(seen.find(key_of(45)).has_value());
}

TEST(AnswerCache, KeepsASendAnswerWhole) {
  AnswerCache<SendMessageResult> seen(1);
  SendMessageResult result{.seq = 4, .channel = "email", .address = "ana@example.org", .outbound_id = "ob_1"};
  result.status = DeliveryStatus::kFailed;
  result.detail = "no adapter is running";
  result.adapter_running = true;
  seen.remember("cv_1\0r1", result);
  auto found = seen.find("cv_1\0r1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->seq, 4u);
  EXPECT_EQ(found->channel, "email");
  EXPECT_EQ(found->address, "ana@example.org");
  EXPECT_EQ(found->outbound_id, "ob_1");
  EXPECT_EQ(found->status, DeliveryStatus::kFailed);
  EXPECT_EQ(found->detail, "no adapter is running");
  EXPECT_TRUE(found->adapter_running);
  EXPECT_FALSE(found->duplicate);
}

}  // namespace
}  // namespace switchboard::router
