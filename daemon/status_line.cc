#include "status_line.h"

#include "size_text.h"

namespace gs::daemon {

std::string status_line(const StatusFacts& f) {
  std::string out = f.user ? *f.user : "not logged in";
  out += f.tracker ? (f.user ? " via " : "; ") + *f.tracker : "; no tracker link";
  out += "; " + std::to_string(f.downloading) + " downloading";
  if (f.paused > 0) out += ", " + std::to_string(f.paused) + " paused";
  out += "; down " + size_text(f.down_rate) + "/s, up " + size_text(f.up_rate) + "/s";
  return out;
}

}  // namespace gs::daemon
