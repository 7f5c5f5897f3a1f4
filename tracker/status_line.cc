#include "status_line.h"

namespace gs::tracker {

std::string status_line(const StatusFacts& f) {
  std::string out = "tracker " + std::to_string(f.self) + " of " + std::to_string(f.count) + ": " + role_name(f.role);
  if (f.role == Role::primary) {
    out += ", epoch " + std::to_string(f.view.epoch) + ", in sync [";
    for (size_t i = 0; i < f.view.isr.size(); ++i) out += (i ? " " : "") + std::to_string(f.view.isr[i]);
    out += "]";
  } else {
    out += f.primary ? ", primary " + std::to_string(*f.primary) : ", no primary known";
    out += ", epoch " + std::to_string(f.view.epoch);
  }
  out += "; " + std::to_string(f.sessions) + " session" + (f.sessions == 1 ? "" : "s") + ", " +
         std::to_string(f.connections) + " connection" + (f.connections == 1 ? "" : "s");
  return out;
}

}  // namespace gs::tracker
