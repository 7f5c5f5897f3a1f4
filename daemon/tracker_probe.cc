#include "tracker_probe.h"

#include <algorithm>

#include "names.h"

namespace gs::daemon {
namespace {

// A probe asks one small question: its answer is small too.
constexpr size_t kMaxProbeFrame = 64 * 1024;

std::string seconds_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + " s";
}

}  // namespace

TrackerProbe::TrackerProbe(event_base* base, std::vector<Endpoint> trackers,
                           std::chrono::milliseconds timeout, TrackerPins* pins)
    : base_(base), trackers_(std::move(trackers)), timeout_(timeout), pins_(pins) {}

TrackerProbe::~TrackerProbe() {
  // Closing a link runs its on_close at once (we are not inside one of its
  // callbacks); with the asks settled first, it finds nothing to do.
  for (auto& [id, r] : rounds_) {
    for (Ask& a : r->asks) {
      a.stage = Ask::Stage::done;
      if (FramedConn* c = std::exchange(a.conn, nullptr)) c->close("daemon stopping");
    }
    event_free(r->timer);
  }
}

Status TrackerProbe::run(Done done) {
  if (rounds_.size() >= kMaxRounds) {
    return make_error("busy", "too many tracker probes are under way; try again in a moment");
  }
  auto owned = std::make_unique<Round>();
  Round& r = *owned;
  r.owner = this;
  r.id = next_round_++;
  r.done = std::move(done);
  r.results.resize(trackers_.size());
  r.asks.resize(trackers_.size());
  r.left = trackers_.size();
  r.timer = evtimer_new(base_, &TrackerProbe::timer_cb, &r);
  rounds_.emplace(r.id, std::move(owned));
  const auto ms = timeout_.count();
  const timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  evtimer_add(r.timer, &tv);
  for (size_t i = 0; i < trackers_.size(); ++i) {
    r.results[i].endpoint = trackers_[i];
    r.asks[i].round = &r;
    r.asks[i].index = i;
    start(r, i);
  }
  if (r.left == 0) {
    // Every attempt failed at once (or there are no trackers): answer on the
    // next loop turn, never inside run().
    const timeval now{0, 0};
    evtimer_add(r.timer, &now);
  }
  return Ok{};
}

void TrackerProbe::start(Round& r, size_t index) {
  Ask& a = r.asks[index];
  auto addr = resolve(trackers_[index]);
  if (!addr) {
    settle(a, addr.error().message);
    return;
  }
  FramedConn::Handlers h;
  h.on_connected = [this, &a, index](FramedConn& c) {
    if (a.stage != Ask::Stage::connecting) return;
    if (pins_) pins_->proven(index, c.peer_key());
    a.stage = Ask::Stage::hello;
    Json hello = Json::object();
    hello["hello"] = "gs-tracker";
    hello["version"] = kTrackerProtoVersion;
    c.send(hello.dump());
  };
  h.on_frame = [this, &a](FramedConn&, std::string_view payload) { on_frame(a, payload); };
  h.on_close = [this, &a](FramedConn&, const CloseReason& reason) {
    a.conn = nullptr;
    if (a.stage != Ask::Stage::done) settle(a, reason.text);
  };
  // The asks of a round never move (the vector is sized before any starts),
  // so the handlers may hold on to `a` for as long as the round lives; the
  // round outlives every link of its own (finish() closes them first).
  FramedConn* c =
      FramedConn::connect(base_, *addr, kMaxProbeFrame, trackers_[index].str(), std::move(h),
                          pins_ ? pins_->security(index) : LinkSecurity{});
  if (a.stage == Ask::Stage::done) return;  // connect() failed at once; on_close settled it
  if (!c) {
    settle(a, "cannot create a socket");
    return;
  }
  a.conn = c;
}

void TrackerProbe::on_frame(Ask& a, std::string_view payload) {
  TrackerProbeResult& out = a.round->results[a.index];
  auto msg = Json::parse(payload);
  if (!msg || !msg->is_object()) {
    settle(a, "protocol error: a frame that is not a JSON object");
    return;
  }
  if (a.stage == Ask::Stage::hello) {
    if (msg->get_string("hello") != "gs-tracker" ||
        msg->get_int("version") != kTrackerProtoVersion) {
      const auto m = msg->get_string("message");
      settle(a, m ? "handshake refused: " + *m : "unexpected handshake answer");
      return;
    }
    out.greeted = true;
    out.hello = std::move(*msg);
    a.stage = Ask::Stage::cluster;
    Json req = Json::object();
    req["id"] = 1;
    req["op"] = "cluster";
    a.conn->send(req.dump());
    return;
  }
  if (a.stage != Ask::Stage::cluster) return;
  const auto ok = msg->get_bool("ok");
  if (msg->get_int("id") != 1 || !ok) {
    settle(a, "protocol error: not an answer to the cluster request");
    return;
  }
  if (*ok) {
    out.cluster = std::move(*msg);
    settle(a, "");
    return;
  }
  // A tracker from before the cluster does not know the op: its hello is
  // all it can tell.
  const std::string code = msg->get_string("error").value_or("?");
  if (code == "bad_request") {
    settle(a, "");
    return;
  }
  settle(a,
         "refused the cluster request: " + code + ": " + msg->get_string("message").value_or(""));
}

void TrackerProbe::settle(Ask& a, std::string error) {
  if (a.stage == Ask::Stage::done) return;
  a.stage = Ask::Stage::done;
  Round& r = *a.round;
  r.results[a.index].error = std::move(error);
  if (FramedConn* c = std::exchange(a.conn, nullptr)) c->close("probe done");
  if (--r.left == 0) {
    // Through the timer, so the round ends outside this link's callbacks.
    const timeval now{0, 0};
    evtimer_add(r.timer, &now);
  }
}

void TrackerProbe::timer_cb(evutil_socket_t, short, void* round) {
  auto* r = static_cast<Round*>(round);
  r->owner->finish(*r);
}

void TrackerProbe::finish(Round& r) {
  for (Ask& a : r.asks) {
    if (a.stage == Ask::Stage::done) continue;
    const bool connected = a.stage != Ask::Stage::connecting;
    settle(a, (connected ? "no answer within " : "could not connect within ") +
                  seconds_text(timeout_));
  }
  auto it = rounds_.find(r.id);
  if (it == rounds_.end()) return;
  std::unique_ptr<Round> owned = std::move(it->second);
  rounds_.erase(it);
  evtimer_del(owned->timer);
  event_free(owned->timer);
  owned->timer = nullptr;
  // Last: the callback may start another round, or destroy us.
  if (owned->done) owned->done(std::move(owned->results));
}

}  // namespace gs::daemon
