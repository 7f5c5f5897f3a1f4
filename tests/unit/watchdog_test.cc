// The watchdog's pings (lib/watchdog.h): when the environment asks for them,
// from the loop, at half the timeout; never for another process.
#include "watchdog.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "notify_listener.h"
#include "sandbox.h"
#include "test_loop.h"

namespace gs {
namespace {

using std::chrono::microseconds;

TEST(WatchdogInterval, HalfOfWatchdogUsec) {
  EXPECT_EQ(watchdog_interval("30000000", nullptr, 42), microseconds(15'000'000));
  EXPECT_EQ(watchdog_interval("1000000", "", 42), microseconds(500'000));
  EXPECT_EQ(watchdog_interval("1", nullptr, 42), microseconds(1));
}

TEST(WatchdogInterval, OnlyForTheProcessItNames) {
  EXPECT_EQ(watchdog_interval("1000000", "42", 42), microseconds(500'000));
  EXPECT_EQ(watchdog_interval("1000000", "43", 42), std::nullopt);
  EXPECT_EQ(watchdog_interval("1000000", "x", 42), std::nullopt);
}

TEST(WatchdogInterval, NoneWithoutAPositiveTimeout) {
  EXPECT_EQ(watchdog_interval(nullptr, nullptr, 42), std::nullopt);
  EXPECT_EQ(watchdog_interval("", nullptr, 42), std::nullopt);
  EXPECT_EQ(watchdog_interval("0", nullptr, 42), std::nullopt);
  EXPECT_EQ(watchdog_interval("-5", nullptr, 42), std::nullopt);
  EXPECT_EQ(watchdog_interval("10s", nullptr, 42), std::nullopt);
}

class WatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("NOTIFY_SOCKET", path_.c_str(), 1); }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  // How many WATCHDOG=1 arrive while the loop turns for `seconds`.
  int pings_during(double seconds) {
    test::TestLoop loop;
    Watchdog watchdog(loop.base());
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    loop.run_until([&] { return std::chrono::steady_clock::now() >= end; }, seconds + 1);
    int pings = 0;
    for (std::string m = listener_.receive_now(); !m.empty(); m = listener_.receive_now()) {
      EXPECT_EQ(m, "WATCHDOG=1");
      ++pings;
    }
    return pings;
  }
  test::Sandbox box_;
  std::string path_ = box_.path("notify");
  test::NotifyListener listener_{path_};
};

TEST_F(WatchdogTest, PingsEveryHalfTimeoutWhileTheLoopTurns) {
  setenv("WATCHDOG_USEC", "100000", 1);  // pings every 50 ms
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  const int pings = pings_during(0.5);
  EXPECT_GE(pings, 6);
  EXPECT_LE(pings, 11);
}

TEST_F(WatchdogTest, SilentWithoutWatchdogUsec) { EXPECT_EQ(pings_during(0.2), 0); }

TEST_F(WatchdogTest, SilentWhenThePidIsAnotherProcess) {
  setenv("WATCHDOG_USEC", "100000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_EQ(pings_during(0.2), 0);
}

}  // namespace
}  // namespace gs
