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

}  // namespace
}  // namespace gs::tracker
