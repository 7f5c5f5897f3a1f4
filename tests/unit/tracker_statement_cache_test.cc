#include <gtest/gtest.h>

#include "db.h"
#include "sandbox.h"
#include "tracker/statement_cache.h"

namespace gs::tracker {
namespace {

class TrackerStatementCache : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::open(sb_.path("t.db"));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    ASSERT_TRUE(db_->exec("CREATE TABLE t(k INTEGER, v TEXT); "
                          "INSERT INTO t VALUES(1, 'one'), (2, 'two'), (2, 'deux')")
                    .ok());
  }

  test::Sandbox sb_;
  std::unique_ptr<Db> db_;
};

constexpr const char* kByKey = "SELECT v FROM t WHERE k = ? ORDER BY v";

TEST_F(TrackerStatementCache, OneStatementPerSqlTextEachUseStartsAfresh) {
  StatementCache cache(*db_);
  for (int round = 0; round < 3; ++round) {
    {
      auto st = cache.get(kByKey);
      st->bind(1, int64_t{2});
      ASSERT_TRUE(*st->step());
      EXPECT_EQ(st->column_text(0), "deux");
      // Left half-stepped: the handle resets it.
    }
    auto st = cache.get(kByKey);
    // No binding left over: an unbound parameter is NULL, which matches nothing.
    EXPECT_FALSE(*st->step());
    st->reset();
    st->bind(1, int64_t{1});
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(st->column_text(0), "one");
  }
  EXPECT_EQ(cache.size(), 1u);
  auto other = cache.get("SELECT count(*) FROM t");
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(TrackerStatementCache, TheSameSqlWhileItIsOutGetsAStatementOfItsOwn) {
  StatementCache cache(*db_);
  auto outer = cache.get(kByKey);
  outer->bind(1, int64_t{2});
  ASSERT_TRUE(*outer->step());
  {
    auto inner = cache.get(kByKey);
    inner->bind(1, int64_t{1});
    ASSERT_TRUE(*inner->step());
    EXPECT_EQ(inner->column_text(0), "one");
  }
  // The outer walk goes on where it was.
  EXPECT_EQ(outer->column_text(0), "deux");
  ASSERT_TRUE(*outer->step());
  EXPECT_EQ(outer->column_text(0), "two");
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(TrackerStatementCache, AHandleLeavesNoReadOpen) {
  StatementCache cache(*db_);
  {
    auto st = cache.get(kByKey);
    st->bind(1, int64_t{2});
    ASSERT_TRUE(*st->step());  // a read transaction is open now
  }
  // A truncating checkpoint from another connection waits for readers (and
  // gives up as busy); with none left it completes at once.
  auto other = Db::open(sb_.path("t.db"));
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->exec("INSERT INTO t VALUES(3, 'three')").ok());
  auto checkpoint = (*other)->prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_TRUE(*checkpoint.step());
  EXPECT_EQ(checkpoint.column_int(0), 0) << "busy: a read is still open";
}

}  // namespace
}  // namespace gs::tracker
