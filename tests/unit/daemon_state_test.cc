#include "daemon/state.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "db.h"
#include "sandbox.h"
#include "state_file_probe.h"

namespace gs::daemon {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DaemonState, SeatIsMadeOnceAndKept) {
  test::Sandbox sb;
  const std::string dir = sb.path("state/nested");
  std::string seat;
  {
    auto st = State::open(dir);
    ASSERT_TRUE(st.ok()) << st.error().message;
    seat = (*st)->seat();
    EXPECT_EQ(seat.size(), 32u);
    EXPECT_EQ(seat.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_FALSE((*st)->session().has_value());
  }
  auto again = State::open(dir);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->seat(), seat);

  test::Sandbox other;
  auto fresh = State::open(other.path("s"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE((*fresh)->seat(), seat);
}

TEST(DaemonState, DirectoryAndFileArePrivate) {
  test::Sandbox sb;
  const std::string dir = sb.path("s");
  auto st = State::open(dir);
  ASSERT_TRUE(st.ok());
  struct stat info {};
  ASSERT_EQ(stat(dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  ASSERT_EQ(stat((dir + "/gsd.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(DaemonState, SessionPersistsAcrossReopenAndClears) {
  test::Sandbox sb;
  const std::string dir = sb.path("s");
  const StoredSession alice{"alice", std::string(64, 'f')};
  {
    auto st = State::open(dir);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->save_session(alice).ok());
    EXPECT_EQ((*st)->session(), alice);
  }
  {
    auto st = State::open(dir);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->session().has_value());
    EXPECT_EQ(*(*st)->session(), alice);
    const StoredSession bob{"bob", "token-2"};
    ASSERT_TRUE((*st)->save_session(bob).ok());  // replaces: one session per seat
    EXPECT_EQ((*st)->session(), bob);
  }
  {
    auto st = State::open(dir);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ((*st)->session()->user, "bob");
    ASSERT_TRUE((*st)->clear_session().ok());
    EXPECT_FALSE((*st)->session().has_value());
  }
  auto st = State::open(dir);
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE((*st)->session().has_value());
}

TEST(DaemonState, NoPasswordInTheStateFiles) {
  // The state keeps the user and the token only; State has no way to take a
  // password at all. Check the bytes on disk anyway, WAL included.
  test::Sandbox sb;
  const std::string dir = sb.path("s");
  auto st = State::open(dir);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)->save_session({"alice", "tok-abc"}).ok());
  bool saw_user = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string bytes = slurp(entry.path().string());
    EXPECT_EQ(bytes.find("pw-secret"), std::string::npos) << entry.path();
    if (bytes.find("alice") != std::string::npos) saw_user = true;
  }
  EXPECT_TRUE(saw_user);  // the scan does see what is stored
}

TEST(DaemonState, OneDaemonPerDirectory) {
  test::Sandbox sb;
  const std::string dir = sb.path("s");
  auto first = State::open(dir);
  ASSERT_TRUE(first.ok());
  auto second = State::open(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "state_locked");
  EXPECT_NE(second.error().message.find("in use by another gsd"), std::string::npos);
  first->reset();
  EXPECT_TRUE(State::open(dir).ok());
}

TEST(DaemonState, DamagedFileIsAClearError) {
  test::Sandbox sb;
  const std::string dir = sb.path("s");
  std::filesystem::create_directories(dir);
  sb.write("s/gsd.db", std::string(8192, 'x'));
  auto st = State::open(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "db_damaged");
  EXPECT_NE(st.error().message.find(dir + "/gsd.db"), std::string::npos);
}

TEST(DaemonState, MalformedRowsAreAClearError) {
  test::Sandbox sb;
  const std::string dir = sb.path("s");
  {
    auto st = State::open(dir);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->save_session({"alice", "t"}).ok());
  }
  {
    auto db = Db::open(dir + "/gsd.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("UPDATE session SET user = 'bad name'").ok());
  }
  auto st = State::open(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("malformed session"), std::string::npos);
}

TEST(DaemonState, NewerSchemaIsRefused) {
  test::Sandbox sb;
  const std::string dir = sb.path("s");
  const std::string path = dir + "/gsd.db";
  { ASSERT_TRUE(State::open(dir).ok()); }
  EXPECT_EQ(test::recorded_version(path, State::kSchemaComponent), State::kSchemaVersion);
  test::exec(path, "UPDATE schema_version SET version = 99 WHERE component = 'state'");
  const std::string before = test::file_bytes(path);
  auto st = State::open(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("newer"), std::string::npos);
  EXPECT_EQ(test::file_bytes(path), before);
}

TEST(DaemonState, ReleaseFileAtAVersionAboveItsOwnIsRefused) {
  test::Sandbox sb;
  const std::string dir = sb.path("s");
  { ASSERT_TRUE(State::open(dir).ok()); }
  // As a file from before schema_version would say it: in user_version.
  test::exec(dir + "/gsd.db", "DROP TABLE schema_version; PRAGMA user_version = 99");
  auto st = State::open(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("schema version 99"), std::string::npos) << st.error().message;
}

TEST(DaemonState, ValidToken) {
  EXPECT_TRUE(valid_token("0123abcdef"));
  EXPECT_FALSE(valid_token(""));
  EXPECT_FALSE(valid_token("has space"));
  EXPECT_FALSE(valid_token("new\nline"));
  EXPECT_FALSE(valid_token(std::string(513, 'a')));
}

}  // namespace
}  // namespace gs::daemon
