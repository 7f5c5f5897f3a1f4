// gsd's settings: built-in defaults, then the TOML config file, then the
// command line, each overriding the one before. The daemon only reads its
// TOML; anything it changes at run time lives in its state file.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config_file.h"
#include "endpoint.h"
#include "log.h"
#include "result.h"
#include "write_path.h"

namespace gs::daemon {

inline constexpr const char* kDefaultListen = "0.0.0.0:7410";
inline constexpr int kDefaultHeartbeatSeconds = 5;
inline constexpr int kDefaultTrackerTimeoutSeconds = 10;
// Limits on the peer port and on downloads, with the ranges the config
// accepts (etc/gsd.toml).
inline constexpr int64_t kDefaultMaxPeerConnectionsPerAddress = 16;
inline constexpr int64_t kMaxPeerConnectionsPerAddress = 100000;
inline constexpr int64_t kDefaultMaxPendingRequestsPerPeer = 64;
// Our own downloads pipeline up to 8 requests per peer (PipelineDepth::kMax):
// a lower limit would close honest peers.
inline constexpr int64_t kMinPendingRequestsPerPeer = 8;
inline constexpr int64_t kMaxPendingRequestsPerPeer = 1024;
inline constexpr int64_t kDefaultMaxPeersPerDownload = 32;  // DownloadOptions::max_peers
inline constexpr int64_t kMaxPeersPerDownload = 256;        // DownloadOptions::max_known_peers
// Peer connections of all downloads together; 0 (the default) leaves only
// the per-download limit.
inline constexpr int64_t kMaxPeers = 100000;

// Read when --config is not given, if it exists (an installed gsd.toml).
std::string default_config_path();
// The trackers file when neither --trackers nor daemon.trackers names one.
std::string default_trackers_path();

// What the command line says; an unset option leaves the config file's value.
struct CliOptions {
  std::optional<std::string> config;
  std::optional<std::string> state_dir;
  std::optional<std::string> socket;
  std::optional<std::string> listen;
  std::optional<std::string> trackers;
};

struct ParsedArgs {
  enum class Action { run, help, version };
  Action action = Action::run;
  CliOptions cli;
};

// Pure: argv[1..] in, options or a usage error ("bad_usage") out. Accepts
// "--opt VALUE" and "--opt=VALUE".
Result<ParsedArgs> parse_args(const std::vector<std::string>& args);

// The --help text, with the defaults as they are in this environment.
std::string usage_text();

struct DaemonConfig {
  std::string config_file;  // the file that was read; empty when none
  std::string state_dir;
  std::string socket;
  Endpoint listen;
  std::string trackers_file;
  LogLevel log_level = LogLevel::info;
  int heartbeat_seconds = kDefaultHeartbeatSeconds;
  int tracker_timeout_seconds = kDefaultTrackerTimeoutSeconds;
  uint64_t max_upload_rate = 0;    // bytes per second over all peers; 0 = unlimited
  uint64_t max_download_rate = 0;  // the same for what downloads fetch
  // Peer connections of all downloads together; 0 = no limit but the
  // per-download one.
  int64_t max_peers = 0;
  // How downloaded pieces reach the disk: measured per file system, or fixed.
  WritePathSetting write_path = WritePathSetting::automatic;
  bool tls = true;               // TLS 1.3 on every link; false only on a trusted network
  // Peer connections from one source address at once; more are closed at once.
  int64_t max_peer_connections_per_address = kDefaultMaxPeerConnectionsPerAddress;
  // Piece requests one peer connection may have queued; a peer over it is closed.
  int64_t max_pending_requests_per_peer = kDefaultMaxPendingRequestsPerPeer;
  // Peers each download connects to at once.
  int64_t max_peers_per_download = kDefaultMaxPeersPerDownload;
  // The keys the file set ("daemon.max_upload_rate"), whatever their value:
  // `gsctl limits` says whether a value is the default or the file's.
  std::set<std::string, std::less<>> keys_in_file;
};

// Applies `file` (every [daemon] key checked, unknown keys refused) and then
// `cli` over the defaults. Errors name file, line and key.
Result<DaemonConfig> make_config(ConfigFile& file, const std::string& file_name, const CliOptions& cli);

// Reads cli.config, or default_config_path() when that exists, or nothing.
Result<DaemonConfig> load_config(const CliOptions& cli);

}  // namespace gs::daemon
