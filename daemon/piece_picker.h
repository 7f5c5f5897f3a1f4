// Piece selection for one download: which whole piece to ask which peer for next.
//
// Pure policy. The caller tells it facts (what we have, what each connected
// peer has, what arrived, what was verified or dropped) and asks it for
// requests; it never touches sockets, disk or the clock. Randomness comes from
// a generator seeded in the constructor, so a test with a fixed seed sees the
// same choices every run.
//
// Policy, in order:
//  - Never ask for a piece we have, one the peer lacks, one being verified, or
//    one already requested from that same peer.
//  - Random first: until we hold `random_first` pieces, choose uniformly among
//    the eligible pieces, so that a new peer soon has something to trade
//    (rarest-first would send every newcomer after the same few rare pieces).
//  - Then rarest first: lowest availability among connected peers, ties broken
//    at random so that peers downloading from the same swarm spread out.
//  - Endgame: when a peer has nothing left that no one else was asked for, it
//    may be asked for pieces that are already requested from others (fewest
//    outstanding requests first, at most `endgame_max_duplicates` requesters
//    per piece), so one slow peer cannot hold up the last pieces. When a copy
//    arrives, the other requesters are returned so the caller can CANCEL them.
//  - Exclusive picks (PickScope::exclusive): only pieces no other connected
//    peer has, and no endgame duplicates. For a peer much slower than the
//    others, e.g. a seeder with a capped upload: a piece it is asked for waits
//    in its queue while a faster peer could have sent it, so it should be
//    asked only for what nobody else can give.
//
// Costs: pick() is one pass over bit sets, O(piece_count / 64) word
// operations plus O(eligible pieces) for the candidates and O(max log max) to
// order the chosen ones. Memory is one bit per piece per peer (their
// bitfields) plus O(piece_count + outstanding requests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include "bitfield.h"
#include "piece_index.h"

namespace gs {

enum class PickScope {
  any,        // every eligible piece, endgame duplicates included
  exclusive,  // only pieces no other connected peer has
};

// Outside the class so it can be a defaulted constructor argument (a nested
// struct's member initializers are not usable before its enclosing class ends).
struct PiecePickerOptions {
  // Pieces we must hold before rarest-first takes over from random picks.
  uint32_t random_first = 4;
  // In endgame, how many peers at most may have the same piece requested at
  // once. 1 turns duplicate requests off.
  uint32_t endgame_max_duplicates = 2;
};

class PiecePicker {
 public:
  using Options = PiecePickerOptions;

  PiecePicker(uint32_t piece_count, uint64_t seed, Options options = {});

  uint32_t piece_count() const { return piece_count_; }

  // --- our own pieces ---
  // The piece is verified and written (at resume, or via on_verified). Any
  // requests still outstanding for it are dropped.
  void set_have(PieceIndex piece);
  bool have(PieceIndex piece) const;
  uint32_t have_count() const { return static_cast<uint32_t>(have_.count()); }
  bool complete() const { return have_.all(); }
  // Its bytes arrived and are being checked; nobody is asked for it meanwhile.
  bool verifying(PieceIndex piece) const;
  // Neither had nor being verified: bytes arriving for it are worth checking.
  bool wanted(PieceIndex piece) const;

  // --- peers ---
  // Unknown peers are ignored by every call below except add_peer, and
  // out-of-range piece indexes are ignored, so a late or bogus event cannot
  // corrupt the counts.
  void add_peer(PeerKey peer);
  bool has_peer(PeerKey peer) const { return peers_.count(peer) != 0; }
  size_t peer_count() const { return peers_.size(); }
  void peer_has(PeerKey peer, PieceIndex piece);  // HAVE
  // BITFIELD, as decoded from the wire; one of another size than
  // piece_count is ignored. A peer never loses pieces, so bits already known
  // stay set.
  void peer_has_bitfield(PeerKey peer, const Bitfield& has);
  // The peer is gone: its requests go back to the pool and it no longer counts
  // towards availability.
  void remove_peer(PeerKey peer);
  // How many connected peers have the piece.
  uint32_t availability(PieceIndex piece) const;

  // --- requests ---
  // Up to `max` pieces to request from this peer now, rarest (or, in endgame,
  // least requested) first. They are marked requested by it.
  std::vector<PieceIndex> pick(PeerKey peer, size_t max, PickScope scope = PickScope::any);
  // The piece's bytes arrived from `from` and go to verification: no one else
  // is asked for it while it is checked. Returns the OTHER peers that had it
  // requested (endgame duplicates); their requests are dropped and the caller
  // sends them CANCEL. Bytes for a piece that is not wanted() change nothing
  // but `from`'s request.
  std::vector<PeerKey> on_received(PeerKey from, PieceIndex piece);
  void on_verified(PieceIndex piece) { set_have(piece); }
  // The piece goes back to the pool (the caller blames the sender).
  void on_verify_failed(PieceIndex piece);
  // Timed out, rejected, or cancelled because the peer is slow.
  void on_request_dropped(PeerKey peer, PieceIndex piece);
  size_t requests_of(PeerKey peer) const;
  // Ascending piece order.
  std::vector<PieceIndex> requested_from(PeerKey peer) const;
  // How many peers have the piece requested right now.
  size_t requesters_of(PieceIndex piece) const;
  // Every missing piece is requested or being verified (false once complete).
  bool in_endgame() const { return !complete() && idle_count_ == 0; }

 private:
  // The bit sets below are all piece_count long, so pick() can and their
  // words: one call costs about piece_count / 64 word operations plus the
  // candidates it finds.
  struct Peer {
    explicit Peer(uint32_t piece_count) : has(piece_count) {}
    Bitfield has;
    std::set<PieceIndex> requested;
  };

  bool valid(PieceIndex piece) const { return piece.value() < piece_count_; }
  // Missing, not being verified and requested from no one.
  bool idle(PieceIndex piece) const;
  // Keeps wanted_, requested_ and idle_count_ right after `piece` changed.
  void refresh(PieceIndex piece, bool was_idle);
  void mark_peer_has(Peer& peer, PieceIndex piece);
  void add_request(PeerKey key, Peer& peer, PieceIndex piece);
  // Removes `key` from the piece's requesters (not from the peer's own set).
  void erase_requester(PieceIndex piece, PeerKey key);
  // Drops every request for the piece; returns who had it, except `except`.
  std::vector<PeerKey> drop_requests(PieceIndex piece, PeerKey except, bool has_except);

  uint32_t piece_count_;
  Options options_;
  std::mt19937_64 rng_;

  Bitfield have_;
  Bitfield verifying_;
  Bitfield wanted_;     // neither had nor being verified
  Bitfield requested_;  // someone has it requested
  std::vector<uint32_t> availability_;
  // Who has each piece requested; at most endgame_max_duplicates entries.
  std::vector<std::vector<PeerKey>> requesters_;
  uint32_t idle_count_;  // pieces for which idle() holds

  std::unordered_map<PeerKey, Peer> peers_;
};

}  // namespace gs
