// Which tracker to try next and how long to wait first. Pure: the tracker
// client tells it what happened (with the time and a random number) and it
// answers; no sockets, no clock of its own, so tests can walk it through
// any history.
//
// Rules:
//  - Trackers are tried in trackers-file order, starting with the first.
//  - A failed attempt, or a link that dies, moves on to the next tracker at
//    once; only when a whole pass over the list has failed does it wait,
//    with exponential backoff (initial_backoff doubling up to max_backoff,
//    +/- jitter so that daemons restarted together do not stampede).
//  - A link that stayed up for stable_after was healthy: losing it resets
//    the backoff. One that dies sooner counts as a failed attempt, so a
//    tracker that accepts and drops us in a loop is retried with backoff,
//    not in a hot loop.
//  - A tracker that is up but not the primary (a backup, or one still
//    recovering) redirects: it names the primary, and that one is tried at
//    once; a redirect is not a failure of the tracker. Only 2 * N redirects
//    in a row are followed that way (two trackers that each name the other
//    would bounce us for ever); past that, and whenever the primary is not
//    known, the next tracker in order is tried as after a failure, with the
//    backoff of a failed pass, so a cluster that is still choosing its
//    primary is polled, not hammered.
//  - Except right after a failover: for election_window after a link to a
//    primary was lost, a pass in which some tracker answered (it is up, the
//    cluster is choosing a new primary, which takes about the trackers'
//    cluster_timeout_ms) waits only initial_backoff, without growing, so
//    the daemon finds the new primary within a poll of its election.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace gs::daemon {

class ReconnectPolicy {
 public:
  using Clock = std::chrono::steady_clock;
  using Duration = std::chrono::milliseconds;

  struct Params {
    Duration initial_backoff{250};
    Duration max_backoff{5000};
    Duration stable_after{10000};
    Duration election_window{5000};
    double jitter = 0.2;  // each wait is scaled by a factor in [1 - jitter, 1 + jitter], then capped
  };

  explicit ReconnectPolicy(size_t tracker_count, Params params);
  explicit ReconnectPolicy(size_t tracker_count) : ReconnectPolicy(tracker_count, Params{}) {}

  // Index (0-based, trackers-file order) of the tracker to try now.
  size_t current() const { return index_; }

  // The link to current() finished its handshake.
  void on_link_up(Clock::time_point now);

  // The attempt on current() failed, or its link was lost. Moves to the next
  // tracker and returns how long to wait before trying it. rand01 is a
  // uniform random number in [0, 1).
  Duration on_down(Clock::time_point now, double rand01);

  // current() is not the primary; it named `primary` (0-based), or nobody
  // when it does not know. Moves to the tracker to try next and returns how
  // long to wait first: no wait when it follows the named primary.
  Duration on_redirect(std::optional<size_t> primary, Clock::time_point now, double rand01);

  // The redirects in a row that on_redirect followed to a named primary.
  size_t redirects_in_row() const { return redirects_; }
  // How many of those it follows before treating them as failures.
  size_t max_redirects() const { return 2 * count_; }

  // Passes over the whole list that failed since the last healthy link.
  size_t failed_passes() const { return failures_ / count_; }
  bool link_up() const { return up_; }

 private:
  Duration backoff(double rand01);
  // `base` ms scaled by the jitter, within the cap.
  Duration jittered(int64_t base, double rand01) const;
  // A link that was up ends: true (and the failure count reset) when it had
  // been up for stable_after.
  bool left_healthy_link(Clock::time_point now);
  // The link (or attempt) on current() ended; moves to the next tracker.
  Duration next_after_failure(Clock::time_point now, double rand01);

  size_t count_;
  Params params_;
  size_t index_ = 0;
  size_t failures_ = 0;  // attempts in a row without a healthy link
  int level_ = 0;        // backoff exponent
  size_t redirects_ = 0;  // followed in a row, since the last primary link or failure
  bool up_ = false;
  bool answered_ = false;             // a tracker redirected us in this pass
  Clock::time_point electing_until_{};  // see election_window
  Clock::time_point up_since_{};
};

}  // namespace gs::daemon
