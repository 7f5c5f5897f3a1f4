// What every long-running gs process does the same way: stop cleanly on
// SIGTERM/SIGINT, ignore SIGPIPE, and tell systemd (Type=notify) when it is
// ready or stopping. The watchdog's pings and the STATUS= line kept current
// are in watchdog.h and status_notifier.h.
//
// The notifications speak systemd's notify protocol directly (one datagram to
// the AF_UNIX socket named by $NOTIFY_SOCKET; a stable interface that
// sd_notify(3) documents for exactly this), instead of linking libsystemd:
// libsystemd and what it pulls in (libgcrypt, liblzma, libzstd, liblz4,
// libcap) keep ~0.9 MiB resident in every daemon for one sendmsg, and they are
// code a network daemon is better without. Outside systemd ($NOTIFY_SOCKET
// unset) the calls do nothing.
#pragma once

#include <event2/event.h>

#include <functional>
#include <string>

#include "config_changes.h"
#include "log.h"

namespace gs {

// Owns the SIGTERM/SIGINT events of a loop; `on_stop` runs on the loop the
// first time either arrives, after STOPPING=1 went to systemd (a second
// signal exits the loop at once).
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

// Owns the SIGHUP event of a loop: `on_reload` runs on the loop each time one
// arrives (reread the config). Without it SIGHUP's default action ends the
// process, which is what `kill -HUP` did to the daemons before.
class ReloadSignal {
 public:
  ReloadSignal(event_base* base, std::function<void()> on_reload);
  ~ReloadSignal();
  ReloadSignal(const ReloadSignal&) = delete;
  ReloadSignal& operator=(const ReloadSignal&) = delete;

 private:
  std::function<void()> on_reload_;
  event* hup_ = nullptr;
};

void ignore_sigpipe();

// First thing in a daemon's main(), before anything slow, the one place for
// its signal dispositions: SIGPIPE ignored (ignore_sigpipe); a SIGHUP that
// comes before ReloadSignal exists ignored instead of ending the process
// (the config being read then is the newest anyway); and the signals the
// daemons handle unblocked, since a blocked mask is inherited across exec (a
// parent may leave SIGHUP blocked, and then no reload would ever arrive). A
// SIGHUP left pending by such a parent is dropped.
void take_signals();

// The service's life as systemd sees it (sd_notify(3)). READY=1 once the
// state is loaded and every socket listens; STATUS= any time; STOPPING=1 as
// shutdown begins. Around a reload (SIGHUP, ExecReload=): notify_reloading()
// when it starts, notify_ready() when the new configuration is in force.
// Each returns whether the message went out.
bool notify_ready(const std::string& status);
bool notify_status(const std::string& status);
bool notify_stopping();
bool notify_reloading();
// Whether $NOTIFY_SOCKET is set: a systemd (or a test standing in for it)
// listens.
bool notify_socket_set();
// Sends `message` ("READY=1\nSTATUS=…") to $NOTIFY_SOCKET; false when it is
// unset, unusable or the send fails (the caller has nothing better to do).
bool notify(const std::string& message);

// One reload of a daemon's config file (SIGHUP), the same for both daemons:
// told to systemd (RELOADING=1, then READY=1 whether or not the file
// loaded). `load_and_plan` reads `file` and compares it with the running
// config, giving a plan (`next`, `applied`, `kept`) or the file's error
// (file, line, key), which is logged and changes nothing. Otherwise each
// kept and applied key is logged, `apply` gets the plan, and a summary line
// follows.
template <class LoadAndPlan, class Apply>
void reload_config(const std::string& file, LoadAndPlan load_and_plan, Apply apply) {
  notify_reloading();
  if (auto plan = load_and_plan(); !plan) {
    log_error("config not reloaded, the running settings stay: ", plan.error().message);
  } else {
    for (const auto& k : plan->kept) log_warn(kept_line(k));
    for (const auto& c : plan->applied) log_info("config: ", c.key, " ", c.from, " -> ", c.to);
    apply(*plan);
    log_info("config reloaded from ", file.empty() ? "(no config file: defaults)" : file, ": ",
             plan->applied.size(), " change(s) applied, ", plan->kept.size(),
             " kept until a restart");
  }
  notify("READY=1");
}

}  // namespace gs
