#include "service.h"

#include <csignal>

#ifdef GS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"

namespace gs {

StopSignals::StopSignals(event_base* base, std::function<void()> on_stop)
    : base_(base), on_stop_(std::move(on_stop)) {
  term_ = evsignal_new(base, SIGTERM, &StopSignals::on_signal, this);
  intr_ = evsignal_new(base, SIGINT, &StopSignals::on_signal, this);
  event_add(term_, nullptr);
  event_add(intr_, nullptr);
}

StopSignals::~StopSignals() {
  event_free(term_);
  event_free(intr_);
}

void StopSignals::on_signal(evutil_socket_t sig, short, void* self) {
  auto* s = static_cast<StopSignals*>(self);
  if (s->stopping_) {
    log_warn("second signal ", sig, ": exiting now");
    event_base_loopbreak(s->base_);
    return;
  }
  s->stopping_ = true;
  log_info("signal ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ": shutting down");
  s->on_stop_();
}

void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

#ifdef GS_HAVE_SYSTEMD
void notify_ready(const std::string& status) { sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str()); }
void notify_status(const std::string& status) { sd_notifyf(0, "STATUS=%s", status.c_str()); }
void notify_stopping() { sd_notify(0, "STOPPING=1"); }
#else
void notify_ready(const std::string&) {}
void notify_status(const std::string&) {}
void notify_stopping() {}
#endif

}  // namespace gs
