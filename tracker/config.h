// gs-tracker's settings: the [tracker] table of its TOML config file
// (etc/gs-tracker.toml documents every key). Every key is optional; an
// unknown key or a bad value is an error naming file, line and key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "log.h"
#include "result.h"

namespace gs::tracker {

struct TrackerConfig {
  LogLevel log_level = LogLevel::info;
  int64_t session_ttl_seconds = 20;
  // How long an access ticket lets a daemon fetch a file; it renews its
  // ticket while it downloads. A member who leaves loses access within this.
  int64_t ticket_ttl_seconds = 300;
  int64_t kdf_log2_n = 15;
  int64_t max_connections = 4096;
  // Connections from one source address at once; more are closed at once.
  int64_t max_connections_per_address = 64;
  // Peers one file_info answer lists at most (a random pick when there are
  // more); at most kMaxListedPeers, what the frame budget allows.
  int64_t max_peers_per_answer = 50;
  int64_t handshake_timeout_seconds = 10;
  int64_t idle_timeout_seconds = 120;
  int64_t login_failures_before_delay = 5;
  int64_t login_delay_seconds = 30;
  // The same per source address, whatever the account (address_limit.h):
  // larger, as every user of one host or NAT counts together.
  int64_t login_address_failures_before_delay = 50;
  int64_t login_address_delay_seconds = 30;
  int64_t login_addresses_tracked = 10000;
  // Silence after which another tracker is taken for dead (or a backup for
  // late), and a failover starts (docs/replication.md, "Live").
  int64_t cluster_timeout_ms = 1500;
  // Log entries kept for trackers that come back; one further behind gets a
  // copy of the whole state file instead.
  int64_t replica_log_keep = 10000;
  // TLS 1.3 on every link (clients and other trackers); false only on a
  // trusted network.
  bool tls = true;
};

// `name` is what errors call the file (its path).
Result<TrackerConfig> parse_tracker_config(std::string_view text, const std::string& name);
Result<TrackerConfig> load_tracker_config(const std::string& path);

}  // namespace gs::tracker
