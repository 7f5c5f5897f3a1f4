// The trackers file lists every tracker of a cluster, one per line, as in the
// original tracker_info.txt: "IP PORT" or "IP:PORT"; '#' starts a comment;
// blank lines are ignored. Line order is tracker order (1-based).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "endpoint.h"
#include "result.h"

namespace gs {

Result<std::vector<Endpoint>> parse_trackers(std::string_view text);
// Reads and parses; errors name the file and line.
Result<std::vector<Endpoint>> load_trackers_file(const std::string& path);

// Reads a whole small file (configs, trackers lists); refuses anything above max_size.
Result<std::string> read_small_file(const std::string& path, size_t max_size = 1 << 20);

}  // namespace gs
