#include "db.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "sandbox.h"

namespace gs {
namespace {

std::unique_ptr<Db> open_db(const std::string& path) {
  auto db = Db::open(path);
  EXPECT_TRUE(db.ok()) << db.error().message;
  return db.ok() ? std::move(*db) : nullptr;
}

int64_t count(Db& db, const std::string& table) {
  auto st = db.prepare("SELECT count(*) FROM " + table);
  auto row = st.step();
  EXPECT_TRUE(row.ok() && *row);
  return st.column_int(0);
}

// The values of t(v), in order, joined by spaces.
std::string values(Db& db) {
  auto st = db.prepare("SELECT v FROM t ORDER BY rowid");
  std::string out;
  while (*st.step()) out += (out.empty() ? "" : " ") + std::to_string(st.column_int(0));
  return out;
}

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

TEST(Db, NestedTransactionCommitsWithTheOuterOne) {
  test::Sandbox sb;
  auto db = open_db(sb.path("s.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(v INTEGER)").ok());
  {
    Transaction outer(*db);
    ASSERT_TRUE(outer.begun().ok());
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES(1)").ok());
    {
      Transaction inner(*db);
      ASSERT_TRUE(inner.begun().ok()) << inner.begun().error().message;
      ASSERT_TRUE(db->exec("INSERT INTO t VALUES(2)").ok());
      ASSERT_TRUE(inner.commit().ok());
    }
    EXPECT_TRUE(db->in_transaction());  // the inner commit did not end the outer one
    ASSERT_TRUE(outer.commit().ok());
  }
  EXPECT_FALSE(db->in_transaction());
  db.reset();
  db = open_db(sb.path("s.db"));
  EXPECT_EQ(values(*db), "1 2");
}

TEST(Db, NestedRollbackUndoesOnlyItsOwnWrites) {
  test::Sandbox sb;
  auto db = open_db(sb.path("s.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(v INTEGER)").ok());
  {
    Transaction outer(*db);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES(1)").ok());
    {
      Transaction inner(*db);
      ASSERT_TRUE(db->exec("INSERT INTO t VALUES(2)").ok());
    }  // not committed
    {
      Transaction inner(*db);
      ASSERT_TRUE(db->exec("INSERT INTO t VALUES(3)").ok());
      {
        Transaction innermost(*db);
        ASSERT_TRUE(db->exec("INSERT INTO t VALUES(4)").ok());
      }  // not committed
      ASSERT_TRUE(inner.commit().ok());
    }
    EXPECT_EQ(values(*db), "1 3");
    ASSERT_TRUE(outer.commit().ok());
  }
  EXPECT_EQ(values(*db), "1 3");
}

TEST(Db, OuterRollbackUndoesCommittedNestedWrites) {
  test::Sandbox sb;
  auto db = open_db(sb.path("s.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(v INTEGER)").ok());
  {
    Transaction outer(*db);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES(1)").ok());
    Transaction inner(*db);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES(2)").ok());
    ASSERT_TRUE(inner.commit().ok());
  }  // outer not committed
  EXPECT_FALSE(db->in_transaction());
  EXPECT_EQ(count(*db, "t"), 0);
}

TEST(Db, ImageReplacesAnotherDatabase) {
  test::Sandbox sb;
  auto a = open_db(sb.path("a.db"));
  auto b = open_db(sb.path("b.db"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES(1), (2), (3)").ok());
  ASSERT_TRUE(b->exec("CREATE TABLE other(x TEXT); INSERT INTO other VALUES('b')").ok());
  auto image = a->image();
  ASSERT_TRUE(image.ok()) << image.error().message;
  auto s = b->replace_with(*image);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(values(*b), "1 2 3");
  auto gone = b->exec("SELECT * FROM other");
  EXPECT_FALSE(gone.ok());  // b's own tables went with the rest
  // a is untouched and b is a database of its own now.
  ASSERT_TRUE(b->exec("INSERT INTO t VALUES(4)").ok());
  EXPECT_EQ(values(*a), "1 2 3");
  EXPECT_EQ(values(*b), "1 2 3 4");
}

TEST(Db, ReplacedDatabaseReopensAsReplaced) {
  test::Sandbox sb;
  auto a = open_db(sb.path("a.db"));
  auto b = open_db(sb.path("b.db"));
  ASSERT_TRUE(a && b);
  // Enough rows for several pages, part of them only in a's WAL yet.
  ASSERT_TRUE(a->exec("CREATE TABLE t(v INTEGER, pad BLOB)").ok());
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(
        a->exec("INSERT INTO t VALUES(" + std::to_string(i) + ", randomblob(1000))").ok());
  }
  ASSERT_TRUE(b->exec("CREATE TABLE t(v INTEGER, pad BLOB); INSERT INTO t VALUES(99, NULL)").ok());
  auto image = a->image();
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(b->replace_with(*image).ok());
  const std::string want = values(*a);
  b.reset();
  b = open_db(sb.path("b.db"));  // open() runs quick_check
  ASSERT_TRUE(b);
  EXPECT_EQ(values(*b), want);
  auto mode = b->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(*mode.step());
  EXPECT_EQ(mode.column_text(0), "wal");
}

TEST(Db, StatementsSurviveReplace) {
  test::Sandbox sb;
  auto a = open_db(sb.path("a.db"));
  auto b = open_db(sb.path("b.db"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES(7), (8)").ok());
  ASSERT_TRUE(b->exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES(1)").ok());
  auto sum = b->prepare("SELECT sum(v) FROM t");
  auto insert = b->prepare("INSERT INTO t VALUES(?)");
  ASSERT_TRUE(*sum.step());
  EXPECT_EQ(sum.column_int(0), 1);
  sum.reset();
  ASSERT_TRUE(b->replace_with(*a->image()).ok());
  ASSERT_TRUE(insert.bind(1, int64_t{10}).run().ok());
  ASSERT_TRUE(*sum.step());
  EXPECT_EQ(sum.column_int(0), 25);
}

TEST(Db, JunkImageIsRefusedAndChangesNothing) {
  test::Sandbox sb;
  auto db = open_db(sb.path("s.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES(1)").ok());
  auto good = db->image();
  ASSERT_TRUE(good.ok());
  std::string scrambled = *good;  // a sound header over damaged pages
  for (size_t i = 100; i < scrambled.size(); i += 7) scrambled[i] = static_cast<char>(i);
  for (const std::string& junk : {std::string(), std::string("hello"), std::string(8192, 'x'),
                                  good->substr(0, 100), scrambled}) {
    auto s = db->replace_with(junk);
    ASSERT_FALSE(s.ok()) << junk.size() << " bytes";
    EXPECT_EQ(s.error().code, "db_image");
    EXPECT_EQ(values(*db), "1");
  }
  db.reset();
  db = open_db(sb.path("s.db"));
  ASSERT_TRUE(db);
  EXPECT_EQ(values(*db), "1");
}

TEST(Db, NoReplaceInsideATransaction) {
  test::Sandbox sb;
  auto a = open_db(sb.path("a.db"));
  auto b = open_db(sb.path("b.db"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES(2)").ok());
  ASSERT_TRUE(b->exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES(1)").ok());
  auto image = a->image();
  ASSERT_TRUE(image.ok());
  Transaction tx(*b);
  EXPECT_FALSE(b->replace_with(*image).ok());
  EXPECT_EQ(values(*b), "1");
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
