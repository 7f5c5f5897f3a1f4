#include "tracker_client.h"

#include <algorithm>

#include "crypto.h"
#include "identity.h"
#include "log.h"
#include "names.h"

namespace gs::daemon {
namespace {

// More than this many requests waiting for a tracker means something is
// wrong (gsctl requests are one per control connection, and those are
// capped); refuse rather than grow without bound.
constexpr size_t kMaxPending = 1024;
constexpr size_t kMaxMessage = 1000;

timeval to_timeval(std::chrono::milliseconds d) {
  const auto ms = std::max<int64_t>(d.count(), 0);
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

bool valid_code(std::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  return std::all_of(code.begin(), code.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// A tracker's message ends up on a person's terminal: no control characters
// (escape sequences), and a sane length.
std::string clean_message(std::string_view m) {
  std::string out(m.substr(0, kMaxMessage));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (m.size() > kMaxMessage) out += "...";
  return out;
}

Error unreachable(std::string message) { return make_error("tracker_unreachable", std::move(message)); }

// 128 random bits: rids of every daemon share one table on the trackers, so
// they must not collide across daemons.
std::string make_rid() { return to_hex(random_bytes(16)); }

}  // namespace

bool retry_safe(std::string_view op) {
  // Reads change nothing; heartbeat and resume only refresh a session; a
  // logout of an unknown token is fine. Everything else is a write.
  static constexpr std::string_view kSafe[] = {"list_groups", "list_requests", "heartbeat", "resume",
                                               "logout",      "list_files",    "file_info", "cluster"};
  return std::find(std::begin(kSafe), std::end(kSafe), op) != std::end(kSafe);
}

TrackerClient::TrackerClient(event_base* base, Options options)
    : base_(base),
      opt_(std::move(options)),
      policy_(opt_.trackers.size(), opt_.policy),
      last_error_(opt_.trackers.size()),
      not_primary_(opt_.trackers.size(), false),
      rng_(std::random_device{}()) {
  attempt_timer_ = evtimer_new(base_, &TrackerClient::attempt_cb, this);
  handshake_timer_ = evtimer_new(base_, &TrackerClient::handshake_timeout_cb, this);
}

TrackerClient::~TrackerClient() {
  stop();
  event_free(attempt_timer_);
  event_free(handshake_timer_);
}

void TrackerClient::start() {
  if (state_ != LinkState::idle || opt_.trackers.empty()) return;
  schedule_attempt(ReconnectPolicy::Duration{0});
}

void TrackerClient::stop() {
  if (state_ == LinkState::stopped) return;
  state_ = LinkState::stopped;
  evtimer_del(attempt_timer_);
  evtimer_del(handshake_timer_);
  link_id_ = 0;
  if (FramedConn* c = std::exchange(conn_, nullptr)) c->close("daemon stopping");
  for (auto& [id, p] : pending_) event_free(p->deadline);
  pending_.clear();
  queue_.clear();
  in_flight_.clear();
}

std::optional<std::string> TrackerClient::current_tracker() const {
  if (state_ != LinkState::ready) return std::nullopt;
  return opt_.trackers[policy_.current()].str();
}

std::optional<size_t> TrackerClient::current_tracker_index() const {
  if (state_ != LinkState::ready) return std::nullopt;
  return policy_.current();
}

std::string TrackerClient::tracker_name(size_t index) const {
  return "tracker " + std::to_string(index + 1) + " (" + opt_.trackers[index].str() + ")";
}

std::string TrackerClient::tried_summary() const {
  std::string out;
  for (size_t i = 0; i < opt_.trackers.size(); ++i) {
    if (!out.empty()) out += "; ";
    out += opt_.trackers[i].str() + ": ";
    if (!last_error_[i].empty()) {
      out += last_error_[i];
    } else {
      out += (i == policy_.current() && state_ == LinkState::connecting) ? "still connecting" : "not tried yet";
    }
  }
  return out;
}

// ---- requests ----

void TrackerClient::request(std::string op, Fields fields, Done done, Priority priority) {
  if (state_ == LinkState::stopped) return;
  auto p = std::make_unique<Pending>();
  p->owner = this;
  p->id = next_request_id_++;
  p->op = std::move(op);
  if (!retry_safe(p->op)) p->rid = make_rid();
  p->fields = std::move(fields);
  p->done = std::move(done);
  p->failures_seen = failed_in_row_;
  p->deadline = evtimer_new(base_, &TrackerClient::deadline_cb, p.get());
  Pending& ref = *p;
  if (pending_.size() >= kMaxPending) {
    // Through the timer rather than now: callers may rely on done() never
    // running inside request().
    ref.fail_now = "too many requests are waiting for a tracker; try again later";
    timeval now{0, 0};
    evtimer_add(ref.deadline, &now);
    pending_.emplace(ref.id, std::move(p));
    return;
  }
  timeval tv{opt_.timeout_seconds, 0};
  evtimer_add(ref.deadline, &tv);
  pending_.emplace(ref.id, std::move(p));
  if (state_ == LinkState::ready && queue_.empty()) {
    send(ref);
    return;
  }
  if (priority == Priority::first) {
    queue_.push_front(ref.id);
  } else {
    queue_.push_back(ref.id);
  }
  // Someone is waiting: cut a backoff wait short rather than let the
  // request sit out a timer while a tracker may be back already.
  if (state_ == LinkState::waiting) schedule_attempt(ReconnectPolicy::Duration{0});
}

void TrackerClient::send(Pending& p) {
  Json frame = Json::object();
  frame["id"] = static_cast<int64_t>(p.id);
  frame["op"] = p.op;
  if (!p.rid.empty()) frame["rid"] = p.rid;
  for (const auto& [k, v] : p.fields) frame[k] = v;
  in_flight_.push_back(p.id);
  conn_->send(frame.dump());
}

void TrackerClient::flush_queue() {
  while (state_ == LinkState::ready && !queue_.empty()) {
    const uint64_t id = queue_.front();
    queue_.pop_front();
    auto it = pending_.find(id);
    if (it != pending_.end()) send(*it->second);
  }
}

void TrackerClient::complete(uint64_t id, Result<Json> result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
  event_free(p->deadline);
  p->deadline = nullptr;
  // Last: the callback may make new requests or even stop() us.
  if (p->done) p->done(std::move(result));
}

void TrackerClient::deadline_cb(evutil_socket_t, short, void* pending) {
  auto* p = static_cast<Pending*>(pending);
  p->owner->on_deadline(*p);
}

void TrackerClient::on_deadline(Pending& p) {
  const uint64_t id = p.id;
  if (!p.fail_now.empty()) {
    complete(id, unreachable(p.fail_now));
    return;
  }
  const std::string op = p.op;
  const auto timeout = std::to_string(opt_.timeout_seconds);
  if (auto it = std::find(in_flight_.begin(), in_flight_.end(), id); it != in_flight_.end()) {
    in_flight_.erase(it);
    const std::string who = tracker_name(policy_.current());
    log_warn(who, " did not answer '", op, "' within ", timeout, " s; dropping the link");
    drop_link("no answer to '" + op + "' within " + timeout + " s");
    complete(id, unreachable(who + " did not answer within " + timeout + " s"));
    return;
  }
  if (auto it = std::find(queue_.begin(), queue_.end(), id); it != queue_.end()) queue_.erase(it);
  // Trackers that answered only to say they are not the primary: the cluster
  // is up but has no primary that we could reach (yet).
  const bool redirected = std::find(not_primary_.begin(), not_primary_.end(), true) != not_primary_.end();
  complete(id, unreachable(std::string(redirected ? "no tracker answered as the primary" : "no tracker answered") +
                           " within " + timeout + " s (" + tried_summary() + ")"));
}

// ---- the link ----

void TrackerClient::schedule_attempt(ReconnectPolicy::Duration wait) {
  state_ = LinkState::waiting;
  const timeval tv = to_timeval(wait);
  // Always through the timer, even for no wait: a failure inside attempt()
  // then never recurses into the next attempt.
  evtimer_add(attempt_timer_, &tv);
}

void TrackerClient::attempt_cb(evutil_socket_t, short, void* self) { static_cast<TrackerClient*>(self)->attempt(); }

void TrackerClient::attempt() {
  if (state_ != LinkState::waiting) return;
  state_ = LinkState::connecting;
  const size_t index = policy_.current();
  const Endpoint& ep = opt_.trackers[index];
  log_debug("connecting to ", tracker_name(index));
  auto addr = resolve(ep);
  if (!addr) {
    link_failed(addr.error().message);
    return;
  }
  const uint64_t link = ++next_link_id_;
  link_id_ = link;
  FramedConn::Handlers h;
  h.on_connected = [this, link](FramedConn& c) { on_connected(link, c); };
  h.on_frame = [this, link](FramedConn&, std::string_view payload) { on_frame(link, payload); };
  h.on_close = [this, link](FramedConn&, const CloseReason& reason) { on_closed(link, reason.text); };
  FramedConn* c = FramedConn::connect(base_, *addr, kTrackerMaxFrame, ep.str(), std::move(h),
                                      opt_.pins ? opt_.pins->security(index) : LinkSecurity{});
  if (link_id_ != link) return;  // connect() failed at once and on_close has dealt with it
  if (!c) {
    link_failed("cannot create a socket");
    return;
  }
  conn_ = c;
  // Connect plus handshake. Short enough that a tracker which swallows SYNs
  // leaves time to fail over within a request's deadline, long enough for a
  // busy tracker.
  const timeval tv{std::clamp(opt_.timeout_seconds, 2, 5), 0};
  evtimer_add(handshake_timer_, &tv);
}

void TrackerClient::handshake_timeout_cb(evutil_socket_t, short, void* self) {
  auto* me = static_cast<TrackerClient*>(self);
  if (me->state_ == LinkState::connecting) me->drop_link("no handshake within the time limit");
}

void TrackerClient::on_connected(uint64_t link, FramedConn& conn) {
  if (link != link_id_) return;
  if (opt_.pins) opt_.pins->proven(policy_.current(), conn.peer_key());
  Json hello = Json::object();
  hello["hello"] = "gs-tracker";
  hello["version"] = kTrackerProtoVersion;
  conn.send(hello.dump());
}

void TrackerClient::on_frame(uint64_t link, std::string_view payload) {
  if (link != link_id_) return;
  auto msg = Json::parse(payload);
  if (!msg || !msg->is_object()) {
    drop_link("protocol error: a frame that is not a JSON object");
    return;
  }
  if (state_ == LinkState::connecting) {
    on_handshake(*msg);
  } else if (state_ == LinkState::ready) {
    on_answer(*msg);
  }
}

void TrackerClient::on_handshake(const Json& answer) {
  const size_t index = policy_.current();
  if (answer.get_string("error") == "not_primary") {
    // A tracker that refuses even the hello to anyone but the primary's
    // clients: the same redirect as a hello naming another role.
    const auto primary = decode_primary(answer, opt_.trackers.size());
    follow_redirect(primary, primary ? "refused the hello with not_primary, naming tracker " +
                                           std::to_string(*primary + 1) + " as the primary"
                                     : "refused the hello with not_primary, knowing no primary");
    return;
  }
  if (answer.get_string("hello") != "gs-tracker" || answer.get_int("version") != kTrackerProtoVersion) {
    std::string why = "unexpected handshake answer";
    if (auto m = answer.get_string("message")) why = "handshake refused: " + clean_message(*m);
    drop_link(why);
    return;
  }
  auto view = decode_hello_view(answer, opt_.trackers.size());
  if (!view) {
    drop_link("protocol error: " + view.error().message);
    return;
  }
  if (auto key = answer.get_string("cluster_key"); key && !key->empty() && opt_.pins) {
    // Any tracker of the cluster may name it (a backup has it replicated).
    auto raw = parse_key_text(*key);
    Status s = raw ? opt_.pins->offer_cluster_key(index, *raw) : Status(raw.error());
    if (!s) {
      log_error(tracker_name(index), ": ", s.error().message);
      drop_link(s.error().message);
      return;
    }
  }
  if (auto n = answer.get_int("tracker"); n && *n != static_cast<int64_t>(index + 1)) {
    log_warn(tracker_name(index), " calls itself tracker ", *n, "; do the trackers files differ?");
  }
  if (view->role != TrackerRole::primary) {
    follow_redirect(view->primary, describe_not_primary(*view));
    return;
  }
  link_up(*view);
}

void TrackerClient::link_up(const TrackerView& view) {
  const size_t index = policy_.current();
  evtimer_del(handshake_timer_);
  state_ = LinkState::ready;
  view_ = view;
  failed_in_row_ = 0;
  for (auto& [id, p] : pending_) p->failures_seen = 0;
  policy_.on_link_up(ReconnectPolicy::Clock::now());

  // One line per link, naming the tracker left for this one and why: the
  // last link's, or at start the first tracker that was tried.
  std::string line = "tracker link: now tracker " + std::to_string(index + 1) + " (primary";
  if (view.epoch) line += ", epoch " + std::to_string(*view.epoch);
  line += ") at " + opt_.trackers[index].str();
  const std::optional<size_t> before = last_link_ ? last_link_ : first_left_;
  if (before && *before != index) {
    line += "; tracker " + std::to_string(*before + 1) + ": ";
    line += last_error_[*before].empty() ? "left" : last_error_[*before];
  }
  log_info(line);
  first_left_.reset();
  // Epochs only grow: an older one is a primary that was paused or cut off
  // and does not know yet. It cannot commit a write (the others fence it),
  // so what it answers is at worst a stale read; worth a line, not a refusal.
  if (view.epoch && newest_epoch_ && *view.epoch < *newest_epoch_) {
    log_warn(tracker_name(index), " says it is the primary of epoch ", *view.epoch, ", but a primary of epoch ",
             *newest_epoch_, " was seen before; it may be a primary that was paused or cut off");
  }
  if (view.epoch && (!newest_epoch_ || *view.epoch > *newest_epoch_)) newest_epoch_ = view.epoch;
  last_error_[index].clear();
  not_primary_[index] = false;
  last_link_ = index;
  if (on_link_up_) on_link_up_();
  flush_queue();
}

void TrackerClient::on_answer(const Json& answer) {
  const auto id = answer.get_int("id");
  const auto ok = answer.get_bool("ok");
  if (!id) {
    std::string why = "protocol error: an answer without an id";
    if (auto m = answer.get_string("message")) why += " (" + clean_message(*m) + ")";
    drop_link(why);
    return;
  }
  auto it = std::find(in_flight_.begin(), in_flight_.end(), static_cast<uint64_t>(*id));
  if (it == in_flight_.end() || !ok) {
    drop_link(it == in_flight_.end() ? "protocol error: an answer to unknown request " + std::to_string(*id)
                                     : "protocol error: an answer without \"ok\"");
    return;
  }
  std::string code;
  std::string message;
  if (!*ok) {
    code = answer.get_string("error").value_or("");
    if (!valid_code(code)) {
      drop_link("protocol error: an error answer without a valid code");
      return;
    }
    message = clean_message(answer.get_string("message").value_or(code));
  }
  if (code == "not_primary") {
    // Nothing was done; the request goes again, to the primary it names.
    std::string why = "answered not_primary";
    const auto primary = decode_primary(answer, opt_.trackers.size());
    why += primary ? ", naming tracker " + std::to_string(*primary + 1) + " as the primary" : ", knowing no primary";
    log_info(tracker_name(policy_.current()), " is no longer the primary (", why, ")");
    follow_redirect(primary, why);
    return;
  }
  in_flight_.erase(it);
  const uint64_t request_id = static_cast<uint64_t>(*id);
  if (*ok) {
    complete(request_id, answer);
  } else {
    complete(request_id, make_error(std::move(code), std::move(message)));
  }
}

void TrackerClient::on_closed(uint64_t link, const std::string& reason) {
  if (link != link_id_) return;
  conn_ = nullptr;  // the FramedConn deletes itself after this
  link_failed(reason);
}

void TrackerClient::drop_link(const std::string& reason) {
  FramedConn* c = std::exchange(conn_, nullptr);
  link_failed(reason);  // first, so that the close below finds a stale link id
  if (c) c->close(reason);
}

void TrackerClient::link_failed(const std::string& reason) {
  if (state_ == LinkState::stopped) return;
  const size_t index = policy_.current();
  const bool was_ready = state_ == LinkState::ready;
  // Whether the tracker that had our requests in flight honours rids.
  const bool dedups = was_ready && view_.cluster;
  link_id_ = 0;
  conn_ = nullptr;
  evtimer_del(handshake_timer_);
  last_error_[index] = reason;
  not_primary_[index] = false;
  if (!first_left_) first_left_ = index;
  if (was_ready) {
    log_warn("lost the link to ", tracker_name(index), ": ", reason);
  } else {
    log_debug("cannot use ", tracker_name(index), ": ", reason);
  }

  ++failed_in_row_;

  // In-flight requests go first in the queue again (in their order) when
  // they may: reads, and writes with a rid to a tracker that honours it;
  // the rest fail below.
  const size_t max_lost = std::max<size_t>(opt_.trackers.size(), 2);
  std::vector<uint64_t> failed;
  for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it) {
    auto p = pending_.find(*it);
    if (p == pending_.end()) continue;
    Pending& r = *p->second;
    ++r.lost_links;
    if ((retry_safe(r.op) || (!r.rid.empty() && dedups)) && r.lost_links < max_lost) {
      r.failures_seen = failed_in_row_;
      queue_.push_front(*it);
    } else {
      failed.insert(failed.begin(), *it);
    }
  }
  in_flight_.clear();
  // A tracker failing breaks any chain of redirects (see ReconnectPolicy).
  for (auto& [id, p] : pending_) p->hops = 0;

  // Queued requests that have seen every tracker fail since they were queued.
  std::vector<uint64_t> given_up;
  for (auto it = queue_.begin(); it != queue_.end();) {
    auto p = pending_.find(*it);
    if (p != pending_.end() && failed_in_row_ - p->second->failures_seen >= opt_.trackers.size()) {
      given_up.push_back(*it);
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }

  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto wait = policy_.on_down(ReconnectPolicy::Clock::now(), uniform(rng_));
  if (wait.count() > 0) {
    // A whole pass failed. Say so at once, then only now and then: a daemon
    // left running while the trackers are down must not flood the journal.
    const size_t passes = policy_.failed_passes();
    if (passes == 1) {
      log_warn("every tracker failed in turn (", tried_summary(), "); retrying with backoff");
    } else if (passes % 60 == 0) {
      log_info("still no usable tracker after ", passes, " rounds (", tried_summary(), ")");
    }
  }
  schedule_attempt(wait);

  const std::string who = tracker_name(index);
  if (!given_up.empty()) {
    const std::string why = "no tracker reachable (" + tried_summary() + ")";
    for (uint64_t id : given_up) complete(id, unreachable(why));
  }
  for (uint64_t id : failed) {
    auto p = pending_.find(id);
    if (p == pending_.end()) continue;
    const std::string op = p->second->op;
    std::string message = "the link to " + who + " broke (" + reason + ") before it answered '" + op + "'";
    if (p->second->lost_links > 1) message += ", the last of " + std::to_string(p->second->lost_links) + " links";
    complete(id, unreachable(message + "; it may or may not have been done"));
  }
}

void TrackerClient::follow_redirect(std::optional<size_t> primary, const std::string& why) {
  if (state_ == LinkState::stopped) return;
  const size_t index = policy_.current();
  const bool named = primary && *primary != index;
  FramedConn* c = std::exchange(conn_, nullptr);
  link_id_ = 0;
  evtimer_del(handshake_timer_);
  last_error_[index] = why;
  not_primary_[index] = true;
  if (!first_left_) first_left_ = index;
  log_debug(tracker_name(index), " is not the primary: ", why);

  // A tracker that is not the primary did nothing with what we sent it: all
  // of it goes again, first, in its order. Not a lost link.
  for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it) queue_.push_front(*it);
  in_flight_.clear();

  // A tracker answered: the cluster is up, so waiting requests no longer
  // count the trackers that failed before towards failing at once.
  for (auto& [id, p] : pending_) p->failures_seen = failed_in_row_;
  // Each request sent round by a tracker naming another counts a hop.
  std::vector<uint64_t> looped;
  if (named) {
    for (auto it = queue_.begin(); it != queue_.end();) {
      auto p = pending_.find(*it);
      if (p != pending_.end() && ++p->second->hops > policy_.max_redirects()) {
        looped.push_back(*it);
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto wait = policy_.on_redirect(primary, ReconnectPolicy::Clock::now(), uniform(rng_));
  if (wait.count() > 0) {
    // As for failures: once at first, then now and then.
    const size_t passes = policy_.failed_passes();
    if (passes == 1) {
      log_warn("no tracker could be used as the primary (", tried_summary(), "); retrying with backoff");
    } else if (passes % 60 == 0) {
      log_info("still no primary tracker after ", passes, " rounds (", tried_summary(), ")");
    }
  }
  schedule_attempt(wait);
  if (c) c->close("not the primary");  // after link_id_ changed: its on_close is ignored

  if (!looped.empty()) {
    const std::string hops = std::to_string(policy_.max_redirects() + 1);
    for (uint64_t id : looped) {
      auto p = pending_.find(id);
      if (p == pending_.end()) continue;
      const std::string op = p->second->op;
      complete(id, unreachable("no primary: the trackers sent '" + op + "' on " + hops +
                               " times, each naming another tracker as the primary (" + tried_summary() + ")"));
    }
  }
}

}  // namespace gs::daemon
