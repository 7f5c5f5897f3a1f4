#include "tracker/write.h"

#include <gtest/gtest.h>

#include "crypto.h"
#include "identity.h"
#include "sandbox.h"
#include "tracker/store.h"
#include "tracker_store_writes.h"

namespace gs::tracker {
namespace {

constexpr int64_t kNow = 1700000000;

std::vector<Write> one_of_each() {
  const FileRecord file{"g", "a b.txt", std::string(64, 'a'), 10, 4, std::string(192, 'b'), 0};
  return {Write(AddUser{"alice", "scrypt$x", kNow}, "00112233445566778899"),
          Write(ReplaceSession{{std::string(64, 'c'), "alice", "5eat", kNow}}),
          Write(DeleteSession{std::string(64, 'c')}),
          Write(AddGroup{"g", "alice", kNow}),
          Write(AddRequest{"g", "bob", kNow}),
          Write(AcceptRequest{"g", "bob", kNow}),
          Write(RejectRequest{"g", "carol"}),
          Write(LeaveGroup{"g", "bob"}),
          Write(ShareFile{file, "alice", kNow}),
          Write(StopShare{"g", "a b.txt", "alice"}),
          Write(SetClusterKey{std::string(64, 'd'), kNow})};
}

TEST(TrackerWrite, EveryKindSurvivesItsEncoding) {
  for (const Write& w : one_of_each()) {
    const Json j = to_json(w);
    auto back = write_from_json(*Json::parse(j.dump()));
    ASSERT_TRUE(back.ok()) << j.dump() << ": " << back.error().message;
    EXPECT_EQ(to_json(*back), j);
    EXPECT_EQ(write_name(back->op), write_name(w.op));
    EXPECT_EQ(back->rid, w.rid);
  }
}

TEST(TrackerWrite, DecodingIsStrict) {
  for (const char* bad : {R"([])", R"({})", R"({"op":"drop_table"})", R"({"op":"add_user","user":"a"})",
                          R"({"op":"add_user","user":"a","password_hash":"h","now":"1"})",
                          R"({"op":"delete_session","token_hash":"t","rid":""})",
                          R"({"op":"delete_session","token_hash":"t","rid":7})"}) {
    auto w = write_from_json(*Json::parse(bad));
    EXPECT_FALSE(w.ok()) << bad;
    if (!w.ok()) {
      EXPECT_EQ(w.error().code, "bad_record");
    }
  }
}

TEST(TrackerWrite, OutcomesSurviveTheirEncoding) {
  Applied a;
  a.done = false;
  a.leave.deleted = true;
  a.leave.new_owner = "carol";
  a.leave.removed_file_ids = {"x", "y"};
  a.stop.file_removed = true;
  a.stop.still_shares_id = true;
  auto back = applied_from_json(*Json::parse(to_json(a).dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(to_json(*back), to_json(a));
  EXPECT_FALSE(applied_from_json(*Json::parse(R"({"done":true})")).ok());
}

TEST(TrackerWrite, AWriteRetriedWithItsRequestIdIsAppliedOnceAndAnsweredAlike) {
  test::Sandbox sb;
  auto st = Store::open(sb.path("tracker.db"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  Store& store = **st;
  ASSERT_TRUE(*writes::add_user(store, "alice", "h", kNow));
  ASSERT_TRUE(*writes::add_user(store, "bob", "h", kNow));
  ASSERT_TRUE(*writes::add_group(store, "g", "alice", kNow));
  const std::string rid = "0123456789abcdef";
  auto first = store.apply(Write(AddRequest{"g", "bob", kNow}, rid));
  ASSERT_TRUE(first.ok()) << first.error().message;
  // Without the id this would fail: the request exists (UNIQUE(group, user)).
  auto again = store.apply(Write(AddRequest{"g", "bob", kNow}, rid));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(to_json(*again), to_json(*first));
  EXPECT_EQ(store.requests("g")->size(), 1u);
  ASSERT_TRUE(store.outcome_of(rid)->has_value());
  EXPECT_FALSE(store.outcome_of("ffffffffffffffff")->has_value());

  // A refused write keeps its refusal: the retry is refused alike, even
  // though the state would now let it through.
  const std::string rid2 = "1123456789abcdef";
  auto taken = store.apply(Write(AddGroup{"g", "bob", kNow}, rid2));
  ASSERT_TRUE(taken.ok());
  EXPECT_FALSE(taken->done);
  ASSERT_TRUE(writes::leave_group(store, "g", "alice").ok());  // g is gone
  auto retried = store.apply(Write(AddGroup{"g", "bob", kNow}, rid2));
  ASSERT_TRUE(retried.ok());
  EXPECT_FALSE(retried->done);
  EXPECT_FALSE(store.group_owner("g")->has_value());
}

TEST(TrackerWrite, TheClusterKeyIsSetOnceAndReadBackAsItsSeed) {
  test::Sandbox sb;
  auto st = Store::open(sb.path("tracker.db"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  Store& store = **st;
  EXPECT_FALSE(store.cluster_key_seed()->has_value());
  const auto key = Identity::ephemeral();
  auto set = store.apply(Write(SetClusterKey{to_hex(key->seed()), kNow}));
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_TRUE(set->done);
  // A second key (another primary racing, a replayed write) changes nothing.
  auto again = store.apply(Write(SetClusterKey{to_hex(Identity::ephemeral()->seed()), kNow}));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->done);
  auto seed = store.cluster_key_seed();
  ASSERT_TRUE(seed.ok() && seed->has_value());
  EXPECT_EQ(Identity::from_seed(**seed)->public_key(), key->public_key());
  // A damaged record is refused before it touches the state.
  EXPECT_FALSE(store.apply(Write(SetClusterKey{"xyz", kNow})).ok());
}

}  // namespace
}  // namespace gs::tracker
