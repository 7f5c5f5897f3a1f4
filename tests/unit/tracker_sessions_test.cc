#include "tracker/sessions.h"

#include <gtest/gtest.h>

#include "tracker_fake_clock.h"

namespace gs::tracker {
namespace {

using test::FakeClock;

TEST(TrackerSessions, EverySessionIsLiveDuringTheGracePeriodAfterStart) {
  FakeClock clock;
  Sessions s(clock, Seconds(20));
  EXPECT_TRUE(s.live("never-seen"));
  clock.advance(Seconds(19));
  EXPECT_TRUE(s.live("never-seen"));
  clock.advance(Seconds(1));
  EXPECT_FALSE(s.live("never-seen"));
}

TEST(TrackerSessions, LiveWhileTouchedWithinTheTtl) {
  FakeClock clock;
  Sessions s(clock, Seconds(20));
  clock.advance(Seconds(25));  // past the grace period
  s.touch("a");
  clock.advance(Seconds(20));
  EXPECT_TRUE(s.live("a"));
  s.touch("a");
  clock.advance(Seconds(21));
  EXPECT_FALSE(s.live("a"));
  s.touch("a");  // heard from again: live again
  EXPECT_TRUE(s.live("a"));
}

TEST(TrackerSessions, ForgetEndsLivenessAfterGrace) {
  FakeClock clock;
  Sessions s(clock, Seconds(5));
  clock.advance(Seconds(6));
  s.touch("a");
  s.forget("a");
  EXPECT_FALSE(s.live("a"));
  EXPECT_EQ(s.tracked(), 0u);
}

// A reload that lowers the TTL: sessions heard under the old one stay live
// for one old TTL, then the new one applies.
TEST(TrackerSessions, ALoweredTtlEndsNoSessionAtOnce) {
  FakeClock clock;
  Sessions s(clock, Seconds(20));
  clock.advance(Seconds(25));  // past the grace period
  s.touch("a");
  clock.advance(Seconds(15));
  s.set_ttl(Seconds(5));
  EXPECT_EQ(s.ttl(), Seconds(5));
  EXPECT_TRUE(s.live("a"));  // heard 15 s ago: live under the old 20
  clock.advance(Seconds(6));
  EXPECT_FALSE(s.live("a"));  // 21 s: over the old TTL too
  s.touch("b");
  clock.advance(Seconds(16));  // past the old TTL since the change
  s.touch("c");
  clock.advance(Seconds(6));
  EXPECT_FALSE(s.live("c"));  // the new TTL alone
  // Raised: applies at once.
  s.set_ttl(Seconds(60));
  EXPECT_TRUE(s.live("c"));
}

}  // namespace
}  // namespace gs::tracker
