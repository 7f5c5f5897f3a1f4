// The rate meter and the pipeline depth policy, driven by a hand-moved clock.
#include "daemon/download_rate.h"

#include <gtest/gtest.h>

namespace gs::daemon {
namespace {

using namespace std::chrono_literals;

TEST(RateMeter, AveragesOverItsAgeThenTheWindow) {
  RateMeter m;
  const auto t0 = DownloadClock::time_point{} + 100s;
  EXPECT_EQ(m.rate(t0), 0u);
  m.add(1000, t0);
  // Younger than a bucket: averaged over one bucket (0.5 s).
  EXPECT_EQ(m.rate(t0), 2000u);
  for (int i = 1; i <= 20; ++i) m.add(1000, t0 + i * 500ms);
  // 10 s of 2000 B/s: the 5 s window holds the last 10 buckets.
  EXPECT_NEAR(static_cast<double>(m.rate(t0 + 10s)), 2000.0, 250.0);
  // Silence: the window empties.
  EXPECT_EQ(m.rate(t0 + 30s), 0u);
  m.add(5000, t0 + 31s);
  EXPECT_NEAR(static_cast<double>(m.rate(t0 + 31s)), 1000.0, 1.0);
  EXPECT_GE(m.age(t0 + 31s), 31s);
}

TEST(PipelineDepth, SlowStartThenFollowsTheRate) {
  PipelineDepth d;
  EXPECT_EQ(d.depth(), PipelineDepth::kStart);
  d.on_piece(0, /*measured=*/false, 512 * 1024);
  d.on_piece(0, false, 512 * 1024);
  EXPECT_EQ(d.depth(), 4u);
  for (int i = 0; i < 20; ++i) d.on_piece(0, false, 512 * 1024);
  EXPECT_EQ(d.depth(), PipelineDepth::kMax);
  // 2 MiB/s with 512 KiB pieces: 4 pieces a second, plus one.
  d.on_piece(2 * 1024 * 1024, true, 512 * 1024);
  EXPECT_EQ(d.depth(), 5u);
  // A crawling peer: down to the minimum plus one.
  d.on_piece(1000, true, 512 * 1024);
  EXPECT_EQ(d.depth(), 2u);
  // A very fast one: capped.
  d.on_piece(1ull << 33, true, 512 * 1024);
  EXPECT_EQ(d.depth(), PipelineDepth::kMax);
}

TEST(PipelineDepth, DropsHalveDownToOne) {
  PipelineDepth d;
  for (int i = 0; i < 10; ++i) d.on_piece(0, false, 1024);
  EXPECT_EQ(d.depth(), 8u);
  d.on_dropped();
  EXPECT_EQ(d.depth(), 4u);
  d.on_dropped();
  d.on_dropped();
  d.on_dropped();
  d.on_dropped();
  EXPECT_EQ(d.depth(), PipelineDepth::kMin);
}

}  // namespace
}  // namespace gs::daemon
