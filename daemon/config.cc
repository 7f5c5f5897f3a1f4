#include "config.h"

#include <sys/stat.h>

#include "paths.h"

namespace gs::daemon {
namespace {

Error usage_error(std::string message) { return make_error("bad_usage", std::move(message)); }

// Values people paste from elsewhere may carry a stray newline or NUL; no
// path or address we accept contains either.
bool clean_value(const std::string& v) {
  return !v.empty() && v.find('\0') == std::string::npos && v.find('\n') == std::string::npos;
}

}  // namespace

std::string default_config_path() { return std::string(GS_SYSCONFDIR) + "/gsd.toml"; }
std::string default_trackers_path() { return std::string(GS_SYSCONFDIR) + "/trackers.txt"; }

Result<ParsedArgs> parse_args(const std::vector<std::string>& args) {
  ParsedArgs out;
  struct Opt {
    const char* name;
    std::optional<std::string> CliOptions::*field;
  };
  static const Opt kOpts[] = {
      {"--config", &CliOptions::config},   {"--state-dir", &CliOptions::state_dir},
      {"--socket", &CliOptions::socket},   {"--listen", &CliOptions::listen},
      {"--trackers", &CliOptions::trackers},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      out.action = ParsedArgs::Action::help;
      return out;
    }
    if (arg == "--version") {
      out.action = ParsedArgs::Action::version;
      return out;
    }
    const Opt* opt = nullptr;
    std::optional<std::string> value;
    for (const Opt& o : kOpts) {
      const std::string name = o.name;
      if (arg == name) {
        opt = &o;
      } else if (arg.rfind(name + "=", 0) == 0) {
        opt = &o;
        value = arg.substr(name.size() + 1);
      }
      if (opt) break;
    }
    if (!opt) {
      if (!arg.empty() && arg[0] == '-') return usage_error("unknown option '" + arg + "'");
      return usage_error("unexpected argument '" + arg + "'");
    }
    if (!value) {
      if (i + 1 >= args.size()) return usage_error(std::string(opt->name) + " needs a value");
      value = args[++i];
    }
    if (!clean_value(*value)) return usage_error(std::string(opt->name) + " needs a non-empty value");
    if (opt->field == &CliOptions::listen) {
      if (auto ep = parse_endpoint(*value, /*allow_port_zero=*/true); !ep) {
        return usage_error("--listen: " + ep.error().message);
      }
    }
    out.cli.*(opt->field) = *value;
  }
  return out;
}

std::string usage_text() {
  return "Usage: gsd [OPTIONS]\n"
         "\n"
         "The gs peer daemon, one per user seat: it keeps this seat's session with the\n"
         "trackers and serves gsctl on a private Unix socket. It runs in the foreground,\n"
         "logs to stderr, and stops cleanly on SIGTERM or SIGINT; SIGHUP rereads the\n"
         "config file (etc/gsd.toml says which keys apply without a restart).\n"
         "\n"
         "Options (each overrides the same key of the config file):\n"
         "  --config FILE       TOML settings, [daemon] section\n"
         "                      (default: " + default_config_path() + " if it exists)\n"
         "  --state-dir DIR     state directory, holds gsd.db (daemon.state_dir;\n"
         "                      default: " + default_state_dir("gsd") + ")\n"
         "  --socket PATH       control socket for gsctl (daemon.socket;\n"
         "                      default: " + default_socket_path() + ")\n"
         "  --listen HOST:PORT  peer port (daemon.listen; default: " + kDefaultListen + ")\n"
         "  --trackers FILE     trackers file, one 'IP PORT' per line (daemon.trackers;\n"
         "                      default: " + default_trackers_path() + ")\n"
         "  -h, --help          print this help and exit\n"
         "  --version           print the version and exit\n"
         "\n"
         "Config-only keys: daemon.log_level (info), daemon.heartbeat_seconds (" +
         std::to_string(kDefaultHeartbeatSeconds) + "),\n"
         "daemon.tracker_timeout_seconds (" + std::to_string(kDefaultTrackerTimeoutSeconds) +
         "),\ndaemon.max_upload_rate (bytes per second to all peers together; 0, the default,\n"
         "is unlimited), daemon.max_download_rate (the same for downloads), daemon.max_peers\n"
         "(peer connections of all downloads together; 0, the default, is no limit),\n"
         "daemon.write_path (auto: each file system is measured when the\n"
         "first large download into it starts, and downloaded pieces go to the disk with\n"
         "O_DIRECT or through the page cache, whichever wrote faster; direct or buffered\n"
         "fix it; the old daemon.direct_io = false means buffered, true auto),\n"
         "daemon.tls (true: TLS 1.3 on every link; false only on a trusted network),\n"
         "daemon.max_peer_connections_per_address (" + std::to_string(kDefaultMaxPeerConnectionsPerAddress) +
         ", 1-" + std::to_string(kMaxPeerConnectionsPerAddress) + ": peer connections\n"
         "from one address at once), daemon.max_pending_requests_per_peer (" +
         std::to_string(kDefaultMaxPendingRequestsPerPeer) + ", " + std::to_string(kMinPendingRequestsPerPeer) +
         "-" + std::to_string(kMaxPendingRequestsPerPeer) + ": piece\n"
         "requests one peer may have queued; more close it), daemon.max_peers_per_download\n"
         "(" + std::to_string(kDefaultMaxPeersPerDownload) + ", 1-" + std::to_string(kMaxPeersPerDownload) +
         "). The example gsd.toml documents every key.\n"
         "\n"
         "Exit status: 0 after a clean stop, 1 on a startup error (config, trackers\n"
         "file, state file, socket or port), 2 on a usage error.\n";
}

Result<DaemonConfig> make_config(ConfigFile& file, const std::string& file_name, const CliOptions& cli) {
  DaemonConfig c;
  c.config_file = file_name;
  c.state_dir = default_state_dir("gsd");
  c.socket = default_socket_path();
  c.trackers_file = default_trackers_path();
  std::string listen = kDefaultListen;
  std::string level = "info";
  int64_t heartbeat = kDefaultHeartbeatSeconds;
  int64_t timeout = kDefaultTrackerTimeoutSeconds;

  struct PathKey {
    const char* key;
    std::string* out;
  };
  const PathKey paths[] = {{"daemon.state_dir", &c.state_dir},
                           {"daemon.socket", &c.socket},
                           {"daemon.trackers", &c.trackers_file},
                           {"daemon.listen", &listen},
                           {"daemon.log_level", &level}};
  for (const PathKey& p : paths) {
    if (auto s = file.get(p.key, *p.out); !s) return s.error();
    if (!clean_value(*p.out)) return file.value_error(p.key, "must not be empty");
  }
  // A heartbeat slower than an hour would outlive any sensible session TTL.
  if (auto s = file.get("daemon.heartbeat_seconds", heartbeat, 1, 3600); !s) return s.error();
  if (auto s = file.get("daemon.tracker_timeout_seconds", timeout, 1, 600); !s) return s.error();
  // Up to 1 TiB/s, far above any link: only 0 means unlimited.
  int64_t upload_rate = 0;
  if (auto s = file.get("daemon.max_upload_rate", upload_rate, 0, int64_t{1} << 40); !s) return s.error();
  c.max_upload_rate = static_cast<uint64_t>(upload_rate);
  int64_t download_rate = 0;
  if (auto s = file.get("daemon.max_download_rate", download_rate, 0, int64_t{1} << 40); !s) return s.error();
  c.max_download_rate = static_cast<uint64_t>(download_rate);
  if (auto s = file.get("daemon.max_peers", c.max_peers, 0, kMaxPeers); !s) return s.error();
  std::string write_path = std::string(write_path_setting_name(c.write_path));
  if (auto s = file.get("daemon.write_path", write_path); !s) return s.error();
  // write_path's old name. false keeps meaning the page cache; true, its
  // old default, which most files have only because the example showed it,
  // now means auto like the new default.
  bool direct_io = true;
  if (auto s = file.get("daemon.direct_io", direct_io); !s) return s.error();
  if (file.has("daemon.direct_io") && file.has("daemon.write_path")) {
    return file.value_error("daemon.direct_io", "is the old name of daemon.write_path; set only write_path");
  }
  if (auto s = file.get("daemon.tls", c.tls); !s) return s.error();
  if (auto s = file.get("daemon.max_peer_connections_per_address", c.max_peer_connections_per_address, 1,
                        kMaxPeerConnectionsPerAddress);
      !s) {
    return s.error();
  }
  if (auto s = file.get("daemon.max_pending_requests_per_peer", c.max_pending_requests_per_peer,
                        kMinPendingRequestsPerPeer, kMaxPendingRequestsPerPeer);
      !s) {
    return s.error();
  }
  if (auto s = file.get("daemon.max_peers_per_download", c.max_peers_per_download, 1, kMaxPeersPerDownload); !s) {
    return s.error();
  }
  if (auto s = file.check_unknown(); !s) return s.error();
  for (const char* key : {"daemon.max_upload_rate", "daemon.max_download_rate", "daemon.max_peers"}) {
    if (file.has(key)) c.keys_in_file.emplace(key);
  }

  if (!parse_log_level(level, c.log_level)) {
    return file.value_error("daemon.log_level", "'" + level + "' is not one of error, warn, info, debug");
  }
  if (auto setting = parse_write_path_setting(write_path)) {
    c.write_path = *setting;
  } else {
    return file.value_error("daemon.write_path", "'" + write_path + "' is not one of auto, direct, buffered");
  }
  if (file.has("daemon.direct_io")) c.write_path = direct_io ? WritePathSetting::automatic : WritePathSetting::buffered;
  auto ep = parse_endpoint(listen, /*allow_port_zero=*/true);
  if (!ep) return file.value_error("daemon.listen", ep.error().message);
  c.listen = *ep;
  c.heartbeat_seconds = static_cast<int>(heartbeat);
  c.tracker_timeout_seconds = static_cast<int>(timeout);

  // parse_args() has already checked these.
  if (cli.state_dir) c.state_dir = *cli.state_dir;
  if (cli.socket) c.socket = *cli.socket;
  if (cli.trackers) c.trackers_file = *cli.trackers;
  if (cli.listen) {
    auto cli_ep = parse_endpoint(*cli.listen, true);
    if (!cli_ep) return make_error("bad_usage", "--listen: " + cli_ep.error().message);
    c.listen = *cli_ep;
  }
  return c;
}

Result<DaemonConfig> load_config(const CliOptions& cli) {
  std::string path;
  if (cli.config) {
    path = *cli.config;
  } else {
    struct stat st {};
    if (stat(default_config_path().c_str(), &st) == 0) path = default_config_path();
  }
  if (path.empty()) {
    ConfigFile none;
    return make_config(none, "", cli);
  }
  auto file = ConfigFile::load(path);
  if (!file) return file.error();
  return make_config(*file, path, cli);
}

}  // namespace gs::daemon
