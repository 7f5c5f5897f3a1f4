// The trackers file lists every tracker of a cluster, one per line, as in the
// original tracker_info.txt: "IP PORT" or "IP:PORT"; '#' starts a comment;
// blank lines are ignored. Line order is tracker order (1-based). A line may
// end with "key=HEX", the tracker's public key (as `gs-tracker --print-key`
// shows it), which every link to that tracker then requires. A line
// "cluster_key=HEX" pins the key that signs the cluster's access tickets
// (gsd logs it when it first learns it); without one, a daemon trusts
// the key the trackers name first and keeps it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "endpoint.h"
#include "result.h"

namespace gs {

struct TrackersFile {
  std::vector<Endpoint> trackers;
  std::vector<std::string> keys;  // raw keys, one per tracker; empty: none written
  std::string cluster_key;        // raw; empty: none written
};

Result<TrackersFile> parse_trackers_file(std::string_view text);
// The endpoints alone.
Result<std::vector<Endpoint>> parse_trackers(std::string_view text);
// Reads and parses; errors name the file and line.
Result<TrackersFile> load_trackers_file(const std::string& path);

// Reads a whole small file (configs, trackers lists); refuses anything above max_size.
Result<std::string> read_small_file(const std::string& path, size_t max_size = 1 << 20);
// Replaces `path` with `data` whole, or leaves it as it was: written to
// PATH.tmp (mode 0600, never through a link), synced, then renamed over it.
// For small private files (key files, keys learned on first use).
Status write_private_file(const std::string& path, std::string_view data);

}  // namespace gs
