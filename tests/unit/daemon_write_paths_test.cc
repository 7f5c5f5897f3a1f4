// The write probe on a real directory, and WritePaths: the first large
// download into a file system waits for the probe, others wait with it,
// and all then take the path decided, which each partial file follows.
#include "daemon/write_paths.h"

#include <dirent.h>
#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "fd.h"
#include "sandbox.h"
#include "test_loop.h"

namespace gs::daemon {
namespace {

// Small rounds: the figures do not matter here, only that there are some.
WriteProbeLimits quick() {
  WriteProbeLimits l;
  l.round_bytes = 1 << 20;
  l.chunk = 256 << 10;
  l.rounds = 2;
  l.budget = std::chrono::seconds(20);
  return l;
}

size_t entries(const std::string& dir) {
  size_t n = 0;
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    n += name != "." && name != "..";
  }
  closedir(d);
  return n;
}

TEST(WriteProbe, MeasuresBothPathsAndLeavesNothingBehind) {
  test::Sandbox sb;
  Fd dir(::open(sb.dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_GE(dir.get(), 0);
  auto rates = probe_write_paths(dir.get(), quick());
  ASSERT_TRUE(rates.ok()) << rates.error().message;
  EXPECT_GT(rates->buffered, 0);
  EXPECT_GE(rates->direct, 0) << "0 only where O_DIRECT is refused";
  EXPECT_EQ(entries(sb.dir()), 0u);
}

TEST(WriteProbe, OutOfTimeIsAFailure) {
  test::Sandbox sb;
  Fd dir(::open(sb.dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  WriteProbeLimits l = quick();
  l.budget = std::chrono::milliseconds(0);
  auto rates = probe_write_paths(dir.get(), l);
  ASSERT_FALSE(rates.ok());
  EXPECT_EQ(rates.error().code, "too_slow");
  EXPECT_EQ(entries(sb.dir()), 0u);
}

TEST(WriteProbe, ADirectoryThatIsGoneIsAFailure) {
  test::Sandbox sb;
  const std::string gone = sb.path("gone");
  ASSERT_EQ(mkdir(gone.c_str(), 0700), 0);
  Fd dir(::open(gone.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_EQ(rmdir(gone.c_str()), 0);
  auto rates = probe_write_paths(dir.get(), quick());
  ASSERT_FALSE(rates.ok());
  EXPECT_EQ(rates.error().code, "io_error");
}

class WritePathsTest : public ::testing::Test {
 protected:
  std::shared_ptr<PartFile> part(const std::string& name, uint64_t size = 1 << 20) {
    auto f = PartFile::create(sb_.path(name), size, /*direct_io=*/true);
    EXPECT_TRUE(f.ok()) << f.error().message;
    return f.ok() ? *f : nullptr;
  }
  // Whether `f` could write direct at all here (the file system's say).
  static bool can_direct(const std::shared_ptr<PartFile>& f) {
    f->use_direct(true);
    return f->direct_fd() >= 0;
  }

  test::Sandbox sb_;
  test::TestLoop loop_;
  WorkerPool pool_{loop_.base(), 2};
};

TEST_F(WritePathsTest, TheFirstLargeDownloadWaitsForTheProbeAndOthersWithIt) {
  WritePathPolicy::Params params;
  params.min_probed_file_size = 1 << 20;
  params.max_wait = std::chrono::seconds(30);
  WritePaths paths(loop_.base(), pool_, WritePathSetting::automatic, params, quick());
  auto a = part("a.gs-part");
  auto b = part("b.gs-part", 1);
  const bool direct_here = can_direct(a);
  int ready = 0;
  EXPECT_FALSE(paths.choose(a, 1 << 20, [&] { ++ready; }));
  EXPECT_FALSE(paths.choose(b, 1, [&] { ++ready; })) << "a small one waits for the running probe too";
  ASSERT_TRUE(loop_.run_until([&] { return ready == 2; }, 30));
  const uint64_t dev = a->identity().dev;
  ASSERT_TRUE(paths.decided(dev).has_value());
  if (!direct_here) {
    EXPECT_EQ(*paths.decided(dev), WritePath::buffered);
  }

  // Asked again, both take the decision; so does a later one, without waiting.
  auto c = part("c.gs-part");
  for (const auto& f : {a, b, c}) {
    EXPECT_TRUE(paths.choose(f, 1 << 20, [] { FAIL() << "decided already"; }));
    EXPECT_EQ(f->direct_fd() >= 0, *paths.decided(dev) == WritePath::direct);
  }
  EXPECT_EQ(entries(sb_.dir()), 3u) << "only the partial files";
}

TEST_F(WritePathsTest, ASmallDownloadAloneDoesNotProbeAndWritesBuffered) {
  WritePaths paths(loop_.base(), pool_, WritePathSetting::automatic);  // probes from 64 MiB
  auto a = part("a.gs-part");
  EXPECT_TRUE(paths.choose(a, 1 << 20, [] { FAIL() << "no probe"; }));
  EXPECT_EQ(a->direct_fd(), -1);
  EXPECT_FALSE(paths.decided(a->identity().dev).has_value());
  EXPECT_EQ(pool_.in_flight(), 0u);
}

TEST_F(WritePathsTest, AFixedSettingIsTakenAsItIs) {
  auto a = part("a.gs-part");
  const bool direct_here = can_direct(a);
  WritePaths buffered(loop_.base(), pool_, WritePathSetting::buffered);
  EXPECT_TRUE(buffered.choose(a, uint64_t{1} << 40, [] { FAIL(); }));
  EXPECT_EQ(a->direct_fd(), -1);
  WritePaths direct(loop_.base(), pool_, WritePathSetting::direct);
  EXPECT_TRUE(direct.choose(a, uint64_t{1} << 40, [] { FAIL(); }));
  EXPECT_EQ(a->direct_fd() >= 0, direct_here);
  EXPECT_EQ(pool_.in_flight(), 0u);
}

TEST_F(WritePathsTest, AProbeThatFailsMeansBuffered) {
  WritePathPolicy::Params params;
  params.min_probed_file_size = 1;
  WriteProbeLimits none = quick();
  none.budget = std::chrono::milliseconds(0);
  WritePaths paths(loop_.base(), pool_, WritePathSetting::automatic, params, none);
  auto a = part("a.gs-part");
  bool ready = false;
  ASSERT_FALSE(paths.choose(a, 1 << 20, [&] { ready = true; }));
  ASSERT_TRUE(loop_.run_until([&] { return ready; }));
  EXPECT_TRUE(paths.choose(a, 1 << 20, [] { FAIL(); }));
  EXPECT_EQ(a->direct_fd(), -1);
  EXPECT_EQ(paths.decided(a->identity().dev), WritePath::buffered);
}

// A probe held up (several daemons probing one disk, say) lets the
// downloads go ahead buffered after max_wait; they switch once it decides.
TEST_F(WritePathsTest, ASlowProbeLetsDownloadsStartBufferedAndSwitchesThemAfter) {
  auto a = part("a.gs-part");
  if (!can_direct(a)) GTEST_SKIP() << "no O_DIRECT here: nothing to switch to";
  WritePathPolicy::Params params;
  params.min_probed_file_size = 1;
  params.max_wait = std::chrono::milliseconds(50);
  auto go = std::make_shared<std::atomic<bool>>(false);
  WritePaths paths(loop_.base(), pool_, WritePathSetting::automatic, params, quick(), [go](int) -> Result<WriteRates> {
    for (int i = 0; i < 2000 && !*go; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return WriteRates{900.0 * (1 << 20), 230.0 * (1 << 20)};
  });
  int ready = 0;
  ASSERT_FALSE(paths.choose(a, 1 << 20, [&] { ++ready; }));
  ASSERT_TRUE(loop_.run_until([&] { return ready == 1; }, 5)) << "max_wait passed";
  EXPECT_TRUE(paths.choose(a, 1 << 20, [] { FAIL() << "it goes ahead"; }));
  EXPECT_EQ(a->direct_fd(), -1) << "buffered while the probe runs";
  EXPECT_FALSE(paths.decided(a->identity().dev).has_value());
  *go = true;
  ASSERT_TRUE(loop_.run_until([&] { return paths.decided(a->identity().dev).has_value(); }, 15));
  EXPECT_EQ(*paths.decided(a->identity().dev), WritePath::direct);
  EXPECT_GE(a->direct_fd(), 0) << "switched to the path decided";
  EXPECT_EQ(ready, 1) << "nobody was waiting any more";
}

TEST_F(WritePathsTest, GoneBeforeItsProbeEndsCallsNobody) {
  WritePathPolicy::Params params;
  params.min_probed_file_size = 1;
  auto a = part("a.gs-part");
  bool ready = false;
  {
    WritePaths paths(loop_.base(), pool_, WritePathSetting::automatic, params, quick());
    ASSERT_FALSE(paths.choose(a, 1 << 20, [&] { ready = true; }));
  }
  ASSERT_TRUE(loop_.run_until([&] { return pool_.in_flight() == 0; }, 30));
  EXPECT_FALSE(ready);
}

}  // namespace
}  // namespace gs::daemon
