#include "db.h"

#include <gtest/gtest.h>

#include "sandbox.h"

namespace gs {
namespace {

TEST(Db, PersistsAcrossReopen) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok()) << db.error().message;
    ASSERT_TRUE((*db)->exec("CREATE TABLE t(k TEXT PRIMARY KEY, v INTEGER)").ok());
    Transaction tx(**db);
    auto st = (*db)->prepare("INSERT INTO t VALUES(?, ?)");
    ASSERT_TRUE(st.bind(1, std::string_view("a")).bind(2, int64_t{42}).run().ok());
    ASSERT_TRUE(tx.commit().ok());
  }
  auto db = Db::open(path);
  ASSERT_TRUE(db.ok());
  auto st = (*db)->prepare("SELECT v FROM t WHERE k = ?");
  st.bind(1, std::string_view("a"));
  auto row = st.step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(st.column_int(0), 42);
}

TEST(Db, TransactionRollsBackUnlessCommitted) {
  test::Sandbox sb;
  auto db = Db::open(sb.path("s.db"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->exec("CREATE TABLE t(v INTEGER)").ok());
  {
    Transaction tx(**db);
    ASSERT_TRUE((*db)->exec("INSERT INTO t VALUES(1)").ok());
  }
  auto st = (*db)->prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(*st.step());
  EXPECT_EQ(st.column_int(0), 0);
}

TEST(Db, ConstraintViolationIsAnError) {
  test::Sandbox sb;
  auto db = Db::open(sb.path("s.db"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->exec("CREATE TABLE t(v INTEGER UNIQUE)").ok());
  auto st = (*db)->prepare("INSERT INTO t VALUES(?)");
  ASSERT_TRUE(st.bind(1, int64_t{1}).run().ok());
  EXPECT_FALSE(st.bind(1, int64_t{1}).run().ok());
}

TEST(Db, GarbageFileIsAClearError) {
  test::Sandbox sb;
  const std::string path = sb.write("s.db", std::string(8192, 'x'));
  auto db = Db::open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, "db_damaged");
  EXPECT_NE(db.error().message.find(path), std::string::npos);
}

TEST(Db, TruncatedDatabaseIsAClearError) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("PRAGMA journal_mode=DELETE; CREATE TABLE t(v BLOB)").ok());
    Transaction tx(**db);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE((*db)->exec("INSERT INTO t VALUES(randomblob(1000))").ok());
    }
    ASSERT_TRUE(tx.commit().ok());
  }
  // Keep the header, cut the rest: sqlite sees a database that ends early.
  std::filesystem::resize_file(path, 4096 * 3);
  auto db = Db::open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, "db_damaged");
}

}  // namespace
}  // namespace gs
