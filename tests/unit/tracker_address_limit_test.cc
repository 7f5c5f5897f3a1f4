#include "tracker/address_limit.h"

#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tracker_fake_clock.h"

namespace gs::tracker {
namespace {

using test::FakeClock;

AddressLimiter::Params params(int failures, int delay, size_t max_tracked = 10000) {
  AddressLimiter::Params p;
  p.failures_before_delay = failures;
  p.delay = Seconds(delay);
  p.max_tracked = max_tracked;
  return p;
}

constexpr const char* kHost = "192.0.2.7";

TEST(TrackerAddressLimit, AllowsUntilTheThresholdThenBlocksForTheDelay) {
  FakeClock clock;
  AddressLimiter lim(params(3, 30));
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(lim.blocked(kHost, clock.now())) << i;
    lim.failure(kHost, clock.now());
  }
  auto wait = lim.blocked(kHost, clock.now());
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, Seconds(30));
  clock.advance(Seconds(29));
  wait = lim.blocked(kHost, clock.now());
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, Seconds(1));
  clock.advance(Seconds(1));
  EXPECT_FALSE(lim.blocked(kHost, clock.now()));
  // Over the threshold, each further failure blocks again at once.
  lim.failure(kHost, clock.now());
  wait = lim.blocked(kHost, clock.now());
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, Seconds(30));
}

TEST(TrackerAddressLimit, RoundsTheWaitUpToWholeSeconds) {
  FakeClock clock;
  AddressLimiter lim(params(1, 10));
  lim.failure(kHost, clock.now());
  auto wait = lim.blocked(kHost, clock.now() + std::chrono::milliseconds(9500));
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, Seconds(1));
}

TEST(TrackerAddressLimit, TheCountDrainsOneFailurePerDelay) {
  FakeClock clock;
  AddressLimiter lim(params(5, 10));
  for (int i = 0; i < 5; ++i) lim.failure(kHost, clock.now());
  ASSERT_TRUE(lim.blocked(kHost, clock.now()));
  // Three delays later, three failures are forgiven: three more may fail
  // before the address waits again (a streak would allow one).
  clock.advance(Seconds(30));
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(lim.blocked(kHost, clock.now())) << i;
    lim.failure(kHost, clock.now());
  }
  EXPECT_TRUE(lim.blocked(kHost, clock.now()));
  // Fully drained after five delays without failures: a whole allowance.
  clock.advance(Seconds(50));
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(lim.blocked(kHost, clock.now())) << i;
    lim.failure(kHost, clock.now());
  }
  EXPECT_TRUE(lim.blocked(kHost, clock.now()));
}

// The property the rule exists for: however the failures are spread, one
// address never has more than failures_before_delay + T / delay of them in
// any span T, when each is checked before it is made.
TEST(TrackerAddressLimit, NoSpanHoldsMoreThanTheAllowancePlusOnePerDelay) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    FakeClock clock;
    const int n = 4;
    const int delay = 10;
    AddressLimiter lim(params(n, delay));
    std::vector<Instant> failed;
    for (int step = 0; step < 400; ++step) {
      clock.advance(Seconds(std::uniform_int_distribution<int>(0, 12)(rng)));
      if (!lim.blocked(kHost, clock.now())) {
        lim.failure(kHost, clock.now());
        failed.push_back(clock.now());
      }
    }
    ASSERT_GT(failed.size(), 40u) << "seed " << seed;
    for (size_t i = 0; i < failed.size(); ++i) {
      for (size_t j = i; j < failed.size(); ++j) {
        const auto span = std::chrono::duration_cast<Seconds>(failed[j] - failed[i]).count();
        ASSERT_LE(static_cast<int64_t>(j - i + 1), n + span / delay)
            << "seed " << seed << ": failures " << i << " to " << j;
      }
    }
  }
}

TEST(TrackerAddressLimit, FailuresCheckedTogetherAllCountAndLengthenTheWait) {
  FakeClock clock;
  AddressLimiter lim(params(3, 10));
  lim.failure(kHost, clock.now());
  lim.failure(kHost, clock.now());
  // Four logins on four connections pass the check at once, then all fail:
  // parallel connections buy no extra guesses.
  ASSERT_FALSE(lim.blocked(kHost, clock.now()));
  for (int i = 0; i < 4; ++i) lim.failure(kHost, clock.now());
  auto wait = lim.blocked(kHost, clock.now());
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, Seconds(40));
}

TEST(TrackerAddressLimit, AddressesAreCountedApart) {
  FakeClock clock;
  AddressLimiter lim(params(1, 30));
  lim.failure(kHost, clock.now());
  EXPECT_TRUE(lim.blocked(kHost, clock.now()));
  EXPECT_FALSE(lim.blocked("192.0.2.8", clock.now()));
}

TEST(TrackerAddressLimit, IPv6CountsPerSlash64) {
  FakeClock clock;
  AddressLimiter lim(params(2, 30));
  lim.failure("2001:db8:1:2::1", clock.now());
  lim.failure("2001:db8:1:2:aaaa:bbbb:cccc:dddd", clock.now());
  EXPECT_TRUE(lim.blocked("2001:db8:1:2::99", clock.now()));
  EXPECT_FALSE(lim.blocked("2001:db8:1:3::1", clock.now()));
  EXPECT_EQ(lim.tracked(), 1u);
}

TEST(TrackerAddressLimit, AddressKey) {
  EXPECT_EQ(address_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(address_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key("::1"), "::/64");
  EXPECT_EQ(address_key("fe80::1"), "fe80::/64");
  EXPECT_EQ(address_key("not-an-address"), "not-an-address");
  EXPECT_EQ(address_key(std::string(200, ':')), std::string(200, ':'));
  EXPECT_EQ(address_key(""), "");
}

TEST(TrackerAddressLimit, AnUnknownAddressIsNeverHeldBack) {
  FakeClock clock;
  AddressLimiter lim(params(1, 30));
  for (int i = 0; i < 10; ++i) lim.failure("", clock.now());
  EXPECT_FALSE(lim.blocked("", clock.now()));
  EXPECT_EQ(lim.tracked(), 0u);
}

TEST(TrackerAddressLimit, ZeroDelayTurnsTheRuleOff) {
  FakeClock clock;
  AddressLimiter lim(params(1, 0));
  for (int i = 0; i < 10; ++i) lim.failure(kHost, clock.now());
  EXPECT_FALSE(lim.blocked(kHost, clock.now()));
  EXPECT_EQ(lim.tracked(), 0u);
}

std::string host(int i) { return "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256); }

TEST(TrackerAddressLimit, DrainedAddressesAreDroppedFirst) {
  FakeClock clock;
  AddressLimiter lim(params(3, 10, 100));
  for (int i = 0; i < 100; ++i) lim.failure(host(i), clock.now());
  clock.advance(Seconds(10));  // every count has drained
  lim.failure(kHost, clock.now());
  EXPECT_EQ(lim.tracked(), 1u);
}

TEST(TrackerAddressLimit, AFloodOfNewAddressesKeepsMemoryBoundedAndTheGuesserBlocked) {
  FakeClock clock;
  AddressLimiter lim(params(3, 30, 100));
  for (int i = 0; i < 3; ++i) lim.failure(kHost, clock.now());
  ASSERT_TRUE(lim.blocked(kHost, clock.now()));
  for (int i = 0; i < 5000; ++i) {
    if (i % 1000 == 0) clock.advance(Seconds(1));
    lim.failure(host(i), clock.now());
    ASSERT_LE(lim.tracked(), 100u) << i;
  }
  // Those with one failure each went first; the address that owes the
  // most is still remembered.
  EXPECT_TRUE(lim.blocked(kHost, clock.now()));
  EXPECT_GE(lim.tracked(), 80u);
}

TEST(TrackerAddressLimit, ACapOfOneStillWorks) {
  FakeClock clock;
  AddressLimiter lim(params(1, 30, 1));
  lim.failure(kHost, clock.now());
  lim.failure("192.0.2.8", clock.now());
  EXPECT_EQ(lim.tracked(), 1u);
  EXPECT_TRUE(lim.blocked("192.0.2.8", clock.now()));
}

}  // namespace
}  // namespace gs::tracker
