// `gsctl trackers`: asks every tracker of the trackers file what it knows of
// the cluster, all at once, each over a short-lived link of its own (connect,
// hello, the `cluster` op, close), so that a tracker that is slow or down
// costs its own row `timeout` and nothing else: the daemon's tracker link and
// the loop never wait for it.
//
// Only the I/O lives here; trackers_report.h turns the results into rows.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "endpoint.h"
#include "framed_conn.h"
#include "json.h"
#include "result.h"
#include "tracker_pins.h"

namespace gs::daemon {

// What one tracker said, or why it said nothing.
struct TrackerProbeResult {
  Endpoint endpoint;
  std::string error;     // empty when it answered both the hello and `cluster`
  bool greeted = false;  // its hello answer came and was a gs-tracker's
  Json hello;            // that answer
  // Its answer to `cluster` (ok:true), or null: not asked, not answered, or
  // a tracker from before the cluster that does not know the op.
  Json cluster;
};

class TrackerProbe {
 public:
  using Done = std::function<void(std::vector<TrackerProbeResult>)>;
  static constexpr std::chrono::milliseconds kDefaultTimeout{2000};
  // Probes at once; more are refused (each costs a socket per tracker, and
  // control connections can be many).
  static constexpr size_t kMaxRounds = 16;

  // `pins` (may be null: plain links) must outlive the probe.
  TrackerProbe(event_base* base, std::vector<Endpoint> trackers,
               std::chrono::milliseconds timeout = kDefaultTimeout, TrackerPins* pins = nullptr);
  // Closes every link; probes under way never call back.
  ~TrackerProbe();
  TrackerProbe(const TrackerProbe&) = delete;
  TrackerProbe& operator=(const TrackerProbe&) = delete;

  // Asks every tracker; `done` gets one result per tracker, in trackers-file
  // order, on the loop (never inside run()) once each has answered or timed
  // out. An error (code "busy") when kMaxRounds are under way.
  Status run(Done done);
  size_t rounds() const { return rounds_.size(); }

 private:
  struct Round;
  struct Ask {
    Round* round = nullptr;
    size_t index = 0;
    enum class Stage { connecting, hello, cluster, done } stage = Stage::connecting;
    FramedConn* conn = nullptr;
  };
  struct Round {
    TrackerProbe* owner = nullptr;
    uint64_t id = 0;
    Done done;
    std::vector<TrackerProbeResult> results;
    std::vector<Ask> asks;
    size_t left = 0;
    event* timer = nullptr;  // the time limit; also finishes the round early
  };

  void start(Round& r, size_t index);
  void on_frame(Ask& a, std::string_view payload);
  // The tracker's row is settled: `error` empty for an answer. Closes its link.
  void settle(Ask& a, std::string error);
  void finish(Round& r);
  static void timer_cb(evutil_socket_t, short, void* round);

  event_base* base_;
  std::vector<Endpoint> trackers_;
  std::chrono::milliseconds timeout_;
  TrackerPins* pins_;
  uint64_t next_round_ = 1;
  std::map<uint64_t, std::unique_ptr<Round>> rounds_;
};

}  // namespace gs::daemon
