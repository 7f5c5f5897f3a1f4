// The download store: records round-trip through sqlite, survive a reopen
// next to the state tables, and a damaged row is skipped, not fatal.
#include "daemon/download_store.h"

#include <gtest/gtest.h>

#include "bitfield.h"
#include "daemon/state.h"
#include "daemon_download_fakes.h"
#include "db.h"
#include "sandbox.h"
#include "state_file_probe.h"

namespace gs::daemon {
namespace {

DownloadRecord sample(const std::string& name) {
  const std::string content = test::make_content(3 * 16384 + 5);
  DownloadRecord r;
  r.user = "alice";
  r.group = "g";
  r.name = name;
  r.dest = "/tmp/x/" + name;
  r.part_path = r.dest + ".gs-part";
  r.meta = test::meta_of(content, 16384);
  Bitfield have(r.meta.piece_count());
  have.set(1_piece);
  r.have = have.to_bytes();
  r.state = "downloading";
  r.received_bytes = 40000;
  r.refetched_bytes = 123;
  r.sources = {{"bob", "127.0.0.1:7000", 16384}, {"carol", "[::1]:7001", 0}};
  r.part_size = static_cast<int64_t>(r.meta.size);
  r.part_mtime_ns = 1'700'000'000'123'456'789;
  return r;
}

TEST(DownloadStore, RoundTripAndReopen) {
  test::Sandbox sb;
  auto state = State::open(sb.path("state"));  // the tables share gsd.db with the state
  ASSERT_TRUE(state.ok()) << state.error().message;
  const std::string db = (*state)->db_path();
  DownloadRecord a = sample("a.bin");
  DownloadRecord b = sample("b.bin");
  {
    auto store = DownloadStore::open(db);
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->insert(a).ok());
    ASSERT_TRUE((*store)->insert(b).ok());
    EXPECT_NE(a.id, 0);
    EXPECT_NE(a.id, b.id);
    b.state = "paused";  // by its disk
    b.disk_trouble = "no_space";
    b.error = "no space left in /tmp/x (needs 1.0 MiB more)";
    ASSERT_TRUE((*store)->save(b).ok());
    a.state = "complete";
    a.force = true;
    a.refetched_bytes = 999;
    a.sources.push_back({"dave", "10.0.0.1:1", 5});
    ASSERT_TRUE((*store)->save(a).ok());
  }
  auto store = DownloadStore::open(db);  // reopen: the schema is there, nothing migrates twice
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto all = (*store)->load_all();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], a);
  EXPECT_EQ((*all)[1], b);
  ASSERT_TRUE((*store)->remove(a.id).ok());
  all = (*store)->load_all();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].name, "b.bin");
  // The state itself is untouched by the extra tables.
  EXPECT_TRUE(State::open(sb.path("state2")).ok());
}

TEST(DownloadStore, EmptyFileRecord) {
  test::Sandbox sb;
  auto store = DownloadStore::open(sb.path("gsd.db"));
  ASSERT_TRUE(store.ok());
  DownloadRecord r = sample("empty");
  r.meta = test::meta_of("", 16384);
  r.have.clear();
  ASSERT_TRUE((*store)->insert(r).ok());
  auto all = (*store)->load_all();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0], r);
}

TEST(DownloadStore, DamagedRowsAreSkipped) {
  test::Sandbox sb;
  const std::string path = sb.path("gsd.db");
  {
    auto store = DownloadStore::open(path);
    ASSERT_TRUE(store.ok());
    DownloadRecord good = sample("good");
    DownloadRecord bad_hash = sample("bad-hash");
    DownloadRecord bad_bits = sample("bad-bits");
    DownloadRecord bad_trouble = sample("bad-trouble");
    DownloadRecord running_trouble = sample("running-trouble");
    ASSERT_TRUE((*store)->insert(good).ok());
    ASSERT_TRUE((*store)->insert(bad_hash).ok());
    ASSERT_TRUE((*store)->insert(bad_bits).ok());
    bad_trouble.state = "paused";
    bad_trouble.disk_trouble = "cosmic_rays";
    ASSERT_TRUE((*store)->insert(bad_trouble).ok());
    running_trouble.disk_trouble = "no_space";  // but downloading: only a paused download is paused by its disk
    ASSERT_TRUE((*store)->insert(running_trouble).ok());
  }
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    // A file id that does not match the hashes, and a bitmap of the wrong size.
    ASSERT_TRUE((*db)->exec("UPDATE downloads SET file_id = '" + std::string(64, 'a') + "' WHERE name = 'bad-hash'").ok());
    ASSERT_TRUE((*db)->exec("UPDATE downloads SET have = x'ffffffff' WHERE name = 'bad-bits'").ok());
    ASSERT_TRUE((*db)->exec("UPDATE downloads SET state = 'bogus' WHERE name = 'good'").ok());
  }
  auto store = DownloadStore::open(path);
  ASSERT_TRUE(store.ok());
  auto all = (*store)->load_all();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST(DownloadStore, NewerSchemaIsRefused) {
  test::Sandbox sb;
  const std::string path = sb.path("gsd.db");
  ASSERT_TRUE(DownloadStore::open(path).ok());
  EXPECT_EQ(test::recorded_version(path, DownloadStore::kSchemaComponent), DownloadStore::kSchemaVersion);
  test::exec(path, "UPDATE schema_version SET version = 99 WHERE component = 'downloads'");
  const std::string before = test::file_bytes(path);
  auto store = DownloadStore::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
  EXPECT_EQ(test::file_bytes(path), before);
}

}  // namespace
}  // namespace gs::daemon
