#include "peer_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <utility>

#include "crypto.h"
#include "file_source.h"
#include "frame.h"
#include "log.h"

namespace gs::daemon {
namespace {

// Pieces a connection holds in its output before it stops reading requests.
constexpr uint64_t kQueuedPieces = 2;
// A spread connection that asked for nothing this long, with nothing left to
// send it, is not going to ask for its offers: they lapse (PieceSpreader).
constexpr auto kOffersIdle = std::chrono::seconds(1);

}  // namespace

struct PeerServer::Conn {
  FramedConn* link = nullptr;
  std::string peer;
  std::string address;  // peer_address(peer): what max_connections_per_address counts
  Clock::time_point accepted;
  Clock::time_point last_send;
  bool handshaken = false;
  // Their handshake is in and its ticket checked; ours waits for our ticket.
  bool awaiting_ticket = false;
  int64_t their_expires = 0;  // Unix seconds: their ticket's expiry (tickets on)
  int64_t mine_expires = 0;   // ... and that of the last ticket we sent them
  Sha256Digest file_id{};
  uint32_t piece_count = 0;
  uint32_t piece_size = 0;
  std::deque<PieceIndex> pending;  // requested, not yet in the output
  bool reading = true;
  // The file being served, opened once per connection (reopened if the
  // registry points the file id at another path, e.g. a finished download).
  std::unique_ptr<FileSource> file;
  uint64_t added = 0;  // bytes put in the output
  uint64_t sent = 0;   // of those, taken by the kernel as of the last update
  // Spreading (a capped seeder; see PieceSpreader): the file's state and our
  // key in it; the pieces in the output, each with the value of `added` at
  // its last byte, so the spreader learns when one has fully gone out.
  Spread* spread = nullptr;
  PeerKey spread_key = 0;
  std::deque<std::pair<uint64_t, PieceIndex>> queued;
  Clock::time_point last_ask;  // its last request, or our last offer to it
};

PeerServer::PeerServer(event_base* base, Options options, ServeRegistry& registry)
    : base_(base), options_(std::move(options)), registry_(registry) {}

Result<std::unique_ptr<PeerServer>> PeerServer::open(event_base* base, Options options, ServeRegistry& registry) {
  std::unique_ptr<PeerServer> s(new PeerServer(base, std::move(options), registry));
  PeerServer* raw = s.get();
  auto l = Listener::open(base, s->options_.listen,
                          [raw](evutil_socket_t fd, const std::string& peer) { raw->on_accept(fd, peer); });
  if (!l) return make_error("listen_failed", "peer port: " + l.error().message);
  s->listener_ = *l;

  const uint64_t rate = std::exchange(s->options_.max_upload_rate, 0);
  if (!s->set_max_upload_rate(rate))
    return make_error("internal", "cannot set up the upload rate limit");

  s->tick_ = event_new(base, -1, EV_PERSIST, [](evutil_socket_t, short, void* self) {
    static_cast<PeerServer*>(self)->on_tick();
  }, raw);
  const timeval every_second{1, 0};
  event_add(s->tick_, &every_second);

  registry.set_listener([raw](const Sha256Digest& id, std::optional<PieceIndex> piece) { raw->on_registry(id, piece); });
  if (s->options_.tickets && !s->options_.tickets->enabled()) s->options_.tickets = nullptr;
  if (s->options_.tickets) {
    s->options_.tickets->set_listener([raw](const Sha256Digest& id, const Error* e) { raw->on_ticket(id, e); });
  }
  return s;
}

PeerServer::~PeerServer() {
  registry_.set_listener(nullptr);
  if (options_.tickets) options_.tickets->set_listener(nullptr);
  // The loop is not running here, so every close completes at once.
  close_all("the daemon is stopping");
  if (tick_) event_free(tick_);
  delete listener_;
  if (rate_group_) {
    // libevent takes a closed link out of the group only when it finalizes
    // it, later (in the loop or in event_base_free), and a group must be
    // empty when freed. Finalizers run in the order they were queued, so one
    // queued now frees the group after every link closed so far has left it.
    struct Doomed {
      bufferevent_rate_limit_group* group;
      ev_token_bucket_cfg* cfg;
    };
    auto* doomed = new Doomed{rate_group_, rate_cfg_};
    event* ev = event_new(base_, -1, 0, [](evutil_socket_t, short, void*) {}, doomed);
    event_free_finalize(0, ev, [](event*, void* arg) {
      auto* d = static_cast<Doomed*>(arg);
      bufferevent_rate_limit_group_free(d->group);
      ev_token_bucket_cfg_free(d->cfg);
      delete d;
    });
  } else if (rate_cfg_) {
    ev_token_bucket_cfg_free(rate_cfg_);
  }
}

namespace {

// The group's token buckets for `rate` bytes per second (0: as good as none:
// a group, once made, stays, and lifting the limit makes it unlimited).
ev_token_bucket_cfg* upload_bucket(uint64_t rate) {
  if (rate == 0) {
    // The same tick as a limit's: a group that ran dry under the old limit
    // is refilled (and its connections woken) at the next tick, and a longer
    // one would hold them that long.
    const timeval tick{0, 100'000};
    return ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX,
                                   EV_RATE_LIMIT_MAX, &tick);
  }
  // Ten refills a second keep the flow smooth; below 10 B/s one a second.
  rate = std::min<uint64_t>(rate, EV_RATE_LIMIT_MAX);
  timeval tick{0, 100'000};
  size_t per_tick = static_cast<size_t>(rate / 10);
  if (rate < 10) {
    tick = {1, 0};
    per_tick = static_cast<size_t>(rate);
  }
  return ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, per_tick, per_tick, &tick);
}

}  // namespace

bool PeerServer::set_max_upload_rate(uint64_t rate) {
  if (!rate_group_ && rate == 0) {
    options_.max_upload_rate = 0;
    return true;
  }
  ev_token_bucket_cfg* cfg = upload_bucket(rate);
  if (!cfg) return false;
  if (!rate_group_) {
    // libevent copies the buckets into the group (here and in set_cfg), but
    // the one it was made with is kept until the group goes, as before.
    rate_group_ = bufferevent_rate_limit_group_new(base_, cfg);
    if (!rate_group_) {
      ev_token_bucket_cfg_free(cfg);
      return false;
    }
    rate_cfg_ = cfg;
    std::vector<Conn*> open;
    for (auto& [c, owned] : conns_) open.push_back(c);
    for (Conn* c : open) {
      if (!c->link->closing() && !c->link->join_rate_limit(rate_group_)) {
        c->link->close("cannot rate-limit");
      }
    }
  } else {
    if (bufferevent_rate_limit_group_set_cfg(rate_group_, cfg) != 0) {
      ev_token_bucket_cfg_free(cfg);
      return false;
    }
    ev_token_bucket_cfg_free(std::exchange(rate_cfg_, cfg));
  }
  options_.max_upload_rate = rate;
  return true;
}

std::string PeerServer::address() const {
  Endpoint bound = options_.listen;
  bound.port = port();
  return bound.str();
}

bool PeerServer::corrupt_uploads_requested() {
#ifdef GS_TEST_HOOKS
  const char* v = std::getenv("GS_TEST_CORRUPT_UPLOADS");
  if (v && std::string_view(v) == "1") {
    log_warn("test hook GS_TEST_CORRUPT_UPLOADS=1 is active: every piece this daemon serves has one byte flipped");
    return true;
  }
#endif
  return false;
}

void PeerServer::set_serving(bool on) {
  if (on == serving_) return;
  serving_ = on;
  if (!on) close_all("serving paused: no session");
}

void PeerServer::close_all(const std::string& reason) {
  // Closing may erase from conns_ at once: work on a copy of the keys.
  std::vector<Conn*> all;
  for (auto& [c, owned] : conns_) all.push_back(c);
  for (Conn* c : all) c->link->close(reason);
}

uint64_t PeerServer::uploaded_bytes() const {
  uint64_t total = closed_uploaded_;
  for (const auto& [c, owned] : conns_) {
    total += c->link->closing() ? c->sent : c->added - c->link->pending_output();
  }
  return total;
}

std::vector<PeerServer::PeerInfo> PeerServer::peers() const {
  std::vector<PeerInfo> out;
  for (const auto& [c, owned] : conns_) {
    out.push_back({c->peer, c->handshaken ? to_hex(c->file_id) : std::string(),
                   c->link->closing() ? c->sent : c->added - c->link->pending_output()});
  }
  return out;
}

void PeerServer::on_accept(evutil_socket_t fd, const std::string& peer) {
  if (!serving_) {
    log_debug("peer connection from ", peer, " closed: not logged in, nothing is served");
    evutil_closesocket(fd);
    return;
  }
  if (conns_.size() >= options_.max_connections) {
    log_debug("peer connection from ", peer, " closed: already serving ", conns_.size(), " peers");
    evutil_closesocket(fd);
    return;
  }
  const std::string address = peer_address(peer);
  if (auto at = per_address_.find(address); at != per_address_.end() && at->second >= options_.max_connections_per_address) {
    evutil_closesocket(fd);
    const std::string limit = "max_peer_connections_per_address (" + std::to_string(options_.max_connections_per_address) + ")";
    if (const uint64_t n = per_address_refusals_log_.hit(); n == 1) {
      log_warn("refusing peer connection from ", peer, ": ", address, " has ", limit,
               " connections open; further refusals are counted, one line a minute");
    } else if (n > 1) {
      log_warn("refused ", n, " peer connections over ", limit, " since the last such line, the last from ", address);
    }
    return;
  }
  auto owned = std::make_unique<Conn>();
  Conn* c = owned.get();
  c->peer = peer;
  c->address = address;
  c->accepted = c->last_send = Clock::now();
  FramedConn::Handlers h;
  h.on_frame = [this, c](FramedConn&, std::string_view payload) { on_frame(*c, payload); };
  h.on_close = [this, c](FramedConn&, const CloseReason& reason) { on_closed(*c, reason.text); };
  h.on_drained = [this, c](FramedConn&) {
    update_sent(*c);
    pump(*c);
  };
  c->link = FramedConn::accept(base_, fd, kPeerMaxFrame, peer, std::move(h), {options_.tls, {}});
  if (!c->link) {
    log_warn("peer connection from ", peer, " dropped: cannot set it up");
    return;
  }
  conns_.emplace(c, std::move(owned));
  ++per_address_[address];  // on_closed gives it back
  if (rate_group_ && !c->link->join_rate_limit(rate_group_)) {
    log_warn("peer connection from ", peer, " dropped: cannot put it under the upload rate limit");
    c->link->close("cannot rate-limit");
    return;
  }
  // A peer that sends nothing, or stops reading what we send, goes.
  c->link->set_read_timeout(options_.idle_timeout_seconds);
  c->link->set_write_timeout(options_.idle_timeout_seconds);
  log_debug("peer ", peer, " connected");
}

void PeerServer::on_closed(Conn& c, const std::string& reason) {
  log_debug("peer ", c.peer, " closed: ", reason, " (", c.sent, " bytes sent)");
  closed_uploaded_ += c.sent;
  unspread(c);
  if (auto at = per_address_.find(c.address); at != per_address_.end() && --at->second == 0) per_address_.erase(at);
  conns_.erase(&c);  // deletes c
}

void PeerServer::on_frame(Conn& c, std::string_view payload) {
  update_sent(c);
  if (!c.handshaken) {
    on_handshake(c, payload);
  } else {
    on_message(c, payload);
  }
}

void PeerServer::on_handshake(Conn& c, std::string_view payload) {
  if (c.awaiting_ticket) {
    c.link->close("a frame before our handshake");
    return;
  }
  auto h = decode_handshake(payload);
  if (!h) {
    log_info("peer ", c.peer, ": ", h.error().message, "; closing");
    c.link->close(h.error().message);
    return;
  }
  // The ticket first: a peer without one learns nothing, not even whether
  // the file is served here.
  if (options_.tickets) {
    auto t = options_.tickets->check(h->ticket, h->file_id, c.link->peer_key());
    if (!t) return refuse_ticket(c, t.error());
    c.their_expires = t->expires;
  }
  const Servable* s = registry_.find(h->file_id);
  if (!s || !s->meta) {
    log_debug("peer ", c.peer, " asked for file ", to_hex(h->file_id), ", which is not served here; closing");
    c.link->close("unknown file id");
    return;
  }
  const uint32_t count = s->meta->piece_count();
  if (s->have && s->have->size() != count) {
    log_error("serving ", s->name, ": its piece map does not match its metadata; not serving it");
    c.link->close("inconsistent servable");
    return;
  }
  c.file_id = h->file_id;
  c.piece_count = count;
  c.piece_size = s->meta->piece_size;
  if (!options_.tickets) return answer_handshake(c, nullptr);
  if (const HeldTicket* mine = options_.tickets->fresh(c.file_id)) return answer_handshake(c, mine);
  // Nothing more is read until we can answer (bounded by the handshake
  // timeout, on_tick).
  c.awaiting_ticket = true;
  c.link->set_reading(false);
  options_.tickets->fetch(c.file_id, s->group, s->name);
}

void PeerServer::answer_handshake(Conn& c, const HeldTicket* mine) {
  const Servable* s = registry_.find(c.file_id);
  if (!s || !s->meta || s->meta->piece_count() != c.piece_count) {
    c.link->close("file no longer shared");
    return;
  }
  if (c.awaiting_ticket) {
    c.awaiting_ticket = false;
    c.link->set_reading(true);
  }
  c.handshaken = true;
  Handshake answer;
  answer.file_id = c.file_id;
  answer.seat = options_.seat;
  if (mine) {
    answer.ticket = mine->bytes;
    c.mine_expires = mine->expires;
  }
  send(c, encode_handshake(answer));
  const Bitfield bits = s->have ? *s->have : spread_bitfield(c, c.piece_count);
  send(c, encode_bitfield(bits));
  log_debug("peer ", c.peer, ": serving [", s->group, "] ", s->name, " (", bits.count(), "/", c.piece_count,
            " pieces)");
}

void PeerServer::refuse_ticket(Conn& c, const Error& why) {
  if (const uint64_t n = ticket_refusals_log_.hit(); n == 1) {
    log_info("peer ", c.peer, ": ticket refused: ", why.message,
             "; closing (further refusals are counted, one line a minute)");
  } else if (n > 1) {
    log_info("refused the tickets of ", n, " peers since the last such line, the last ", c.peer, ": ", why.message);
  }
  c.link->close("ticket refused: " + why.code);
}

void PeerServer::on_ticket(const Sha256Digest& file_id, const Error* error) {
  std::vector<Conn*> hit;
  for (auto& [c, owned] : conns_) {
    if (c->file_id == file_id && (c->handshaken || c->awaiting_ticket) && !c->link->closing()) hit.push_back(c);
  }
  if (error) {
    bool logged = false;
    for (Conn* c : hit) {
      if (!c->awaiting_ticket) continue;  // live links keep going until our ticket expires
      if (!std::exchange(logged, true)) {
        log_warn("cannot serve file ", to_hex(file_id), ": no ticket of ours for it: ", error->message);
      }
      c->link->close("no ticket of ours");
    }
    return;
  }
  const int64_t now = options_.tickets->now();
  for (Conn* c : hit) {
    if (conns_.count(c) == 0 || c->link->closing()) continue;  // closed by an earlier send
    if (c->awaiting_ticket) {
      answer_handshake(*c, options_.tickets->fresh(file_id));
    } else {
      tend_tickets(*c, now);
    }
  }
}

void PeerServer::tend_tickets(Conn& c, int64_t now) {
  if (c.their_expires <= now) {
    log_info("peer ", c.peer, ": its ticket expired unrenewed; closing");
    c.link->close("ticket expired");
    return;
  }
  const HeldTicket* mine = options_.tickets->fresh(c.file_id);
  if (!mine) {
    if (const Servable* s = registry_.find(c.file_id)) options_.tickets->fetch(c.file_id, s->group, s->name);
    return;
  }
  if (worth_renewing(c.mine_expires, mine->expires, now) && send(c, encode_ticket(mine->bytes))) {
    c.mine_expires = mine->expires;
  }
}

void PeerServer::on_message(Conn& c, std::string_view payload) {
  auto m = decode_peer_message(payload, c.piece_count);
  if (!m) {
    log_info("peer ", c.peer, ": ", m.error().message, "; closing");
    c.link->close(m.error().message);
    return;
  }
  switch (m->type) {
    case PeerMessage::Type::keep_alive:
    case PeerMessage::Type::bitfield:
    case PeerMessage::Type::have:
    case PeerMessage::Type::reject:
      // What the peer has matters to our downloads, which keep their own
      // connections; on this one we only serve.
      return;
    case PeerMessage::Type::ticket: {
      if (!options_.tickets) return;  // plain links: tickets mean nothing
      auto t = options_.tickets->check(m->ticket, c.file_id, c.link->peer_key());
      if (!t) return refuse_ticket(c, t.error());
      c.their_expires = std::max(c.their_expires, t->expires);
      return;
    }
    case PeerMessage::Type::piece:
      log_info("peer ", c.peer, ": sent a piece nobody asked for; closing");
      c.link->close("unrequested piece");
      return;
    case PeerMessage::Type::cancel: {
      const auto it = std::find(c.pending.begin(), c.pending.end(), m->piece);
      if (it == c.pending.end()) return;
      c.pending.erase(it);
      if (c.spread) c.spread->spreader.on_cancel(c.spread_key, m->piece);
      return;
    }
    case PeerMessage::Type::request:
      if (std::find(c.pending.begin(), c.pending.end(), m->piece) != c.pending.end()) return;
      if (c.pending.size() >= options_.max_pending_requests) {
        const std::string limit = "max_pending_requests_per_peer (" + std::to_string(options_.max_pending_requests) + ")";
        if (const uint64_t n = too_many_requests_log_.hit(); n == 1) {
          log_warn("peer ", c.peer, ": more requests waiting than ", limit,
                   "; closing it (further such peers are counted, one line a minute)");
        } else if (n > 1) {
          log_warn("closed ", n, " peers over ", limit, " since the last such line, the last ", c.peer);
        }
        c.link->close("too many requests");
        return;
      }
      c.pending.push_back(m->piece);
      if (c.spread) {
        c.last_ask = Clock::now();
        advertise(*c.spread, c.spread->spreader.on_request(c.spread_key, m->piece));
        if (c.link->closing()) return;
      }
      pump(c);
      return;
  }
}

void PeerServer::pump(Conn& c) {
  if (c.link->closing() || !c.handshaken) return;
  const uint64_t room = kQueuedPieces * c.piece_size;
  while (!c.pending.empty() && c.link->pending_output() < room) {
    const PieceIndex piece = c.pending.front();
    c.pending.pop_front();
    if (!serve_piece(c, piece)) return;
  }
  const bool full = c.link->pending_output() >= room;
  if (full == c.reading) {
    c.reading = !full;
    c.link->set_reading(c.reading);
  }
  // Woken with a piece's worth of room while there is work (or reading is
  // paused), so the next piece is queued before the output runs dry; woken
  // only when empty otherwise, so the sent-bytes count ends exact.
  const size_t low = (c.pending.empty() && !full) ? 0 : c.piece_size;
  c.link->set_drain_threshold(low);
}

bool PeerServer::serve_piece(Conn& c, PieceIndex piece) {
  const Servable* s = registry_.find(c.file_id);
  if (!s || !s->meta || !s->meta->has_piece(piece)) {
    c.link->close_after_flush("file no longer shared");
    return false;
  }
  const auto reject = [&] {
    if (c.spread) c.spread->spreader.on_cancel(c.spread_key, piece);
    return send(c, encode_reject(piece));
  };
  if (s->have && !s->have->get(piece)) return reject();
  const auto broken = [&](const Error& e) {
    log_debug("peer ", c.peer, ": not serving piece ", piece.value(), " of ", s->name, ": ", e.message);
    reject();
    // A copy: the owner's handler may remove the entry `s` points into.
    const auto on_broken = s->on_broken;
    if (on_broken) on_broken(e);
    return !c.link->closing();
  };
  if (s->check_intact) {
    if (Status intact = s->check_intact(); !intact) return broken(intact.error());
  }
  const FileMeta& meta = *s->meta;
  if (Status opened = open_file(c, *s); !opened) {
    if (opened.error().code == "file_changed") return broken(opened.error());
    return reject();
  }
  if (!send_piece(c, piece, meta.piece_offset(piece), meta.piece_length(piece))) return false;
  if (c.spread) c.queued.emplace_back(c.added, piece);
  return true;
}

Status PeerServer::open_file(Conn& c, const Servable& s) {
  if (c.file && c.file->path() == s.path) return Ok{};
  c.file.reset();  // pieces still queued hold their own reference to it
  // O_NOFOLLOW (FileSource), then the owner's word that this is its file.
  auto file = FileSource::open(s.path, s.meta->size);
  if (!file) {
    log_warn("cannot serve ", s.path, ": ", file.error().message);
    return file.error();
  }
  if (s.check_opened) {
    if (Status same = s.check_opened((*file)->fd()); !same) return same;
  }
  c.file = std::move(*file);
  return Ok{};
}

bool PeerServer::send_piece(Conn& c, PieceIndex piece, uint64_t offset, uint32_t length) {
  c.file->prefetch(offset, length);
  const std::string head = encode_piece_head(piece);
  bool ok;
  if (!options_.corrupt_uploads) {
    ok = c.link->send_frame({head, FileRange{c.file.get(), offset, length}});
  } else {
    // The test hook: the middle byte goes out inverted.
    const uint32_t mid = length / 2;
    unsigned char byte = 0;
    if (pread(c.file->fd(), &byte, 1, static_cast<off_t>(offset + mid)) != 1) byte = 0;
    byte = static_cast<unsigned char>(~byte);
    ok = c.link->send_frame({head, FileRange{c.file.get(), offset, mid},
                             std::string_view(reinterpret_cast<const char*>(&byte), 1),
                             FileRange{c.file.get(), offset + mid + 1, length - mid - 1}});
  }
  if (!ok) return false;  // the link is closing
  c.added += kFrameHeaderSize + head.size() + length;
  c.last_send = Clock::now();
  return true;
}

bool PeerServer::send(Conn& c, std::string_view payload) {
  if (!c.link->send(payload)) return false;  // the link is closing
  c.added += kFrameHeaderSize + payload.size();
  c.last_send = Clock::now();
  return true;
}

void PeerServer::update_sent(Conn& c) {
  if (c.link->closing()) return;
  c.sent = c.added - c.link->pending_output();
  if (!c.spread) return;
  std::vector<PieceSpreader::Advert> adverts;
  while (!c.queued.empty() && c.queued.front().first <= c.sent) {
    // Not empty only for the piece that ends the round.
    auto more = c.spread->spreader.on_sent(c.spread_key, c.queued.front().second);
    c.queued.pop_front();
    adverts.insert(adverts.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
  }
  if (!adverts.empty()) {
    log_debug("file ", to_hex(c.file_id), ": the spreading round is over, all of it is ",
              "advertised to ", adverts.size(), " peer(s)");
    advertise(*c.spread, adverts);
  }
}

Bitfield PeerServer::spread_bitfield(Conn& c, uint32_t piece_count) {
  Bitfield bits(piece_count);
  if (options_.max_upload_rate == 0 || !options_.spread_when_capped) {
    bits.set_all();
    return bits;
  }
  auto& spread = spreads_[c.file_id];
  if (!spread) spread = std::make_unique<Spread>(piece_count, random_u64());
  c.spread = spread.get();
  c.spread_key = next_spread_key_++;
  c.last_ask = Clock::now();
  spread->conns[c.spread_key] = &c;
  for (PieceIndex p : spread->spreader.add_peer(c.spread_key)) bits.set(p);
  return bits;
}

void PeerServer::advertise(Spread& spread, const std::vector<PieceSpreader::Advert>& adverts) {
  const auto now = Clock::now();
  for (const PieceSpreader::Advert& a : adverts) {
    // Looked up each time: a failed send closes (and frees) that connection.
    const auto it = spread.conns.find(a.peer);
    if (it == spread.conns.end() || it->second->link->closing()) continue;
    Conn& to = *it->second;
    to.last_ask = now;
    for (PieceIndex p : a.pieces) {
      if (!send(to, encode_have(p))) break;
    }
  }
}

void PeerServer::unspread(Conn& c) {
  if (!c.spread) return;
  c.spread->spreader.remove_peer(c.spread_key);
  c.spread->conns.erase(c.spread_key);
  c.spread = nullptr;
  // The Spread itself goes on the next tick once empty, so that no caller
  // up the stack holds a dangling one.
}

void PeerServer::on_registry(const Sha256Digest& file_id, std::optional<PieceIndex> piece) {
  std::vector<Conn*> hit;
  for (auto& [c, owned] : conns_) {
    if (c->handshaken && c->file_id == file_id && !c->link->closing()) hit.push_back(c);
  }
  for (Conn* c : hit) {
    if (piece) {
      send(*c, encode_have(*piece));
    } else {
      // What is already queued was checked before it was queued; nothing more goes out.
      c->pending.clear();
      c->link->close_after_flush("file no longer shared");
    }
  }
}

void PeerServer::on_tick() {
  const auto now = Clock::now();
  const auto handshake_limit = std::chrono::seconds(options_.handshake_timeout_seconds);
  // Half the idle timeout: a peer with the same timeout hears from us in time.
  const auto keep_alive_after = std::chrono::seconds(std::max(1, options_.idle_timeout_seconds / 2));
  std::vector<Conn*> all;
  for (auto& [c, owned] : conns_) all.push_back(c);
  // Sending to one connection may close another (out of memory): looked up
  // again after each step that sends.
  const auto gone = [this](Conn* c) { return conns_.count(c) == 0 || c->link->closing(); };
  const int64_t wall_now = options_.tickets ? options_.tickets->now() : 0;
  for (Conn* c : all) {
    if (gone(c)) continue;
    update_sent(*c);
    if (gone(c)) continue;
    if (c->spread && c->pending.empty() && c->link->pending_output() == 0 &&
        now - c->last_ask >= kOffersIdle) {
      c->last_ask = now;
      PieceSpreader& spreader = c->spread->spreader;  // outlives this tick (see unspread)
      const bool was_over = spreader.round_over();
      const auto adverts = spreader.on_idle(c->spread_key);
      if (!was_over && spreader.round_over()) {
        log_debug("file ", to_hex(c->file_id), ": the spreading round is over (", spreader.unsent(),
                  " piece(s) left that no peer asks for), all of it is advertised");
      }
      advertise(*c->spread, adverts);
    }
    if (gone(c)) continue;
    if (!c->handshaken) {
      if (now - c->accepted > handshake_limit) {
        log_debug("peer ", c->peer, ": no handshake within ", options_.handshake_timeout_seconds, " s; closing");
        c->link->close("handshake timeout");  // may free c at once
        continue;
      }
    } else if (now - c->last_send > keep_alive_after && c->link->pending_output() == 0) {
      send(*c, encode_keep_alive());
    }
    if (!gone(c) && c->handshaken && options_.tickets) tend_tickets(*c, wall_now);
  }
  std::erase_if(spreads_, [](const auto& entry) { return entry.second->conns.empty(); });
}

}  // namespace gs::daemon
