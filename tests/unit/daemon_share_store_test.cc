// The shares table: round trip, reopen, state changes, damaged rows, and the
// file stamp that decides whether a shared file is still what was hashed.
#include "daemon/share_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "daemon/state.h"
#include "db.h"
#include "file_hasher.h"
#include "sandbox.h"
#include "state_file_probe.h"

namespace gs::daemon {
namespace {

ShareRecord make_record(test::Sandbox& sb, const std::string& name, const std::string& content) {
  const std::string path = sb.write(name, content);
  auto meta = hash_file(path, kMinPieceSize, 1);
  EXPECT_TRUE(meta.ok());
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  ShareRecord r;
  r.user = "alice";
  r.group = "g1";
  r.name = name;
  r.path = path;
  r.meta = *meta;
  r.stamp = FileStamp::of(st);
  return r;
}

TEST(ShareStore, RoundTripAndReopen) {
  test::Sandbox sb;
  const std::string db = sb.path("gsd.db");
  ShareRecord a = make_record(sb, "a.bin", std::string(40000, 'a'));
  ShareRecord b = make_record(sb, "b.bin", "");
  b.group = "g2";
  {
    auto store = ShareStore::open(db);
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->put(a).ok());
    ASSERT_TRUE((*store)->put(b).ok());
    auto all = (*store)->load_all();
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0], a);
    EXPECT_EQ((*all)[1], b);
  }
  auto store = ShareStore::open(db);  // reopen: nothing migrated twice, nothing lost
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->set_state("alice", "g1", "a.bin", ShareState::broken, "file is gone").ok());
  auto found = (*store)->find("alice", "g1", "a.bin");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->state, ShareState::broken);
  EXPECT_EQ(found->reason, "file is gone");
  EXPECT_EQ(found->meta, a.meta);
  EXPECT_FALSE((*store)->find("bob", "g1", "a.bin").has_value());

  // put() on the same (user, group, name) replaces the row and reactivates it.
  ShareRecord a2 = make_record(sb, "a.bin", std::string(70000, 'z'));
  ASSERT_TRUE((*store)->put(a2).ok());
  auto all = (*store)->load_all();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], a2);
}

TEST(ShareStore, LivesBesideState) {
  test::Sandbox sb;
  auto state = State::open(sb.path("st"));
  ASSERT_TRUE(state.ok()) << state.error().message;
  auto store = ShareStore::open((*state)->db_path());
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->put(make_record(sb, "x", "hello")).ok());
  EXPECT_TRUE((*state)->save_session({"alice", std::string(64, 'a')}).ok());
  auto all = (*store)->load_all();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST(ShareStore, DamagedRowsAreSkipped) {
  test::Sandbox sb;
  const std::string path = sb.path("gsd.db");
  ShareRecord good = make_record(sb, "good", "content");
  {
    auto store = ShareStore::open(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->put(good).ok());
  }
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    // A file id that does not match the hashes, a bad name, a relative path.
    ASSERT_TRUE((*db)->exec("INSERT INTO shares SELECT user, \"group\", 'bad-id', path, '" + std::string(64, '0') +
                            "', size, piece_size, hashes, dev, ino, mtime_ns, state, reason FROM shares")
                    .ok());
    ASSERT_TRUE((*db)->exec("INSERT INTO shares SELECT user, \"group\", '..', path, file_id, size, piece_size, "
                            "hashes, dev, ino, mtime_ns, state, reason FROM shares WHERE name = 'good'")
                    .ok());
    ASSERT_TRUE((*db)->exec("INSERT INTO shares SELECT user, \"group\", 'rel', 'x/y', file_id, size, piece_size, "
                            "hashes, dev, ino, mtime_ns, state, reason FROM shares WHERE name = 'good'")
                    .ok());
  }
  auto store = ShareStore::open(path);
  ASSERT_TRUE(store.ok());
  auto all = (*store)->load_all();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0], good);
}

TEST(ShareStore, NewerSchemaIsRefused) {
  test::Sandbox sb;
  const std::string path = sb.path("gsd.db");
  {
    auto store = ShareStore::open(path);
    ASSERT_TRUE(store.ok());
  }
  EXPECT_EQ(test::recorded_version(path, ShareStore::kSchemaComponent), ShareStore::kSchemaVersion);
  test::exec(path, "UPDATE schema_version SET version = 99 WHERE component = 'shares'");
  const std::string before = test::file_bytes(path);
  auto store = ShareStore::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("newer"), std::string::npos);
  EXPECT_EQ(test::file_bytes(path), before);
}

TEST(FileStamp, DetectsChangeAndRemoval) {
  test::Sandbox sb;
  const std::string path = sb.write("f", "0123456789");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const FileStamp stamp = FileStamp::of(st);
  EXPECT_TRUE(check_stamp(path, stamp).ok());

  // Same size, new mtime: what an in-place edit looks like.
  timespec times[2] = {{0, UTIME_OMIT}, {st.st_mtim.tv_sec + 5, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  auto changed = check_stamp(path, stamp);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().message, "file changed since it was shared");

  ASSERT_EQ(::unlink(path.c_str()), 0);
  auto gone = check_stamp(path, stamp);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().message, "file is gone");
}

// A link put in the file's place is refused even when it points at the very
// same file (a hard link of it elsewhere): it is never followed.
TEST(FileStamp, ALinkInTheFilesPlaceIsNeverFollowed) {
  test::Sandbox sb;
  const std::string path = sb.write("f", "0123456789");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const FileStamp stamp = FileStamp::of(st);
  const std::string elsewhere = sb.path("elsewhere");
  ASSERT_EQ(::link(path.c_str(), elsewhere.c_str()), 0);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), path.c_str()), 0);
  auto r = check_stamp(path, stamp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "file_changed");
  EXPECT_EQ(r.error().message, "file was replaced by a symbolic link");

  // By descriptor: the same file is the same file, another is not.
  const int same = ::open(elsewhere.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(same, 0);
  EXPECT_TRUE(check_stamp_fd(same, stamp).ok());
  ::close(same);
  const std::string other = sb.write("other", "0123456789");
  const int diff = ::open(other.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(diff, 0);
  auto r2 = check_stamp_fd(diff, stamp);
  ::close(diff);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().message, "file changed since it was shared");
}

}  // namespace
}  // namespace gs::daemon
