#include "peer_client.h"

#include <algorithm>

#include <event2/bufferevent.h>

#include "log.h"

namespace gs::daemon {

PeerClient::PeerClient(Owner& owner, Params params)
    : owner_(owner), p_(std::move(params)), has_(p_.meta ? p_.meta->piece_count() : 0) {}

PeerClient::~PeerClient() { abandon("download stopped"); }

void PeerClient::abandon(const std::string& reason) {
  ready_ = false;
  outstanding_.clear();
  if (!conn_) return;
  // The link may outlive us by a callback (its close is deferred while one
  // of its handlers runs); a null user makes its last calls no-ops.
  FramedConn* c = conn_;
  conn_ = nullptr;
  c->user = nullptr;
  c->close(reason);
}

Status PeerClient::start(event_base* base, const SockAddr& to) {
  FramedConn::Handlers h;
  h.on_connected = [](FramedConn& c) {
    if (auto* self = static_cast<PeerClient*>(c.user)) self->on_connected();
  };
  h.on_frame = [](FramedConn& c, std::string_view payload) {
    if (auto* self = static_cast<PeerClient*>(c.user)) self->on_frame(payload);
  };
  h.on_close = [](FramedConn& c, const CloseReason& reason) {
    if (auto* self = static_cast<PeerClient*>(c.user)) self->on_close(reason.text);
  };
  h.payload_buffer = [](FramedConn& c, size_t size, std::string_view head) -> char* {
    auto* self = static_cast<PeerClient*>(c.user);
    return self ? self->landing_buffer(size, head) : nullptr;
  };
  // connect() may close the link before it returns (user still null then),
  // which is reported here as an error instead of through the owner.
  FramedConn* c = FramedConn::connect(base, to, kPeerMaxFrame, p_.addr, std::move(h), {p_.tls, {}});
  if (!c) return make_error("connect_failed", "cannot connect to " + p_.addr);
  conn_ = c;
  c->user = this;
  c->set_read_timeout(kHandshakeTimeoutSeconds);
  return Ok{};
}

void PeerClient::close(const std::string& reason) {
  if (!conn_) return;
  // May run on_close (and so the owner's on_peer_closed) before returning.
  conn_->close(reason);
}

void PeerClient::send(std::string_view payload) {
  if (!conn_) return;
  conn_->send(payload);
  last_send_ = DownloadClock::now();
}

// Only piece data, only once the link is past its handshake; the frame is
// still checked in full by on_frame when it is complete.
char* PeerClient::landing_buffer(size_t size, std::string_view head) {
  if (!ready_ || !is_piece_message(head)) return nullptr;
  if (!landing_) landing_ = owner_.piece_buffer(size);
  return landing_ ? landing_.get() + kPieceLandingOffset : nullptr;
}

void PeerClient::on_connected() {
  Handshake h;
  h.file_id = p_.file_id;
  h.seat = p_.seat;
  if (tickets_on()) {
    const HeldTicket* mine = p_.tickets->fresh(p_.file_id);
    if (!mine) return close("no ticket of ours for this file");
    h.ticket = mine->bytes;
    sent_expires_ = mine->expires;
  }
  send(encode_handshake(h));
}

void PeerClient::violation(const std::string& what) {
  log_info("peer ", p_.addr, " (user ", p_.user, "): ", what, "; closing");
  close(what);
}

void PeerClient::on_frame(std::string_view payload) {
  if (!got_handshake_) {
    auto h = decode_handshake(payload);
    if (!h) return violation(h.error().message);
    if (h->file_id != p_.file_id) return violation("handshake for another file");
    if (h->seat == p_.seat) {
      ourselves_ = true;
      return close("connected to ourselves");
    }
    if (tickets_on()) {
      auto t = p_.tickets->check(h->ticket, p_.file_id, conn_ ? conn_->peer_key() : std::string_view());
      if (!t) return violation("its ticket is refused (" + t.error().message + ")");
      their_expires_ = t->expires;
    }
    got_handshake_ = true;
    // The wire wants a BITFIELD from both sides. This link never serves (our
    // pieces go out over the peer's own link to us), so it says "nothing".
    send(encode_bitfield(Bitfield(has_.size())));
    return;
  }
  auto m = decode_peer_message(payload, static_cast<uint32_t>(has_.size()));
  if (!m) return violation(m.error().message);
  on_message(*m, landing_ && payload.data() == landing_.get() + kPieceLandingOffset);
}

void PeerClient::on_message(const PeerMessage& m, bool landed) {
  using T = PeerMessage::Type;
  if (!ready_ && m.type != T::bitfield && m.type != T::keep_alive) {
    return violation("message before the bitfield");
  }
  switch (m.type) {
    case T::keep_alive:
      return;
    case T::bitfield:
      if (ready_) return violation("a second bitfield");
      has_ = m.bits;
      ready_ = true;
      // From here silence is fine (an idle seeder has nothing to say); stalled
      // requests are caught by their own timeout.
      if (conn_) conn_->set_read_timeout(0);
      owner_.on_peer_ready(*this);
      return;
    case T::have:
      if (has_.get(m.piece)) return;
      has_.set(m.piece);
      owner_.on_peer_have(*this, m.piece);
      return;
    case T::request:
      // Nothing is served on a link we opened.
      send(encode_reject(m.piece));
      return;
    case T::cancel:
      return;
    case T::ticket: {
      if (!tickets_on()) return;
      auto t = p_.tickets->check(m.ticket, p_.file_id, conn_ ? conn_->peer_key() : std::string_view());
      if (!t) return violation("its renewed ticket is refused (" + t.error().message + ")");
      their_expires_ = std::max(their_expires_, t->expires);
      return;
    }
    case T::reject:
      if (outstanding_.erase(m.piece) != 0) {
        owner_.on_peer_reject(*this, m.piece);
      } else {
        take_late(m.piece);
      }
      return;
    case T::piece: {
      if (m.data.size() != p_.meta->piece_length(m.piece)) {
        return violation("piece " + std::to_string(m.piece.value()) + " of " + std::to_string(m.data.size()) +
                         " bytes, expected " + std::to_string(p_.meta->piece_length(m.piece)));
      }
      if (outstanding_.erase(m.piece) == 0 && !take_late(m.piece)) {
        return violation("piece " + std::to_string(m.piece.value()) + " was never requested");
      }
      const auto now = DownloadClock::now();
      bytes_received_ += m.data.size();
      rate_.add(m.data.size(), now);
      timeouts_in_row_ = 0;
      pipeline_.on_piece(rate_.rate(now), rate_.age(now) >= std::chrono::seconds(1), p_.meta->piece_size);
      // The owner keeps the buffer the piece landed in (if it did).
      PieceBuffer buffer;
      if (landed) buffer = std::move(landing_);
      owner_.on_peer_piece(*this, m.piece, m.data, std::move(buffer));
      return;
    }
  }
}

void PeerClient::on_close(const std::string& reason) {
  conn_ = nullptr;
  ready_ = false;
  outstanding_.clear();
  owner_.on_peer_closed(*this, reason);  // may park us; touch nothing after
}

void PeerClient::request(PieceIndex piece, DownloadClock::time_point now) {
  if (!ready_ || !conn_) return;
  outstanding_[piece] = now;
  send(encode_request(piece));
}

void PeerClient::cancel(PieceIndex piece) {
  if (outstanding_.erase(piece) == 0) return;
  remember_late(piece);
  send(encode_cancel(piece));
}

std::vector<PieceIndex> PeerClient::expire(DownloadClock::time_point now, DownloadClock::duration timeout) {
  std::vector<PieceIndex> out;
  for (auto it = outstanding_.begin(); it != outstanding_.end();) {
    if (now - it->second >= timeout) {
      out.push_back(it->first);
      remember_late(it->first);
      it = outstanding_.erase(it);
    } else {
      ++it;
    }
  }
  if (!out.empty()) {
    ++timeouts_in_row_;
    pipeline_.on_dropped();
  }
  return out;
}

void PeerClient::remember_late(PieceIndex piece) {
  if (std::find(late_.begin(), late_.end(), piece) != late_.end()) return;
  late_.push_back(piece);
  if (late_.size() > kMaxLate) late_.pop_front();
}

bool PeerClient::take_late(PieceIndex piece) {
  auto it = std::find(late_.begin(), late_.end(), piece);
  if (it == late_.end()) return false;
  late_.erase(it);
  return true;
}

void PeerClient::set_reading(bool on) {
  if (conn_) conn_->set_reading(on);
}

void PeerClient::tick(DownloadClock::time_point now) {
  if (!conn_ || !got_handshake_) return;
  if (tickets_on()) {
    const int64_t wall = p_.tickets->now();
    if (their_expires_ <= wall) return violation("its ticket expired unrenewed");
    const HeldTicket* mine = p_.tickets->fresh(p_.file_id);
    if (mine && worth_renewing(sent_expires_, mine->expires, wall)) {
      send(encode_ticket(mine->bytes));
      sent_expires_ = mine->expires;
    }
  }
  if (ready_ && conn_ && now - last_send_ >= kKeepAliveAfter) send(encode_keep_alive());
}

}  // namespace gs::daemon
