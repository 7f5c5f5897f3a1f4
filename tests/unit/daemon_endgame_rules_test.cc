// EndgameRules: slow peers, starvation, duplicates and patience.
#include <gtest/gtest.h>

#include "daemon/endgame_rules.h"

namespace gs::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t MiB = 1 << 20;

PeerPace pace(uint64_t rate, DownloadClock::duration measured, size_t outstanding) {
  return PeerPace{rate, measured, outstanding};
}

TEST(EndgameRules, SlowIsUnderAQuarterOfTheFastestOnceMeasured) {
  EXPECT_TRUE(EndgameRules::slow(pace(MiB, seconds(2), 1), 5 * MiB));
  EXPECT_FALSE(EndgameRules::slow(pace(MiB, seconds(2), 1), 4 * MiB));
  EXPECT_FALSE(EndgameRules::slow(pace(MiB, milliseconds(900), 1), 100 * MiB)) << "not measured long enough";
  EXPECT_FALSE(EndgameRules::slow(pace(0, seconds(5), 0), 0)) << "the only peer is never slow";
  EXPECT_EQ(EndgameRules::scope(pace(MiB, seconds(2), 1), 5 * MiB), PickScope::exclusive);
  EXPECT_EQ(EndgameRules::scope(pace(MiB, seconds(2), 1), 2 * MiB), PickScope::any);
}

TEST(EndgameRules, ASlowPeerWithNothingOnOrderIsNeverStarved) {
  const auto idle_slow = pace(0, seconds(3), 0);
  EXPECT_TRUE(EndgameRules::starving(idle_slow, 10 * MiB, 0));
  EXPECT_FALSE(EndgameRules::starving(idle_slow, 10 * MiB, 1)) << "it got something exclusive";
  EXPECT_FALSE(EndgameRules::starving(pace(0, seconds(3), 1), 10 * MiB, 0)) << "it has a request on order";
  EXPECT_FALSE(EndgameRules::starving(pace(9 * MiB, seconds(3), 0), 10 * MiB, 0)) << "not slow";
}

TEST(EndgameRules, OneDuplicateOnlyForAPeerWithNothingOnOrder) {
  EXPECT_EQ(EndgameRules::duplicates_allowed(pace(MiB, seconds(1), 0)), 1u);
  EXPECT_EQ(EndgameRules::duplicates_allowed(pace(MiB, seconds(1), 1)), 0u);
}

TEST(EndgameRules, PatienceFollowsThePaceWithinBounds) {
  const EndgameRules r(seconds(15));
  // 4 pieces of 1 MiB queued at 8 MiB/s: half a second each way, twice that.
  EXPECT_EQ(r.patience(pace(8 * MiB, seconds(2), 4), MiB), milliseconds(1000));
  EXPECT_EQ(r.patience(pace(1024 * MiB, seconds(2), 1), MiB), milliseconds(500)) << "at least half a second";
  EXPECT_EQ(r.patience(pace(1, seconds(2), 4), MiB), milliseconds(7500)) << "at most half the timeout";
  EXPECT_EQ(r.patience(pace(0, seconds(2), 4), MiB), milliseconds(7500)) << "silent: half the timeout";
  EXPECT_FALSE(r.overdue(pace(8 * MiB, seconds(2), 4), MiB, milliseconds(999)));
  EXPECT_TRUE(r.overdue(pace(8 * MiB, seconds(2), 4), MiB, milliseconds(1000)));
}

TEST(EndgameRules, ShortTimeoutsStayOrdered) {
  // A 300 ms timeout (tests) puts half of it under the half-second floor.
  const EndgameRules r(milliseconds(300));
  EXPECT_EQ(r.patience(pace(0, seconds(1), 1), MiB), milliseconds(150));
  EXPECT_EQ(r.patience(pace(1024 * MiB, seconds(1), 1), MiB), milliseconds(150));
}

}  // namespace
}  // namespace gs::daemon
