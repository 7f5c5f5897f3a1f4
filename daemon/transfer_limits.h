// The limits all downloads of the daemon share (limits.h says where their
// values come from): a download rate and a number of peer connections.
//
// The download rate paces piece requests, not socket reads: a request for a
// piece spends its length from a token bucket, and a download asks for no
// more while the bucket is empty. Pieces already asked for arrive at full
// speed, so the rate holds over a few seconds, not per packet, and a change
// applies to running downloads from their next request. Pacing reads instead
// would need the plain links (which recv() straight into piece buffers, not
// through a bufferevent) to learn libevent's rate limits, and a piece held
// back in the kernel still times out its request.
//
// Pure: the caller passes the time in. The loop owns it.
#pragma once

#include <cstdint>
#include <functional>

#include "download_rate.h"

namespace gs::daemon {

class RateBucket {
 public:
  // 0: unlimited. Keeps what was saved up, within the new burst.
  void set_rate(uint64_t bytes_per_second, DownloadClock::time_point now);
  uint64_t rate() const { return rate_; }
  // Whether `bytes` may be asked for now; when they may, they are spent.
  // Anything goes while the balance is positive, and may leave it below
  // zero: a piece larger than one second's worth still goes, and the debt
  // is paid before the next one.
  bool take(uint64_t bytes, DownloadClock::time_point now);

 private:
  void refill(DownloadClock::time_point now);

  uint64_t rate_ = 0;
  double balance_ = 0;  // bytes; at most one second's worth
  DownloadClock::time_point last_{};
};

class TransferLimits {
 public:
  // The peers of every download, counted when a download asks for room.
  explicit TransferLimits(std::function<size_t()> count_peers = {})
      : count_peers_(std::move(count_peers)) {}
  void set_count_peers(std::function<size_t()> fn) { count_peers_ = std::move(fn); }

  void set_download_rate(uint64_t bytes_per_second, DownloadClock::time_point now) {
    download_.set_rate(bytes_per_second, now);
  }
  uint64_t download_rate() const { return download_.rate(); }
  bool take_download(uint64_t bytes, DownloadClock::time_point now) {
    return download_.take(bytes, now);
  }

  // 0: no limit but each download's own. Connections over a lowered limit
  // stay open (nothing is dropped); no new one opens until they are under.
  void set_max_peers(uint64_t n) { max_peers_ = n; }
  uint64_t max_peers() const { return max_peers_; }
  // How many more peer connections downloads may open now.
  size_t peer_room() const;

 private:
  std::function<size_t()> count_peers_;
  RateBucket download_;
  uint64_t max_peers_ = 0;
};

}  // namespace gs::daemon
