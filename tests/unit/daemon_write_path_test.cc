// WritePathPolicy: measured rates in, a write path out, per file system.
#include "daemon/write_path.h"

#include <gtest/gtest.h>

namespace gs::daemon {
namespace {

constexpr double MiB = 1 << 20;
constexpr uint64_t kBig = uint64_t{1} << 30;
constexpr uint64_t kDev = 0x801;

using Step = WritePathPolicy::Step;
using Answer = WritePathPolicy::Answer;

WritePath choose(double direct, double buffered, double margin = 0.10) {
  return WritePathPolicy::choose(WriteRates{direct * MiB, buffered * MiB}, margin);
}

TEST(WritePath, TheFasterPathWins) {
  EXPECT_EQ(choose(380, 485), WritePath::buffered) << "the disk of the issue";
  EXPECT_EQ(choose(900, 230), WritePath::direct) << "the VM where page-cache pages are dear";
}

TEST(WritePath, BufferedMustBeFasterByTheMarginAtEqualSpeedDirectStays) {
  EXPECT_EQ(choose(500, 500), WritePath::direct);
  EXPECT_EQ(choose(500, 549), WritePath::direct) << "9.8 % faster is within the margin";
  EXPECT_EQ(choose(500, 551), WritePath::buffered) << "10.2 % faster is past it";
  EXPECT_EQ(choose(500, 551, 0.25), WritePath::direct) << "a wider margin keeps direct longer";
  EXPECT_EQ(choose(500, 626, 0.25), WritePath::buffered);
  EXPECT_EQ(choose(500, 501, 0.0), WritePath::buffered) << "no margin: simply the faster";
}

TEST(WritePath, NoFiguresOrNoDirectMeansBuffered) {
  EXPECT_EQ(WritePathPolicy::choose(std::nullopt, 0.10), WritePath::buffered) << "the probe failed";
  EXPECT_EQ(choose(0, 100), WritePath::buffered) << "O_DIRECT refused";
  EXPECT_EQ(choose(0, 0), WritePath::buffered);
}

TEST(WritePath, SettingNames) {
  EXPECT_EQ(parse_write_path_setting("auto"), WritePathSetting::automatic);
  EXPECT_EQ(parse_write_path_setting("direct"), WritePathSetting::direct);
  EXPECT_EQ(parse_write_path_setting("buffered"), WritePathSetting::buffered);
  EXPECT_EQ(parse_write_path_setting("Direct"), std::nullopt);
  EXPECT_EQ(parse_write_path_setting(""), std::nullopt);
  for (auto s : {WritePathSetting::automatic, WritePathSetting::direct, WritePathSetting::buffered}) {
    EXPECT_EQ(parse_write_path_setting(write_path_setting_name(s)), s);
  }
  EXPECT_EQ(write_path_name(WritePath::direct), "direct");
  EXPECT_EQ(write_path_name(WritePath::buffered), "buffered");
}

TEST(WritePathPolicy, AFixedSettingNeverProbes) {
  WritePathPolicy direct(WritePathSetting::direct);
  EXPECT_EQ(direct.on_download(kDev, kBig), (Answer{Step::use, WritePath::direct}));
  EXPECT_EQ(direct.decided(kDev), WritePath::direct);
  WritePathPolicy buffered(WritePathSetting::buffered);
  EXPECT_EQ(buffered.on_download(kDev, kBig), (Answer{Step::use, WritePath::buffered}));
  EXPECT_EQ(buffered.decided(kDev), WritePath::buffered);
}

TEST(WritePathPolicy, TheFirstLargeDownloadProbesOthersWaitThenAllUseTheResult) {
  WritePathPolicy p(WritePathSetting::automatic);
  EXPECT_EQ(p.decided(kDev), std::nullopt);
  EXPECT_EQ(p.on_download(kDev, kBig).step, Step::probe);
  EXPECT_EQ(p.on_download(kDev, kBig).step, Step::wait) << "one probe per file system";
  EXPECT_EQ(p.on_download(kDev, 1).step, Step::wait) << "a small download too: it would disturb the figures";
  EXPECT_EQ(p.decided(kDev), std::nullopt);

  EXPECT_EQ(p.on_probed(kDev, WriteRates{380 * MiB, 485 * MiB}), WritePath::buffered);
  EXPECT_EQ(p.decided(kDev), WritePath::buffered);
  EXPECT_EQ(p.on_download(kDev, kBig), (Answer{Step::use, WritePath::buffered}));
  EXPECT_EQ(p.on_download(kDev, 1), (Answer{Step::use, WritePath::buffered}));
}

TEST(WritePathPolicy, EachFileSystemIsMeasuredOnItsOwn) {
  WritePathPolicy p(WritePathSetting::automatic);
  ASSERT_EQ(p.on_download(1, kBig).step, Step::probe);
  ASSERT_EQ(p.on_download(2, kBig).step, Step::probe);
  EXPECT_EQ(p.on_probed(1, WriteRates{900 * MiB, 230 * MiB}), WritePath::direct);
  EXPECT_EQ(p.on_download(2, kBig).step, Step::wait);
  EXPECT_EQ(p.on_probed(2, WriteRates{380 * MiB, 485 * MiB}), WritePath::buffered);
  EXPECT_EQ(p.on_download(1, kBig), (Answer{Step::use, WritePath::direct}));
  EXPECT_EQ(p.on_download(2, kBig), (Answer{Step::use, WritePath::buffered}));
}

TEST(WritePathPolicy, AFailedProbeMeansBufferedForGood) {
  WritePathPolicy p(WritePathSetting::automatic);
  ASSERT_EQ(p.on_download(kDev, kBig).step, Step::probe);
  EXPECT_EQ(p.on_probed(kDev, std::nullopt), WritePath::buffered);
  EXPECT_EQ(p.on_download(kDev, kBig), (Answer{Step::use, WritePath::buffered})) << "not measured again";
}

TEST(WritePathPolicy, SmallDownloadsDoNotProbeAndTakeBufferedUntilSomethingIsKnown) {
  WritePathPolicy::Params params;
  params.min_probed_file_size = 64 << 20;
  WritePathPolicy p(WritePathSetting::automatic, params);
  EXPECT_EQ(p.on_download(kDev, (64 << 20) - 1), (Answer{Step::use, WritePath::buffered}));
  EXPECT_EQ(p.decided(kDev), std::nullopt) << "nothing learned from a small one";
  EXPECT_EQ(p.on_download(kDev, 64 << 20).step, Step::probe);
  p.on_probed(kDev, WriteRates{900 * MiB, 230 * MiB});
  EXPECT_EQ(p.on_download(kDev, 1), (Answer{Step::use, WritePath::direct})) << "then small ones use the result";
}

TEST(WritePathPolicy, AfterMaxWaitDownloadsGoAheadBufferedUntilTheProbeDecides) {
  WritePathPolicy p(WritePathSetting::automatic);
  ASSERT_EQ(p.on_download(kDev, kBig).step, Step::probe);
  EXPECT_EQ(p.on_download(kDev, kBig).step, Step::wait);
  p.on_max_wait(kDev);
  EXPECT_EQ(p.on_download(kDev, kBig), (Answer{Step::use_for_now, WritePath::buffered}));
  EXPECT_EQ(p.on_download(kDev, 1), (Answer{Step::use_for_now, WritePath::buffered}));
  EXPECT_EQ(p.decided(kDev), std::nullopt) << "going ahead decides nothing";
  EXPECT_EQ(p.on_probed(kDev, WriteRates{900 * MiB, 230 * MiB}), WritePath::direct);
  EXPECT_EQ(p.on_download(kDev, kBig), (Answer{Step::use, WritePath::direct}));
  p.on_max_wait(kDev);  // a late timer changes nothing
  EXPECT_EQ(p.on_download(kDev, kBig), (Answer{Step::use, WritePath::direct}));
  EXPECT_EQ(p.on_download(kDev + 1, kBig).step, Step::probe) << "another file system waits afresh";
  EXPECT_EQ(p.on_download(kDev + 1, kBig).step, Step::wait);
}

TEST(WritePathPolicy, TheMarginComesFromTheParams) {
  WritePathPolicy::Params params;
  params.margin = 0.5;
  WritePathPolicy p(WritePathSetting::automatic, params);
  ASSERT_EQ(p.on_download(kDev, kBig).step, Step::probe);
  EXPECT_EQ(p.on_probed(kDev, WriteRates{380 * MiB, 485 * MiB}), WritePath::direct) << "28 % is under 50 %";
}

}  // namespace
}  // namespace gs::daemon
