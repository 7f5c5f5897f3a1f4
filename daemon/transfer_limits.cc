#include "transfer_limits.h"

#include <algorithm>
#include <limits>

namespace gs::daemon {

void RateBucket::refill(DownloadClock::time_point now) {
  if (rate_ == 0) return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  if (seconds <= 0) return;
  balance_ = std::min(balance_ + seconds * static_cast<double>(rate_), static_cast<double>(rate_));
}

void RateBucket::set_rate(uint64_t bytes_per_second, DownloadClock::time_point now) {
  refill(now);
  if (rate_ == 0)
    balance_ =
        static_cast<double>(bytes_per_second);  // from unlimited: start with a second's worth
  rate_ = bytes_per_second;
  last_ = now;
  balance_ = std::min(balance_, static_cast<double>(rate_));
}

bool RateBucket::take(uint64_t bytes, DownloadClock::time_point now) {
  if (rate_ == 0) return true;
  refill(now);
  if (balance_ <= 0) return false;
  balance_ -= static_cast<double>(bytes);
  return true;
}

size_t TransferLimits::peer_room() const {
  if (max_peers_ == 0) return std::numeric_limits<size_t>::max();
  const size_t open = count_peers_ ? count_peers_() : 0;
  return open >= max_peers_ ? 0 : static_cast<size_t>(max_peers_ - open);
}

}  // namespace gs::daemon
