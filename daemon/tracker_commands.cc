// The `trackers` command of the control protocol: every tracker of the
// trackers file, probed now, one row each (trackers_report.h).
#include "commands.h"
#include "tracker_probe.h"
#include "trackers_report.h"

namespace gs::daemon {

void Commands::trackers(const Json&, Reply& reply) {
  if (!probe_)
    return reply(make_error("internal", "probing the trackers is not available in this daemon"));
  // Which tracker the link uses is read when the answers are in, so the
  // row marked is the link of that moment, not of the start of the probe.
  auto answer = [this, reply](std::vector<TrackerProbeResult> results) {
    reply(trackers_report(results, tracker_.current_tracker_index()));
  };
  if (auto started = probe_->run(std::move(answer)); !started) reply(started.error());
}

}  // namespace gs::daemon
