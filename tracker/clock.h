// The tracker's view of time, behind an interface so that tests can move it.
// Liveness and rate limiting use the monotonic clock (a wall-clock jump must
// not end every session at once); records in the state file carry wall-clock
// seconds because people read them.
#pragma once

#include <chrono>
#include <cstdint>

namespace gs::tracker {

using Instant = std::chrono::steady_clock::time_point;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
  virtual int64_t unix_seconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant now() const override { return std::chrono::steady_clock::now(); }
  int64_t unix_seconds() const override {
    return std::chrono::duration_cast<Seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace gs::tracker
