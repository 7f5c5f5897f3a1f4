// The links this tracker sends its replication messages on: one outgoing TCP
// connection to each other tracker of the cluster, to the address its line
// of the trackers file gives (the port daemons use; a hello naming this
// tracker marks the link as a replication link there, see Server). Messages
// from the others arrive on their own links to us, through the Server.
//
// A link delivers in order or breaks; what was queued on a broken link is
// lost, which the protocol allows for (docs/replication.md: the primary
// re-sends by state). A message for a tracker with no link up is dropped,
// and the link is tried again on the next maintain() (every tick), so a
// restarted tracker is heard from within a tick of its listening.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>
#include <vector>

#include <event2/event.h>

#include "endpoint.h"
#include "framed_conn.h"
#include "tracker_pins.h"

namespace gs::tracker {

class TrackerLinks {
 public:
  struct Params {
    // Queued and unsent on one link past this, the far end is not reading
    // (stopped, or hung): the link is cut rather than growing our memory.
    size_t max_output = 64u << 20;
    // A connection not up within this is given up and tried again.
    std::chrono::milliseconds connect_timeout{1000};
    TrackerPins* pins = nullptr;  // null: plaintext links; else outlives the links
  };

  // trackers: every tracker of the file, in order; self is 1-based.
  TrackerLinks(event_base* base, int self, std::vector<Endpoint> trackers, Params params);
  ~TrackerLinks();
  TrackerLinks(const TrackerLinks&) = delete;
  TrackerLinks& operator=(const TrackerLinks&) = delete;

  // Queues one frame for tracker `to` (1-based, not self); dropped when its
  // link is not up.
  void send(int to, std::string_view frame);
  // Starts a connection to every tracker without one, and gives up those
  // that took too long to connect.
  void maintain();
  // Closes every link.
  void close_all();
  bool up(int to) const;

 private:
  struct Link {
    FramedConn* conn = nullptr;
    bool connected = false;
    bool starting = false;        // inside FramedConn::connect()
    bool failed_at_once = false;  // and it closed there
    std::chrono::steady_clock::time_point since{};  // when the connection was started
  };
  void connect(int to);
  Link& link(int to) { return links_[static_cast<size_t>(to - 1)]; }
  const Link& link(int to) const { return links_[static_cast<size_t>(to - 1)]; }

  event_base* base_;
  const int self_;
  const std::vector<Endpoint> trackers_;
  const Params params_;
  std::vector<Link> links_;  // by tracker index - 1; self's stays empty
};

}  // namespace gs::tracker
