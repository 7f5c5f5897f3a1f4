// SqliteReplicaStorage on real state files: entries applied to the tracker's
// tables and logged in one transaction, the kept suffix and its base, what
// survives a reopen, refusals that change nothing, snapshots between two
// files, and the same answers as the in-memory store the simulation uses.
#include "tracker/replica_store.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "replica_mem_storage.h"
#include "sandbox.h"

namespace gs::tracker {
namespace {

std::string add_user(const std::string& name) {
  return to_json(Write(AddUser{name, "hash-of-" + name, 1700000000})).dump();
}

std::string add_group(const std::string& group, const std::string& owner) {
  return to_json(Write(AddGroup{group, owner, 1700000001})).dump();
}

// A file in a sandbox, opened as a tracker opens it.
struct File {
  explicit File(const std::string& path, size_t keep = 100) : path(path), keep(keep) { open(); }
  void open() {
    auto s = Store::open(path);
    if (!s) throw std::runtime_error(s.error().message);
    store = std::move(*s);
    log = std::make_unique<SqliteReplicaStorage>(*store, keep);
  }
  void reopen() {
    log.reset();
    store.reset();
    open();
  }
  bool has_user(const std::string& name) { return store->password_hash(name)->has_value(); }

  std::string path;
  size_t keep;
  std::unique_ptr<Store> store;
  std::unique_ptr<SqliteReplicaStorage> log;
};

const View kView{3, 1, {1, 3}};

TEST(ReplicaStore, ANewFileHasAnEmptyLogAndNoView) {
  test::Sandbox sb;
  File f(sb.path("t.db"));
  EXPECT_EQ(f.log->last(), LogPos{});
  EXPECT_EQ(f.log->view(), View{});
  EXPECT_EQ(f.log->entries_after(0, 10), std::vector<Entry>{});
  EXPECT_EQ(f.log->epoch_at(0), 0u);
  EXPECT_EQ(f.log->epoch_at(1), std::nullopt);
}

TEST(ReplicaStore, AnAppendAppliesTheWritesLogsThemAndKeepsTheView) {
  test::Sandbox sb;
  File f(sb.path("t.db"));
  const std::vector<Entry> entries{{1, 3, add_user("alice")}, {2, 3, add_group("g", "alice")}};
  f.log->append(kView, entries);
  EXPECT_TRUE(f.has_user("alice"));
  EXPECT_EQ(f.store->group_owner("g")->value_or(""), "alice");
  EXPECT_EQ(f.log->last(), (LogPos{2, 3}));
  EXPECT_EQ(f.log->view(), kView);
  EXPECT_EQ(f.log->entries_after(0, 10), entries);
  EXPECT_EQ(f.log->entries_after(1, 10), std::vector<Entry>{entries[1]});
  EXPECT_EQ(f.log->entries_after(0, 1), std::vector<Entry>{entries[0]});
  EXPECT_EQ(f.log->epoch_at(1), 3u);
  EXPECT_EQ(f.log->epoch_at(2), 3u);

  f.reopen();
  EXPECT_EQ(f.log->last(), (LogPos{2, 3}));
  EXPECT_EQ(f.log->view(), kView);
  EXPECT_EQ(f.log->entries_after(0, 10), entries);
  EXPECT_TRUE(f.has_user("alice"));
}

TEST(ReplicaStore, TheOutcomeOfTheLastEntryIsTakenOnce) {
  test::Sandbox sb;
  File f(sb.path("t.db"));
  f.log->append(kView, {{1, 3, add_user("alice")}});
  auto first = f.log->take_outcome();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->done);
  EXPECT_FALSE(f.log->take_outcome());
  // Refused by the state it met: logged all the same, so every replica
  // refuses it alike.
  f.log->append(kView, {{2, 3, add_user("alice")}});
  auto second = f.log->take_outcome();
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->done);
  EXPECT_EQ(f.log->last().seq, 2u);
}

TEST(ReplicaStore, ABadRecordThrowsAndLeavesNothingOfTheAppend) {
  test::Sandbox sb;
  File f(sb.path("t.db"));
  f.log->append(kView, {{1, 3, add_user("alice")}});
  EXPECT_THROW(f.log->append(View{5, 0, {1}}, {{2, 5, add_user("bob")}, {3, 5, "{\"op\":\"nope\"}"}}),
               ReplicaStorageError);
  EXPECT_FALSE(f.has_user("bob")) << "bob's entry was in the same append";
  EXPECT_EQ(f.log->last(), (LogPos{1, 3}));
  EXPECT_EQ(f.log->view(), kView);
  EXPECT_EQ(f.log->entries_after(0, 10)->size(), 1u);
  f.reopen();
  EXPECT_EQ(f.log->last(), (LogPos{1, 3}));
  EXPECT_FALSE(f.has_user("bob"));
}

TEST(ReplicaStore, EntriesThatDoNotFollowTheLogAreAProgrammingError) {
  test::Sandbox sb;
  File f(sb.path("t.db"));
  EXPECT_THROW(f.log->append(kView, {{2, 3, add_user("alice")}}), std::logic_error);
  EXPECT_EQ(f.log->last(), LogPos{});
}

TEST(ReplicaStore, OnlyTheNewestEntriesAreKept) {
  test::Sandbox sb;
  File f(sb.path("t.db"), /*keep=*/3);
  for (uint64_t s = 1; s <= 6; ++s) {
    f.log->append(kView, {{s, s <= 2 ? 1u : 3u, add_user("u" + std::to_string(s))}});
  }
  EXPECT_EQ(f.log->last(), (LogPos{6, 3}));
  EXPECT_EQ(f.log->base(), (LogPos{3, 3}));
  EXPECT_EQ(f.log->entries_after(2, 10), std::nullopt) << "entry 3 is gone";
  ASSERT_TRUE(f.log->entries_after(3, 10));
  EXPECT_EQ(f.log->entries_after(3, 10)->size(), 3u);
  EXPECT_EQ(f.log->epoch_at(3), 3u) << "the base's epoch is known";
  EXPECT_EQ(f.log->epoch_at(2), std::nullopt);
  EXPECT_EQ(f.log->epoch_at(7), std::nullopt);
  for (int u = 1; u <= 6; ++u) EXPECT_TRUE(f.has_user("u" + std::to_string(u)));
  f.reopen();
  EXPECT_EQ(f.log->base(), (LogPos{3, 3}));
  EXPECT_EQ(f.log->entries_after(3, 10)->size(), 3u);
}

TEST(ReplicaStore, ASnapshotMakesAnotherFileTheSame) {
  test::Sandbox sb;
  File a(sb.path("a.db"), 2);
  File b(sb.path("b.db"), 2);
  b.log->append(View{1, 0, {1, 2}}, {{1, 1, add_user("only-on-b")}});
  for (uint64_t s = 1; s <= 4; ++s) a.log->append(kView, {{s, 3, add_user("a" + std::to_string(s))}});
  b.log->install_snapshot(a.log->snapshot());
  EXPECT_EQ(b.log->last(), a.log->last());
  EXPECT_EQ(b.log->view(), a.log->view());
  EXPECT_FALSE(b.has_user("only-on-b"));
  for (int u = 1; u <= 4; ++u) EXPECT_TRUE(b.has_user("a" + std::to_string(u)));
  // It goes on from there, and ships what it kept of the image's log.
  b.log->append(kView, {{5, 3, add_user("a5")}});
  EXPECT_TRUE(b.has_user("a5"));
  EXPECT_EQ(b.log->epoch_at(4), 3u);
  b.reopen();
  EXPECT_EQ(b.log->last(), (LogPos{5, 3}));
  EXPECT_TRUE(b.has_user("a1"));
}

TEST(ReplicaStore, AJunkSnapshotIsRefusedWithNothingChanged) {
  test::Sandbox sb;
  File f(sb.path("t.db"));
  f.log->append(kView, {{1, 3, add_user("alice")}});
  EXPECT_THROW(f.log->install_snapshot("junk"), ReplicaStorageError);
  EXPECT_THROW(f.log->install_snapshot(std::string("SQLite format 3\0", 16) + std::string(4096, 'x')),
               ReplicaStorageError);
  EXPECT_EQ(f.log->last(), (LogPos{1, 3}));
  EXPECT_TRUE(f.has_user("alice"));
}

// The same random life (appends of various lengths across epochs, views
// saved alone) on the sqlite store and on the simulation's in-memory one:
// every answer of the interface is the same, the kept suffix included.
TEST(ReplicaStore, AnswersAsTheInMemoryStoreDoes) {
  test::Sandbox sb;
  constexpr size_t kKeep = 5;
  File f(sb.path("t.db"), kKeep);
  sim::MemStorage mem(kKeep);
  std::mt19937_64 rng(7);
  auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  uint64_t user = 0;
  for (int step = 0; step < 60; ++step) {
    const LogPos at = f.log->last();
    const uint64_t epoch = at.epoch + pick(0, 1);
    std::vector<Entry> batch;
    for (uint64_t s = at.seq + 1; s <= at.seq + pick(1, 4); ++s) {
      batch.push_back({s, epoch, add_user("u" + std::to_string(++user))});
    }
    const View v{epoch, pick(0, 3), {1, 2}};
    if (pick(0, 4) == 0) {
      f.log->save_view(v);
      mem.save_view(v);
    } else {
      f.log->append(v, batch);
      mem.append(v, batch);
    }
    ASSERT_EQ(f.log->last(), mem.last()) << "step " << step;
    ASSERT_EQ(f.log->view(), mem.view()) << "step " << step;
    for (uint64_t s = 0; s <= f.log->last().seq + 1; ++s) {
      ASSERT_EQ(f.log->epoch_at(s), mem.epoch_at(s)) << "epoch_at(" << s << ") at step " << step;
      ASSERT_EQ(f.log->entries_after(s, 3), mem.entries_after(s, 3))
          << "entries_after(" << s << ") at step " << step;
    }
  }
}

}  // namespace
}  // namespace gs::tracker
