// The one-line STATUS= that `systemctl status` shows under the unit's name,
// kept current: every few seconds the process is asked for its summary, and
// a summary that changed goes to systemd.
//
// Outside systemd ($NOTIFY_SOCKET unset) it does nothing, not even build the
// summary.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <event2/event.h>

namespace gs {

class StatusNotifier {
 public:
  static constexpr std::chrono::seconds kDefaultInterval{5};

  StatusNotifier(event_base* base, std::function<std::string()> summary,
                 std::chrono::milliseconds interval = kDefaultInterval);
  ~StatusNotifier();
  StatusNotifier(const StatusNotifier&) = delete;
  StatusNotifier& operator=(const StatusNotifier&) = delete;

  // Sends the summary now if it changed since the last one sent; the timer
  // calls it, and so may a caller after a change worth showing at once.
  void refresh();

 private:
  static void on_timer(evutil_socket_t, short, void* self);
  std::function<std::string()> summary_;
  std::string sent_;
  event* timer_ = nullptr;
};

}  // namespace gs
