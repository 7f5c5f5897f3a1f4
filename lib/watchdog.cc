#include "watchdog.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "log.h"
#include "service.h"

namespace gs {
namespace {

std::optional<long long> positive_number(const char* text) {
  if (!text || !*text) return std::nullopt;
  long long v = 0;
  const char* end = text + std::strlen(text);
  const auto [at, ec] = std::from_chars(text, end, v);
  if (ec != std::errc() || at != end || v <= 0) return std::nullopt;
  return v;
}

timeval to_timeval(std::chrono::microseconds us) {
  return timeval{static_cast<time_t>(us.count() / 1'000'000), static_cast<suseconds_t>(us.count() % 1'000'000)};
}

}  // namespace

std::optional<std::chrono::microseconds> watchdog_interval(const char* usec, const char* pid, long self) {
  const auto timeout = positive_number(usec);
  if (!timeout) return std::nullopt;
  if (pid && *pid) {
    const auto owner = positive_number(pid);
    if (!owner || *owner != self) return std::nullopt;
  }
  // Half, as sd_watchdog_enabled(3) advises: a ping late by a busy turn of
  // the loop still arrives in time. At least 1 µs so the timer is a timer.
  return std::chrono::microseconds(std::max<long long>(*timeout / 2, 1));
}

Watchdog::Watchdog(event_base* base) {
  interval_ = watchdog_interval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), static_cast<long>(getpid()));
  if (interval_) {
    ping_ = event_new(base, -1, EV_PERSIST, &Watchdog::on_ping, this);
    const timeval every = to_timeval(*interval_);
    event_add(ping_, &every);
    log_debug("watchdog: WATCHDOG=1 every ", interval_->count() / 1000, " ms");
  }
#ifdef GS_TEST_HOOKS
  if (const auto after = positive_number(std::getenv("GS_TEST_BLOCK_LOOP_AFTER_SECONDS"))) {
    log_warn("test hook GS_TEST_BLOCK_LOOP_AFTER_SECONDS=", *after, " is active: the event loop blocks for good in ",
             *after, " s");
    block_ = evtimer_new(base, &Watchdog::on_block, this);
    const timeval in{static_cast<time_t>(*after), 0};
    event_add(block_, &in);
  }
#endif
}

Watchdog::~Watchdog() {
  if (ping_) event_free(ping_);
  if (block_) event_free(block_);
}

void Watchdog::on_ping(evutil_socket_t, short, void*) { notify("WATCHDOG=1"); }

void Watchdog::on_block(evutil_socket_t, short, void*) {
  log_warn("test hook: blocking the event loop for good");
  for (;;) pause();  // signals interrupt pause(); the loop never gets them
}

}  // namespace gs
