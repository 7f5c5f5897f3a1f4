#include "config_changes.h"

namespace gs {

ConfigChanges compare_config(const std::vector<ConfigValue>& running,
                             const std::vector<ConfigValue>& loaded) {
  ConfigChanges changes;
  for (size_t i = 0; i < running.size() && i < loaded.size(); ++i) {
    if (running[i].value == loaded[i].value) continue;
    ConfigChange c{running[i].key, running[i].value, loaded[i].value};
    (running[i].reloads ? changes.applied : changes.kept).push_back(std::move(c));
  }
  return changes;
}

std::string kept_line(const ConfigChange& c) {
  return c.key + " needs a restart, kept " + c.from + " (the file now says " + c.to + ")";
}

}  // namespace gs
