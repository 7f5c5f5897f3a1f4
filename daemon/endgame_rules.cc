#include "endgame_rules.h"

#include <algorithm>

namespace gs::daemon {

bool EndgameRules::slow(const PeerPace& peer, uint64_t fastest_rate) {
  return peer.measured_for >= std::chrono::seconds(1) && peer.rate * 4 < fastest_rate;
}

DownloadClock::duration EndgameRules::patience(const PeerPace& holder, uint32_t piece_length) const {
  const DownloadClock::duration longest = request_timeout_ / 2;
  DownloadClock::duration expected = longest;
  if (holder.rate > 0) {
    const double seconds = 2.0 * static_cast<double>(piece_length) * static_cast<double>(holder.outstanding) /
                           static_cast<double>(holder.rate);
    expected = std::chrono::duration_cast<DownloadClock::duration>(std::chrono::duration<double>(seconds));
  }
  const DownloadClock::duration shortest = std::min<DownloadClock::duration>(std::chrono::milliseconds(500), longest);
  return std::clamp(expected, shortest, longest);
}

}  // namespace gs::daemon
