// What a reload (SIGHUP) of gsd's config changes: the running settings and
// the file as it reads now in, the settings to run with and what to say
// about each key out. Pure, so the rules are tested without a daemon.
//
// The rules:
//  - keys that only shape what is built at startup (where the state, the
//    socket and the peer port are, the trackers file, TLS, the write path)
//    keep their running value; each that changed is reported as needing a
//    restart;
//  - every other key takes its new value, and the daemon applies it to what
//    is running (daemon/main.cc): limits and rates to transfers already
//    going, timeouts from the next one they time, the log level at once;
//  - a file that does not load (syntax, unknown key, a value out of range)
//    never reaches this: the caller keeps the running settings whole.
#pragma once

#include <string>
#include <vector>

#include "config.h"
#include "config_changes.h"  // lib: ConfigValue, compare_config, kept_line

namespace gs::daemon {

// Every key DaemonConfig holds, in a fixed order.
std::vector<ConfigValue> config_values(const DaemonConfig& c);

struct ReloadPlan {
  DaemonConfig next;  // what to run with from now on
  using Change = ConfigChange;
  std::vector<Change> applied;  // reloadable keys whose value changed
  std::vector<Change> kept;     // restart-only keys whose value changed (`from` is kept)
};

ReloadPlan plan_reload(const DaemonConfig& running, const DaemonConfig& loaded);

}  // namespace gs::daemon
