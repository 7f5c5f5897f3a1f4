// The daemon's one link to the tracker cluster: a persistent FramedConn to
// its primary, found from the trackers file, with failover to the next
// tracker when one fails (ReconnectPolicy decides where and when).
//
// Requests carry ids and may be pipelined; answers are matched by id. A
// request made while no link is up waits in a queue and is sent once one is.
// Each request has a deadline (tracker_timeout_seconds from when it was
// made); past it the caller gets tracker_unreachable with what was tried,
// and if the request was already sent the link is dropped, since a tracker
// that sits on one request sits on every later one too (answers come in
// order).
//
// Only the primary serves (docs/replication.md). A tracker that is not the
// primary says so in its hello answer (role) or by answering not_primary,
// and names the primary when it knows it: the link moves there and what was
// refused is sent again. A redirect is not a failure of the tracker; a
// request that has been sent round 2 * N times by trackers that each name
// another fails (two confused trackers would bounce it for ever), and so does
// any request at its deadline.
//
// A request waiting for a link does not always sit out its deadline: once
// every tracker has been tried and has failed since it was queued, with none
// answering even as a backup, it fails at once with what each attempt ran
// into, so a person is not kept waiting when no tracker is up at all.
//
// Writes (every op that is not retry_safe) carry a rid, made once per
// request and kept across resends: a tracker of a cluster applies a write
// once however often it arrives, and answers a resend with the first
// outcome. So when a link dies with requests in flight, reads and writes
// alike go again over the next link, until their deadline or until
// max(N, 2) links have died under them (a request that kills trackers must
// not take the whole cluster down). A tracker from before the cluster (its
// hello names no role) knows nothing of rids: writes in flight on its link
// fail with tracker_unreachable, since it may or may not have applied them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <event2/event.h>

#include "endpoint.h"
#include "framed_conn.h"
#include "reconnect_policy.h"
#include "tracker_api.h"
#include "tracker_pins.h"
#include "tracker_view.h"

namespace gs::daemon {

// Ops that may reach a tracker twice without harm, even one that knows
// nothing of rids: they carry none.
bool retry_safe(std::string_view op);

class TrackerClient final : public TrackerApi {
 public:
  struct Options {
    std::vector<Endpoint> trackers;  // trackers-file order, not empty
    int timeout_seconds = 10;
    ReconnectPolicy::Params policy{};
    TrackerPins* pins = nullptr;  // null: plain links; else outlives the client
  };

  TrackerClient(event_base* base, Options options);
  ~TrackerClient() override;
  TrackerClient(const TrackerClient&) = delete;
  TrackerClient& operator=(const TrackerClient&) = delete;

  // Runs after every handshake, before the queued requests go out: the place
  // to re-establish what a (possibly different) tracker must know about this
  // daemon, such as resuming the session.
  void set_on_link_up(std::function<void()> fn) { on_link_up_ = std::move(fn); }

  // Starts connecting. Requests made before are queued.
  void start();
  // Closes the link and drops every pending request without calling it back:
  // the daemon is exiting. Later requests are dropped too.
  void stop();

  void request(std::string op, Fields fields, Done done, Priority priority = Priority::normal) override;
  bool link_ready() const override { return state_ == LinkState::ready; }
  std::optional<std::string> current_tracker() const override;
  std::optional<size_t> current_tracker_index() const override;

  size_t pending_requests() const { return pending_.size(); }
  // daemon.tracker_timeout_seconds, reloaded: requests made from now on get
  // it; those waiting keep the deadline they were given.
  void set_timeout_seconds(int seconds) { opt_.timeout_seconds = seconds; }

 private:
  enum class LinkState { idle, waiting, connecting, ready, stopped };

  struct Pending {
    TrackerClient* owner = nullptr;
    uint64_t id = 0;
    std::string op;
    std::string rid;  // writes only: the same for every send of this request
    Fields fields;
    Done done;
    size_t lost_links = 0;     // links that died while it was in flight
    size_t hops = 0;           // redirects to a named primary since a tracker last failed
    size_t failures_seen = 0;  // failed_in_row_ when it was (re)queued, or a tracker last answered
    event* deadline = nullptr;
    std::string fail_now;  // non-empty: fail on the next loop turn with this message
  };

  void schedule_attempt(ReconnectPolicy::Duration wait);
  void attempt();
  void on_connected(uint64_t link, FramedConn& conn);
  void on_frame(uint64_t link, std::string_view payload);
  void on_closed(uint64_t link, const std::string& reason);
  void on_handshake(const Json& answer);
  void on_answer(const Json& answer);
  // The link is gone (or never came up): requeue or fail what was in
  // flight and plan the next attempt.
  void link_failed(const std::string& reason);
  // We give up on the link ourselves (protocol error, silence).
  void drop_link(const std::string& reason);
  // The tracker of the link (or attempt) is up but not the primary; it named
  // `primary` (0-based) or nobody. Moves the link, requeues what was in flight.
  void follow_redirect(std::optional<size_t> primary, const std::string& why);
  // The link to policy_.current() passed its handshake as the primary.
  void link_up(const TrackerView& view);
  void send(Pending& p);
  void flush_queue();
  void complete(uint64_t id, Result<Json> result);
  void on_deadline(Pending& p);
  std::string tracker_name(size_t index) const;
  std::string tried_summary() const;

  static void attempt_cb(evutil_socket_t, short, void* self);
  static void handshake_timeout_cb(evutil_socket_t, short, void* self);
  static void deadline_cb(evutil_socket_t, short, void* pending);

  event_base* base_;
  Options opt_;
  ReconnectPolicy policy_;
  LinkState state_ = LinkState::idle;
  FramedConn* conn_ = nullptr;
  uint64_t link_id_ = 0;  // callbacks of older links carry another id and are ignored
  uint64_t next_link_id_ = 0;
  event* attempt_timer_ = nullptr;
  event* handshake_timer_ = nullptr;
  uint64_t next_request_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Pending>> pending_;
  std::deque<uint64_t> queue_;      // not sent yet, in order
  std::deque<uint64_t> in_flight_;  // sent on the current link, in order
  std::vector<std::string> last_error_;  // per tracker, for messages
  std::vector<bool> not_primary_;        // per tracker: its last word was that it is not the primary
  size_t failed_in_row_ = 0;             // attempts and links that failed since a tracker last answered
  TrackerView view_;                     // of the link that is up
  std::optional<size_t> last_link_;      // the tracker of the last link that was up
  std::optional<size_t> first_left_;     // the first tracker left since then
  std::optional<int64_t> newest_epoch_;  // the highest epoch a primary has told us
  std::function<void()> on_link_up_;
  std::mt19937_64 rng_;
};

}  // namespace gs::daemon
