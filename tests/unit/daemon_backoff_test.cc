// The tracker client's reconnect policy: which tracker next, and how long to
// wait. Pure, so the tests walk it through histories with a fake clock.
#include "daemon/reconnect_policy.h"

#include <gtest/gtest.h>

namespace gs::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = ReconnectPolicy::Clock;

ReconnectPolicy::Params no_jitter() {
  ReconnectPolicy::Params p;
  p.jitter = 0;
  return p;
}

TEST(ReconnectPolicy, TriesTrackersInOrderWithoutWaitingWithinAPass) {
  ReconnectPolicy p(3, no_jitter());
  const auto t = Clock::now();
  EXPECT_EQ(p.current(), 0u);
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  EXPECT_EQ(p.current(), 1u);
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  EXPECT_EQ(p.current(), 2u);
  // The whole list failed: wait before starting over at the first.
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(250));
  EXPECT_EQ(p.current(), 0u);
  EXPECT_EQ(p.failed_passes(), 1u);
}

TEST(ReconnectPolicy, BackoffDoublesUpToTheCap) {
  ReconnectPolicy p(1, no_jitter());
  const auto t = Clock::now();
  std::vector<int64_t> waits;
  for (int i = 0; i < 10; ++i) waits.push_back(p.on_down(t, 0.5).count());
  EXPECT_EQ(waits, (std::vector<int64_t>{250, 500, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000}));
  // And it stays bounded however long the trackers stay away.
  for (int i = 0; i < 10000; ++i) EXPECT_LE(p.on_down(t, 0.999).count(), 5000);
}

TEST(ReconnectPolicy, JitterStaysWithinItsBandAndTheCap) {
  ReconnectPolicy::Params params;
  params.jitter = 0.2;
  ReconnectPolicy low(1, params), high(1, params);
  const auto t = Clock::now();
  EXPECT_EQ(low.on_down(t, 0.0), milliseconds(200));   // 250 * 0.8
  EXPECT_EQ(high.on_down(t, 0.999999), milliseconds(299));  // 250 * ~1.2
  for (int i = 0; i < 20; ++i) {
    EXPECT_LE(high.on_down(t, 0.999999), milliseconds(5000));
    EXPECT_GE(low.on_down(t, 0.0), milliseconds(200));
  }
  // Out-of-range random numbers cannot push a wait out of bounds.
  ReconnectPolicy odd(1, params);
  EXPECT_LE(odd.on_down(t, 7.0), milliseconds(300));
  EXPECT_GE(odd.on_down(t, -3.0), milliseconds(0));
}

TEST(ReconnectPolicy, LosingAHealthyLinkFailsOverAtOnceAndResetsBackoff) {
  ReconnectPolicy p(2, no_jitter());
  auto t = Clock::now();
  // Two failed passes build up some backoff.
  p.on_down(t, 0.5);
  p.on_down(t, 0.5);
  p.on_down(t, 0.5);
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(500));
  ASSERT_EQ(p.current(), 0u);
  p.on_link_up(t);
  EXPECT_TRUE(p.link_up());
  t += seconds(60);
  // The link held for a minute: its loss moves on to the next tracker now.
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  EXPECT_EQ(p.current(), 1u);
  EXPECT_EQ(p.failed_passes(), 0u);
  // And the backoff starts from the beginning again.
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(250));
}

TEST(ReconnectPolicy, AFlappingTrackerIsRetriedWithBackoff) {
  // A tracker that completes the handshake and drops us at once, forever:
  // each short-lived link counts as a failure, so the waits grow.
  ReconnectPolicy p(1, no_jitter());
  auto t = Clock::now();
  std::vector<int64_t> waits;
  for (int i = 0; i < 4; ++i) {
    p.on_link_up(t);
    t += milliseconds(100);
    waits.push_back(p.on_down(t, 0.5).count());
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{250, 500, 1000, 2000}));
}

TEST(ReconnectPolicy, SingleTrackerRestartIsRetriedPromptly) {
  ReconnectPolicy p(1, no_jitter());
  auto t = Clock::now();
  p.on_link_up(t);
  t += seconds(30);
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));  // reconnect at once
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(250));  // refused: short waits first
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(500));
  EXPECT_EQ(p.current(), 0u);
}

TEST(ReconnectPolicy, ZeroTrackersIsTreatedAsOne) {
  ReconnectPolicy p(0, no_jitter());
  EXPECT_EQ(p.current(), 0u);
  EXPECT_EQ(p.on_down(Clock::now(), 0.5), milliseconds(250));
  EXPECT_EQ(p.current(), 0u);
}

// ---- redirects: a tracker that is up but not the primary ----

TEST(ReconnectPolicy, ANamedPrimaryIsTriedAtOnceAndIsNoFailure) {
  ReconnectPolicy p(3, no_jitter());
  const auto t = Clock::now();
  EXPECT_EQ(p.on_redirect(2, t, 0.5), milliseconds(0));
  EXPECT_EQ(p.current(), 2u);  // straight there, not to the next in order
  EXPECT_EQ(p.redirects_in_row(), 1u);
  // Had it counted as a failure, the third failure below would be a full
  // pass and wait.
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(250));
}

TEST(ReconnectPolicy, OnlyTwiceNRedirectsInARowAreFollowed) {
  // Two trackers each naming the other.
  ReconnectPolicy p(2, no_jitter());
  const auto t = Clock::now();
  ASSERT_EQ(p.max_redirects(), 4u);
  for (int i = 0; i < 4; ++i) {
    const size_t other = 1 - p.current();
    EXPECT_EQ(p.on_redirect(other, t, 0.5), milliseconds(0));
    EXPECT_EQ(p.current(), other);
  }
  // From here on each redirect is a failed attempt: on in order, with the
  // backoff of a failed pass.
  EXPECT_EQ(p.on_redirect(1 - p.current(), t, 0.5), milliseconds(0));
  EXPECT_EQ(p.on_redirect(1 - p.current(), t, 0.5), milliseconds(250));
  EXPECT_EQ(p.on_redirect(1 - p.current(), t, 0.5), milliseconds(0));
  EXPECT_EQ(p.on_redirect(1 - p.current(), t, 0.5), milliseconds(500));
  EXPECT_EQ(p.redirects_in_row(), 4u);
}

TEST(ReconnectPolicy, APrimaryLinkOrAFailedTrackerEndsAChainOfRedirects) {
  ReconnectPolicy p(2, no_jitter());
  const auto t = Clock::now();
  p.on_redirect(1, t, 0.5);
  p.on_redirect(0, t, 0.5);
  EXPECT_EQ(p.redirects_in_row(), 2u);
  p.on_link_up(t);
  EXPECT_EQ(p.redirects_in_row(), 0u);
  p.on_redirect(1, t, 0.5);
  // The named primary is gone: the backup that named it only did not know yet.
  p.on_down(t, 0.5);
  EXPECT_EQ(p.redirects_in_row(), 0u);
}

TEST(ReconnectPolicy, AnUnknownPrimaryMovesOnInOrderWithBackoff) {
  ReconnectPolicy p(2, no_jitter());
  const auto t = Clock::now();
  EXPECT_EQ(p.on_redirect(std::nullopt, t, 0.5), milliseconds(0));
  EXPECT_EQ(p.current(), 1u);
  EXPECT_EQ(p.on_redirect(std::nullopt, t, 0.5), milliseconds(250));
  EXPECT_EQ(p.current(), 0u);
  // A tracker naming itself, or one not in our file, names nobody.
  EXPECT_EQ(p.on_redirect(0, t, 0.5), milliseconds(0));
  EXPECT_EQ(p.current(), 1u);
  EXPECT_EQ(p.on_redirect(7, t, 0.5), milliseconds(500));
  EXPECT_EQ(p.current(), 0u);
}

TEST(ReconnectPolicy, APrimaryThatStepsDownAfterAHealthyWhileIsNoFailure) {
  ReconnectPolicy p(2, no_jitter());
  auto t = Clock::now();
  p.on_down(t, 0.5);
  p.on_down(t, 0.5);  // a failed pass: the next one would wait longer
  p.on_link_up(t);
  t += seconds(60);
  // It steps down and knows no successor yet: on at once, backoff from scratch.
  EXPECT_EQ(p.on_redirect(std::nullopt, t, 0.5), milliseconds(0));
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(250));
}

TEST(ReconnectPolicy, RightAfterAFailoverAnElectingClusterIsPolledQuickly) {
  // Three trackers; the primary (0) held our link for a minute and died.
  ReconnectPolicy p(3, no_jitter());
  auto t = Clock::now();
  p.on_link_up(t);
  t += seconds(60);
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  // The backups still name the dead primary, or nobody, while they elect.
  std::vector<int64_t> waits;
  for (int pass = 0; pass < 6; ++pass) {
    for (int k = 0; k < 4 && waits.size() <= static_cast<size_t>(pass); ++k) {
      const auto w = p.current() == 0 ? p.on_down(t, 0.5) : p.on_redirect(std::nullopt, t, 0.5);
      if (w.count() > 0) waits.push_back(w.count());
    }
    t += milliseconds(250);
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{250, 250, 250, 250, 250, 250}))
      << "no growing backoff while the cluster elects";
  // Past the election window, a cluster that still has no primary is polled
  // with the usual growing backoff.
  t += seconds(10);
  std::vector<int64_t> later;
  for (int k = 0; k < 9; ++k) {
    const auto w = p.on_redirect(std::nullopt, t, 0.5);
    if (w.count() > 0) later.push_back(w.count());
  }
  EXPECT_EQ(later, (std::vector<int64_t>{250, 500, 1000}));
}

TEST(ReconnectPolicy, AShortLivedPrimaryLinkAlsoOpensTheElectionWindow) {
  // The daemon had just found the primary when it died.
  ReconnectPolicy p(2, no_jitter());
  auto t = Clock::now();
  p.on_down(t, 0.5);
  p.on_down(t, 0.5);  // a failed pass before: backoff level 1
  p.on_link_up(t);
  t += seconds(1);
  p.on_down(t, 0.5);
  std::vector<int64_t> waits;
  for (int k = 0; k < 8; ++k) {
    const auto w = p.on_redirect(std::nullopt, t, 0.5);
    if (w.count() > 0) waits.push_back(w.count());
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{250, 250, 250, 250}));
}

TEST(ReconnectPolicy, RefusedConnectionsAfterAFailoverStillBackOff) {
  // Nobody answers (every tracker is down): no election to wait for.
  ReconnectPolicy p(2, no_jitter());
  auto t = Clock::now();
  p.on_link_up(t);
  t += seconds(60);
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));  // on to tracker 1
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(250));
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(0));
  EXPECT_EQ(p.on_down(t, 0.5), milliseconds(500));
}

}  // namespace
}  // namespace gs::daemon
