// Two small policies of the download side, pure and clock-driven so tests can
// move time: a transfer rate over a sliding window, and the size of the
// request pipeline to one peer.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

namespace gs::daemon {

using DownloadClock = std::chrono::steady_clock;

// Bytes per second over the last ~5 s, in 500 ms buckets. Cheap enough to
// keep one per peer and one per download.
class RateMeter {
 public:
  static constexpr auto kBucket = std::chrono::milliseconds(500);
  static constexpr size_t kBuckets = 10;  // 5 s

  void add(uint64_t bytes, DownloadClock::time_point now) {
    if (!started_) {
      started_ = true;
      first_ = now;
    }
    advance(now);
    buckets_[current_ % kBuckets] += bytes;
  }

  // 0 before the first byte. A meter younger than the window averages over
  // its age (at least one bucket), so a new peer is not under-rated.
  uint64_t rate(DownloadClock::time_point now) const {
    if (!started_) return 0;
    const int64_t at = bucket_of(now);
    uint64_t sum = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      const int64_t b = current_ - static_cast<int64_t>(i);
      if (b < 0) break;
      if (at - b < static_cast<int64_t>(kBuckets)) sum += buckets_[static_cast<size_t>(b) % kBuckets];
    }
    const auto age = std::min<DownloadClock::duration>(now - first_, kBucket * kBuckets);
    const double seconds = std::chrono::duration<double>(std::max<DownloadClock::duration>(age, kBucket)).count();
    return static_cast<uint64_t>(static_cast<double>(sum) / seconds);
  }

  // How long the meter has been measuring; a rate is meaningful after ~1 s.
  DownloadClock::duration age(DownloadClock::time_point now) const {
    return started_ ? now - first_ : DownloadClock::duration::zero();
  }

 private:
  int64_t bucket_of(DownloadClock::time_point t) const {
    return static_cast<int64_t>((t - first_) / kBucket);
  }
  void advance(DownloadClock::time_point now) {
    const int64_t target = bucket_of(now);
    // Clears the buckets skipped since the last add (at most the whole ring).
    for (int64_t b = current_ + 1; b <= target && b <= current_ + static_cast<int64_t>(kBuckets); ++b) {
      buckets_[static_cast<size_t>(b) % kBuckets] = 0;
    }
    current_ = std::max(current_, target);
  }

  bool started_ = false;
  DownloadClock::time_point first_{};
  int64_t current_ = 0;
  std::array<uint64_t, kBuckets> buckets_{};
};

// How many whole-piece requests to keep outstanding with one peer: enough to
// keep about one second of its rate in flight, so a fast peer never waits for
// our next request and a slow one is not handed pieces it would sit on.
// Starts at 2, grows by one per piece until the rate is known (slow start),
// then follows the rate; halves when a request times out or is refused.
class PipelineDepth {
 public:
  static constexpr size_t kStart = 2;
  static constexpr size_t kMin = 1;
  static constexpr size_t kMax = 8;

  size_t depth() const { return depth_; }

  // A piece arrived. `rate`: the peer's bytes/s; `measured`: the rate covers
  // at least a second.
  void on_piece(uint64_t rate, bool measured, uint32_t piece_size) {
    if (!measured || piece_size == 0) {
      depth_ = std::min(kMax, depth_ + 1);
      return;
    }
    // One second of its rate, plus one so a peer held back only by our
    // pipeline can show that it could go faster.
    const uint64_t per_second = (rate + piece_size - 1) / piece_size;
    depth_ = static_cast<size_t>(std::clamp<uint64_t>(per_second + 1, kMin, kMax));
  }

  void on_dropped() { depth_ = std::max(kMin, depth_ / 2); }

 private:
  size_t depth_ = kStart;
};

}  // namespace gs::daemon
