#include "tracker/store.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "db.h"
#include "sandbox.h"

namespace gs::tracker {
namespace {

constexpr int64_t kNow = 1700000000;

std::unique_ptr<Store> open_store(const std::string& path) {
  auto s = Store::open(path);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? std::move(*s) : nullptr;
}

// Users, a group "g" owned by alice, and the given members accepted in order.
void seed(Store& st, const std::vector<std::string>& members) {
  for (const char* u : {"alice", "bob", "carol", "dave"}) ASSERT_TRUE(*st.add_user(u, "h", kNow));
  ASSERT_TRUE(*st.add_group("g", "alice", kNow));
  for (const auto& m : members) {
    ASSERT_TRUE(st.add_request("g", m, kNow).ok());
    ASSERT_TRUE(*st.accept_request("g", m, kNow));
  }
}

TEST(TrackerStore, UsersAreUnique) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  EXPECT_TRUE(*st->add_user("alice", "hash1", kNow));
  EXPECT_FALSE(*st->add_user("alice", "hash2", kNow));
  EXPECT_EQ(st->password_hash("alice")->value(), "hash1");
  EXPECT_FALSE(st->password_hash("bob")->has_value());
}

TEST(TrackerStore, OneSessionPerUser) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  ASSERT_TRUE(*st->add_user("alice", "h", kNow));
  ASSERT_TRUE(st->replace_session({"t1", "alice", "seat1", kNow}).ok());
  ASSERT_TRUE(st->replace_session({"t2", "alice", "seat2", kNow}).ok());
  EXPECT_FALSE(st->session_by_token("t1")->has_value());
  auto s = st->session_of_user("alice");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->token_hash, "t2");
  EXPECT_EQ((*s)->seat, "seat2");
  ASSERT_TRUE(st->delete_session("t2").ok());
  EXPECT_FALSE(st->session_of_user("alice")->has_value());
  EXPECT_TRUE(st->delete_session("unknown").ok());
}

TEST(TrackerStore, GroupsRequestsAndMembers) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {});
  EXPECT_FALSE(*st->add_group("g", "bob", kNow));
  EXPECT_EQ(st->group_owner("g")->value(), "alice");
  EXPECT_FALSE(st->group_owner("h")->has_value());
  EXPECT_TRUE(*st->is_member("g", "alice"));
  EXPECT_FALSE(*st->is_member("g", "bob"));

  ASSERT_TRUE(st->add_request("g", "carol", kNow).ok());
  ASSERT_TRUE(st->add_request("g", "bob", kNow).ok());
  EXPECT_TRUE(*st->has_request("g", "bob"));
  EXPECT_EQ(*st->requests("g"), (std::vector<std::string>{"carol", "bob"}));  // oldest first
  EXPECT_TRUE(*st->accept_request("g", "bob", kNow));
  EXPECT_FALSE(*st->accept_request("g", "bob", kNow));
  EXPECT_TRUE(*st->is_member("g", "bob"));
  EXPECT_FALSE(*st->has_request("g", "bob"));
  EXPECT_TRUE(*st->reject_request("g", "carol"));
  EXPECT_FALSE(*st->reject_request("g", "carol"));
  EXPECT_TRUE(st->requests("g")->empty());

  auto groups = st->list_groups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].group, "g");
  EXPECT_EQ((*groups)[0].owner, "alice");
  EXPECT_EQ((*groups)[0].members, 2);
}

TEST(TrackerStore, OwnerLeavingHandsOverToTheEarliestAccepted) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {"carol", "bob"});
  auto out = st->leave_group("g", "alice");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->deleted);
  EXPECT_EQ(out->new_owner, "carol");
  EXPECT_EQ(st->group_owner("g")->value(), "carol");
  // A member who is not the owner leaves: nothing else changes.
  out = st->leave_group("g", "bob");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->deleted);
  EXPECT_FALSE(out->new_owner);
  EXPECT_EQ(st->group_owner("g")->value(), "carol");
}

TEST(TrackerStore, ALaterMemberDoesNotJumpTheQueueAfterRejoining) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {"bob", "carol"});
  ASSERT_TRUE(st->leave_group("g", "bob").ok());
  ASSERT_TRUE(st->add_request("g", "bob", kNow).ok());
  ASSERT_TRUE(*st->accept_request("g", "bob", kNow));
  EXPECT_EQ(st->leave_group("g", "alice")->new_owner, "carol");
}

TEST(TrackerStore, LastMemberLeavingDeletesTheGroupAndItsRequests) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {});
  ASSERT_TRUE(st->add_request("g", "bob", kNow).ok());
  auto out = st->leave_group("g", "alice");
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->deleted);
  EXPECT_FALSE(out->new_owner);
  EXPECT_FALSE(st->group_owner("g")->has_value());
  EXPECT_TRUE(st->list_groups()->empty());
  // The name is free again, with no stale request or member.
  ASSERT_TRUE(*st->add_group("g", "carol", kNow));
  EXPECT_TRUE(st->requests("g")->empty());
  EXPECT_FALSE(*st->has_request("g", "bob"));
  EXPECT_FALSE(*st->is_member("g", "alice"));
  EXPECT_EQ(st->list_groups()->at(0).members, 1);
}

TEST(TrackerStore, ReopenKeepsEverything) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  {
    auto st = open_store(path);
    ASSERT_TRUE(st);
    seed(*st, {"bob"});
    ASSERT_TRUE(st->add_request("g", "carol", kNow).ok());
    ASSERT_TRUE(st->replace_session({"t1", "alice", "seat1", kNow}).ok());
  }
  auto st = open_store(path);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->password_hash("alice")->value(), "h");
  EXPECT_EQ(st->session_by_token("t1")->value().user, "alice");
  EXPECT_EQ(st->group_owner("g")->value(), "alice");
  EXPECT_TRUE(*st->is_member("g", "bob"));
  EXPECT_EQ(*st->requests("g"), std::vector<std::string>{"carol"});
  // Order of acceptance survives too.
  ASSERT_TRUE(st->add_request("g", "dave", kNow).ok());
  ASSERT_TRUE(*st->accept_request("g", "dave", kNow));
  EXPECT_EQ(st->leave_group("g", "alice")->new_owner, "bob");
}

TEST(TrackerStore, GarbageFileIsAnErrorNotACrash) {
  test::Sandbox sb;
  const std::string path = sb.write("tracker.db", std::string(10000, '\x5a'));
  auto st = Store::open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(path), std::string::npos);
}

TEST(TrackerStore, TruncatedFileIsAnErrorNotACrash) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  {
    auto st = open_store(path);
    ASSERT_TRUE(st);
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(*st->add_user("user" + std::to_string(i), std::string(200, 'h'), kNow));
  }
  std::filesystem::resize_file(path, 4096 * 2);
  auto st = Store::open(path);
  EXPECT_FALSE(st.ok());
}

TEST(TrackerStore, AnotherProgramsDatabaseIsRefused) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("CREATE TABLE songs(title TEXT)").ok());
  }
  auto st = Store::open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not a gs-tracker state file"), std::string::npos);
}

TEST(TrackerStore, NewerSchemaIsRefused) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("PRAGMA user_version = 99").ok());
  }
  auto st = Store::open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("newer gs-tracker"), std::string::npos);
}

TEST(TrackerStore, TamperedTablesAreAnErrorNotAnAbort) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  { ASSERT_TRUE(open_store(path)); }
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("DROP TABLE sessions; CREATE TABLE sessions(x INTEGER)").ok());
  }
  auto st = Store::open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("move it aside"), std::string::npos);
}

}  // namespace
}  // namespace gs::tracker
