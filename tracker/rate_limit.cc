#include "rate_limit.h"

#include <algorithm>
#include <iterator>

namespace gs::tracker {

bool LoginLimiter::forgotten(const Streak& s, Instant now) const {
  return now - s.last_failure >= params_.forget_after;
}

std::optional<Seconds> LoginLimiter::blocked(const std::string& user, Instant now) const {
  if (params_.delay <= Seconds::zero()) return std::nullopt;
  const auto it = streaks_.find(user);
  if (it == streaks_.end() || forgotten(it->second, now)) return std::nullopt;
  const Streak& s = it->second;
  if (s.failures < params_.failures_before_delay) return std::nullopt;
  const auto until = s.last_failure + params_.delay;
  if (now >= until) return std::nullopt;
  // Round up: "try again in 0 s" while still refused would be a lie.
  auto left = std::chrono::ceil<Seconds>(until - now);
  return left < Seconds(1) ? Seconds(1) : left;
}

void LoginLimiter::failure(const std::string& user, Instant now) {
  Streak& s = streaks_[user];
  if (s.failures > 0 && forgotten(s, now)) s.failures = 0;
  // Saturate: the count only matters up to the threshold.
  if (s.failures < params_.failures_before_delay) ++s.failures;
  s.last_failure = now;
  if (streaks_.size() >= prune_at_) prune(now);
}

void LoginLimiter::success(const std::string& user) { streaks_.erase(user); }

// Only existing accounts get streaks, so the map is bounded by the number of
// users anyway; sweeping forgotten streaks keeps it near the number of
// accounts under attack instead.
void LoginLimiter::prune(Instant now) {
  for (auto it = streaks_.begin(); it != streaks_.end();) {
    it = forgotten(it->second, now) ? streaks_.erase(it) : std::next(it);
  }
  prune_at_ = std::max<size_t>(1024, streaks_.size() * 2);
}

}  // namespace gs::tracker
