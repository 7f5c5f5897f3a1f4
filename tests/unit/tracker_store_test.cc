#include "tracker/store.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "db.h"
#include "sandbox.h"
#include "schema.h"
#include "state_file_probe.h"
#include "tracker_store_writes.h"

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
  for (const char* u : {"alice", "bob", "carol", "dave"}) ASSERT_TRUE(*writes::add_user(st, u, "h", kNow));
  ASSERT_TRUE(*writes::add_group(st, "g", "alice", kNow));
  for (const auto& m : members) {
    ASSERT_TRUE(writes::add_request(st, "g", m, kNow).ok());
    ASSERT_TRUE(*writes::accept_request(st, "g", m, kNow));
  }
}

TEST(TrackerStore, UsersAreUnique) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  EXPECT_TRUE(*writes::add_user(*st, "alice", "hash1", kNow));
  EXPECT_FALSE(*writes::add_user(*st, "alice", "hash2", kNow));
  EXPECT_EQ(st->password_hash("alice")->value(), "hash1");
  EXPECT_FALSE(st->password_hash("bob")->has_value());
}

TEST(TrackerStore, OneSessionPerUser) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  ASSERT_TRUE(*writes::add_user(*st, "alice", "h", kNow));
  ASSERT_TRUE(writes::replace_session(*st, {"t1", "alice", "seat1", kNow}).ok());
  ASSERT_TRUE(writes::replace_session(*st, {"t2", "alice", "seat2", kNow}).ok());
  EXPECT_FALSE(st->session_by_token("t1")->has_value());
  auto s = st->session_of_user("alice");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->token_hash, "t2");
  EXPECT_EQ((*s)->seat, "seat2");
  ASSERT_TRUE(writes::delete_session(*st, "t2").ok());
  EXPECT_FALSE(st->session_of_user("alice")->has_value());
  EXPECT_TRUE(writes::delete_session(*st, "unknown").ok());
}

TEST(TrackerStore, GroupsRequestsAndMembers) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {});
  EXPECT_FALSE(*writes::add_group(*st, "g", "bob", kNow));
  EXPECT_EQ(st->group_owner("g")->value(), "alice");
  EXPECT_FALSE(st->group_owner("h")->has_value());
  EXPECT_TRUE(*st->is_member("g", "alice"));
  EXPECT_FALSE(*st->is_member("g", "bob"));

  ASSERT_TRUE(writes::add_request(*st, "g", "carol", kNow).ok());
  ASSERT_TRUE(writes::add_request(*st, "g", "bob", kNow).ok());
  EXPECT_TRUE(*st->has_request("g", "bob"));
  EXPECT_EQ(*st->requests("g"), (std::vector<std::string>{"carol", "bob"}));  // oldest first
  EXPECT_TRUE(*writes::accept_request(*st, "g", "bob", kNow));
  EXPECT_FALSE(*writes::accept_request(*st, "g", "bob", kNow));
  EXPECT_TRUE(*st->is_member("g", "bob"));
  EXPECT_FALSE(*st->has_request("g", "bob"));
  EXPECT_TRUE(*writes::reject_request(*st, "g", "carol"));
  EXPECT_FALSE(*writes::reject_request(*st, "g", "carol"));
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
  auto out = writes::leave_group(*st, "g", "alice");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->deleted);
  EXPECT_EQ(out->new_owner, "carol");
  EXPECT_EQ(st->group_owner("g")->value(), "carol");
  // A member who is not the owner leaves: nothing else changes.
  out = writes::leave_group(*st, "g", "bob");
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
  ASSERT_TRUE(writes::leave_group(*st, "g", "bob").ok());
  ASSERT_TRUE(writes::add_request(*st, "g", "bob", kNow).ok());
  ASSERT_TRUE(*writes::accept_request(*st, "g", "bob", kNow));
  EXPECT_EQ(writes::leave_group(*st, "g", "alice")->new_owner, "carol");
}

TEST(TrackerStore, LastMemberLeavingDeletesTheGroupAndItsRequests) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {});
  ASSERT_TRUE(writes::add_request(*st, "g", "bob", kNow).ok());
  auto out = writes::leave_group(*st, "g", "alice");
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->deleted);
  EXPECT_FALSE(out->new_owner);
  EXPECT_FALSE(st->group_owner("g")->has_value());
  EXPECT_TRUE(st->list_groups()->empty());
  // The name is free again, with no stale request or member.
  ASSERT_TRUE(*writes::add_group(*st, "g", "carol", kNow));
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
    ASSERT_TRUE(writes::add_request(*st, "g", "carol", kNow).ok());
    ASSERT_TRUE(writes::replace_session(*st, {"t1", "alice", "seat1", kNow}).ok());
  }
  auto st = open_store(path);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->password_hash("alice")->value(), "h");
  EXPECT_EQ(st->session_by_token("t1")->value().user, "alice");
  EXPECT_EQ(st->group_owner("g")->value(), "alice");
  EXPECT_TRUE(*st->is_member("g", "bob"));
  EXPECT_EQ(*st->requests("g"), std::vector<std::string>{"carol"});
  // Order of acceptance survives too.
  ASSERT_TRUE(writes::add_request(*st, "g", "dave", kNow).ok());
  ASSERT_TRUE(*writes::accept_request(*st, "g", "dave", kNow));
  EXPECT_EQ(writes::leave_group(*st, "g", "alice")->new_owner, "bob");
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
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(*writes::add_user(*st, "user" + std::to_string(i), std::string(200, 'h'), kNow));
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
  { ASSERT_TRUE(open_store(path)); }
  EXPECT_EQ(test::recorded_version(path, Store::kSchemaComponent), Store::kSchemaVersion);
  test::exec(path, "UPDATE schema_version SET version = 99 WHERE component = 'tracker'");
  const std::string before = test::file_bytes(path);
  auto st = Store::open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("newer release"), std::string::npos) << st.error().message;
  EXPECT_EQ(test::file_bytes(path), before);
}

TEST(TrackerStore, ReleaseFileAtAVersionAboveItsOwnIsRefused) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  // As a file from before schema_version would say it: in user_version.
  test::exec(path, "PRAGMA user_version = 99");
  auto st = Store::open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("schema version 99"), std::string::npos) << st.error().message;
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

// --- file catalogue ----------------------------------------------------------

// A catalogue record; the store takes metadata as given (the service checks
// it), so these need not be consistent.
FileRecord file_rec(const std::string& name, const std::string& id, const std::string& group = "g") {
  return FileRecord{group, name, std::string(64, id.at(0)), 1000, 16384, std::string(64, 'e'), 0};
}

TEST(TrackerStore, ShareListAndLookUpFiles) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {"bob"});
  ASSERT_TRUE(*writes::share_file(*st, file_rec("b.iso", "1"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("a.txt", "2"), "alice", kNow + 1));
  auto f = st->file("g", "b.iso");
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->group, "g");
  EXPECT_EQ((*f)->name, "b.iso");
  EXPECT_EQ((*f)->file_id, std::string(64, '1'));
  EXPECT_EQ((*f)->size, 1000);
  EXPECT_EQ((*f)->piece_size, 16384);
  EXPECT_EQ((*f)->hashes, std::string(64, 'e'));
  EXPECT_EQ((*f)->created, kNow);
  EXPECT_FALSE(st->file("g", "c")->has_value());
  EXPECT_FALSE(st->file("h", "b.iso")->has_value());

  auto all = st->files("g");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);  // by name
  EXPECT_EQ((*all)[0].name, "a.txt");
  EXPECT_EQ((*all)[1].name, "b.iso");
  EXPECT_EQ((*all)[1].file_id, std::string(64, '1'));
  EXPECT_EQ((*all)[1].size, 1000);
  EXPECT_TRUE(st->files("h")->empty());
  EXPECT_TRUE(*st->has_file_id("g", std::string(64, '1')));
  EXPECT_FALSE(*st->has_file_id("g", std::string(64, '3')));
  EXPECT_FALSE(*st->has_file_id("h", std::string(64, '1')));
}

TEST(TrackerStore, SameContentAddsASharerOtherContentIsRefused) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {"bob", "carol"});
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "bob", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "bob", kNow));  // again: no-op
  EXPECT_FALSE(*writes::share_file(*st, file_rec("x", "2"), "carol", kNow));
  EXPECT_EQ(*st->sharers("g", "x"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(st->file("g", "x")->value().file_id, std::string(64, '1'));
  EXPECT_TRUE(*st->is_sharer("g", "x", "bob"));
  EXPECT_FALSE(*st->is_sharer("g", "x", "carol"));
  // The same content under another name is another catalogue entry.
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x-copy", "1"), "carol", kNow));
  EXPECT_TRUE(*st->shares_file_id("g", "carol", std::string(64, '1')));
  EXPECT_FALSE(*st->shares_file_id("g", "carol", std::string(64, '2')));
  EXPECT_EQ(st->files("g")->size(), 2u);
}

TEST(TrackerStore, StopShareRemovesTheFileWithItsLastSharer) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {"bob"});
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "bob", kNow));
  auto out = writes::stop_share(*st, "g", "x", "alice");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->file_removed);
  EXPECT_FALSE(out->file_id_gone);
  EXPECT_FALSE(out->still_shares_id);
  EXPECT_EQ(*st->sharers("g", "x"), std::vector<std::string>{"bob"});
  out = writes::stop_share(*st, "g", "x", "alice");  // not sharing: nothing happens
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->file_removed);
  EXPECT_TRUE(st->file("g", "x")->has_value());
  out = writes::stop_share(*st, "g", "x", "bob");
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->file_removed);
  EXPECT_TRUE(out->file_id_gone);
  EXPECT_FALSE(st->file("g", "x")->has_value());
  EXPECT_TRUE(st->sharers("g", "x")->empty());
  EXPECT_FALSE(writes::stop_share(*st, "g", "x", "bob")->file_removed);  // no such file: nothing happens
  // The name is free for other content now.
  EXPECT_TRUE(*writes::share_file(*st, file_rec("x", "2"), "bob", kNow));
}

TEST(TrackerStore, StopShareSaysWhetherTheContentStaysUnderAnotherName) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {"bob"});
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x-copy", "1"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x-bob", "1"), "bob", kNow));
  auto out = writes::stop_share(*st, "g", "x", "alice");
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->file_removed);
  EXPECT_FALSE(out->file_id_gone);
  EXPECT_TRUE(out->still_shares_id);
  out = writes::stop_share(*st, "g", "x-copy", "alice");
  EXPECT_TRUE(out->file_removed);
  EXPECT_FALSE(out->file_id_gone);  // bob's name for it remains
  EXPECT_FALSE(out->still_shares_id);
  out = writes::stop_share(*st, "g", "x-bob", "bob");
  EXPECT_TRUE(out->file_id_gone);
}

TEST(TrackerStore, LeavingAGroupEndsTheLeaversShares) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {"bob"});
  ASSERT_TRUE(*writes::share_file(*st, file_rec("both", "1"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("both", "1"), "bob", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("mine", "2"), "bob", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("mine-too", "2"), "bob", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("hers", "3"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("copy-of-hers", "3"), "bob", kNow));
  auto out = writes::leave_group(*st, "g", "bob");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->deleted);
  // Once, though two names went; not 3, whose content "hers" still has.
  EXPECT_EQ(out->removed_file_ids, std::vector<std::string>{std::string(64, '2')});
  EXPECT_FALSE(st->file("g", "copy-of-hers")->has_value());
  EXPECT_EQ(*st->sharers("g", "both"), std::vector<std::string>{"alice"});
  EXPECT_FALSE(st->file("g", "mine")->has_value());
  EXPECT_FALSE(st->file("g", "mine-too")->has_value());
  EXPECT_TRUE(st->file("g", "hers")->has_value());
  EXPECT_EQ(st->files("g")->size(), 2u);
}

TEST(TrackerStore, DeletingAGroupDeletesItsCatalogue) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  auto st = open_store(path);
  ASSERT_TRUE(st);
  seed(*st, {});
  ASSERT_TRUE(*writes::add_group(*st, "other", "bob", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("y", "2"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1", "other"), "bob", kNow));
  auto out = writes::leave_group(*st, "g", "alice");
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->deleted);
  EXPECT_EQ(out->removed_file_ids, (std::vector<std::string>{std::string(64, '1'), std::string(64, '2')}));
  EXPECT_TRUE(st->files("g")->empty());
  EXPECT_TRUE(st->sharers("g", "x")->empty());
  // Another group's catalogue is untouched.
  EXPECT_EQ(*st->sharers("other", "x"), std::vector<std::string>{"bob"});
  // No row of the old group is left behind, not even an orphan sharer.
  st.reset();
  auto db = Db::open(path);
  ASSERT_TRUE(db.ok());
  auto count = (*db)->prepare("SELECT (SELECT count(*) FROM files WHERE group_name = 'g') + "
                              "(SELECT count(*) FROM sharers WHERE group_name = 'g')");
  ASSERT_TRUE(*count.step());
  EXPECT_EQ(count.column_int(0), 0);
}

TEST(TrackerStore, CatalogueSurvivesReopen) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  {
    auto st = open_store(path);
    ASSERT_TRUE(st);
    seed(*st, {"bob"});
    ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "alice", kNow));
    ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "bob", kNow));
  }
  auto st = open_store(path);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st->sharers("g", "x"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(st->file("g", "x")->value().hashes, std::string(64, 'e'));
}

TEST(TrackerStore, FileNamesAreBytesNotCaseFolded) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {});
  const std::string odd = "Caf\xc3\xa9 \x1b[31m.txt";
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec("X", "2"), "alice", kNow));
  ASSERT_TRUE(*writes::share_file(*st, file_rec(odd, "3"), "alice", kNow));
  EXPECT_EQ(st->file("g", "X")->value().file_id, std::string(64, '2'));
  EXPECT_EQ(st->file("g", odd)->value().name, odd);
}

// The schema of version 1, as the first gs-tracker wrote it.
constexpr const char* kSchemaV1ByHand = R"sql(
CREATE TABLE users(name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE groups(name TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES users(name), created INTEGER NOT NULL);
CREATE TABLE members(seq INTEGER PRIMARY KEY AUTOINCREMENT,
  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
  user TEXT NOT NULL REFERENCES users(name), joined INTEGER NOT NULL, UNIQUE(group_name, user));
CREATE TABLE requests(seq INTEGER PRIMARY KEY AUTOINCREMENT,
  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
  user TEXT NOT NULL REFERENCES users(name), created INTEGER NOT NULL, UNIQUE(group_name, user));
CREATE TABLE sessions(token_hash TEXT PRIMARY KEY, user TEXT NOT NULL UNIQUE REFERENCES users(name),
  seat TEXT NOT NULL, created INTEGER NOT NULL);
INSERT INTO users VALUES('alice', 'h', 1), ('bob', 'h', 1);
INSERT INTO groups VALUES('g', 'alice', 1);
INSERT INTO members(group_name, user, joined) VALUES('g', 'alice', 1), ('g', 'bob', 2);
INSERT INTO requests(group_name, user, created) VALUES('g', 'bob', 3);
INSERT INTO sessions VALUES('t1', 'alice', 'seat1', 4);
PRAGMA user_version = 1;
)sql";

TEST(TrackerStore, AVersion1FileIsUpgradedKeepingEverything) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec(kSchemaV1ByHand).ok());
  }
  {
    auto st = open_store(path);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->password_hash("bob")->value(), "h");
    EXPECT_EQ(st->session_by_token("t1")->value().seat, "seat1");
    EXPECT_TRUE(*st->is_member("g", "bob"));
    EXPECT_TRUE(*st->has_request("g", "bob"));
    EXPECT_TRUE(st->files("g")->empty());
    ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "bob", kNow));
    EXPECT_EQ(writes::leave_group(*st, "g", "alice")->new_owner, "bob");  // seq order survived
  }
  EXPECT_EQ(test::recorded_version(path, Store::kSchemaComponent), Store::kSchemaVersion);
  EXPECT_EQ(test::user_version(path), kUserVersionMark);
  // Reopening the upgraded file is a plain open.
  auto st = open_store(path);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st->sharers("g", "x"), std::vector<std::string>{"bob"});
  // The upgraded file deletes a group's catalogue with the group, as a new one does.
  auto out = writes::leave_group(*st, "g", "bob");
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->deleted);
  EXPECT_FALSE(st->file("g", "x")->has_value());
}

TEST(TrackerStore, AFailedUpgradeLeavesTheFileAsItWas) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec(kSchemaV1ByHand).ok());
    // Something in the way of the version 2 tables.
    ASSERT_TRUE((*db)->exec("CREATE TABLE files(x INTEGER)").ok());
  }
  auto st = Store::open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot upgrade"), std::string::npos) << st.error().message;
  EXPECT_EQ(test::user_version(path), 1);
  EXPECT_EQ(test::recorded_version(path, Store::kSchemaComponent), std::nullopt);
}

TEST(TrackerStore, TamperedCatalogueTablesAreAnErrorNotAnAbort) {
  test::Sandbox sb;
  const std::string path = sb.path("tracker.db");
  { ASSERT_TRUE(open_store(path)); }
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("DROP TABLE sharers; CREATE TABLE sharers(x INTEGER)").ok());
  }
  auto st = Store::open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("move it aside"), std::string::npos);
}

// --- what every look-up reads ------------------------------------------------

TEST(TrackerStore, MembershipIsOwnerAndMemberInOne) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {"bob"});
  EXPECT_FALSE(st->membership("nope", "alice")->has_value());
  const auto of = [&](const std::string& user) { return st->membership("g", user)->value(); };
  EXPECT_EQ(of("alice").owner, "alice");
  EXPECT_TRUE(of("alice").member);
  EXPECT_TRUE(of("bob").member);
  EXPECT_EQ(of("carol").owner, "alice");
  EXPECT_FALSE(of("carol").member);
  EXPECT_FALSE(of("nobody").member);
}

// session_by_token(), membership() and file() answer from memory after the
// first time; each kind of write must show in what they say next.
TEST(TrackerStore, RememberedReadsFollowEveryWrite) {
  test::Sandbox sb;
  auto st = open_store(sb.path("tracker.db"));
  ASSERT_TRUE(st);
  seed(*st, {"bob"});

  EXPECT_FALSE(st->session_by_token("t1")->has_value());
  ASSERT_TRUE(writes::replace_session(*st, {"t1", "alice", "seat1", kNow}).ok());
  EXPECT_EQ(st->session_by_token("t1")->value().user, "alice");
  ASSERT_TRUE(writes::replace_session(*st, {"t2", "alice", "seat2", kNow}).ok());
  EXPECT_FALSE(st->session_by_token("t1")->has_value());
  EXPECT_EQ(st->session_by_token("t2")->value().seat, "seat2");
  ASSERT_TRUE(writes::delete_session(*st, "t2").ok());
  EXPECT_FALSE(st->session_by_token("t2")->has_value());

  EXPECT_FALSE(st->membership("g", "carol")->value().member);
  ASSERT_TRUE(writes::add_request(*st, "g", "carol", kNow).ok());
  ASSERT_TRUE(*writes::accept_request(*st, "g", "carol", kNow));
  EXPECT_TRUE(st->membership("g", "carol")->value().member);
  EXPECT_EQ(st->membership("g", "bob")->value().owner, "alice");
  ASSERT_TRUE(writes::leave_group(*st, "g", "alice").ok());
  EXPECT_FALSE(st->membership("g", "alice")->value().member);
  EXPECT_EQ(st->membership("g", "bob")->value().owner, "bob");

  EXPECT_FALSE(st->file("g", "x")->has_value());
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "1"), "bob", kNow));
  EXPECT_EQ(st->file("g", "x")->value().file_id, std::string(64, '1'));
  ASSERT_TRUE(writes::stop_share(*st, "g", "x", "bob").ok());
  EXPECT_FALSE(st->file("g", "x")->has_value());
  ASSERT_TRUE(*writes::share_file(*st, file_rec("x", "2"), "bob", kNow));
  EXPECT_EQ(st->file("g", "x")->value().file_id, std::string(64, '2'));

  // The last members leave: group and catalogue go.
  ASSERT_TRUE(writes::leave_group(*st, "g", "bob").ok());
  ASSERT_TRUE(writes::leave_group(*st, "g", "carol").ok());
  EXPECT_FALSE(st->membership("g", "carol")->has_value());
  EXPECT_FALSE(st->file("g", "x")->has_value());
  ASSERT_TRUE(*writes::add_group(*st, "g", "dave", kNow));
  EXPECT_EQ(st->membership("g", "dave")->value().owner, "dave");
  EXPECT_TRUE(st->membership("g", "dave")->value().member);
}

}  // namespace
}  // namespace gs::tracker
