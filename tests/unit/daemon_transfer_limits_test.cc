// The download rate's token bucket and the peer count all downloads share
// (daemon/transfer_limits.h), with time moved by hand.
#include <gtest/gtest.h>

#include "daemon/transfer_limits.h"

namespace gs::daemon {
namespace {

using std::chrono::milliseconds;

// Bytes asked for over `span`, in pieces of `piece`, polling every 10 ms.
uint64_t asked_over(RateBucket& b, DownloadClock::time_point& now, DownloadClock::duration span,
                    uint64_t piece) {
  uint64_t total = 0;
  for (const auto end = now + span; now < end; now += milliseconds(10)) {
    while (b.take(piece, now)) total += piece;
  }
  return total;
}

TEST(RateBucket, UnlimitedTakesEverything) {
  RateBucket b;
  const auto now = DownloadClock::now();
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.take(1 << 20, now));
}

TEST(RateBucket, HoldsTheRateOverSecondsWithPiecesLargerThanASecond) {
  RateBucket b;
  auto now = DownloadClock::now();
  b.set_rate(256 * 1024, now);  // half a piece per second
  const uint64_t piece = 512 * 1024;
  const uint64_t got = asked_over(b, now, std::chrono::seconds(20), piece);
  // 20 s at 256 KiB/s = 10 pieces, plus the first second's burst (one piece).
  EXPECT_GE(got, 10 * piece);
  EXPECT_LE(got, 12 * piece);
}

TEST(RateBucket, ARaisedRateAppliesAtOnce) {
  RateBucket b;
  auto now = DownloadClock::now();
  const uint64_t piece = 64 * 1024;
  b.set_rate(128 * 1024, now);
  const uint64_t slow = asked_over(b, now, std::chrono::seconds(5), piece);
  b.set_rate(1024 * 1024, now);
  const uint64_t fast = asked_over(b, now, std::chrono::seconds(5), piece);
  EXPECT_NEAR(static_cast<double>(slow), 5.0 * 128 * 1024 + 128 * 1024, 2.0 * piece);
  EXPECT_NEAR(static_cast<double>(fast), 5.0 * 1024 * 1024, 2.0 * piece);
  // Back to unlimited, then capped again: starts with one second's worth.
  b.set_rate(0, now);
  EXPECT_TRUE(b.take(uint64_t{1} << 30, now));
  b.set_rate(piece, now);
  EXPECT_TRUE(b.take(piece, now));
  EXPECT_FALSE(b.take(piece, now));
}

TEST(RateBucket, IdleTimeSavesAtMostOneSecond) {
  RateBucket b;
  auto now = DownloadClock::now();
  b.set_rate(100'000, now);
  while (b.take(10'000, now)) {
  }
  now += std::chrono::minutes(5);
  int n = 0;
  while (b.take(10'000, now)) ++n;
  EXPECT_EQ(n, 10);
}

TEST(TransferLimits, PeerRoomCountsEveryDownloadsPeers) {
  size_t open = 0;
  TransferLimits limits([&open] { return open; });
  EXPECT_EQ(limits.peer_room(), std::numeric_limits<size_t>::max());
  limits.set_max_peers(5);
  EXPECT_EQ(limits.peer_room(), 5u);
  open = 3;
  EXPECT_EQ(limits.peer_room(), 2u);
  open = 9;  // over a lowered limit: none dropped, none more
  EXPECT_EQ(limits.peer_room(), 0u);
  limits.set_max_peers(0);
  EXPECT_EQ(limits.peer_room(), std::numeric_limits<size_t>::max());
}

}  // namespace
}  // namespace gs::daemon
