// DiskRetry: when a download its disk paused tries again (timer with
// backoff, room made, nothing tried while not a piece fits), and the reason
// show_downloads gives.
#include "daemon/disk_retry.h"

#include <gtest/gtest.h>

#include "daemon/download_part.h"

namespace gs::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = DiskRetry::Clock;

constexpr uint64_t kPiece = 512 * 1024;
constexpr uint64_t kMiB = 1024 * 1024;

DiskRetry::Params params() { return DiskRetry::Params{5s, 60s}; }

TEST(DiskRetry, TimerBacksOffToTheMaxAndAWrittenPieceResetsIt) {
  DiskRetry r(params());
  const Clock::time_point t0{};
  r.failed(DiskTrouble::write_error, t0);
  EXPECT_FALSE(r.should_retry(t0 + 4900ms, std::nullopt, kPiece));
  EXPECT_TRUE(r.should_retry(t0 + 5s, std::nullopt, kPiece));
  // Each attempt that fails again waits twice as long, up to the max.
  Clock::time_point t = t0 + 5s;
  for (auto expected : {10s, 20s, 40s, 60s, 60s}) {
    r.failed(DiskTrouble::write_error, t);
    EXPECT_EQ(r.delay(), expected);
    EXPECT_FALSE(r.should_retry(t + expected - 1ms, std::nullopt, kPiece));
    EXPECT_TRUE(r.should_retry(t + expected, std::nullopt, kPiece));
    t += expected;
  }
  // A piece written after an attempt: the trouble was over, the next one
  // starts short again.
  r.wrote();
  r.failed(DiskTrouble::write_error, t);
  EXPECT_EQ(r.delay(), 5s);
  EXPECT_EQ(r.next_attempt(), t + 5s);
}

TEST(DiskRetry, AWriteErrorIgnoresTheFreeSpace) {
  DiskRetry r(params());
  const Clock::time_point t0{};
  r.failed(DiskTrouble::write_error, t0);
  // Plenty of room, short of room: neither says anything about a device error.
  EXPECT_FALSE(r.should_retry(t0 + 1s, DiskSpace{0, 10 * kMiB}, kPiece));
  EXPECT_FALSE(r.should_retry(t0 + 2s, DiskSpace{100 * kMiB, 10 * kMiB}, kPiece));
  EXPECT_TRUE(r.should_retry(t0 + 5s, DiskSpace{0, 10 * kMiB}, kPiece));
}

TEST(DiskRetry, RoomMadeForTheRestRetriesAtOnce) {
  DiskRetry r(params());
  const Clock::time_point t0{};
  r.failed(DiskTrouble::no_space, t0);
  EXPECT_FALSE(r.should_retry(t0 + 1s, DiskSpace{0, 16 * kMiB}, kPiece));
  EXPECT_FALSE(r.should_retry(t0 + 2s, DiskSpace{8 * kMiB, 16 * kMiB}, kPiece)) << "room for part of it: the timer";
  EXPECT_TRUE(r.should_retry(t0 + 3s, DiskSpace{16 * kMiB, 16 * kMiB}, kPiece)) << "room for all of it: now";
}

TEST(DiskRetry, RoomThatWasThereAllAlongWaitsForTheTimer) {
  // A quota (EDQUOT) does not show in statvfs: the disk looks roomy while
  // every write fails. Trying at every look would be a loop.
  DiskRetry r(params());
  const Clock::time_point t0{};
  r.failed(DiskTrouble::no_space, t0);
  for (auto t : {1s, 2s, 3s, 4s}) EXPECT_FALSE(r.should_retry(t0 + t, DiskSpace{100 * kMiB, 16 * kMiB}, kPiece));
  EXPECT_TRUE(r.should_retry(t0 + 5s, DiskSpace{100 * kMiB, 16 * kMiB}, kPiece));
  // The attempt failed again: room seen short before the failure counts no more.
  r.failed(DiskTrouble::no_space, t0 + 5s);
  EXPECT_FALSE(r.should_retry(t0 + 6s, DiskSpace{100 * kMiB, 16 * kMiB}, kPiece));
}

TEST(DiskRetry, NotATryWhileNoPieceFits) {
  DiskRetry r(params());
  const Clock::time_point t0{};
  r.failed(DiskTrouble::no_space, t0);
  // Long past the timer, but a piece would not fit: trying would only fetch
  // pieces to throw them away.
  EXPECT_FALSE(r.should_retry(t0 + 1h, DiskSpace{kPiece - 1, 16 * kMiB}, kPiece));
  // One piece fits: the timer decides (part of the rest can be written).
  EXPECT_TRUE(r.should_retry(t0 + 1h, DiskSpace{kPiece, 16 * kMiB}, kPiece));
  // The last piece may be smaller than a piece: room for the rest is room.
  DiskRetry last(params());
  last.failed(DiskTrouble::no_space, t0);
  EXPECT_FALSE(last.should_retry(t0 + 1s, DiskSpace{100, 1000}, kPiece));
  EXPECT_TRUE(last.should_retry(t0 + 2s, DiskSpace{1000, 1000}, kPiece));
  // Without a look at the disk, the timer alone.
  DiskRetry blind(params());
  blind.failed(DiskTrouble::no_space, t0);
  EXPECT_FALSE(blind.should_retry(t0 + 4s, std::nullopt, kPiece));
  EXPECT_TRUE(blind.should_retry(t0 + 5s, std::nullopt, kPiece));
}

TEST(DiskRetry, TroubleOfAnError) {
  EXPECT_EQ(disk_trouble_of(make_error(std::string(kNoSpace), "x")), DiskTrouble::no_space);
  EXPECT_EQ(disk_trouble_of(make_error(std::string(kWriteFailed), "x")), DiskTrouble::write_error);
  // Not the disk's: a link swapped in, a file that cannot be opened.
  EXPECT_EQ(disk_trouble_of(make_error("io_error", "x")), std::nullopt);
  EXPECT_EQ(disk_trouble_of(make_error("bad_piece", "x")), std::nullopt);
  for (DiskTrouble t : {DiskTrouble::no_space, DiskTrouble::write_error}) {
    EXPECT_EQ(trouble_from_name(trouble_name(t)), t);
  }
  EXPECT_EQ(trouble_from_name(""), std::nullopt);
  EXPECT_EQ(trouble_from_name("paused"), std::nullopt);
}

TEST(DiskRetry, Reason) {
  EXPECT_EQ(disk_pause_reason(DiskTrouble::no_space, "cannot write the partial file: No space left on device",
                              "/mnt/x", DiskSpace{4 * kMiB, 16 * kMiB}),
            "no space left in /mnt/x (needs 12.0 MiB more)");
  EXPECT_EQ(disk_pause_reason(DiskTrouble::no_space, "", "/mnt/x", std::nullopt), "no space left in /mnt/x");
  EXPECT_EQ(disk_pause_reason(DiskTrouble::no_space, "", "/mnt/x", DiskSpace{20 * kMiB, 16 * kMiB}),
            "no space left in /mnt/x");
  EXPECT_EQ(disk_pause_reason(DiskTrouble::write_error, "cannot sync the partial file: Input/output error", "/mnt/x",
                              DiskSpace{0, 16 * kMiB}),
            "write error in /mnt/x: cannot sync the partial file: Input/output error");
}

}  // namespace
}  // namespace gs::daemon
