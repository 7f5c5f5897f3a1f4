#include "cluster.h"

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include "log.h"
#include "replica_wire.h"

namespace gs::tracker {
namespace {

Instant now() { return std::chrono::steady_clock::now(); }

Error not_primary_error() {
  return make_error("not_primary", "this tracker is not the cluster's primary");
}

Json index_or_null(std::optional<int> i) { return i ? Json(int64_t{*i}) : Json(nullptr); }

}  // namespace

Cluster::Cluster(event_base* base, SqliteReplicaStorage& storage, Config config)
    : base_(base),
      storage_(storage),
      config_(std::move(config)),
      replica_(config_.self, static_cast<int>(config_.trackers.size()), storage_, config_.params,
               now(), config_.force_primary),
      links_(base, config_.self, config_.trackers, config_.links),
      last_call_(now()) {
  if (config_.force_primary) log_warn("cluster: started with --force-primary");
}

Cluster::~Cluster() { stop(); }

void Cluster::start() {
  if (timer_) return;
  timer_ = event_new(base_, -1, EV_PERSIST, &Cluster::on_timer, this);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(config_.params.tick).count();
  const timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  event_add(timer_, &tv);
  flush_ = event_new(base_, -1, 0, &Cluster::on_flush, this);
  on_timer(-1, 0, this);  // a lone tracker serves at once, not a tick later
}

void Cluster::stop() {
  if (timer_) {
    event_free(timer_);
    timer_ = nullptr;
  }
  if (flush_) {
    event_free(flush_);
    flush_ = nullptr;
  }
  links_.close_all();
  std::deque<Held> held = std::move(held_);
  held_.clear();
  for (Held& h : held) h.release(false);
}

void Cluster::on_timer(evutil_socket_t, short, void* self) {
  auto* c = static_cast<Cluster*>(self);
  if (c->failed_) return;
  c->links_.maintain();
  try {
    c->replica_.tick(c->called(now()));
  } catch (const std::exception& e) {
    c->fail(e.what());
    return;
  }
  c->after_call();
}

Status Cluster::receive(int from, std::string_view frame) {
  if (failed_) return Ok{};
  auto m = decode_replica_message(frame, count());
  if (!m) return m.error();
  if (m->from != from || m->to != config_.self) {
    return make_error("bad_message", "a message from tracker " + std::to_string(m->from) + " to " +
                                         std::to_string(m->to) + " on tracker " +
                                         std::to_string(from) + "'s link to us");
  }
  try {
    replica_.receive(*m, called(now()));
  } catch (const std::exception& e) {
    fail(e.what());
    return Ok{};
  }
  after_call();
  return Ok{};
}

void Cluster::fail(const std::string& what) {
  log_error("cluster: the state file failed (", what,
            "); stopping, to start again from what is durable");
  failed_ = true;
  stop();
  event_base_loopexit(base_, nullptr);
}

void Cluster::after_call() {
  for (Message& m : replica_.take_messages()) {
    links_.send(m.to, encode_replica_message(m));
  }
  for (const std::string& e : replica_.take_events()) log_info("cluster: ", e);
  const Role was = role_;
  role_ = replica_.role();
  if (role_ == Role::primary && was != Role::primary && on_primary_) on_primary_();
  settle();
}

void Cluster::settle() {
  // A release may answer a client whose next request comes back here
  // (after_commit): each one leaves the queue before it runs.
  while (!held_.empty()) {
    const bool primary = replica_.role() == Role::primary;
    if (primary && held_.front().seq > replica_.commit()) break;
    Held h = std::move(held_.front());
    held_.pop_front();
    h.release(primary);
  }
}

bool Cluster::serving() {
  if (failed_) return false;
  // The loop did not run for a while: maybe we were stopped, and another
  // tracker took over meanwhile. The Replica must see the gap before we
  // answer anyone (a tick does: it steps down on a pause).
  const Instant t = now();
  if (replica_.role() == Role::primary && t - last_call_ > config_.params.timeout / 2) {
    try {
      replica_.tick(called(t));
    } catch (const std::exception& e) {
      fail(e.what());
      return false;
    }
    flush_soon();
  }
  return replica_.role() == Role::primary;
}

void Cluster::flush_soon() {
  if (flush_) event_active(flush_, 0, 0);
}

void Cluster::on_flush(evutil_socket_t, short, void* self) {
  auto* c = static_cast<Cluster*>(self);
  if (c->failed_) return;
  // The writes of this turn of the loop go out together.
  c->replica_.flush(c->called(now()));
  c->after_call();
}

std::optional<int> Cluster::primary() const { return replica_.primary(); }

Result<Applied> Cluster::write(const Write& w) {
  if (!serving()) return not_primary_error();
  std::optional<uint64_t> seq;
  try {
    seq = replica_.submit(to_json(w).dump(), called(now()));
  } catch (const std::exception& e) {
    // Rolled back: nothing of it is in the log or the tables.
    log_error("state file error: ", e.what());
    return make_error("internal_error", "the tracker could not use its state file; try again later");
  }
  flush_soon();
  if (!seq) return not_primary_error();
  auto applied = storage_.take_outcome();
  // It is shipped, and answers are settled, once the loop has read what else
  // came in this turn (flush_soon): never here, in the Service's handler.
  if (!applied) return make_error("internal_error", "the write left no outcome");
  return std::move(*applied);
}

void Cluster::after_commit(std::function<void(bool committed)> release) {
  held_.push_back({replica_.last().seq, std::move(release)});
  settle();
}

Json::Object Cluster::hello_fields() const {
  return Json::Object{{"role", role_name(replica_.role())},
                      {"primary", index_or_null(replica_.primary())},
                      {"epoch", static_cast<int64_t>(replica_.view().epoch)}};
}

Json::Object Cluster::status() const {
  Json::Array trackers;
  for (const Replica::PeerStatus& p : replica_.peers(now())) {
    trackers.push_back(Json::Object{{"index", int64_t{p.index}},
                                    {"live", p.live},
                                    {"role", role_name(p.role)},
                                    {"epoch", static_cast<int64_t>(p.epoch)},
                                    {"last", static_cast<int64_t>(p.last.seq)}});
  }
  const View& v = replica_.view();
  Json::Array isr;
  for (int i : v.isr) isr.push_back(int64_t{i});
  return Json::Object{{"tracker", int64_t{config_.self}},
                      {"role", role_name(replica_.role())},
                      {"epoch", static_cast<int64_t>(v.epoch)},
                      {"primary", index_or_null(replica_.primary())},
                      {"commit", static_cast<int64_t>(replica_.commit())},
                      {"last", static_cast<int64_t>(replica_.last().seq)},
                      {"isr", std::move(isr)},
                      {"trackers", std::move(trackers)}};
}

}  // namespace gs::tracker
