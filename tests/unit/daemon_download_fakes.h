// Test doubles for the download side: a minimal serving peer on 127.0.0.1
// (handshake, BITFIELD, answers whole-piece REQUESTs, optionally corrupt or
// garbage), a file layout built in memory, and a bounded loop runner.
#pragma once

#include <chrono>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <event2/event.h>

#include "crypto.h"
#include "file_meta.h"
#include "frame.h"
#include "framed_conn.h"
#include "peer_wire.h"

namespace gs::test {

// Deterministic content of `size` bytes.
inline std::string make_content(size_t size, unsigned seed = 1) {
  std::string out(size, '\0');
  uint32_t x = 2463534242u ^ seed;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x);
  }
  return out;
}

inline FileMeta meta_of(const std::string& content, uint32_t piece_size) {
  FileMeta m;
  m.size = content.size();
  m.piece_size = piece_size;
  for (uint64_t off = 0; off < content.size(); off += piece_size) {
    m.piece_hashes.push_back(sha256(std::string_view(content).substr(off, piece_size)));
  }
  m.file_id = FileMeta::compute_id(m.size, m.piece_size, m.piece_hashes);
  return m;
}

// Runs the loop until `done` or `seconds` pass; returns done().
inline bool run_until(event_base* base, const std::function<bool()>& done, double seconds = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  timeval slice{0, 20'000};
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    event_base_loopexit(base, &slice);
    event_base_dispatch(base);
  }
  return true;
}

class FakeSeed {
 public:
  enum class Mode {
    honest,
    corrupt,       // flips a byte in the pieces listed in `corrupt_pieces` (all when empty)
    garbage,       // answers the handshake with junk
    wrong_length,  // piece data one byte short
    unrequested,   // sends piece 0 right after the bitfield
    silent,        // handshake and bitfield, then ignores requests
  };

  FakeSeed(event_base* base, std::string content, uint32_t piece_size, Mode mode = Mode::honest)
      : base_(base), content_(std::move(content)), meta_(meta_of(content_, piece_size)), mode_(mode) {
    auto l = Listener::open(base, Endpoint{"127.0.0.1", 0},
                            [this](evutil_socket_t fd, const std::string& peer) { accept(fd, peer); });
    if (l) listener_ = *l;
    seat_.fill(0x5e);
  }
  ~FakeSeed() {
    for (FramedConn* c : conns_) {
      c->user = nullptr;
      c->close("test over");
    }
    delete listener_;
  }

  uint16_t port() const { return listener_ ? listener_->port() : 0; }
  const FileMeta& meta() const { return meta_; }
  size_t requests() const { return requests_; }
  size_t connections() const { return accepted_; }
  std::set<PieceIndex> corrupt_pieces;
  // Pieces this seed claims (all when empty).
  std::set<PieceIndex> only_pieces;

 private:
  void accept(evutil_socket_t fd, const std::string& peer) {
    ++accepted_;
    FramedConn::Handlers h;
    h.on_frame = [this](FramedConn& c, std::string_view p) {
      if (c.user) on_frame(c, p);
    };
    h.on_close = [this](FramedConn& c, const CloseReason&) {
      if (!c.user) return;
      conns_.erase(&c);
      // A later connection may get the same address: it starts with a handshake too.
      handshaken_.erase(&c);
    };
    FramedConn* c = FramedConn::accept(base_, fd, kPeerMaxFrame, peer, std::move(h));
    if (!c) return;
    c->user = this;
    conns_.insert(c);
  }

  void on_frame(FramedConn& c, std::string_view p) {
    if (handshaken_.count(&c) == 0) {
      handshaken_.insert(&c);
      if (mode_ == Mode::garbage) {
        c.send("this is not a handshake at all");
        return;
      }
      Handshake h;
      h.file_id = meta_.file_id;
      h.seat = seat_;
      c.send(encode_handshake(h));
      Bitfield bits(meta_.piece_count());
      for (PieceIndex i : all_pieces(meta_.piece_count())) {
        if (only_pieces.empty() || only_pieces.count(i)) bits.set(i);
      }
      c.send(encode_bitfield(bits));
      if (mode_ == Mode::unrequested && meta_.piece_count() > 0) send_piece(c, 0_piece);
      return;
    }
    auto m = decode_peer_message(p, meta_.piece_count());
    if (!m || m->type != PeerMessage::Type::request) return;
    ++requests_;
    if (mode_ == Mode::silent) return;
    send_piece(c, m->piece);
  }

  void send_piece(FramedConn& c, PieceIndex piece) {
    std::string data = content_.substr(meta_.piece_offset(piece), meta_.piece_length(piece));
    if (mode_ == Mode::corrupt && (corrupt_pieces.empty() || corrupt_pieces.count(piece))) data[data.size() / 2] ^= 0x55;
    if (mode_ == Mode::wrong_length) data.pop_back();
    std::string msg(5, '\0');
    msg[0] = 4;
    store_be32(reinterpret_cast<unsigned char*>(msg.data()) + 1, piece.value());
    msg += data;
    c.send(msg);
  }

  event_base* base_;
  std::string content_;
  FileMeta meta_;
  Mode mode_;
  Seat seat_{};
  Listener* listener_ = nullptr;
  std::set<FramedConn*> conns_;
  std::set<FramedConn*> handshaken_;
  size_t requests_ = 0;
  size_t accepted_ = 0;
};

}  // namespace gs::test
