#include "config.h"

#include <toml++/toml.h>

#include "config_file.h"
#include "tracker_service.h"
#include "trackers_file.h"

namespace gs::tracker {
namespace {

// ConfigFile checks types and ranges itself; for a string with a fixed set of
// values we check the value and find the line ourselves, so the error reads
// like every other config error.
Error bad_value(std::string_view text, const std::string& name, const std::string& key, const std::string& what) {
  std::string line = "?";
  try {
    const toml::table t = toml::parse(text, name);
    if (const toml::node* n = t.at_path(key).node()) line = std::to_string(n->source().begin.line);
  } catch (const toml::parse_error&) {
    // Cannot happen: ConfigFile parsed the same text already.
  }
  return make_error("bad_config", name + ":" + line + ": key '" + key + "': " + what);
}

}  // namespace

Result<TrackerConfig> parse_tracker_config(std::string_view text, const std::string& name) {
  auto parsed = ConfigFile::parse(text, name);
  if (!parsed) return parsed.error();
  ConfigFile& file = *parsed;
  TrackerConfig c;

  std::string level = "info";
  if (auto s = file.get("tracker.log_level", level); !s) return s.error();
  if (!parse_log_level(level, c.log_level)) {
    return bad_value(text, name, "tracker.log_level",
                     "\"" + level + "\" is not a log level (error, warn, info or debug)");
  }
  struct IntKey {
    const char* key;
    int64_t* out;
    int64_t min;
    int64_t max;
  };
  // Bounds: what still makes a working tracker. kdf_log2_n stops at 20
  // because verify_password() refuses stored hashes above that.
  const IntKey keys[] = {
      {"tracker.session_ttl_seconds", &c.session_ttl_seconds, 1, 86400},
      {"tracker.ticket_ttl_seconds", &c.ticket_ttl_seconds, 10, 86400},
      {"tracker.kdf_log2_n", &c.kdf_log2_n, 10, 20},
      {"tracker.max_connections", &c.max_connections, 1, 1000000},
      {"tracker.max_connections_per_address", &c.max_connections_per_address, 1, 1000000},
      {"tracker.max_peers_per_answer", &c.max_peers_per_answer, 1, static_cast<int64_t>(kMaxListedPeers)},
      {"tracker.handshake_timeout_seconds", &c.handshake_timeout_seconds, 1, 3600},
      {"tracker.idle_timeout_seconds", &c.idle_timeout_seconds, 1, 86400},
      {"tracker.login_failures_before_delay", &c.login_failures_before_delay, 1, 1000},
      {"tracker.login_delay_seconds", &c.login_delay_seconds, 0, 86400},
      // 10000 x 86400 s: the longest count AddressLimiter keeps in a steady_clock instant.
      {"tracker.login_address_failures_before_delay", &c.login_address_failures_before_delay, 1, 10000},
      {"tracker.login_address_delay_seconds", &c.login_address_delay_seconds, 0, 86400},
      {"tracker.login_addresses_tracked", &c.login_addresses_tracked, 1, 10000000},
      {"tracker.cluster_timeout_ms", &c.cluster_timeout_ms, 200, 60000},
      {"tracker.replica_log_keep", &c.replica_log_keep, 1, 100000000},
  };
  for (const IntKey& k : keys) {
    if (auto s = file.get(k.key, *k.out, k.min, k.max); !s) return s.error();
  }
  if (auto s = file.get("tracker.tls", c.tls); !s) return s.error();
  if (auto s = file.check_unknown(); !s) return s.error();
  return c;
}

Result<TrackerConfig> load_tracker_config(const std::string& path) {
  auto text = read_small_file(path);
  if (!text) return make_error("bad_config", text.error().message);
  return parse_tracker_config(*text, path);
}

}  // namespace gs::tracker
