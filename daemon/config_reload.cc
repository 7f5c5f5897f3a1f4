#include "config_reload.h"

namespace gs::daemon {
std::vector<ConfigValue> config_values(const DaemonConfig& c) {
  return {
      // Built once at startup: a restart applies them.
      {"daemon.state_dir", c.state_dir, false},
      {"daemon.socket", c.socket, false},
      {"daemon.listen", c.listen.str(), false},
      {"daemon.trackers", c.trackers_file, false},
      {"daemon.tls", c.tls ? "true" : "false", false},
      {"daemon.write_path", std::string(write_path_setting_name(c.write_path)), false},
      // Applied to what runs.
      {"daemon.log_level", log_level_setting(c.log_level), true},
      {"daemon.heartbeat_seconds", std::to_string(c.heartbeat_seconds), true},
      {"daemon.tracker_timeout_seconds", std::to_string(c.tracker_timeout_seconds), true},
      {"daemon.max_upload_rate", std::to_string(c.max_upload_rate), true},
      {"daemon.max_download_rate", std::to_string(c.max_download_rate), true},
      {"daemon.max_peers", std::to_string(c.max_peers), true},
      {"daemon.max_peer_connections_per_address",
       std::to_string(c.max_peer_connections_per_address), true},
      {"daemon.max_pending_requests_per_peer", std::to_string(c.max_pending_requests_per_peer),
       true},
      {"daemon.max_peers_per_download", std::to_string(c.max_peers_per_download), true},
  };
}

ReloadPlan plan_reload(const DaemonConfig& running, const DaemonConfig& loaded) {
  ReloadPlan plan;
  plan.next = loaded;
  // The restart-only keys, as running (the list of config_values above).
  plan.next.config_file = running.config_file;
  plan.next.state_dir = running.state_dir;
  plan.next.socket = running.socket;
  plan.next.listen = running.listen;
  plan.next.trackers_file = running.trackers_file;
  plan.next.tls = running.tls;
  plan.next.write_path = running.write_path;

  const ConfigChanges changes = compare_config(config_values(running), config_values(loaded));
  plan.applied = changes.applied;
  plan.kept = changes.kept;
  return plan;
}

}  // namespace gs::daemon
