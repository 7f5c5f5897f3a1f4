// The one line gsd shows under `systemctl --user status gsd` (STATUS=, see
// lib/status_notifier.h): who is logged in, which tracker the link is on,
// and what moves. Pure: main gathers the facts every few seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gs::daemon {

struct StatusFacts {
  std::optional<std::string> user;     // nullopt: not logged in
  std::optional<std::string> tracker;  // "tracker 2 (127.0.0.1:7401)"; nullopt: no link up
  size_t downloading = 0;
  size_t paused = 0;
  uint64_t down_rate = 0;  // bytes/s
  uint64_t up_rate = 0;
};

//   alice via tracker 2 (127.0.0.1:7401); 2 downloading, 1 paused; down 1.5 MiB/s, up 300.0 KiB/s
//   not logged in; no tracker link; 0 downloading; down 0 B/s, up 0 B/s
std::string status_line(const StatusFacts& facts);

}  // namespace gs::daemon
