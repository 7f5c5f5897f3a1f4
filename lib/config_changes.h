// What a reloaded config file changes, for both daemons: each lists its
// keys as text with whether they apply at run time, and this compares two
// such lists. The daemons then keep the restart-only values they run with.
#pragma once

#include <string>
#include <vector>

namespace gs {

// One key with its value as text, for comparing and for log lines.
struct ConfigValue {
  std::string key;    // "daemon.max_upload_rate"
  std::string value;  // "1048576"
  bool reloads = false;
};

struct ConfigChange {
  std::string key;
  std::string from;
  std::string to;
};

struct ConfigChanges {
  std::vector<ConfigChange> applied;  // reloadable keys whose value changed
  std::vector<ConfigChange> kept;     // restart-only keys whose value changed (`from` is kept)
};

// `running` and `loaded` list the same keys in the same order (one
// function of each daemon makes both).
ConfigChanges compare_config(const std::vector<ConfigValue>& running,
                             const std::vector<ConfigValue>& loaded);

// The log line for a kept key: "daemon.listen needs a restart, kept
// 127.0.0.1:7410 (the file now says 127.0.0.1:7411)".
std::string kept_line(const ConfigChange& c);

}  // namespace gs
