// The Desk's memory of answers given (answer_cache.h): redeliveries get the same
// answer, the oldest are forgotten first, and an answer is kept as one record of
// bytes in a log whose positions the index holds in 4 bytes.

#include "answer_cache.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// Answers whose records are larger than a block, on both sides of 2^32, are found and
// age out as the others do.
TEST(AnswerCache, RecordsLargerThanABlockAcross4GiB) {
  const uint64_t near = (uint64_t{1} << 32) - 3 * RecordLog::kBlockBytes - 100;
  AnswerCache<IngestResult> seen(5, AnswerCache<IngestResult>::kMaxSpan, near);
  const auto key = [](int i) {
    return std::string(i % 3 == 0 ? RecordLog::kBlockBytes + 1000 * i : 20, static_cast<char>('a' + i));
  };
  for (int i = 0; i < 30; ++i) {
    seen.remember(key(i), answer("ct_" + std::to_string(i), "cv", i));
    for (int j = std::max(0, i - 4); j <= i; ++j) ASSERT_EQ(seen.find(key(j))->seq, uint64_t(j)) << i << " " << j;
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_FALSE(seen.find(key(24)).has_value());
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

// The span counts the positions a block left unused: the index's 4-byte positions
// must tell those apart too.
TEST(AnswerCache, TheSpanCountsWhatABlockLeftUnused) {
  AnswerCache<IngestResult> seen(10, /*max_span=*/100'000);
  const std::string a(59'000, 'a');
  const std::string b(37'000, 'b');
  seen.remember(a, answer("ct", "cv", 1));
  seen.remember(b, answer("ct", "cv", 2));  // 59 + 37 k would fit, but b starts the next block, at 64 Ki
  EXPECT_FALSE(seen.find(a).has_value());
  EXPECT_EQ(seen.find(b)->seq, 2u);
}

// Block k holds the positions [k * kBlockBytes, (k + 1) * kBlockBytes): a record that
// does not fit in what is left of a block starts the next one.
TEST(RecordLog, ARecordThatDoesNotFitStartsTheNextBlock) {
  constexpr uint64_t kBlock = RecordLog::kBlockBytes;
  RecordLog log;
  const std::string big(kBlock - 100, 'a');
  const std::string tiny(50, 'c');
  const std::string small(200, 'b');
  EXPECT_EQ(log.append(big), 0u);
  EXPECT_EQ(log.append(tiny), kBlock - 100) << "fits in what is left";
  EXPECT_EQ(log.place_for(small.size()), kBlock);
  EXPECT_EQ(log.append(small), kBlock);
  EXPECT_EQ(std::string_view(log.at(kBlock - 100), tiny.size()), tiny);
  EXPECT_EQ(std::string_view(log.at(kBlock), small.size()), small);
  log.pop_front(big.size());
  EXPECT_EQ(log.front(), kBlock - 100);
  log.pop_front(tiny.size());
  EXPECT_EQ(log.front(), kBlock) << "the unused end of a block holds no record";
  EXPECT_EQ(std::string_view(log.at(kBlock), small.size()), small);
  log.pop_front(small.size());
  EXPECT_TRUE(log.empty());
}

// A record larger than a block takes as many blocks as it needs and the next record
// starts after them; past 2^32 (a block's start) as before it.
TEST(RecordLog, RecordsLargerThanABlockAcross4GiB) {
  constexpr uint64_t kBlock = RecordLog::kBlockBytes;
  const uint64_t four_gib = uint64_t{1} << 32;
  RecordLog log(four_gib - 300);
  std::vector<std::pair<uint64_t, std::string>> kept;
  for (const std::size_t size : {std::size_t{100}, 2 * kBlock + 10, std::size_t{30}, kBlock, std::size_t{20}}) {
    std::string record(size, static_cast<char>('a' + kept.size()));
    const uint64_t position = log.append(record);
    kept.emplace_back(position, std::move(record));
  }
  EXPECT_EQ(kept[0].first, four_gib - 300);
  EXPECT_EQ(kept[1].first, four_gib) << "too large for what is left: the next block, and two more";
  EXPECT_EQ(kept[2].first, four_gib + 3 * kBlock);
  EXPECT_EQ(kept[3].first, four_gib + 4 * kBlock) << "a whole block's worth: the next";
  EXPECT_EQ(kept[4].first, four_gib + 5 * kBlock);
  for (const auto& [position, record] : kept) {
    EXPECT_EQ(std::string_view(log.at(position), record.size()), record) << position;
  }
  for (const auto& [position, record] : kept) {
    ASSERT_EQ(log.front(), position);
    log.pop_front(record.size());
  }
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(log.append("next"), four_gib + 5 * kBlock + 20) << "an emptied log goes on where it ended";
  EXPECT_EQ(std::string_view(log.at(four_gib + 5 * kBlock + 20), 4), "next");
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
