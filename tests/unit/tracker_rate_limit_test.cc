#include "tracker/rate_limit.h"

#include <gtest/gtest.h>

#include "tracker_fake_clock.h"

namespace gs::tracker {
namespace {

using test::FakeClock;

LoginLimiter::Params params(int failures, int delay, int forget = 3600) {
  LoginLimiter::Params p;
  p.failures_before_delay = failures;
  p.delay = Seconds(delay);
  p.forget_after = Seconds(forget);
  return p;
}

TEST(TrackerRateLimit, AllowsUntilTheThresholdThenBlocksForTheDelay) {
  FakeClock clock;
  LoginLimiter lim(params(3, 30));
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(lim.blocked("alice", clock.now()));
    lim.failure("alice", clock.now());
  }
  EXPECT_FALSE(lim.blocked("alice", clock.now()));
  lim.failure("alice", clock.now());
  auto wait = lim.blocked("alice", clock.now());
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, Seconds(30));
  clock.advance(Seconds(29));
  wait = lim.blocked("alice", clock.now());
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, Seconds(1));
  clock.advance(Seconds(1));
  EXPECT_FALSE(lim.blocked("alice", clock.now()));
}

TEST(TrackerRateLimit, RoundsTheWaitUpToWholeSeconds) {
  FakeClock clock;
  LoginLimiter lim(params(1, 10));
  lim.failure("alice", clock.now());
  auto wait = lim.blocked("alice", clock.now() + std::chrono::milliseconds(9500));
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, Seconds(1));
}

TEST(TrackerRateLimit, EachFailureAfterTheThresholdBlocksAgain) {
  FakeClock clock;
  LoginLimiter lim(params(2, 30));
  lim.failure("alice", clock.now());
  lim.failure("alice", clock.now());
  clock.advance(Seconds(30));
  EXPECT_FALSE(lim.blocked("alice", clock.now()));
  lim.failure("alice", clock.now());  // one more guess: blocked again at once
  EXPECT_TRUE(lim.blocked("alice", clock.now()));
}

TEST(TrackerRateLimit, SuccessClearsTheStreak) {
  FakeClock clock;
  LoginLimiter lim(params(2, 30));
  lim.failure("alice", clock.now());
  lim.success("alice");
  lim.failure("alice", clock.now());
  EXPECT_FALSE(lim.blocked("alice", clock.now()));
  EXPECT_EQ(lim.tracked(), 1u);
  lim.success("alice");
  EXPECT_EQ(lim.tracked(), 0u);
}

TEST(TrackerRateLimit, UsersAreCountedApart) {
  FakeClock clock;
  LoginLimiter lim(params(1, 30));
  lim.failure("alice", clock.now());
  EXPECT_TRUE(lim.blocked("alice", clock.now()));
  EXPECT_FALSE(lim.blocked("bob", clock.now()));
}

TEST(TrackerRateLimit, OldFailuresAreForgotten) {
  FakeClock clock;
  LoginLimiter lim(params(3, 30, 600));
  lim.failure("alice", clock.now());
  lim.failure("alice", clock.now());
  clock.advance(Seconds(600));
  lim.failure("alice", clock.now());  // a fresh streak of one
  EXPECT_FALSE(lim.blocked("alice", clock.now()));
  lim.failure("alice", clock.now());
  EXPECT_FALSE(lim.blocked("alice", clock.now()));
  lim.failure("alice", clock.now());
  EXPECT_TRUE(lim.blocked("alice", clock.now()));
  // A blocked streak is forgotten too, in time.
  clock.advance(Seconds(600));
  EXPECT_FALSE(lim.blocked("alice", clock.now()));
}

TEST(TrackerRateLimit, ZeroDelayNeverBlocks) {
  FakeClock clock;
  LoginLimiter lim(params(1, 0));
  for (int i = 0; i < 10; ++i) lim.failure("alice", clock.now());
  EXPECT_FALSE(lim.blocked("alice", clock.now()));
}

TEST(TrackerRateLimit, ForgottenStreaksArePrunedSoMemoryStaysBounded) {
  FakeClock clock;
  LoginLimiter lim(params(5, 30, 60));
  for (int i = 0; i < 2000; ++i) lim.failure("user" + std::to_string(i), clock.now());
  clock.advance(Seconds(61));
  for (int i = 0; i < 2000; ++i) lim.failure("other" + std::to_string(i), clock.now());
  EXPECT_LE(lim.tracked(), 2100u);
}

}  // namespace
}  // namespace gs::tracker
