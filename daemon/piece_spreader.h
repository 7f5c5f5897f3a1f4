// What a seeder whose upload is capped tells each peer of one file it has, so
// that every piece goes out once before any piece goes out twice.
//
// Why: when the seeder's upload is what limits the swarm (a flash crowd: one
// capped seeder, many leechers that trade among themselves), the last leecher
// finishes no sooner than the seeder has sent every piece once, and each piece
// it sends twice delays the whole swarm by that piece. Leechers cannot avoid
// asking it for the same pieces: each one sees only its own requests, and the
// piece others are fetching from the seeder looks just as rare as the rest.
// The seeder sees every request, and the wire lets it choose what it says it
// has. So it offers each peer (in its BITFIELD, then by HAVE) a few pieces
// that nobody has been sent or offered yet, and one more for each it is asked
// for; the leechers get everything else from each other. BitTorrent's "super
// seeding" follows the same idea with one piece per peer at a time; here a
// peer keeps `offers_ahead` offers so its request pipeline never runs dry.
//
// The round ends once every piece has gone out at least once: then every peer
// is told about every piece and serving goes on as without this class, so a
// peer whose other sources lack a piece can always get it here. It also ends
// when the pieces not sent yet are all out of play: on order nowhere and
// already advertised to every peer, who did not ask (they got them elsewhere,
// or a piece went out just as its link died, unnoticed), since waiting for
// them would hold back every other peer.
//
// An offer the peer does not take (it got the piece elsewhere) must not hold
// the piece back from everyone else, so it lapses, and the piece may be
// offered to another peer, once the peer has asked for `lapse_after` other
// pieces since, or when the caller reports the peer idle (on_idle). A lapsed
// offer stays advertised to that peer; if it asks for the piece, it gets it.
//
// A peer that goes idle holding offers it did not ask for has declined them:
// it holds pieces from elsewhere, most likely much of the file (a downloader
// killed and restarted, whose round started afresh or whose pieces in flight
// were lost with its old connection). Rationing it a few fresh pieces per
// idle period would keep a piece it lacks hidden for about piece_count /
// offers_ahead periods (a minute for 193 pieces, an hour for a 4 GiB file).
// So from then on it gets no offers: at each idle period it is told every
// piece no other peer holds on offer or on order (sent ones included), and a
// piece it lacks reaches it one idle period after it declines, or after
// another peer's claim on that piece ends (sent, cancelled, lapsed, gone). A
// newcomer never declines: what it is offered nobody else has, so it asks.
//
// Pure policy: the caller reports requests, cancels, pieces fully sent and
// peers that come and go, and sends the HAVEs it is told to. No clock, no I/O;
// ties are broken by a generator seeded in the constructor.
//
// Costs: choosing offers is one pass over the pieces (O(piece_count)) for
// each request while the round lasts; memory is one bit per piece per peer
// plus O(piece_count) counters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "bitfield.h"
#include "piece_index.h"

namespace gs {

struct PieceSpreaderOptions {
  // Offers a peer holds that it has not asked for yet. A downloader asks for
  // one or two more pieces each time one arrives, and each request earns a
  // new offer, so a few keep its pipeline full; more would hold pieces back
  // from the other peers at the end of the round.
  uint32_t offers_ahead = 4;
  // An offer lapses when the peer has asked for this many other pieces since.
  // A downloader picks among its offers at random, so a live one is skipped
  // this often with a chance of (3/4)^24, about 0.1 %.
  uint32_t lapse_after = 24;
};

class PieceSpreader {
 public:
  using Options = PieceSpreaderOptions;
  // Pieces to tell one peer about now (HAVE, or its BITFIELD in add_peer).
  struct Advert {
    PeerKey peer = 0;
    std::vector<PieceIndex> pieces;
  };

  PieceSpreader(uint32_t piece_count, uint64_t seed, Options options = {});

  uint32_t piece_count() const { return piece_count_; }
  // Every piece has been sent at least once, or the rest are out of play:
  // everyone is told everything.
  bool round_over() const { return over_; }
  // Pieces not yet fully sent to anyone.
  uint32_t unsent() const { return unsent_; }

  // A new peer: the pieces its BITFIELD lists (all of them once the round is
  // over). Known peers get an empty list.
  std::vector<PieceIndex> add_peer(PeerKey peer);
  // The peer is gone: its offers and requests not sent yet go back to the pool.
  void remove_peer(PeerKey peer);
  bool has_peer(PeerKey peer) const { return peers_.count(peer) != 0; }

  // The peer asked for `piece`. Returns the new offers for it.
  std::vector<Advert> on_request(PeerKey peer, PieceIndex piece);
  // The peer cancelled a request that was not sent.
  void on_cancel(PeerKey peer, PieceIndex piece);
  // The piece's last byte went out to the peer. When that ends the round,
  // returns for every peer the pieces it has not been told about yet.
  std::vector<Advert> on_sent(PeerKey peer, PieceIndex piece);
  // The peer has asked for nothing for a while: its offers lapse. If it held
  // any, it declined them and is told every piece nobody else claims, now
  // and at each idle period after; otherwise it gets fresh offers. When
  // there is nothing to tell it and the pieces not sent yet are out of play,
  // the round ends (every peer gets the rest).
  std::vector<Advert> on_idle(PeerKey peer);

  // --- for tests and logs ---
  // Offers the peer holds and has not asked for.
  std::vector<PieceIndex> offers_of(PeerKey peer) const;
  bool advertised(PeerKey peer, PieceIndex piece) const;
  // Live offers plus requests not yet sent, over all peers.
  uint32_t claims(PieceIndex piece) const { return valid(piece) ? claims_[piece.value()] : 0; }

 private:
  struct Offer {
    PieceIndex piece;
    uint64_t at_request;  // the peer's request count when it was offered
  };
  struct Peer {
    explicit Peer(uint32_t piece_count) : advertised(piece_count) {}
    Bitfield advertised;
    std::vector<Offer> offers;          // live: not asked for, not lapsed
    std::vector<PieceIndex> requested;  // asked for, not sent or cancelled yet
    uint64_t requests = 0;
    bool declined = false;  // went idle holding offers: no more offers, told what is free
  };

  bool valid(PieceIndex piece) const { return piece.value() < piece_count_; }
  // Offers to `peer` until it holds offers_ahead, from the pieces nobody was
  // sent, asked for or offered; returns the pieces offered.
  std::vector<PieceIndex> top_up(Peer& peer);
  // Advertises to `peer` every piece not advertised to it yet that nobody
  // holds on offer or on order; returns them.
  std::vector<PieceIndex> tell_free(Peer& peer);
  // Ends the round: advertises every piece to every peer.
  std::vector<Advert> end_round();
  // Some piece not sent yet is on order, offered, or could still be offered
  // to some peer.
  bool unsent_in_play() const;
  void release(PieceIndex piece);

  uint32_t piece_count_;
  Options options_;
  std::mt19937_64 rng_;
  std::vector<uint32_t> claims_;
  Bitfield sent_;
  uint32_t unsent_;
  bool over_;
  std::unordered_map<PeerKey, Peer> peers_;
};

}  // namespace gs
