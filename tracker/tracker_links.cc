#include "tracker_links.h"

#include <string>
#include <utility>

#include "json.h"
#include "log.h"
#include "names.h"
#include "replication.h"

namespace gs::tracker {

TrackerLinks::TrackerLinks(event_base* base, int self, std::vector<Endpoint> trackers,
                           Params params)
    : base_(base),
      self_(self),
      trackers_(std::move(trackers)),
      params_(params),
      links_(trackers_.size()) {}

TrackerLinks::~TrackerLinks() { close_all(); }

void TrackerLinks::close_all() {
  for (Link& l : links_) {
    // close() runs on_close, which clears l.conn.
    if (l.conn) l.conn->close("tracker shutting down");
  }
}

bool TrackerLinks::up(int to) const {
  return to >= 1 && to <= static_cast<int>(links_.size()) && link(to).connected;
}

void TrackerLinks::send(int to, std::string_view frame) {
  if (!up(to)) return;
  Link& l = link(to);
  l.conn->send(frame);
  if (l.conn->pending_output() > params_.max_output) {
    log_warn("tracker ", to, " is not reading its replication link (",
             l.conn->pending_output(), " bytes queued): cutting it");
    l.conn->close("not reading");
  }
}

void TrackerLinks::maintain() {
  const auto now = std::chrono::steady_clock::now();
  for (int to = 1; to <= static_cast<int>(links_.size()); ++to) {
    if (to == self_) continue;
    Link& l = link(to);
    if (!l.conn) {
      connect(to);
    } else if (!l.connected && now - l.since > params_.connect_timeout) {
      l.conn->close("connect timed out");
    }
  }
}

void TrackerLinks::connect(int to) {
  const Endpoint& ep = trackers_[static_cast<size_t>(to - 1)];
  auto addr = resolve(ep);
  if (!addr) {
    log_debug("tracker ", to, ": ", addr.error().message);
    return;
  }
  FramedConn::Handlers h;
  h.on_connected = [this, to](FramedConn& c) {
    Link& l = link(to);
    l.connected = true;
    if (params_.pins) params_.pins->proven(static_cast<size_t>(to - 1), c.peer_key());
    Json hello = Json::object();
    hello["hello"] = "gs-tracker";
    hello["version"] = kTrackerProtoVersion;
    hello["replica"] = self_;
    c.send(hello.dump());
    log_debug("replication link to tracker ", to, " up");
  };
  // The far end answers the hello and then says nothing on this link.
  h.on_frame = [](FramedConn&, std::string_view) {};
  h.on_close = [this, to](FramedConn&, const CloseReason& reason) {
    Link& l = link(to);
    if (l.connected) log_debug("replication link to tracker ", to, " closed: ", reason.text);
    const bool starting = l.starting;
    l = Link{};
    l.failed_at_once = starting;
  };
  Link& l = link(to);
  l.since = std::chrono::steady_clock::now();
  l.starting = true;
  FramedConn* c =
      FramedConn::connect(base_, *addr, kReplicaMaxFrame, ep.str(), std::move(h),
                          params_.pins ? params_.pins->security(static_cast<size_t>(to - 1)) : LinkSecurity{});
  if (l.failed_at_once || !c) {
    // on_close ran inside connect(): `c` is gone; the next tick tries again.
    l = Link{};
    return;
  }
  l.starting = false;
  l.conn = c;
}

}  // namespace gs::tracker
