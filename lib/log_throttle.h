// One log line for an event that may repeat many times a second (a refused
// connection, a peer over a limit): the first one is logged at once, then at
// most one summary line per interval with how many happened since the last
// line, so a flood cannot flood the log too.
//
//   LogThrottle refusals;  // one per limit, not per address: bounded memory
//   if (uint64_t n = refusals.hit(); n == 1) log_warn("refusing …");
//   else if (n > 1) log_warn("refused ", n, " … since the last such line");
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace gs {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kDefaultInterval = std::chrono::minutes(1);

  explicit LogThrottle(Clock::duration interval = kDefaultInterval) : interval_(interval) {}

  // One event at `now`. Returns 0 when nothing is to be logged; otherwise
  // the number of events the line to log now stands for: 1 for the first
  // (or one after a quiet interval), else every event since the last line,
  // this one included.
  uint64_t hit(Clock::time_point now = Clock::now()) {
    if (last_line_ && now - *last_line_ < interval_) {
      ++unlogged_;
      return 0;
    }
    const uint64_t n = unlogged_ + 1;
    unlogged_ = 0;
    last_line_ = now;
    return n;
  }

  // Events not yet in any line.
  uint64_t unlogged() const { return unlogged_; }

 private:
  Clock::duration interval_;
  std::optional<Clock::time_point> last_line_;
  uint64_t unlogged_ = 0;
};

}  // namespace gs
