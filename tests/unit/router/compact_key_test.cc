#include "compact_key.h"

#include <string>
#include <utility>

#include <absl/container/flat_hash_map.h>
#include <gtest/gtest.h>

#include "text_hash.h"

namespace switchboard::router {
namespace {

const std::string kShort = "cv_P7CbcSrB3UOJ";             // 15 characters: inline
const std::string kLong = "email:customer0@example.org";  // on the heap
const std::string kOldId = "cv_0123456789abcdef0123";     // an id of the earlier form

TEST(CompactKey, HoldsItsTextInlineOrNot) {
  for (const std::string& text : {std::string(), std::string("a"), kShort, kLong, kOldId}) {
    const CompactKey key(text);
    EXPECT_EQ(key.view(), text);
  }
}

TEST(CompactKey, CopiesAndMovesKeepTheText) {
  for (const std::string& text : {kShort, kLong}) {
    CompactKey original(text);
    CompactKey copy = original;
    EXPECT_EQ(copy.view(), text);
    EXPECT_EQ(original.view(), text);
    CompactKey moved = std::move(copy);
    EXPECT_EQ(moved.view(), text);
    CompactKey assigned("x");
    assigned = original;
    EXPECT_EQ(assigned.view(), text);
    assigned = CompactKey(kOldId);
    EXPECT_EQ(assigned.view(), kOldId);
    assigned = assigned;  // self-assignment keeps it
    EXPECT_EQ(assigned.view(), kOldId);
  }
}

TEST(CompactKey, OrdersAndComparesAsItsText) {
  EXPECT_EQ(CompactKey(kLong), CompactKey(kLong));
  EXPECT_LT(CompactKey("cv_a"), CompactKey("cv_b"));
  EXPECT_LT(CompactKey("cv_0"), CompactKey(kOldId));  // a prefix first, inline or not
  EXPECT_LT(CompactKey(kOldId), CompactKey("cv_a"));
  EXPECT_EQ(CompactKey(kShort) <=> CompactKey(kOldId), std::string_view(kShort) <=> std::string_view(kOldId));
}

TEST(CompactKey, ATableFindsItByAnyString) {
  absl::flat_hash_map<CompactKey, int, TextHash, SameText> table;
  table[kShort] = 1;
  table.emplace(kLong, 2);
  table.insert_or_assign(kOldId, 3);
  EXPECT_EQ(table.find(kShort)->second, 1);
  EXPECT_EQ(table.find(std::string_view(kLong))->second, 2);
  EXPECT_EQ(table.at(kOldId), 3);
  table.erase(kLong);
  EXPECT_FALSE(table.contains(kLong));
  for (int i = 0; i < 1000; ++i) table[kLong + std::to_string(i)] = i;  // rehashes move keys
  EXPECT_EQ(table.at(kLong + "999"), 999);
  EXPECT_EQ(table.at(kShort), 1);
}

}  // namespace
}  // namespace switchboard::router
