// What a reload (SIGHUP) of gs-tracker's config changes: the running
// settings and the file as it reads now in, the settings to run with and
// what to say about each key out. Pure, like daemon/config_reload.h.
//
// Reloaded: the log level, TTLs (new tickets; sessions: see
// Sessions::set_ttl), login throttling, answers' peer count, and the
// per-address limit and timeouts of connections accepted from then on.
// Kept until a restart: what is sized or agreed at startup: tls,
// max_connections (the descriptor limit was fitted to it),
// login_addresses_tracked, cluster_timeout_ms (every tracker of the cluster
// must use the same) and replica_log_keep.
#pragma once

#include <string>
#include <vector>

#include "config.h"
#include "config_changes.h"  // lib: ConfigValue, compare_config, kept_line

namespace gs::tracker {

std::vector<ConfigValue> tracker_config_values(const TrackerConfig& c);

struct TrackerReloadPlan {
  TrackerConfig next;
  using Change = ConfigChange;
  std::vector<Change> applied;
  std::vector<Change> kept;  // `from` stays
};

TrackerReloadPlan plan_tracker_reload(const TrackerConfig& running, const TrackerConfig& loaded);

}  // namespace gs::tracker
