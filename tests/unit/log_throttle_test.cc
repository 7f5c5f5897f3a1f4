#include "log_throttle.h"

#include <gtest/gtest.h>

namespace gs {
namespace {

using std::chrono::seconds;
using Clock = LogThrottle::Clock;

TEST(LogThrottle, FirstEventIsLoggedAtOnce) {
  LogThrottle t(seconds(60));
  EXPECT_EQ(t.hit(Clock::time_point{} + seconds(1000)), 1u);
}

TEST(LogThrottle, EventsWithinTheIntervalAreCountedNotLogged) {
  LogThrottle t(seconds(60));
  const Clock::time_point t0 = Clock::time_point{} + seconds(1000);
  EXPECT_EQ(t.hit(t0), 1u);
  for (int i = 0; i < 122; ++i) EXPECT_EQ(t.hit(t0 + seconds(i % 59)), 0u);
  EXPECT_EQ(t.unlogged(), 122u);
  // The first event past the interval logs the summary: those, and itself.
  EXPECT_EQ(t.hit(t0 + seconds(60)), 123u);
  EXPECT_EQ(t.unlogged(), 0u);
  // And the next interval starts there.
  EXPECT_EQ(t.hit(t0 + seconds(61)), 0u);
  EXPECT_EQ(t.hit(t0 + seconds(119)), 0u);
  EXPECT_EQ(t.hit(t0 + seconds(120)), 3u);
}

TEST(LogThrottle, AnEventAfterAQuietSpellIsAFirstOneAgain) {
  LogThrottle t(seconds(60));
  const Clock::time_point t0 = Clock::time_point{} + seconds(1000);
  EXPECT_EQ(t.hit(t0), 1u);
  EXPECT_EQ(t.hit(t0 + seconds(3600)), 1u);
}

TEST(LogThrottle, DefaultIntervalIsOneMinute) {
  LogThrottle t;
  const Clock::time_point t0 = Clock::time_point{} + seconds(1000);
  EXPECT_EQ(t.hit(t0), 1u);
  EXPECT_EQ(t.hit(t0 + seconds(59)), 0u);
  EXPECT_EQ(t.hit(t0 + seconds(60)), 2u);
}

}  // namespace
}  // namespace gs
