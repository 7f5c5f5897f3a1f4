// The answer to the `trackers` control command: one row per tracker of the
// trackers file, from what each said when probed (tracker_probe.h), and
// which one this daemon's link uses. Pure, so the rules (who counts as the
// primary, what "behind" means, what a bad answer becomes) are tested
// without sockets.
//
// Row (docs/protocol.md, control protocol):
//   {"index":1, "address":"127.0.0.1:7410", "reachable":true, "error":null,
//    "role":"primary", "epoch":3, "primary":1, "commit":120, "last":120,
//    "behind":0, "link":true}
// Every field is always there; what a tracker did not say is null.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "json.h"
#include "tracker_probe.h"

namespace gs::daemon {

// `link`: the 0-based index of the tracker the daemon's link uses, if up.
//
// A tracker from before the cluster answers the hello but not `cluster`: it
// is reachable, its role "primary" (as the tracker client treats it), the
// rest null. "behind" is the primary's last seq minus the row's, when both
// are known; the primary is the tracker that says it is one, of the newest
// epoch if two do (a partition, or a primary that was paused). A tracker
// whose answer is malformed is reachable with an error that says so.
Json trackers_report(const std::vector<TrackerProbeResult>& results, std::optional<size_t> link);

}  // namespace gs::daemon
