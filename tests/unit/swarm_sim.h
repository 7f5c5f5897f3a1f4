// A seeded, deterministic simulation of one file's swarm, to test the pure
// download policies together under churn: PiecePicker, PeerBook and
// EndgameRules (each downloader), and PieceSpreader (each seeder whose upload
// is capped), with the real PipelineDepth and RateMeter. Everything else is a
// small model of what the daemon does around them, in simulated time (a tick
// is 50 ms):
//
//  - the wire: one link per (downloader, server), messages arrive one tick
//    after they are sent; a piece counts as sent by its server (on_sent) when
//    it leaves, and a killed downloader loses the pieces still on their way;
//  - the server side (PeerServer): upload credit per tick at the node's rate,
//    requests served in order, round robin over links; a capped complete node
//    spreads (one PieceSpreader per node, dropped once it has no spread link,
//    checked once a second like on_tick; idle = nothing pending for 1 s);
//  - the downloader side (Download::fill, overdue, connect_peers, strike and
//    tick at the time of writing): the calls into PeerBook (who to connect
//    to, back-off, bans) and EndgameRules (exclusive picks for slow peers,
//    the starving fallback, endgame duplicates only when overdue) are made
//    the way the download makes them; request timeouts (15 s, 3 in a row
//    close the link) and REJECT holds (1 s) are modelled here. Sim node j is
//    the PeerBook address 127.0.0.1:(j+1) under the user "node<j>", and tick
//    t the time point clock(t).
//
// Churn comes from the seed: downloaders join late, are killed and restarted
// (they keep most verified pieces, lose the rest and what was in flight),
// extra seeders leave, corrupt seeders send bad pieces. One honest seeder
// stays for the whole run, so every download can always complete.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/download_rate.h"
#include "daemon/endgame_rules.h"
#include "daemon/peer_book.h"
#include "daemon/piece_picker.h"
#include "daemon/piece_spreader.h"

namespace gs::sim {

// The sim keeps bits as vector<bool>; the picker takes a Bitfield.
inline Bitfield to_bitfield(const std::vector<bool>& bits) {
  Bitfield b(static_cast<uint32_t>(bits.size()));
  for (PieceIndex p : all_pieces(static_cast<uint32_t>(bits.size()))) {
    if (bits[p.value()]) b.set(p);
  }
  return b;
}

using daemon::DownloadClock;
using Tick = int64_t;
inline constexpr Tick kTicksPerSecond = 20;
inline constexpr uint64_t kPieceBytes = 512 * 1024;
inline constexpr Tick kRequestTimeout = 15 * kTicksPerSecond;
inline constexpr int kMaxPieceFailures = 5;

struct NodeSpec {
  bool seeder = false;     // complete from the start
  bool permanent = false;  // never killed, never leaves
  bool corrupt = false;    // every piece it sends fails verification
  bool capped = false;     // spreads what it serves complete
  double rate = 40;        // upload, pieces per second
  Tick join = 0;
  Tick leave = -1;         // seeders: leaves for good then (-1: never)
  // Downloaders: killed when this share of the file is verified (or at
  // kill_at), restarted restart_delay later, up to `kills` times.
  int kills = 0;
  double kill_at_progress = 2;  // > 1: never by progress
  Tick kill_at = -1;
  Tick restart_delay = 0;
  double keep = 1;  // share of verified pieces a restart keeps
};

struct SwarmSpec {
  uint32_t pieces = 64;
  std::vector<NodeSpec> nodes;
  std::string describe() const {
    std::ostringstream o;
    o.setf(std::ios::fixed);
    o.precision(1);
    o << pieces << " pieces;";
    for (size_t i = 0; i < nodes.size(); ++i) {
      const NodeSpec& n = nodes[i];
      o << " [" << i << (n.seeder ? " seeder" : " leecher") << (n.permanent ? " permanent" : "")
        << (n.corrupt ? " corrupt" : "") << (n.capped ? " capped" : "") << " " << n.rate << "/s join "
        << double(n.join) / kTicksPerSecond << "s";
      if (n.leave >= 0) o << " leave " << double(n.leave) / kTicksPerSecond << "s";
      if (n.kills > 0) {
        o << " kills " << n.kills << " at " << (n.kill_at >= 0 ? std::to_string(n.kill_at / kTicksPerSecond) + "s" : "")
          << (n.kill_at_progress <= 1 ? std::to_string(int(n.kill_at_progress * 100)) + "%" : "") << " back after "
          << double(n.restart_delay) / kTicksPerSecond << "s keep " << int(n.keep * 100) << "%";
      }
      o << "]";
    }
    return o.str();
  }
};

// A random swarm; the first node is the honest seeder that stays.
inline SwarmSpec random_spec(uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto uni = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  const auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const auto chance = [&](double p) { return uni(0, 1) < p; };
  const auto secs = [](double s) { return static_cast<Tick>(s * kTicksPerSecond); };
  SwarmSpec s;
  s.pieces = static_cast<uint32_t>(pick(8, 200));
  NodeSpec first;
  first.seeder = first.permanent = true;
  first.capped = chance(0.75);
  first.rate = first.capped ? uni(2, 20) : 40;
  s.nodes.push_back(first);
  const int extra_seeders = pick(0, 2);
  for (int i = 0; i < extra_seeders; ++i) {
    NodeSpec n;
    n.seeder = true;
    n.corrupt = chance(0.4);
    n.capped = chance(0.5);
    n.rate = n.capped ? uni(2, 20) : 40;
    n.join = chance(0.5) ? 0 : secs(uni(0, 10));
    if (chance(0.4)) n.leave = n.join + secs(uni(0.5, 15));
    s.nodes.push_back(n);
  }
  const int leechers = pick(1, 6);
  for (int i = 0; i < leechers; ++i) {
    NodeSpec n;
    n.capped = chance(0.2);  // its daemon caps uploads: it spreads once complete
    n.rate = n.capped ? uni(2, 20) : 40;
    n.join = chance(0.6) ? 0 : secs(uni(0, 10));
    if (chance(0.5)) {
      n.kills = pick(1, 2);
      if (chance(0.6)) {
        n.kill_at_progress = uni(0.05, 1.0);
      } else {
        n.kill_at = n.join + secs(uni(0.2, 10));
      }
      n.restart_delay = chance(0.3) ? secs(uni(0, 0.9)) : secs(uni(1, 6));
      n.keep = chance(0.5) ? 1.0 : uni(0.5, 1.0);
    }
    s.nodes.push_back(n);
  }
  return s;
}

struct Outcome {
  bool ok = true;
  std::string failure;    // what went wrong, empty when ok
  Tick end = 0;           // when the run stopped
  Tick last_churn = 0;    // the last join, kill, restart or leave
  Tick deadline = 0;      // every download had to be complete by then
  uint64_t pieces_sent = 0;
  uint64_t bans = 0;  // downloaders that banned a peer (each counted once per ban)
};

class Swarm {
 public:
  Swarm(SwarmSpec spec, uint64_t seed) : spec_(std::move(spec)), rng_(seed ^ 0x5eedf00dULL) {
    for (const NodeSpec& n : spec_.nodes) nodes_.push_back(Node{n, spec_.pieces});
  }

  // Runs until every download is complete, or fails when one is not by its
  // deadline: the last churn event, plus twice the time the staying seeder
  // takes to send what the worst-off downloader then lacked, plus 10 s.
  Outcome run() {
    Outcome out;
    const Tick hard_limit = 4000 * kTicksPerSecond;  // a bound on the loop whatever happens
    for (now_ = 0; now_ < hard_limit; ++now_) {
      churn();
      serve();
      deliver();
      verify();
      if (now_ % kTicksPerSecond == 0) server_tick();
      if (now_ % (kTicksPerSecond / 4) == 0) client_tick();
      if (!failure_.empty()) break;
      if (all_complete()) break;
      if (now_ > deadline()) {
        failure_ = "downloads not complete by the deadline: " + progress();
        break;
      }
    }
    out.end = now_;
    out.last_churn = last_churn_;
    out.deadline = deadline();
    out.pieces_sent = pieces_sent_;
    out.bans = bans_;
    out.failure = failure_;
    if (out.failure.empty() && !all_complete()) out.failure = "hit the hard step limit: " + progress();
    out.ok = out.failure.empty();
    return out;
  }

 private:
  enum class MsgType { bitfield, have, piece, reject, request, cancel };
  struct Msg {
    Msg(Tick at_tick, MsgType what, PieceIndex index = PieceIndex{0}) : at(at_tick), type(what), piece(index) {}
    Tick at;
    MsgType type;
    PieceIndex piece;
    bool corrupt = false;
    std::vector<bool> bits;  // BITFIELD
  };
  struct Link {
    uint64_t id = 0;
    int client = 0;
    int server = 0;
    bool client_open = true;
    bool server_open = false;  // accepted by the server
    Tick client_notices_close = -1;
    Tick server_notices_close = -1;
    std::deque<Msg> to_client;
    std::deque<Msg> to_server;
    // the downloader's view
    bool ready = false;
    std::vector<bool> told;
    std::map<PieceIndex, Tick> outstanding;
    uint64_t received = 0;  // bytes
    daemon::PipelineDepth depth;
    daemon::RateMeter rate;
    int timeouts_in_row = 0;
    Tick hold_until = 0;
    // the server's view
    bool spread = false;
    std::deque<PieceIndex> pending;
    Tick last_ask = 0;
  };
  struct Verifying {
    Tick at;
    PieceIndex piece;
    int from;
    bool corrupt;
  };
  struct Node {
    Node(const NodeSpec& s, uint32_t pieces) : spec(s), have(pieces, s.seeder) {}
    NodeSpec spec;
    bool alive = false;
    bool gone = false;  // left for good
    Tick restart_at = -1;
    int kills_done = 0;
    std::vector<bool> have;
    std::unique_ptr<PiecePicker> picker;
    daemon::PeerBook book;
    std::map<PieceIndex, std::map<int, int>> piece_failures;  // failed copies since it started, by sender
    std::deque<Verifying> verifying;
    std::unique_ptr<PieceSpreader> spreader;
    double credit = 0;
    size_t next_serve = 0;
    Tick complete_at = -1;
    uint32_t have_count() const { return static_cast<uint32_t>(std::count(have.begin(), have.end(), true)); }
    bool complete() const { return std::all_of(have.begin(), have.end(), [](bool b) { return b; }); }
  };

  static DownloadClock::time_point clock(Tick t) {
    return DownloadClock::time_point{} + std::chrono::milliseconds(1000 / kTicksPerSecond * t) + std::chrono::hours(1);
  }
  static DownloadClock::duration duration(Tick ticks) { return clock(ticks) - clock(0); }
  // Node j in a PeerBook.
  static std::string user_of(int node) { return "node" + std::to_string(node); }
  static uint16_t port_of(int node) { return static_cast<uint16_t>(node + 1); }
  static std::string addr_of(int node) { return "127.0.0.1:" + std::to_string(port_of(node)); }
  static int node_of(const daemon::PeerBook::Peer& peer) { return static_cast<int>(peer.port) - 1; }
  uint32_t pieces() const { return spec_.pieces; }
  Link* link(uint64_t id) {
    auto it = links_.find(id);
    return it == links_.end() ? nullptr : &it->second;
  }
  int rand_int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  // ------------------------------------------------------------ churn

  void churn() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      const int id = static_cast<int>(i);
      if (!n.alive && !n.gone && n.kills_done == 0 && n.restart_at < 0 && now_ == n.spec.join) start(id);
      if (!n.alive && n.restart_at == now_) start(id);
      if (!n.alive) continue;
      if (n.spec.leave >= 0 && now_ >= n.spec.leave) {
        stop(id);
        n.gone = true;
        continue;
      }
      if (!n.spec.seeder && n.kills_done < n.spec.kills && !n.complete()) {
        const bool by_time = n.spec.kill_at >= 0 && now_ >= n.spec.kill_at;
        const bool by_progress = n.have_count() >= n.spec.kill_at_progress * pieces();
        if (by_time || by_progress) {
          ++n.kills_done;
          stop(id);
          n.restart_at = now_ + std::max<Tick>(1, n.spec.restart_delay);
          // A restart keeps what its last commit listed, or re-verifies it:
          // most pieces, not all of them.
          std::bernoulli_distribution keep(n.spec.keep);
          for (PieceIndex p : all_pieces(pieces())) {
            if (n.have[p.value()] && !keep(rng_)) n.have[p.value()] = false;
          }
          if (n.spec.kill_at >= 0) n.spec.kill_at = now_ + n.spec.restart_delay + 2 * kTicksPerSecond;
          churned();
        }
      }
    }
  }

  void start(int id) {
    Node& n = nodes_[id];
    n.alive = true;
    n.restart_at = -1;
    n.book = daemon::PeerBook();
    n.piece_failures.clear();
    n.verifying.clear();
    n.credit = 0;
    if (!n.spec.seeder && !n.complete()) {
      n.picker = std::make_unique<PiecePicker>(pieces(), rng_());
      for (PieceIndex p : all_pieces(pieces())) {
        if (n.have[p.value()]) n.picker->set_have(p);
      }
      for (size_t j = 0; j < nodes_.size(); ++j) {
        if (static_cast<int>(j) != id) n.book.learn(user_of(static_cast<int>(j)), "127.0.0.1", port_of(static_cast<int>(j)));
      }
    }
    churned();
  }

  // Killed or gone: no goodbye; the other ends notice a little later.
  void stop(int id) {
    Node& n = nodes_[id];
    n.alive = false;
    churned();
    n.picker.reset();
    n.spreader.reset();
    n.verifying.clear();
    for (auto& [lid, l] : links_) {
      if (l.client == id && l.client_open) {
        l.client_open = false;
        l.to_client.clear();
        if (l.server_open) l.server_notices_close = now_ + rand_int(0, 3);
      }
      if (l.server == id && l.server_open) {
        l.server_open = false;
        l.spread = false;
        l.to_server.clear();
        if (l.client_open) l.client_notices_close = now_ + 1;
      }
    }
  }

  // ------------------------------------------------------------ server side

  void accept(Link& l) {
    Node& s = nodes_[l.server];
    l.server_open = true;
    l.last_ask = now_;
    Msg bf{now_ + 1, MsgType::bitfield};
    if (s.complete() && s.spec.capped) {
      if (!s.spreader) s.spreader = std::make_unique<PieceSpreader>(pieces(), rng_());
      l.spread = true;
      bf.bits.assign(pieces(), false);
      for (PieceIndex p : s.spreader->add_peer(l.id)) bf.bits[p.value()] = true;
    } else {
      bf.bits = s.have;
    }
    l.to_client.push_back(std::move(bf));
  }

  void advertise(const std::vector<PieceSpreader::Advert>& adverts) {
    for (const auto& a : adverts) {
      Link* to = link(a.peer);
      if (!to || !to->server_open) continue;
      to->last_ask = now_;
      for (PieceIndex p : a.pieces) to->to_client.push_back(Msg{now_ + 1, MsgType::have, p});
    }
  }

  void server_receive(Link& l, const Msg& m) {
    Node& s = nodes_[l.server];
    if (m.type == MsgType::request) {
      if (std::find(l.pending.begin(), l.pending.end(), m.piece) != l.pending.end()) return;
      l.pending.push_back(m.piece);
      if (l.spread && s.spreader) {
        l.last_ask = now_;
        advertise(s.spreader->on_request(l.id, m.piece));
      }
    } else if (m.type == MsgType::cancel) {
      const auto it = std::find(l.pending.begin(), l.pending.end(), m.piece);
      if (it == l.pending.end()) return;
      l.pending.erase(it);
      if (l.spread && s.spreader) s.spreader->on_cancel(l.id, m.piece);
    }
  }

  void server_closed(Link& l) {
    Node& s = nodes_[l.server];
    if (l.spread && s.spreader) s.spreader->remove_peer(l.id);
    l.server_open = false;
    l.spread = false;
    l.pending.clear();
  }

  // Each node sends what its upload credit allows, one piece at a time,
  // round robin over its links with requests waiting.
  void serve() {
    std::vector<std::vector<Link*>> by_server(nodes_.size());
    for (auto& [id, l] : links_) {
      if (l.server_open && !l.pending.empty()) by_server[l.server].push_back(&l);
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& s = nodes_[i];
      if (!s.alive) continue;
      s.credit = std::min(s.credit + s.spec.rate / kTicksPerSecond, 2.0);
      auto& queue = by_server[i];
      while (s.credit >= 1 && !queue.empty()) {
        s.next_serve = (s.next_serve + 1) % queue.size();
        Link& l = *queue[s.next_serve];
        const PieceIndex p = l.pending.front();
        l.pending.pop_front();
        if (!s.have[p.value()]) {
          if (l.spread && s.spreader) s.spreader->on_cancel(l.id, p);
          l.to_client.push_back(Msg{now_ + 1, MsgType::reject, p});
        } else {
          s.credit -= 1;
          ++pieces_sent_;
          Msg piece{now_ + 1, MsgType::piece, p};
          piece.corrupt = s.spec.corrupt;
          l.to_client.push_back(std::move(piece));
          if (l.spread && s.spreader) advertise(s.spreader->on_sent(l.id, p));
        }
        if (l.pending.empty()) queue.erase(queue.begin() + static_cast<ptrdiff_t>(s.next_serve));
      }
      if (queue.empty()) s.credit = std::min(s.credit, 1.0);  // an idle link does not bank credit
    }
  }

  // Once a second (PeerServer::on_tick): spread links that asked for nothing
  // for a second are reported idle; spreaders without links are dropped.
  void server_tick() {
    for (auto& [id, l] : links_) {
      Node& s = nodes_[l.server];
      if (!l.server_open || !l.spread || !s.spreader || !l.pending.empty()) continue;
      if (now_ - l.last_ask < kTicksPerSecond) continue;
      l.last_ask = now_;
      advertise(s.spreader->on_idle(l.id));
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      bool any = false;
      for (auto& [id, l] : links_) any = any || (l.server == static_cast<int>(i) && l.spread && l.server_open);
      if (!any) nodes_[i].spreader.reset();
    }
  }

  // ------------------------------------------------------------ the wire

  void deliver() {
    std::vector<uint64_t> ids;
    for (auto& [id, l] : links_) ids.push_back(id);
    for (uint64_t id : ids) {
      Link* l = link(id);
      if (l->server_notices_close >= 0 && now_ >= l->server_notices_close) {
        l->server_notices_close = -1;
        if (l->server_open) server_closed(*l);
      }
      while (l && l->server_open && !l->to_server.empty() && l->to_server.front().at <= now_) {
        const Msg m = l->to_server.front();
        l->to_server.pop_front();
        server_receive(*l, m);
        l = link(id);
      }
      if (l && l->client_notices_close >= 0 && now_ >= l->client_notices_close) {
        l->client_notices_close = -1;
        if (l->client_open) client_closed(*l, false);
        l = link(id);
      }
      while (l && l->client_open && !l->to_client.empty() && l->to_client.front().at <= now_) {
        const Msg m = l->to_client.front();
        l->to_client.pop_front();
        client_receive(*l, m);
        l = link(id);
      }
    }
    std::erase_if(links_, [](const auto& e) { return !e.second.client_open && !e.second.server_open; });
  }

  // ------------------------------------------------------------ downloader side

  void send_to_server(Link& l, MsgType type, PieceIndex piece) {
    l.to_server.push_back(Msg{now_ + 1, type, piece});
  }

  void client_receive(Link& l, const Msg& m) {
    Node& d = nodes_[l.client];
    if (!d.picker) return;
    const auto t = clock(now_);
    switch (m.type) {
      case MsgType::bitfield:
        l.ready = true;
        l.told = m.bits;
        d.picker->add_peer(l.id);
        d.picker->peer_has_bitfield(l.id, to_bitfield(m.bits));
        fill(l);
        return;
      case MsgType::have:
        if (!l.ready) return;
        l.told[m.piece.value()] = true;
        d.picker->peer_has(l.id, m.piece);
        fill(l);
        return;
      case MsgType::reject:
        if (l.outstanding.erase(m.piece) == 0) return;
        d.picker->on_request_dropped(l.id, m.piece);
        l.depth.on_dropped();
        l.hold_until = now_ + kTicksPerSecond;
        fill_all(l.client);
        return;
      case MsgType::piece: {
        l.outstanding.erase(m.piece);
        l.received += kPieceBytes;
        l.rate.add(kPieceBytes, t);
        l.depth.on_piece(l.rate.rate(t), l.rate.age(t) >= std::chrono::seconds(1), kPieceBytes);
        l.timeouts_in_row = 0;
        const bool wanted = d.picker->wanted(m.piece);
        for (PeerKey other : d.picker->on_received(l.id, m.piece)) {
          if (Link* o = link(other); o && o->client_open && o->outstanding.erase(m.piece)) {
            send_to_server(*o, MsgType::cancel, m.piece);
          }
        }
        if (wanted) d.verifying.push_back({now_ + 1, m.piece, l.server, m.corrupt});
        fill(l);
        return;
      }
      default:
        return;
    }
  }

  void client_closed(Link& l, bool by_us) {
    Node& d = nodes_[l.client];
    l.client_open = false;
    if (!by_us) l.to_client.clear();
    if (by_us && l.server_open) l.server_notices_close = now_ + 1;
    if (!d.picker) return;
    d.picker->remove_peer(l.id);
    d.book.closed(addr_of(l.server), l.received > 0, false, clock(now_));
    fill_all(l.client);
  }

  void verify() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& d = nodes_[i];
      while (d.picker && !d.verifying.empty() && d.verifying.front().at <= now_) {
        const Verifying v = d.verifying.front();
        d.verifying.pop_front();
        if (v.corrupt) {
          d.picker->on_verify_failed(v.piece);
          // Download::verified: the whole download fails when one sender, or
          // as many different senders, sent kMaxPieceFailures bad copies.
          auto& by_sender = d.piece_failures[v.piece];
          if (++by_sender[v.from] >= kMaxPieceFailures || static_cast<int>(by_sender.size()) >= kMaxPieceFailures) {
            failure_ = "node " + std::to_string(i) + ": piece " + std::to_string(v.piece.value()) + " failed verification " +
                       std::to_string(kMaxPieceFailures) + " times, its download fails";
            return;
          }
          if (d.book.strike(addr_of(v.from)) == daemon::PeerBook::Strike::banned_now) ban(static_cast<int>(i), v.from);
          fill_all(static_cast<int>(i));
          continue;
        }
        d.have[v.piece.value()] = true;
        d.picker->on_verified(v.piece);
        // Partial seeding: its own peers hear of the piece.
        for (auto& [id, l] : links_) {
          if (l.server == static_cast<int>(i) && l.server_open) l.to_client.push_back(Msg{now_ + 1, MsgType::have, v.piece});
        }
        if (d.complete()) {
          finish(static_cast<int>(i));
          break;
        }
        fill_all(static_cast<int>(i));
      }
    }
  }

  void ban(int by, int peer) {
    ++bans_;
    if (!nodes_[peer].spec.corrupt) {
      failure_ = "node " + std::to_string(by) + " banned honest node " + std::to_string(peer);
    }
    const daemon::PeerBook::Peer* k = nodes_[by].book.find(addr_of(peer));
    if (!k || k->link == 0) return;
    if (Link* l = link(k->link); l && l->client_open) client_closed(*l, true);
  }

  void finish(int id) {
    Node& d = nodes_[id];
    d.complete_at = now_;
    d.verifying.clear();
    for (auto& [lid, l] : links_) {
      if (l.client == id && l.client_open) {
        l.client_open = false;
        if (l.server_open) l.server_notices_close = now_ + 1;
      }
    }
    d.picker.reset();
    d.book.unlink_all();
  }

  // Every 250 ms (Download::tick): request timeouts, reconnects, fill.
  void client_tick() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& d = nodes_[i];
      if (!d.alive || !d.picker) continue;
      const int id = static_cast<int>(i);
      std::vector<uint64_t> stalled;
      for (auto& [lid, l] : links_) {
        if (l.client != id || !l.client_open || !l.ready) continue;
        std::vector<PieceIndex> expired;
        for (auto it = l.outstanding.begin(); it != l.outstanding.end();) {
          if (now_ - it->second >= kRequestTimeout) {
            expired.push_back(it->first);
            it = l.outstanding.erase(it);
          } else {
            ++it;
          }
        }
        for (PieceIndex p : expired) d.picker->on_request_dropped(l.id, p);
        if (!expired.empty()) {
          ++l.timeouts_in_row;
          l.depth.on_dropped();
        }
        if (l.timeouts_in_row >= 3) stalled.push_back(lid);
      }
      for (uint64_t lid : stalled) {
        if (Link* l = link(lid); l && l->client_open) client_closed(*l, true);
      }
      connect(id);
      fill_all(id);
    }
  }

  // Download::connect_peers, with no cap on links.
  void connect(int id) {
    Node& d = nodes_[id];
    const auto t = clock(now_);
    for (const std::string& addr : d.book.due(t, nodes_.size(), user_of(id))) {
      const int peer = node_of(*d.book.find(addr));
      const Node& s = nodes_[peer];
      // The tracker lists only who has something; a dead address refuses.
      if (!s.alive) {
        d.book.connect_failed(addr, t);
        continue;
      }
      if (s.have_count() == 0) continue;
      Link l;
      l.id = next_link_++;
      l.client = id;
      l.server = peer;
      const uint64_t lid = l.id;
      links_.emplace(lid, std::move(l));
      d.book.linked(addr, lid);
      accept(links_.at(lid));
    }
  }

  void fill_all(int id) {
    std::vector<uint64_t> mine;
    for (auto& [lid, l] : links_) {
      if (l.client == id && l.client_open && l.ready) mine.push_back(lid);
    }
    for (uint64_t lid : mine) {
      if (Link* l = link(lid)) fill(*l);
    }
  }

  daemon::PeerPace pace_of(const Link& l) const {
    const auto t = clock(now_);
    return daemon::PeerPace{l.rate.rate(t), l.rate.age(t), l.outstanding.size()};
  }

  // Download::fill: the same calls into EndgameRules.
  void fill(Link& l) {
    Node& d = nodes_[l.client];
    if (!d.picker || !l.client_open || !l.ready || now_ < l.hold_until) return;
    const size_t depth = l.depth.depth();
    if (l.outstanding.size() >= depth) return;
    const auto t = clock(now_);
    const daemon::PeerPace pace = pace_of(l);
    uint64_t fastest = 0;
    for (auto& [lid, o] : links_) {
      if (o.client == l.client && o.client_open) fastest = std::max(fastest, o.rate.rate(t));
    }
    size_t duplicates = daemon::EndgameRules::duplicates_allowed(pace);
    std::vector<PieceIndex> picks =
        d.picker->pick(l.id, depth - l.outstanding.size(), daemon::EndgameRules::scope(pace, fastest));
    if (daemon::EndgameRules::starving(pace, fastest, picks.size())) picks = d.picker->pick(l.id, 1, PickScope::any);
    for (PieceIndex p : picks) {
      if (d.picker->requesters_of(p) > 1) {
        if (duplicates == 0 || !overdue(l, p)) {
          d.picker->on_request_dropped(l.id, p);
          continue;
        }
        --duplicates;
      }
      l.outstanding[p] = now_;
      send_to_server(l, MsgType::request, p);
    }
  }

  // Download::overdue.
  bool overdue(const Link& asking, PieceIndex p) const {
    for (auto& [lid, o] : links_) {
      if (o.client != asking.client || lid == asking.id || !o.client_open) continue;
      auto it = o.outstanding.find(p);
      if (it == o.outstanding.end()) continue;
      if (!endgame_.overdue(pace_of(o), static_cast<uint32_t>(kPieceBytes), duration(now_ - it->second))) return false;
    }
    return true;
  }

  // ------------------------------------------------------------ verdict

  bool all_complete() const {
    for (const Node& n : nodes_) {
      if (!n.spec.seeder && !n.complete()) return false;
    }
    return true;
  }

  Tick deadline() const {
    return last_churn_ + 2 * static_cast<Tick>(missing_at_churn_ / nodes_[0].spec.rate * kTicksPerSecond) +
           10 * kTicksPerSecond;
  }

  // A join, kill, restart or leave: the deadline counts from here, for what
  // the worst-off downloader lacks now.
  void churned() {
    last_churn_ = now_;
    uint32_t worst = 0;
    for (const Node& n : nodes_) {
      if (!n.spec.seeder) worst = std::max(worst, pieces() - n.have_count());
    }
    missing_at_churn_ = worst;
  }

  std::string progress() const {
    std::ostringstream o;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      if (n.spec.seeder) continue;
      o << " node " << i << ": " << n.have_count() << "/" << pieces() << (n.alive ? "" : " (down)");
      if (n.picker) {
        int links = 0;
        size_t told = 0;
        for (const auto& [id, l] : links_) {
          if (l.client != static_cast<int>(i) || !l.client_open || !l.ready) continue;
          ++links;
          for (PieceIndex p : all_pieces(pieces())) told += l.told[p.value()] && !n.have[p.value()];
        }
        o << " links " << links << " told-of-missing " << told;
      }
      o << ";";
    }
    return o.str();
  }

 private:
  SwarmSpec spec_;
  std::mt19937_64 rng_;
  std::vector<Node> nodes_;
  std::map<uint64_t, Link> links_;
  daemon::EndgameRules endgame_{duration(kRequestTimeout)};
  uint64_t next_link_ = 1;
  Tick now_ = 0;
  Tick last_churn_ = 0;
  double missing_at_churn_ = 0;
  uint64_t pieces_sent_ = 0;
  uint64_t bans_ = 0;
  std::string failure_;
};

}  // namespace gs::sim
