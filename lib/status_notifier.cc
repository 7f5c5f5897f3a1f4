#include "status_notifier.h"

#include "service.h"

namespace gs {

StatusNotifier::StatusNotifier(event_base* base, std::function<std::string()> summary,
                               std::chrono::milliseconds interval)
    : summary_(std::move(summary)) {
  if (!notify_socket_set()) return;
  timer_ = event_new(base, -1, EV_PERSIST, &StatusNotifier::on_timer, this);
  const timeval every{static_cast<time_t>(interval.count() / 1000),
                      static_cast<suseconds_t>(interval.count() % 1000 * 1000)};
  event_add(timer_, &every);
}

StatusNotifier::~StatusNotifier() {
  if (timer_) event_free(timer_);
}

void StatusNotifier::refresh() {
  if (!timer_) return;
  std::string now = summary_();
  // STATUS= is one line (it is the text after "Status:" in systemctl status).
  for (char& c : now) {
    if (c == '\n') c = ' ';
  }
  if (now == sent_) return;
  if (notify_status(now)) sent_ = std::move(now);
}

void StatusNotifier::on_timer(evutil_socket_t, short, void* self) { static_cast<StatusNotifier*>(self)->refresh(); }

}  // namespace gs
