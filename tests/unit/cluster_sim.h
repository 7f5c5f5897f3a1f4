// A seeded, deterministic simulation of a tracker cluster: three Replicas
// (tracker/replica.h) in one process, each on a MemStorage that survives its
// crashes, over a simulated network, under faults, with clients writing.
//
// Model (simulated milliseconds, a step every 5 ms; within a step the due
// ticks, deliveries and client actions run in a random order):
//  - the network: one FIFO queue per ordered pair, each message delayed at
//    random; in one schedule of four, every message goes through the JSON
//    wire form (tracker/replica_wire.h) on the way;
//  - crash: the Replica is destroyed with every message to or from it in
//    flight; later a new Replica starts on the same storage. In half the
//    schedules a tracker also crashes, with some chance, within a few
//    messages' time after it changes role or isr; in half, the primary
//    (and each other tracker with even odds) soon after it acknowledges a
//    write;
//  - pause (SIGSTOP): no ticks, messages to it wait in its queues; some are
//    shorter than timeout / 2 (the replica cannot tell them from a slow
//    loop), some many timeouts long;
//  - link break: what is in flight on one pair, both ways, is lost, and the
//    pair stays down for at most max_outage (a TCP link reconnects): the
//    failure model of docs/replication.md has no partition that keeps two
//    live trackers apart for longer than the failure detector's timeout;
//  - clients: each has at most one unanswered write "rid:<n>", sent to a
//    primary; after a failover it retries it on the next primary unless that
//    primary's state already holds the rid (the request-id table). A write is
//    acknowledged when the primary it went to has commit() >= its seq while
//    still primary.
//
// After every action the invariants hold (see check_invariants()), and after
// the fault phase every tracker is restarted, resumed and reconnected; then
// within a bounded time there is exactly one primary, all three are in its
// isr and follow it, and a new write commits everywhere.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "replica_mem_storage.h"
#include "tracker/replica.h"
#include "tracker/replica_wire.h"

namespace gs::sim {

using Ms = int64_t;
inline constexpr int kTrackers = 3;
inline constexpr Ms kStep = 5;

inline tracker::Instant sim_time(Ms t) {
  return tracker::Instant{} + std::chrono::milliseconds(t);
}

struct ClusterSpec {
  tracker::Replica::Params params;
  size_t keep = 100;        // log entries each store keeps
  Ms max_delay = 10;        // per message
  Ms max_outage = 100;      // a broken link is down at most this long
  Ms fault_phase = 30000;   // faults happen until here, then the heal
  Ms mean_fault_gap = 2000;
  Ms heal_deadline = 30000;  // after the fault phase
  int clients = 2;
  Ms client_gap = 300;       // mean time between a client's actions
  // Crash a tracker soon after it changes role or isr, with this chance:
  // the moments where a step the others have not heard of yet must not
  // outlive it (a takeover, a shrink) are too short to hit by chance.
  double crash_after_change = 0;
  // Crash the primary soon after it acknowledges a write, and as often one
  // more tracker: where a write lives on only in some trackers.
  double crash_after_ack = 0;
  bool wire = true;          // round-trip every message through JSON
  std::string describe() const;
};

ClusterSpec random_cluster_spec(uint64_t seed);

struct ClusterOutcome {
  bool ok = true;
  std::string failure;
  Ms end = 0;
  size_t acked = 0;
  size_t faults = 0;
  uint64_t epochs = 0;      // primaries of distinct epochs
  size_t snapshots = 0;     // installed
};

class Cluster {
 public:
  Cluster(ClusterSpec spec, uint64_t seed, bool trace);
  ClusterOutcome run();

 private:
  struct InFlight {
    Ms at = 0;
    tracker::Message m;
  };
  struct Node {
    std::unique_ptr<MemStorage> storage;
    std::unique_ptr<tracker::Replica> replica;  // null while crashed
    Ms paused_until = -1;                       // paused while now < paused_until
    Ms restart_at = -1;
    Ms crash_at = -1;  // a crash planned after a change
    Ms next_tick = 0;
    int incarnation = 0;
    uint64_t max_epoch_heard = 0;  // in messages delivered to this incarnation
    // Incremental invariant checks: what was verified, and against which
    // generation of the store.
    uint64_t generation = 0;
    size_t rids_checked = 0;
    std::map<std::string, uint64_t> rids;  // record -> seq, of the state as last checked
    uint64_t commit_checked = 0;
    size_t acked_checked = 0;
    bool was_primary = false;
  };
  struct Write {
    std::string rid;
    bool tracked = false;
    int node = 0;
    int incarnation = 0;
    uint64_t epoch = 0;
    uint64_t seq = 0;
  };
  struct Client {
    Ms next_at = 0;
    std::optional<Write> pending;
  };

  bool running(int i) const;  // started and not paused
  void fault();
  void crash(int i);
  void restart(int i);
  void break_link(int a, int b, Ms down_for);
  void tick(int i);
  void deliver(int from, int to);
  void client_act(Client& c);
  void place(Write& w);
  void drain(int i);
  void check_acks();
  void check_invariants();
  bool healed(std::string* why);
  void resume(int i);
  void fail(const std::string& what);
  void log(const std::string& what);
  std::string describe_nodes() const;

  Ms uni(Ms lo, Ms hi) { return std::uniform_int_distribution<Ms>(lo, hi)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  ClusterSpec spec_;
  std::mt19937_64 rng_;
  bool trace_;
  bool trace_messages_ = false;  // SIM_TRACE_MESSAGES=1 with a trace
  Ms now_ = 1000;
  Node nodes_[kTrackers + 1];  // 1-based
  std::deque<InFlight> queue_[kTrackers + 1][kTrackers + 1];
  Ms link_down_until_[kTrackers + 1][kTrackers + 1] = {};
  std::vector<Client> clients_;
  Client final_;  // the write that must commit after the heal
  uint64_t next_rid_ = 1;
  enum class Phase { faults, healing, final_write } phase_ = Phase::faults;

  std::vector<std::pair<uint64_t, std::string>> acked_;  // (seq, rid) in ack order
  std::map<uint64_t, std::string> acked_at_;
  std::set<std::string> acked_rids_;
  std::map<uint64_t, std::string> committed_;            // every seq any replica committed
  std::map<uint64_t, std::pair<int, int>> epoch_primary_;  // epoch -> (node, incarnation)
  Ms next_fault_ = 0;
  ClusterOutcome out_;
};

// ---- implementation (header-only, like swarm_sim.h) ----

inline std::string ClusterSpec::describe() const {
  auto ms = [](auto d) { return std::to_string(std::chrono::milliseconds(d).count()) + "ms"; };
  return "tick " + ms(params.tick) + " timeout " + ms(params.timeout) + " batch " +
         std::to_string(params.max_batch) + " chunk " + std::to_string(params.snapshot_chunk) +
         " keep " + std::to_string(keep) + " delay<=" + std::to_string(max_delay) +
         "ms outage<=" + std::to_string(max_outage) + "ms faults ~every " +
         std::to_string(mean_fault_gap) + "ms for " + std::to_string(fault_phase) + "ms, " +
         std::to_string(clients) + " clients ~every " + std::to_string(client_gap) + "ms" +
         (crash_after_change > 0
              ? ", crash after a change " + std::to_string(int(crash_after_change * 100)) + "%"
              : "") +
         (crash_after_ack > 0
              ? ", crash after an ack " + std::to_string(int(crash_after_ack * 100)) + "%"
              : "") +
         (wire ? ", JSON wire" : "") + (params.defer_shipping ? ", shipping once per step" : "");
}

inline ClusterSpec random_cluster_spec(uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + 1);  // not the run's stream
  auto uni = [&](Ms lo, Ms hi) { return std::uniform_int_distribution<Ms>(lo, hi)(rng); };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  ClusterSpec s;
  const Ms tick = uni(50, 250);
  const Ms timeout = tick * uni(5, 10);
  s.params.tick = std::chrono::milliseconds(tick);
  s.params.timeout = std::chrono::milliseconds(timeout);
  s.params.max_batch = chance(0.5) ? static_cast<size_t>(uni(1, 4)) : 256;
  // Small chunks and a short kept log make snapshots (of a few KB) common
  // and many-chunked; the log must still outlast a transfer, as the real
  // store's thousands of entries outlast one of its images.
  s.params.snapshot_chunk = chance(0.5) ? static_cast<size_t>(uni(256, 2048)) : 65536;
  s.params.defer_shipping = chance(0.5);
  s.keep = chance(0.5) ? static_cast<size_t>(uni(8, 24)) : static_cast<size_t>(uni(50, 300));
  s.max_delay = uni(1, tick / 2);
  s.max_outage = uni(0, timeout / 4);
  s.fault_phase = timeout * uni(10, 30);
  s.mean_fault_gap = timeout * uni(1, 4) / 2;
  s.heal_deadline = timeout * 40;
  s.clients = static_cast<int>(uni(1, 3));
  s.client_gap = uni(tick / 2, tick * 3);
  // The JSON round trip is most of the cost of a schedule: one in four
  // (SIM_WIRE=1: all) is enough to keep the replica honest about what the
  // wire accepts.
  s.crash_after_change = chance(0.5) ? 0.0 : static_cast<double>(uni(5, 30)) / 100;
  s.crash_after_ack = chance(0.5) ? 0.0 : static_cast<double>(uni(1, 10)) / 100;
  const char* wire = std::getenv("SIM_WIRE");
  s.wire = (wire && *wire == '1') || chance(0.25);
  return s;
}

inline Cluster::Cluster(ClusterSpec spec, uint64_t seed, bool trace)
    : spec_(std::move(spec)), rng_(seed), trace_(trace) {
  const char* messages = std::getenv("SIM_TRACE_MESSAGES");
  trace_messages_ = trace_ && messages && *messages && *messages != '0';
  const Ms timeout = spec_.params.timeout.count();
  for (int i = 1; i <= kTrackers; ++i) {
    nodes_[i].storage = std::make_unique<MemStorage>(spec_.keep);
    nodes_[i].restart_at = now_ + uni(0, timeout);  // a first start, spread out
  }
  clients_.resize(static_cast<size_t>(spec_.clients));
  for (Client& c : clients_) c.next_at = now_ + uni(0, spec_.client_gap);
  next_fault_ = now_ + timeout + uni(0, spec_.mean_fault_gap);
}

inline bool Cluster::running(int i) const {
  return nodes_[i].replica && nodes_[i].paused_until < 0;
}

inline void Cluster::log(const std::string& what) {
  if (trace_) std::printf("[%9.3f] %s\n", static_cast<double>(now_) / 1000, what.c_str());
}

inline void Cluster::fail(const std::string& what) {
  if (!out_.ok) return;
  out_.ok = false;
  out_.failure = "at " + std::to_string(now_) + " ms: " + what + "\n  " + describe_nodes();
  log("FAILED: " + what);
}

inline std::string Cluster::describe_nodes() const {
  std::string s;
  for (int i = 1; i <= kTrackers; ++i) {
    const Node& n = nodes_[i];
    s += "n" + std::to_string(i) + ": ";
    if (!n.replica) {
      s += "down";
    } else {
      const auto& r = *n.replica;
      s += std::string(tracker::role_name(r.role())) + (n.paused_until >= 0 ? " (paused)" : "") +
           " " + tracker::describe(r.view()) + " last " + std::to_string(r.last().seq) + "@e" +
           std::to_string(r.last().epoch) + " commit " + std::to_string(r.commit()) +
           " primary " + std::to_string(r.primary().value_or(0));
    }
    s += i < kTrackers ? "; " : "";
  }
  return s;
}

inline void Cluster::restart(int i) {
  Node& n = nodes_[i];
  n.replica = std::make_unique<tracker::Replica>(i, kTrackers, *n.storage, spec_.params,
                                                 sim_time(now_));
  ++n.incarnation;
  n.restart_at = -1;
  n.crash_at = -1;
  n.paused_until = -1;
  n.max_epoch_heard = 0;
  n.commit_checked = 0;
  n.acked_checked = 0;
  n.was_primary = false;
  n.next_tick = now_ + uni(0, spec_.params.tick.count());
  log("n" + std::to_string(i) + " starts");
  drain(i);
}

inline void Cluster::crash(int i) {
  Node& n = nodes_[i];
  n.replica.reset();
  n.paused_until = -1;
  n.crash_at = -1;
  for (int j = 1; j <= kTrackers; ++j) {
    queue_[i][j].clear();
    queue_[j][i].clear();
  }
  const Ms timeout = spec_.params.timeout.count();
  n.restart_at = now_ + (chance(0.7) ? uni(0, 3 * timeout) : uni(3 * timeout, 10 * timeout));
  log("n" + std::to_string(i) + " crashes, back at " + std::to_string(n.restart_at));
}

// The process runs again: its overdue timer and its waiting messages are
// both ready, in either order, and one of them runs at once.
inline void Cluster::resume(int i) {
  Node& n = nodes_[i];
  n.paused_until = -1;
  log("n" + std::to_string(i) + " resumes");
  for (int j = 1; j <= kTrackers; ++j) {
    if (!queue_[j][i].empty() && queue_[j][i].front().at <= now_ && chance(0.5)) {
      deliver(j, i);
      return;
    }
  }
  tick(i);
}

inline void Cluster::break_link(int a, int b, Ms down_for) {
  queue_[a][b].clear();
  queue_[b][a].clear();
  link_down_until_[a][b] = link_down_until_[b][a] = now_ + down_for;
  log("link n" + std::to_string(a) + "-n" + std::to_string(b) + " breaks for " +
      std::to_string(down_for) + " ms");
}

inline void Cluster::fault() {
  const Ms timeout = spec_.params.timeout.count();
  const double kind = std::uniform_real_distribution<double>(0, 1)(rng_);
  const int i = static_cast<int>(uni(1, kTrackers));
  ++out_.faults;
  if (kind < 0.3) {
    if (nodes_[i].replica) crash(i);
  } else if (kind < 0.6) {
    if (!running(i)) return;
    // Short ones look like a slow loop to the replica; long ones get it
    // taken for dead.
    const Ms d = chance(0.4) ? uni(kStep, timeout / 2) : uni(timeout / 2, 5 * timeout);
    nodes_[i].paused_until = now_ + d;
    log("n" + std::to_string(i) + " pauses for " + std::to_string(d) + " ms");
  } else {
    int j = static_cast<int>(uni(1, kTrackers - 1));
    if (j >= i) ++j;
    break_link(i, j, uni(0, spec_.max_outage));
  }
}

inline void Cluster::tick(int i) {
  nodes_[i].replica->tick(sim_time(now_));
  const Ms t = spec_.params.tick.count();
  nodes_[i].next_tick = now_ + uni(t * 8 / 10, t * 12 / 10);
  drain(i);
}

inline void Cluster::deliver(int from, int to) {
  auto& q = queue_[from][to];
  if (q.empty() || q.front().at > now_) return;
  tracker::Message m = std::move(q.front().m);
  q.pop_front();
  Node& n = nodes_[to];
  if (trace_messages_) {
    std::string what = std::string(tracker::kind_name(m.kind)) + " n" + std::to_string(from) +
                       "->n" + std::to_string(to) + " " + tracker::describe(m.view) + " " +
                       tracker::role_name(m.role) + " last " + std::to_string(m.last.seq) + "@e" +
                       std::to_string(m.last.epoch) + " commit " + std::to_string(m.commit);
    if (m.kind == tracker::MessageKind::append || m.kind == tracker::MessageKind::snapshot) {
      what += " prev " + std::to_string(m.prev.seq) + "@e" + std::to_string(m.prev.epoch);
    }
    if (m.kind == tracker::MessageKind::append) what += " +" + std::to_string(m.entries.size());
    if (m.kind == tracker::MessageKind::snapshot) {
      what += " bytes " + std::to_string(m.offset) + "+" + std::to_string(m.bytes.size()) + "/" +
              std::to_string(m.total);
    }
    if (m.received) what += " received " + std::to_string(*m.received);
    log(what);
  }
  n.max_epoch_heard = std::max(n.max_epoch_heard, m.view.epoch);
  n.replica->receive(m, sim_time(now_));
  drain(to);
}

// Takes what replica i sent and logged.
inline void Cluster::drain(int i) {
  for (std::string& e : nodes_[i].replica->take_events()) {
    if (e.rfind("installed a snapshot", 0) == 0) ++out_.snapshots;
    const bool change = e.rfind("primary of", 0) == 0 || e.rfind("candidate for", 0) == 0 ||
                        e.rfind("isr ", 0) == 0 || e.rfind("backup of", 0) == 0;
    if (change && phase_ == Phase::faults && nodes_[i].crash_at < 0 &&
        chance(spec_.crash_after_change)) {
      nodes_[i].crash_at = now_ + uni(0, std::max(2 * spec_.max_delay, spec_.client_gap));
    }
    log("n" + std::to_string(i) + " " + e);
  }
  for (tracker::Message& m : nodes_[i].replica->take_messages()) {
    if (spec_.wire) {
      auto back = tracker::decode_replica_message(tracker::encode_replica_message(m), kTrackers);
      if (!back) {
        fail("the wire refused a message n" + std::to_string(i) + " sent: " +
             back.error().message);
        return;
      }
      m = std::move(*back);
    }
    const int to = m.to;
    if (to < 1 || to > kTrackers || to == i) {
      fail("n" + std::to_string(i) + " sent a message to " + std::to_string(to));
      return;
    }
    if (link_down_until_[i][to] > now_ || !nodes_[to].replica) continue;  // lost
    auto& q = queue_[i][to];
    Ms at = now_ + uni(0, spec_.max_delay);
    if (!q.empty()) at = std::max(at, q.back().at);
    q.push_back({at, std::move(m)});
  }
}

inline void Cluster::client_act(Client& c) {
  c.next_at = now_ + uni(spec_.client_gap / 2, spec_.client_gap * 3 / 2);
  if (!c.pending) {
    if (phase_ == Phase::final_write) return;
    c.pending = Write{"rid:" + std::to_string(next_rid_++)};
  }
  place(*c.pending);
}

// Sends (or re-sends) a write to a primary, unless the one it went to is
// still primary of the same epoch (its answer is still to come).
inline void Cluster::place(Write& w) {
  if (w.tracked) {
    const Node& n = nodes_[w.node];
    if (n.replica && n.incarnation == w.incarnation &&
        n.replica->role() == tracker::Role::primary && n.replica->view().epoch == w.epoch) {
      return;
    }
    w.tracked = false;
  }
  std::vector<int> primaries;
  for (int i = 1; i <= kTrackers; ++i) {
    if (running(i) && nodes_[i].replica->role() == tracker::Role::primary) primaries.push_back(i);
  }
  if (primaries.empty()) return;
  const int p = primaries[static_cast<size_t>(uni(0, static_cast<Ms>(primaries.size()) - 1))];
  Node& n = nodes_[p];
  std::optional<uint64_t> seq;
  // (The states were checked after the last action: n.rids is current.)
  if (auto it = n.rids.find(w.rid); it != n.rids.end()) {
    seq = it->second;
    log("client finds " + w.rid + " at n" + std::to_string(p) + " seq " + std::to_string(*seq));
  } else {
    seq = n.replica->submit(w.rid, sim_time(now_));
    drain(p);
    if (!seq) return;
    log("client sends " + w.rid + " to n" + std::to_string(p) + ": seq " + std::to_string(*seq));
  }
  w = Write{w.rid, true, p, n.incarnation, n.replica->view().epoch, *seq};
}

inline void Cluster::check_acks() {
  auto check = [&](Client& c) {
    if (!c.pending || !c.pending->tracked) return;
    const Write& w = *c.pending;
    const Node& n = nodes_[w.node];
    if (!n.replica || n.incarnation != w.incarnation ||
        n.replica->role() != tracker::Role::primary || n.replica->view().epoch != w.epoch ||
        n.replica->commit() < w.seq) {
      return;
    }
    const auto& recs = n.storage->records();
    if (w.seq > recs.size() || recs[w.seq - 1] != w.rid) {
      fail("n" + std::to_string(w.node) + " acknowledged " + w.rid + " at seq " +
           std::to_string(w.seq) + " which holds something else");
      return;
    }
    if (!acked_rids_.insert(w.rid).second) fail(w.rid + " acknowledged twice");
    auto [it, inserted] = acked_at_.emplace(w.seq, w.rid);
    if (!inserted) {
      fail("seq " + std::to_string(w.seq) + " acknowledged as " + it->second + " and " + w.rid);
    }
    acked_.emplace_back(w.seq, w.rid);
    log("ack " + w.rid + " seq " + std::to_string(w.seq) + " by n" + std::to_string(w.node));
    if (phase_ == Phase::faults && chance(spec_.crash_after_ack)) {
      const Ms soon = std::max<Ms>(2 * spec_.max_delay, kStep);
      for (int i = 1; i <= kTrackers; ++i) {
        if ((i == w.node || chance(0.5)) && nodes_[i].crash_at < 0) {
          nodes_[i].crash_at = now_ + uni(0, soon);
        }
      }
    }
    c.pending.reset();
  };
  for (Client& c : clients_) check(c);
  check(final_);
}

inline void Cluster::check_invariants() {
  for (int i = 1; i <= kTrackers && out_.ok; ++i) {
    Node& n = nodes_[i];
    const std::string who = "n" + std::to_string(i);
    const auto& recs = n.storage->records();
    if (n.storage->generation() != n.generation) {
      n.generation = n.storage->generation();
      n.rids.clear();
      n.rids_checked = 0;
      n.commit_checked = 0;
      n.acked_checked = 0;
    }
    // (3) A write is applied once: no rid twice in a state.
    for (; n.rids_checked < recs.size(); ++n.rids_checked) {
      if (!n.rids.emplace(recs[n.rids_checked], n.rids_checked + 1).second) {
        fail(who + " holds " + recs[n.rids_checked] + " twice");
        return;
      }
    }
    if (!n.replica) continue;
    const tracker::Replica& r = *n.replica;
    // (2) One record per committed seq, whoever committed it, and nobody
    // commits what it does not hold.
    const uint64_t c = r.commit();
    if (c > recs.size()) {
      fail(who + " commit " + std::to_string(c) + " is beyond its log of " +
           std::to_string(recs.size()));
      return;
    }
    for (uint64_t s = n.commit_checked + 1; s <= c; ++s) {
      auto [it, inserted] = committed_.emplace(s, recs[s - 1]);
      if (!inserted && it->second != recs[s - 1]) {
        fail("seq " + std::to_string(s) + " committed as " + it->second + " and as " +
             recs[s - 1] + " by " + who);
        return;
      }
    }
    n.commit_checked = std::max(n.commit_checked, c);
    if (r.role() != tracker::Role::primary) {
      n.was_primary = false;
      continue;
    }
    const uint64_t epoch = r.view().epoch;
    // (4) One primary per epoch (and per incarnation: a restarted tracker
    // never takes up its old epoch again); it is the epoch's owner and in
    // its own isr.
    auto [it, inserted] = epoch_primary_.emplace(epoch, std::make_pair(i, n.incarnation));
    if (inserted) ++out_.epochs;
    if (it->second != std::make_pair(i, n.incarnation)) {
      fail(who + " is primary of epoch " + std::to_string(epoch) + " which n" +
           std::to_string(it->second.first) + " had");
      return;
    }
    if (!r.view().contains(i) || tracker::Replica::epoch_owner(epoch, kTrackers) != i) {
      fail(who + " is primary of " + tracker::describe(r.view()) + ", not its own");
      return;
    }
    // (5) A primary that was told of a newer epoch (every message carries
    // one) is a primary no more: it cannot go on committing, so it never
    // acknowledges a write of its old epoch.
    if (n.max_epoch_heard > epoch) {
      fail(who + " is still primary of epoch " + std::to_string(epoch) + " after hearing of epoch " +
           std::to_string(n.max_epoch_heard));
      return;
    }
    // (1) Every acknowledged write is in the state of every primary, at its
    // seq. A paused primary is not checked: it cannot act before it notices
    // the pause, and then it steps down.
    if (!running(i)) continue;
    if (!n.was_primary) n.acked_checked = 0;
    n.was_primary = true;
    for (; n.acked_checked < acked_.size(); ++n.acked_checked) {
      const auto& [s, rid] = acked_[n.acked_checked];
      if (s > recs.size() || recs[s - 1] != rid) {
        fail("primary " + who + " of epoch " + std::to_string(epoch) + " lacks acknowledged " +
             rid + " at seq " + std::to_string(s));
        return;
      }
    }
  }
}

inline bool Cluster::healed(std::string* why) {
  int primary = 0;
  for (int i = 1; i <= kTrackers; ++i) {
    if (!running(i)) {
      *why = "n" + std::to_string(i) + " is not running";
      return false;
    }
    if (nodes_[i].replica->role() == tracker::Role::primary) {
      if (primary != 0) {
        *why = "two primaries";
        return false;
      }
      primary = i;
    }
  }
  if (primary == 0) {
    *why = "no primary";
    return false;
  }
  if (nodes_[primary].replica->view().isr.size() != kTrackers) {
    *why = "isr not whole";
    return false;
  }
  for (int i = 1; i <= kTrackers; ++i) {
    if (nodes_[i].replica->primary() != primary) {
      *why = "n" + std::to_string(i) + " does not follow n" + std::to_string(primary);
      return false;
    }
  }
  return true;
}

inline ClusterOutcome Cluster::run() {
  const Ms fault_end = now_ + spec_.fault_phase;
  const Ms deadline = fault_end + spec_.heal_deadline;
  log("spec: " + spec_.describe());
  while (out_.ok) {
    now_ += kStep;
    for (int i = 1; i <= kTrackers && out_.ok; ++i) {
      Node& n = nodes_[i];
      if (!n.replica && n.restart_at >= 0 && n.restart_at <= now_) restart(i);
      if (n.replica && n.crash_at >= 0 && n.crash_at <= now_) {
        n.crash_at = -1;
        if (phase_ == Phase::faults) crash(i);
      }
      if (n.replica && n.paused_until >= 0 && n.paused_until <= now_) resume(i);
    }
    if (phase_ == Phase::faults) {
      if (now_ >= fault_end) {
        phase_ = Phase::healing;
        log("heal: every tracker up, every link whole, no more faults");
        for (int i = 1; i <= kTrackers; ++i) {
          if (!nodes_[i].replica) restart(i);
          if (nodes_[i].paused_until >= 0) resume(i);
          for (int j = 1; j <= kTrackers; ++j) link_down_until_[i][j] = 0;
        }
      } else if (now_ >= next_fault_) {
        fault();
        next_fault_ = now_ + uni(spec_.mean_fault_gap / 2, spec_.mean_fault_gap * 3 / 2);
      }
    }
    check_acks();
    check_invariants();

    // What is due now, run in a random order (FIFO within each link).
    enum class Kind { tick, deliver, client };
    struct Action {
      Kind kind;
      int a = 0;
      int b = 0;
    };
    std::vector<Action> actions;
    for (int i = 1; i <= kTrackers; ++i) {
      if (running(i) && nodes_[i].next_tick <= now_) actions.push_back({Kind::tick, i});
      for (int j = 1; j <= kTrackers; ++j) {
        if (!running(j)) continue;
        for (const InFlight& f : queue_[i][j]) {
          if (f.at > now_) break;
          actions.push_back({Kind::deliver, i, j});
        }
      }
    }
    for (size_t k = 0; k < clients_.size(); ++k) {
      if (clients_[k].next_at <= now_) actions.push_back({Kind::client, static_cast<int>(k)});
    }
    std::shuffle(actions.begin(), actions.end(), rng_);
    for (const Action& a : actions) {
      if (!out_.ok) break;
      switch (a.kind) {
        case Kind::tick:
          if (running(a.a)) tick(a.a);
          break;
        case Kind::deliver:
          if (running(a.b)) deliver(a.a, a.b);
          break;
        case Kind::client:
          client_act(clients_[static_cast<size_t>(a.a)]);
          break;
      }
      check_acks();
      check_invariants();
    }
    if (!out_.ok) break;
    // With deferred shipping, what a primary took in this step goes out at
    // its end, as gs-tracker ships once per turn of its loop.
    if (spec_.params.defer_shipping) {
      for (int i = 1; i <= kTrackers && out_.ok; ++i) {
        if (!running(i)) continue;
        nodes_[i].replica->flush(sim_time(now_));
        drain(i);
        check_acks();
        check_invariants();
      }
    }

    if (phase_ == Phase::healing) {
      std::string why;
      if (healed(&why)) {
        phase_ = Phase::final_write;
        final_.pending = Write{"final"};
        log("healed: one primary, whole isr; the final write goes in");
      }
    }
    if (phase_ == Phase::final_write) {
      if (final_.pending) place(*final_.pending);  // (again, if its primary changed)
      check_acks();
      if (!final_.pending && acked_at_.rbegin() != acked_at_.rend()) {
        const uint64_t seq = std::find_if(acked_.rbegin(), acked_.rend(), [](const auto& a) {
                               return a.second == "final";
                             })->first;
        bool everywhere = true;
        for (int i = 1; i <= kTrackers; ++i) {
          const auto& r = *nodes_[i].replica;
          everywhere = everywhere && r.commit() >= seq &&
                       std::equal(nodes_[i].storage->records().begin(),
                                  nodes_[i].storage->records().begin() + static_cast<long>(seq),
                                  nodes_[1].storage->records().begin());
        }
        if (everywhere) break;
      }
    }
    if (now_ > deadline) {
      std::string why;
      healed(&why);
      fail("not healed " + std::to_string(spec_.heal_deadline) + " ms after the faults (" +
           (phase_ == Phase::final_write ? std::string("the final write is not everywhere")
                                         : why) +
           ")");
    }
  }
  out_.end = now_;
  out_.acked = acked_.size();
  return out_;
}

}  // namespace gs::sim
