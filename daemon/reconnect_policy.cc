#include "reconnect_policy.h"

#include <algorithm>

namespace gs::daemon {

ReconnectPolicy::ReconnectPolicy(size_t tracker_count, Params params)
    : count_(std::max<size_t>(tracker_count, 1)), params_(params) {
  params_.jitter = std::clamp(params_.jitter, 0.0, 1.0);
}

void ReconnectPolicy::on_link_up(Clock::time_point now) {
  up_ = true;
  up_since_ = now;
  redirects_ = 0;
}

ReconnectPolicy::Duration ReconnectPolicy::on_down(Clock::time_point now, double rand01) {
  // A tracker that fails breaks a chain of redirects: the one that named it
  // may simply not know yet that it is gone, which is no loop.
  redirects_ = 0;
  return next_after_failure(now, rand01);
}

ReconnectPolicy::Duration ReconnectPolicy::on_redirect(std::optional<size_t> primary, Clock::time_point now,
                                                       double rand01) {
  answered_ = true;
  if (primary && *primary < count_ && *primary != index_ && redirects_ < max_redirects()) {
    ++redirects_;
    index_ = *primary;
    // A primary that steps down after a healthy while was no failure either.
    (void)left_healthy_link(now);
    return Duration{0};
  }
  return next_after_failure(now, rand01);
}

bool ReconnectPolicy::left_healthy_link(Clock::time_point now) {
  if (!up_) return false;
  up_ = false;
  // Whatever took the primary away, the cluster may now be electing another.
  electing_until_ = now + params_.election_window;
  if (now - up_since_ < params_.stable_after) return false;
  failures_ = 0;
  level_ = 0;
  return true;
}

ReconnectPolicy::Duration ReconnectPolicy::next_after_failure(Clock::time_point now, double rand01) {
  index_ = (index_ + 1) % count_;
  if (left_healthy_link(now)) return Duration{0};
  ++failures_;
  if (failures_ % count_ != 0) return Duration{0};
  const bool electing = answered_ && now < electing_until_;
  answered_ = false;
  if (electing) return jittered(params_.initial_backoff.count(), rand01);
  return backoff(rand01);
}

ReconnectPolicy::Duration ReconnectPolicy::backoff(double rand01) {
  const auto max = params_.max_backoff.count();
  // Doubling stops at the cap; the exponent is bounded so the shift never overflows.
  int64_t base = params_.initial_backoff.count();
  for (int i = 0; i < level_ && base < max; ++i) base *= 2;
  if (level_ < 30) ++level_;
  return jittered(base, rand01);
}

ReconnectPolicy::Duration ReconnectPolicy::jittered(int64_t base, double rand01) const {
  const auto max = params_.max_backoff.count();
  rand01 = std::clamp(rand01, 0.0, 1.0);
  const double factor = 1.0 + params_.jitter * (2.0 * rand01 - 1.0);
  const auto wait = static_cast<int64_t>(static_cast<double>(std::min(base, max)) * factor);
  return Duration{std::clamp<int64_t>(wait, 0, max)};
}

}  // namespace gs::daemon
