// What every long-running gs process does the same way: stop cleanly on
// SIGTERM/SIGINT, ignore SIGPIPE, and tell systemd (Type=notify) when it is
// ready or stopping. Without libsystemd at build time the notifications are
// no-ops and the processes run the same.
#pragma once

#include <functional>
#include <string>

#include <event2/event.h>

namespace gs {

// Owns the SIGTERM/SIGINT events of a loop; `on_stop` runs on the loop the
// first time either arrives (a second one exits the loop at once).
class StopSignals {
 public:
  StopSignals(event_base* base, std::function<void()> on_stop);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  static void on_signal(evutil_socket_t sig, short, void* self);
  event_base* base_;
  std::function<void()> on_stop_;
  event* term_ = nullptr;
  event* intr_ = nullptr;
  bool stopping_ = false;
};

void ignore_sigpipe();
void notify_ready(const std::string& status);
void notify_status(const std::string& status);
void notify_stopping();

}  // namespace gs
