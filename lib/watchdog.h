// systemd's watchdog (WatchdogSec=): the service manager passes
// WATCHDOG_USEC (and WATCHDOG_PID) and expects WATCHDOG=1 at least that
// often; when the pings stop it kills and restarts the service.
//
// The pings come from a timer of the event loop itself, every half of the
// timeout, and from nowhere else: what the watchdog must catch is a loop that
// no longer turns (a blocking call, a livelock, a deadlock on a lock), and a
// ping from another thread would go on through all of those.
//
// Test hook (builds with GS_TEST_HOOKS only, like crash_point.h): with
// GS_TEST_BLOCK_LOOP_AFTER_SECONDS=N the loop blocks for good N seconds after
// the Watchdog is made, so a test sees the pings stop (and must SIGKILL the
// process: a blocked loop handles no SIGTERM either).
#pragma once

#include <chrono>
#include <optional>

#include <event2/event.h>

namespace gs {

// The ping interval the environment asks for: half of WATCHDOG_USEC, when it
// is a positive number and WATCHDOG_PID is unset or `self` (systemd sets the
// PID so that a child that inherits the variables does not ping for its
// parent). nullopt: no watchdog.
std::optional<std::chrono::microseconds> watchdog_interval(const char* usec, const char* pid, long self);

class Watchdog {
 public:
  // Reads WATCHDOG_USEC and WATCHDOG_PID; without them it does nothing. The
  // first ping goes out one interval after construction.
  explicit Watchdog(event_base* base);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  std::optional<std::chrono::microseconds> interval() const { return interval_; }

 private:
  static void on_ping(evutil_socket_t, short, void*);
  static void on_block(evutil_socket_t, short, void*);
  std::optional<std::chrono::microseconds> interval_;
  event* ping_ = nullptr;
  event* block_ = nullptr;  // the test hook's one-shot timer
};

}  // namespace gs
