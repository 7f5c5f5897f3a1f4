// lib/schema: one schema_version row per component, the steps it lacks run in
// one transaction with the version bump, a newer file refused untouched, and
// the old version markers read once and carried over.
#include "schema.h"

#include <gtest/gtest.h>

#include "db.h"
#include "sandbox.h"
#include "state_file_probe.h"

namespace gs {
namespace {

using test::file_bytes;
using test::has_table;
using test::recorded_version;
using test::user_version;

constexpr const char* kOneStep[] = {"CREATE TABLE a(x INTEGER)"};
constexpr const char* kTwoSteps[] = {"CREATE TABLE a(x INTEGER)",
                                     "ALTER TABLE a ADD COLUMN y INTEGER NOT NULL DEFAULT 7"};

Status migrate_file(const std::string& path, std::string_view component,
                    std::span<const char* const> steps, LegacyVersion legacy = nullptr) {
  auto db = Db::open(path);
  if (!db) return db.error();
  return migrate(**db, component, steps, legacy);
}

TEST(Schema, FreshFileGetsEveryStep) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  auto s = migrate_file(path, "c", kTwoSteps);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(recorded_version(path, "c"), 2);
  EXPECT_EQ(test::query_int(path, "SELECT count(*) FROM pragma_table_info('a')"),
            2);  // both steps ran
  EXPECT_EQ(user_version(path), kUserVersionMark);
}

TEST(Schema, AnAppendedStepIsAllThatRunsOnAnOlderFile) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  ASSERT_TRUE(migrate_file(path, "c", kOneStep).ok());
  test::exec(path, "INSERT INTO a(x) VALUES(42)");
  // Step 0 again would fail: table a exists.
  auto s = migrate_file(path, "c", kTwoSteps);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(recorded_version(path, "c"), 2);
  EXPECT_EQ(test::query_int(path, "SELECT y FROM a WHERE x = 42"), 7);
}

TEST(Schema, OpeningTwiceChangesNothing) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  ASSERT_TRUE(migrate_file(path, "c", kTwoSteps).ok());
  const std::string before = file_bytes(path);
  auto s = migrate_file(path, "c", kTwoSteps);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(file_bytes(path), before);
  EXPECT_EQ(recorded_version(path, "c"), 2);
}

TEST(Schema, ANewerFileIsRefusedAndLeftAsItWas) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  ASSERT_TRUE(migrate_file(path, "c", kTwoSteps).ok());
  const std::string before = file_bytes(path);
  auto s = migrate_file(path, "c", kOneStep);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "db_version");
  const std::string& msg = s.error().message;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("schema version 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("up to 1"), std::string::npos) << msg;
  EXPECT_EQ(file_bytes(path), before);
}

TEST(Schema, AFailingStepRollsBackEveryStepOfTheRun) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  ASSERT_TRUE(migrate_file(path, "c", kOneStep).ok());
  constexpr const char* kSteps[] = {"CREATE TABLE a(x INTEGER)", "CREATE TABLE b(y INTEGER)",
                                    "CREATE TABLE a(again INTEGER)"};
  auto s = migrate_file(path, "c", kSteps);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "db_migrate");
  EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("from schema version 2 to 3"), std::string::npos)
      << s.error().message;
  EXPECT_EQ(recorded_version(path, "c"), 1);
  EXPECT_FALSE(has_table(path, "b"));
}

TEST(Schema, AFailingFirstStepLeavesAFreshFileBlank) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  constexpr const char* kSteps[] = {"CREATE TABLE a(x INTEGER); CREATE TABLE a(x INTEGER)"};
  ASSERT_FALSE(migrate_file(path, "c", kSteps).ok());
  EXPECT_FALSE(has_table(path, "a"));
  EXPECT_FALSE(has_table(path, "schema_version"));
  EXPECT_EQ(user_version(path), 0);
}

TEST(Schema, ComponentsAreVersionedApart) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  constexpr const char* kOther[] = {"CREATE TABLE b(y INTEGER)"};
  ASSERT_TRUE(migrate_file(path, "one", kOneStep).ok());
  ASSERT_TRUE(migrate_file(path, "two", kOther).ok());
  ASSERT_TRUE(migrate_file(path, "one", kTwoSteps).ok());
  EXPECT_EQ(recorded_version(path, "one"), 2);
  EXPECT_EQ(recorded_version(path, "two"), 1);
}

// A marker of the kind releases before schema_version kept: a table of its own.
int legacy_reads = 0;
Result<int64_t> take_old_marker(Db& db) {
  ++legacy_reads;
  auto exists = has_table(db, "old_marker");
  if (!exists) return exists.error();
  if (!*exists) return int64_t{0};
  int64_t v = 0;
  {
    auto q = db.prepare("SELECT v FROM old_marker");
    auto row = q.step();
    if (!row) return row.error();
    if (*row) v = q.column_int(0);
  }
  if (auto s = db.exec("DROP TABLE old_marker"); !s) return s.error();
  return v;
}

TEST(Schema, AnOldMarkerIsReadOnceAndCarriedOver) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  test::exec(
      path,
      "CREATE TABLE a(x INTEGER); INSERT INTO a VALUES(5); CREATE TABLE old_marker(v INTEGER);"
      "INSERT INTO old_marker VALUES(1)");
  legacy_reads = 0;
  auto s = migrate_file(path, "c", kTwoSteps, take_old_marker);  // step 0 again would fail
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(legacy_reads, 1);
  EXPECT_EQ(recorded_version(path, "c"), 2);
  EXPECT_FALSE(has_table(path, "old_marker"));
  EXPECT_EQ(test::query_int(path, "SELECT y FROM a WHERE x = 5"), 7);

  ASSERT_TRUE(migrate_file(path, "c", kTwoSteps, take_old_marker).ok());
  EXPECT_EQ(legacy_reads, 1);  // the row decides from now on
}

TEST(Schema, AFailedUpgradeKeepsTheOldMarker) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  test::exec(path,
             "CREATE TABLE a(x INTEGER); CREATE TABLE old_marker(v INTEGER); INSERT INTO "
             "old_marker VALUES(1)");
  constexpr const char* kSteps[] = {"CREATE TABLE a(x INTEGER)", "CREATE TABLE a(again INTEGER)"};
  ASSERT_FALSE(migrate_file(path, "c", kSteps, take_old_marker).ok());
  EXPECT_TRUE(has_table(path, "old_marker"));
  EXPECT_EQ(recorded_version(path, "c"), std::nullopt);
}

TEST(Schema, AnOldMarkerNewerThanTheCodeIsRefused) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  test::exec(path, "CREATE TABLE old_marker(v INTEGER); INSERT INTO old_marker VALUES(3)");
  const std::string before = file_bytes(path);
  auto s = migrate_file(path, "c", kTwoSteps, take_old_marker);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "db_version");
  EXPECT_EQ(file_bytes(path), before);
}

TEST(Schema, ANegativeVersionIsDamage) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  ASSERT_TRUE(migrate_file(path, "c", kOneStep).ok());
  test::exec(path, "UPDATE schema_version SET version = -1");
  auto s = migrate_file(path, "c", kOneStep);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "db_damaged");
}

TEST(Schema, UserVersionIsTakenOverByItsComponent) {
  test::Sandbox sb;
  const std::string path = sb.path("s.db");
  test::exec(path, "CREATE TABLE a(x INTEGER); PRAGMA user_version = 1");
  // Another component first: the old user_version is not its to take.
  constexpr const char* kOther[] = {"CREATE TABLE b(y INTEGER)"};
  ASSERT_TRUE(migrate_file(path, "other", kOther).ok());
  EXPECT_EQ(user_version(path), 1);
  auto s = migrate_file(path, "c", kTwoSteps, take_legacy_user_version);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(recorded_version(path, "c"), 2);
  EXPECT_EQ(user_version(path), kUserVersionMark);
  // The mark is no old version: a component that has not run yet starts at 0.
  auto fresh = migrate_file(path, "late", kOther, take_legacy_user_version);
  EXPECT_FALSE(fresh.ok());  // its step 0 ran: table b exists
  EXPECT_EQ(fresh.error().code, "db_migrate");
}

}  // namespace
}  // namespace gs
