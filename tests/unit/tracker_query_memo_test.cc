#include <gtest/gtest.h>

#include "tracker/query_memo.h"

namespace gs::tracker {
namespace {

TEST(TrackerQueryMemo, KeepsAnswersIncludingNoneUntilCleared) {
  QueryMemo<std::string> memo(10, 1000);
  EXPECT_EQ(memo.find("a"), nullptr);
  memo.put("a", std::string("x"), 10);
  memo.put("b", std::nullopt, 10);
  ASSERT_NE(memo.find("a"), nullptr);
  EXPECT_EQ(*memo.find("a"), std::optional<std::string>("x"));
  ASSERT_NE(memo.find("b"), nullptr);
  EXPECT_FALSE(memo.find("b")->has_value());
  memo.clear();
  EXPECT_EQ(memo.find("a"), nullptr);
  EXPECT_EQ(memo.size(), 0u);
}

TEST(TrackerQueryMemo, EmptiesItselfAtItsLimits) {
  QueryMemo<int> by_count(3, 1000);
  for (int i = 0; i < 3; ++i) by_count.put(std::to_string(i), i, 1);
  EXPECT_EQ(by_count.size(), 3u);
  by_count.put("3", 3, 1);
  EXPECT_EQ(by_count.size(), 1u);
  EXPECT_NE(by_count.find("3"), nullptr);

  QueryMemo<int> by_bytes(100, 100);
  by_bytes.put("a", 1, 60);
  by_bytes.put("b", 2, 30);
  EXPECT_EQ(by_bytes.size(), 2u);
  by_bytes.put("c", 3, 30);  // 120 > 100
  EXPECT_EQ(by_bytes.size(), 1u);
  EXPECT_NE(by_bytes.find("c"), nullptr);
  by_bytes.put("huge", 4, 101);  // larger than the whole memo: not kept
  EXPECT_EQ(by_bytes.find("huge"), nullptr);
  EXPECT_NE(by_bytes.find("c"), nullptr);
}

TEST(TrackerQueryMemo, KeysOfTwoStringsDoNotCollide) {
  EXPECT_NE(memo_key("ab", "c"), memo_key("a", "bc"));
  EXPECT_NE(memo_key("1:a", ""), memo_key("1", ":a"));
  EXPECT_EQ(memo_key("g", "u"), memo_key("g", "u"));
}

}  // namespace
}  // namespace gs::tracker
