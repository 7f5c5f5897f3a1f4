#include "config_reload.h"

namespace gs::tracker {
std::vector<ConfigValue> tracker_config_values(const TrackerConfig& c) {
  const auto n = [](int64_t v) { return std::to_string(v); };
  return {
      {"tracker.tls", c.tls ? "true" : "false", false},
      {"tracker.max_connections", n(c.max_connections), false},
      {"tracker.login_addresses_tracked", n(c.login_addresses_tracked), false},
      {"tracker.cluster_timeout_ms", n(c.cluster_timeout_ms), false},
      {"tracker.replica_log_keep", n(c.replica_log_keep), false},
      {"tracker.log_level", log_level_setting(c.log_level), true},
      {"tracker.session_ttl_seconds", n(c.session_ttl_seconds), true},
      {"tracker.ticket_ttl_seconds", n(c.ticket_ttl_seconds), true},
      {"tracker.kdf_log2_n", n(c.kdf_log2_n),
       true},  // new password hashes; stored ones carry theirs
      {"tracker.max_connections_per_address", n(c.max_connections_per_address), true},
      {"tracker.max_peers_per_answer", n(c.max_peers_per_answer), true},
      {"tracker.handshake_timeout_seconds", n(c.handshake_timeout_seconds), true},
      {"tracker.idle_timeout_seconds", n(c.idle_timeout_seconds), true},
      {"tracker.login_failures_before_delay", n(c.login_failures_before_delay), true},
      {"tracker.login_delay_seconds", n(c.login_delay_seconds), true},
      {"tracker.login_address_failures_before_delay", n(c.login_address_failures_before_delay),
       true},
      {"tracker.login_address_delay_seconds", n(c.login_address_delay_seconds), true},
  };
}

TrackerReloadPlan plan_tracker_reload(const TrackerConfig& running, const TrackerConfig& loaded) {
  TrackerReloadPlan plan;
  plan.next = loaded;
  // The restart-only keys, as running (the first rows above).
  plan.next.tls = running.tls;
  plan.next.max_connections = running.max_connections;
  plan.next.login_addresses_tracked = running.login_addresses_tracked;
  plan.next.cluster_timeout_ms = running.cluster_timeout_ms;
  plan.next.replica_log_keep = running.replica_log_keep;

  const ConfigChanges changes =
      compare_config(tracker_config_values(running), tracker_config_values(loaded));
  plan.applied = changes.applied;
  plan.kept = changes.kept;
  return plan;
}

}  // namespace gs::tracker
