// A clock for tracker tests: time moves only when the test says so.
#pragma once

#include "tracker/clock.h"

namespace gs::test {

class FakeClock final : public tracker::Clock {
 public:
  tracker::Instant now() const override { return now_; }
  int64_t unix_seconds() const override { return unix_; }
  void advance(tracker::Seconds s) {
    now_ += s;
    unix_ += s.count();
  }

 private:
  tracker::Instant now_{std::chrono::hours(1000)};  // well away from the epoch
  int64_t unix_ = 1700000000;
};

}  // namespace gs::test
