// The state files a released build wrote (tests/assets/release-*.db, see the
// README there) open with this build: their old version markers are carried
// into schema_version and removed, every row is still there, and opening
// them again changes nothing.
#include <gtest/gtest.h>

#include <filesystem>

#include "daemon/download_store.h"
#include "daemon/share_store.h"
#include "daemon/state.h"
#include "sandbox.h"
#include "schema.h"
#include "state_file_probe.h"
#include "tracker/store.h"

namespace gs {
namespace {

using daemon::DownloadStore;
using daemon::ShareState;
using daemon::ShareStore;
using daemon::State;

// A copy: opening a file in WAL mode writes next to it, and upgrading it writes in it.
std::string copy_asset(const test::Sandbox& sb, const std::string& asset, const std::string& to) {
  const std::string path = sb.path(to);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::filesystem::copy_file(std::string(GS_TEST_ASSETS) + "/" + asset, path);
  return path;
}

constexpr const char* kBobSeat = "308af5151a3eceac9c47350030bd3674";
constexpr const char* kAFileId = "fd6744d5f9dc83546b180129edd7025ffa6d242200dd2c4bb00706d3860a3bb9";
constexpr const char* kBFileId = "e53e6de8e2bdf0e6d735608ebd6b7b0a63658c45d28276f9c10cfa51f1dfb141";

// Everything bob's gsd.db held when the release wrote it.
void expect_bobs_state(const std::string& dir) {
  const std::string path = dir + "/gsd.db";
  auto state = State::open(dir);
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ((*state)->seat(), kBobSeat);
  ASSERT_TRUE((*state)->session().has_value());
  EXPECT_EQ((*state)->session()->user, "bob");
  EXPECT_EQ((*state)->session()->token,
            "b3ebe0918c29b9f9620444046ff80b6ee7fe2226b21cb46bbb89c50cf5c1880b");

  auto shares = ShareStore::open(path);
  ASSERT_TRUE(shares.ok()) << shares.error().message;
  auto all_shares = (*shares)->load_all();
  ASSERT_TRUE(all_shares.ok());
  ASSERT_EQ(all_shares->size(), 2u);
  EXPECT_EQ((*all_shares)[0].name, "b.bin");
  EXPECT_EQ((*all_shares)[0].meta.file_id_hex(), kBFileId);
  EXPECT_EQ((*all_shares)[0].meta.size, 1100u);
  EXPECT_EQ((*all_shares)[1].name, "a-copy.bin");
  EXPECT_EQ((*all_shares)[1].meta.file_id_hex(), kAFileId);
  for (const auto& s : *all_shares) {
    EXPECT_EQ(s.user, "bob");
    EXPECT_EQ(s.group, "g");
    EXPECT_EQ(s.state, ShareState::active);
  }

  auto downloads = DownloadStore::open(path);
  ASSERT_TRUE(downloads.ok()) << downloads.error().message;
  auto all_downloads = (*downloads)->load_all();
  ASSERT_TRUE(all_downloads.ok());
  ASSERT_EQ(all_downloads->size(), 1u);
  const auto& d = (*all_downloads)[0];
  EXPECT_EQ(d.id, 1);
  EXPECT_EQ(d.user, "bob");
  EXPECT_EQ(d.group, "g");
  EXPECT_EQ(d.name, "a.bin");
  EXPECT_EQ(d.state, "complete");
  EXPECT_EQ(d.meta.file_id_hex(), kAFileId);
  EXPECT_EQ(d.meta.size, 307200u);
  EXPECT_EQ(d.have, std::string("\x80", 1));
  EXPECT_EQ(d.received_bytes, 307200u);
  ASSERT_EQ(d.sources.size(), 1u);
  EXPECT_EQ(d.sources[0].user, "alice");
  EXPECT_EQ(d.sources[0].bytes, 307200u);
}

void expect_gsd_markers_moved(const std::string& path) {
  EXPECT_EQ(test::recorded_version(path, State::kSchemaComponent), State::kSchemaVersion);
  EXPECT_EQ(test::recorded_version(path, ShareStore::kSchemaComponent), ShareStore::kSchemaVersion);
  EXPECT_EQ(test::recorded_version(path, DownloadStore::kSchemaComponent),
            DownloadStore::kSchemaVersion);
  EXPECT_EQ(test::user_version(path), kUserVersionMark);
  EXPECT_FALSE(test::has_table(path, "download_schema"));
  EXPECT_EQ(test::query_int(path, "SELECT count(*) FROM meta WHERE key = 'shares_schema'"), 0);
}

TEST(ReleaseState, GsdDbCarriesItsVersionsOverAndKeepsEverything) {
  test::Sandbox sb;
  const std::string path = copy_asset(sb, "release-gsd.db", "s/gsd.db");
  // What the release left: the three markers of before schema_version.
  ASSERT_EQ(test::user_version(path), 1);
  ASSERT_EQ(test::query_int(path, "SELECT version FROM download_schema"), 1);
  ASSERT_EQ(
      test::query_int(path, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'shares_schema'"),
      1);
  ASSERT_FALSE(test::has_table(path, "schema_version"));

  expect_bobs_state(sb.path("s"));
  expect_gsd_markers_moved(path);

  const std::string upgraded = test::file_bytes(path);
  expect_bobs_state(sb.path("s"));
  EXPECT_EQ(test::file_bytes(path), upgraded);
}

// gsd opens State first, but the stores must not depend on it: the user_version
// a release left is State's, whichever store comes first.
TEST(ReleaseState, GsdDbUpgradesWhicheverStoreOpensItFirst) {
  test::Sandbox sb;
  const std::string path = copy_asset(sb, "release-gsd.db", "s/gsd.db");
  ASSERT_TRUE(DownloadStore::open(path).ok());
  ASSERT_TRUE(ShareStore::open(path).ok());
  EXPECT_EQ(test::user_version(path), 1);
  expect_bobs_state(sb.path("s"));
  expect_gsd_markers_moved(path);
}

void expect_release_tracker(const std::string& path) {
  auto store = tracker::Store::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto& st = **store;
  for (const char* user : {"alice", "bob"}) {
    auto hash = st.password_hash(user);
    ASSERT_TRUE(hash.ok() && hash->has_value()) << user;
    EXPECT_EQ((*hash)->rfind("scrypt$", 0), 0u);
  }
  auto bob = st.session_of_user("bob");
  ASSERT_TRUE(bob.ok() && bob->has_value());
  EXPECT_EQ((*bob)->seat, kBobSeat);
  EXPECT_EQ((*bob)->token_hash, "0327bce91904119440a6f7087fdb5c587ebff3471d4afad551b8e82ec7a5a83c");
  auto by_token = st.session_by_token((*bob)->token_hash);
  ASSERT_TRUE(by_token.ok() && by_token->has_value());
  EXPECT_EQ((*by_token)->user, "bob");

  auto groups = st.list_groups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].group, "g");
  EXPECT_EQ((*groups)[0].owner, "alice");
  EXPECT_EQ((*groups)[0].members, 2);
  EXPECT_TRUE(*st.is_member("g", "bob"));

  auto files = st.files("g");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 3u);
  auto a = st.file("g", "a.bin");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->file_id, kAFileId);
  EXPECT_EQ((*a)->size, 307200);
  EXPECT_EQ(*st.sharers("g", "a.bin"), std::vector<std::string>{"alice"});
  EXPECT_EQ(*st.sharers("g", "b.bin"), std::vector<std::string>{"bob"});
  EXPECT_EQ(*st.sharers("g", "a-copy.bin"), std::vector<std::string>{"bob"});
}

TEST(ReleaseState, TrackerDbCarriesItsVersionOverAndKeepsEverything) {
  test::Sandbox sb;
  const std::string path = copy_asset(sb, "release-tracker.db", "t/tracker.db");
  ASSERT_EQ(test::user_version(path), 2);
  ASSERT_FALSE(test::has_table(path, "schema_version"));

  expect_release_tracker(path);
  EXPECT_EQ(test::recorded_version(path, tracker::Store::kSchemaComponent),
            tracker::Store::kSchemaVersion);
  EXPECT_EQ(test::user_version(path), kUserVersionMark);

  const std::string upgraded = test::file_bytes(path);
  expect_release_tracker(path);
  EXPECT_EQ(test::file_bytes(path), upgraded);
}

}  // namespace
}  // namespace gs
