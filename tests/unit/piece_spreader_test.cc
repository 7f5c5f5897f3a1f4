#include "daemon/piece_spreader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace gs {
namespace {

using Advert = PieceSpreader::Advert;

std::set<PieceIndex> as_set(const std::vector<PieceIndex>& v) { return {v.begin(), v.end()}; }

PieceSpreader::Options opts(uint32_t ahead, uint32_t lapse = 24) {
  PieceSpreader::Options o;
  o.offers_ahead = ahead;
  o.lapse_after = lapse;
  return o;
}

// The pieces offered to `peer` in a batch of adverts.
std::vector<PieceIndex> for_peer(const std::vector<Advert>& adverts, PeerKey peer) {
  std::vector<PieceIndex> out;
  for (const Advert& a : adverts) {
    if (a.peer == peer) {
      out.insert(out.end(), a.pieces.begin(), a.pieces.end());
    }
  }
  return out;
}

TEST(PieceSpreader, NewPeersGetDisjointOffers) {
  PieceSpreader s(100, 1, opts(4));
  std::set<PieceIndex> seen;
  for (PeerKey k = 1; k <= 8; ++k) {
    const auto offered = s.add_peer(k);
    EXPECT_EQ(offered.size(), 4u);
    EXPECT_TRUE(std::is_sorted(offered.begin(), offered.end()));
    for (PieceIndex p : offered) {
      EXPECT_TRUE(seen.insert(p).second) << "piece " << p << " offered twice";
      EXPECT_TRUE(s.advertised(k, p));
      EXPECT_EQ(s.claims(p), 1u);
    }
    EXPECT_EQ(as_set(s.offers_of(k)), as_set(offered));
  }
  EXPECT_TRUE(s.add_peer(1).empty());  // already known
  EXPECT_FALSE(s.round_over());
  EXPECT_EQ(s.unsent(), 100u);
}

TEST(PieceSpreader, EachRequestEarnsAFreshOffer) {
  PieceSpreader s(50, 2, opts(3));
  const auto a = s.add_peer(1);
  const auto b = s.add_peer(2);
  const auto more = s.on_request(1, a[0]);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].peer, 1u);
  ASSERT_EQ(more[0].pieces.size(), 1u);
  const PieceIndex fresh = more[0].pieces[0];
  EXPECT_FALSE(as_set(a).count(fresh));
  EXPECT_FALSE(as_set(b).count(fresh));
  EXPECT_EQ(s.offers_of(1).size(), 3u);
  EXPECT_FALSE(as_set(s.offers_of(1)).count(a[0]));
  // The request still claims the piece: it is offered to no one else.
  EXPECT_EQ(s.claims(a[0]), 1u);
  EXPECT_FALSE(s.advertised(2, a[0]));
}

TEST(PieceSpreader, SentPiecesAreNeverOfferedAgainInTheRound) {
  PieceSpreader s(10, 3, opts(2));
  auto a = s.add_peer(1);
  s.on_request(1, a[0]);
  s.on_sent(1, a[0]);
  EXPECT_EQ(s.claims(a[0]), 0u);
  EXPECT_EQ(s.unsent(), 9u);
  // A late peer is not offered the piece that went out already, neither at
  // first nor as it asks for more.
  std::set<PieceIndex> offered = as_set(s.add_peer(2));
  for (int i = 0; i < 10 && !s.offers_of(2).empty(); ++i) {
    const auto more = s.on_request(2, s.offers_of(2)[0]);
    const auto fresh = for_peer(more, 2);
    offered.insert(fresh.begin(), fresh.end());
  }
  EXPECT_FALSE(offered.count(a[0]));
  EXPECT_EQ(offered.size(), 7u);  // all the others but peer 1's two offers
}

TEST(PieceSpreader, EveryPieceSentEndsTheRoundAndAdvertisesEverything) {
  PieceSpreader s(6, 4, opts(2));
  std::map<PeerKey, std::vector<PieceIndex>> told;
  told[1] = s.add_peer(1);
  told[2] = s.add_peer(2);
  std::vector<Advert> last;
  for (int step = 0; step < 100 && !s.round_over(); ++step) {
    for (PeerKey k : {1u, 2u}) {
      const auto offers = s.offers_of(k);
      if (offers.empty()) {
        continue;
      }
      for (const Advert& a : s.on_request(k, offers[0])) {
        told[a.peer].insert(told[a.peer].end(), a.pieces.begin(), a.pieces.end());
      }
      last = s.on_sent(k, offers[0]);
      if (s.round_over()) {
        break;
      }
      EXPECT_TRUE(last.empty());
    }
  }
  ASSERT_TRUE(s.round_over());
  for (const Advert& a : last) {
    told[a.peer].insert(told[a.peer].end(), a.pieces.begin(), a.pieces.end());
  }
  for (PeerKey k : {1u, 2u}) {
    EXPECT_EQ(told[k].size(), 6u) << "peer " << k << " told twice about a piece, or not at all";
    EXPECT_EQ(as_set(told[k]).size(), 6u);
    EXPECT_TRUE(s.offers_of(k).empty());
  }
  // From now on: everything at once, nothing more on requests.
  EXPECT_EQ(s.add_peer(3).size(), 6u);
  EXPECT_TRUE(s.on_request(3, 0_piece).empty());
  EXPECT_TRUE(s.on_idle(1).empty());
}

TEST(PieceSpreader, AnOfferPassedOverLapsesToAnotherPeer) {
  PieceSpreader s(40, 5, opts(2, 3));
  const auto a = s.add_peer(1);
  const PieceIndex skipped = a[0];
  // Peer 1 keeps asking for its other offers (it got `skipped` elsewhere).
  for (int i = 0; i < 3; ++i) {
    auto offers = s.offers_of(1);
    offers.erase(std::remove(offers.begin(), offers.end(), skipped), offers.end());
    ASSERT_FALSE(offers.empty());
    s.on_request(1, offers[0]);
  }
  EXPECT_FALSE(as_set(s.offers_of(1)).count(skipped));
  EXPECT_EQ(s.claims(skipped), 0u);
  EXPECT_TRUE(s.advertised(1, skipped));  // it may still ask for it
  // The piece is free again: new peers soon get it offered.
  bool offered_again = false;
  for (PeerKey k = 2; k < 40 && !offered_again; ++k) {
    offered_again = as_set(s.add_peer(k)).count(skipped) != 0;
  }
  EXPECT_TRUE(offered_again);
}

// A peer left with no offers (nothing was free when it came) gets fresh
// ones when it goes idle and some are free again.
TEST(PieceSpreader, IdlePeerWithoutOffersGetsFreshOnes) {
  PieceSpreader s(6, 6, opts(3));
  const auto a = s.add_peer(1);
  s.add_peer(2);
  EXPECT_TRUE(s.add_peer(3).empty());
  s.remove_peer(1);
  const auto fresh = for_peer(s.on_idle(3), 3);
  EXPECT_EQ(as_set(fresh), as_set(a));
  EXPECT_EQ(as_set(s.offers_of(3)), as_set(a));
  for (PieceIndex p : fresh) {
    EXPECT_EQ(s.claims(p), 1u);
  }
}

// A peer that goes idle holding offers has the pieces from elsewhere: it is
// told at once of every piece nobody else claims, and of the others once
// their claims end; it gets no offers any more, so it hides nothing from
// the other peers.
TEST(PieceSpreader, PeerThatDeclinesItsOffersIsToldEveryFreePiece) {
  PieceSpreader s(20, 6, opts(3));
  const auto a = s.add_peer(1);
  const auto b = s.add_peer(2);
  const auto told = for_peer(s.on_idle(1), 1);
  EXPECT_EQ(told.size(), 20u - 3u - 3u);  // not a (told already), not b (peer 2's)
  for (PieceIndex p : a) {
    EXPECT_EQ(s.claims(p), 0u);
  }
  for (PieceIndex p : b) {
    EXPECT_FALSE(s.advertised(1, p));
  }
  EXPECT_TRUE(s.offers_of(1).empty());
  for (PieceIndex p : all_pieces(20)) {
    EXPECT_TRUE(s.advertised(1, p) || as_set(b).count(p)) << p;
  }
  // Asking for one earns it no offer.
  EXPECT_TRUE(s.on_request(1, told[0]).empty());
  s.on_sent(1, told[0]);
  EXPECT_TRUE(s.offers_of(1).empty());
  // Peer 2's piece, once sent, is told at the next idle period; the ones it
  // still holds on offer are not.
  s.on_request(2, b[0]);
  EXPECT_TRUE(s.on_idle(1).empty());
  s.on_sent(2, b[0]);
  EXPECT_EQ(for_peer(s.on_idle(1), 1), std::vector<PieceIndex>{b[0]});
  // Peer 2 leaves: what it held is told too.
  s.remove_peer(2);
  const auto rest = for_peer(s.on_idle(1), 1);
  EXPECT_EQ(as_set(rest), as_set(std::vector<PieceIndex>(b.begin() + 1, b.end())));
  EXPECT_TRUE(s.on_idle(1).empty());
}

// The piece left is offered to the only peer, which never asks for it (it got
// it elsewhere): waiting would stall the round for good, so it ends.
TEST(PieceSpreader, RoundEndsWhenOnlyPiecesNoPeerWillAskForAreLeft) {
  PieceSpreader s(4, 13, opts(4));
  const auto a = s.add_peer(1);
  ASSERT_EQ(a.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    s.on_request(1, a[i]);
    s.on_sent(1, a[i]);
  }
  EXPECT_FALSE(s.round_over());
  EXPECT_TRUE(s.on_idle(1).empty());  // told everything already: nothing to add
  EXPECT_TRUE(s.round_over());
  EXPECT_EQ(s.unsent(), 1u);
  EXPECT_EQ(s.add_peer(2).size(), 4u);
}

TEST(PieceSpreader, RoundGoesOnWhileAnotherPeerCanTakeThePiece) {
  PieceSpreader s(4, 14, opts(4));
  const auto a = s.add_peer(1);
  const auto b = s.add_peer(2);  // nothing free is left for it
  EXPECT_TRUE(b.empty());
  for (int i = 0; i < 3; ++i) {
    s.on_request(1, a[i]);
    s.on_sent(1, a[i]);
  }
  // Peer 1 passes over a[3]; peer 2 was never told of it, so it still can be.
  EXPECT_TRUE(s.on_idle(1).empty());
  EXPECT_FALSE(s.round_over());
  const auto offered = for_peer(s.on_idle(2), 2);
  EXPECT_EQ(offered, std::vector<PieceIndex>{a[3]});
  // While it is on order with peer 2, an idle peer 1 does not end the round.
  s.on_request(2, a[3]);
  EXPECT_TRUE(s.on_idle(1).empty());
  EXPECT_FALSE(s.round_over());
  const auto rest = s.on_sent(2, a[3]);
  EXPECT_TRUE(s.round_over());
  EXPECT_EQ(for_peer(rest, 2).size(), 3u);
  EXPECT_TRUE(for_peer(rest, 1).empty());
}

TEST(PieceSpreader, LeavingPeerReleasesOffersAndUnsentRequests) {
  PieceSpreader s(8, 7, opts(4));
  const auto a = s.add_peer(1);
  s.on_request(1, a[0]);
  s.on_request(1, a[1]);
  s.on_sent(1, a[1]);
  s.remove_peer(1);
  EXPECT_FALSE(s.has_peer(1));
  for (PieceIndex p : all_pieces(8)) {
    EXPECT_EQ(s.claims(p), 0u) << p;
  }
  // All but the one piece sent can be offered again.
  const auto b = s.add_peer(2);
  const auto c = s.add_peer(3);
  std::set<PieceIndex> offered = as_set(b);
  offered.insert(c.begin(), c.end());
  EXPECT_EQ(offered.size(), 7u);
  EXPECT_FALSE(offered.count(a[1]));
}

TEST(PieceSpreader, CancelReleasesTheClaim) {
  PieceSpreader s(4, 8, opts(1));
  const auto a = s.add_peer(1);
  s.on_request(1, a[0]);
  EXPECT_EQ(s.claims(a[0]), 1u);
  s.on_cancel(1, a[0]);
  EXPECT_EQ(s.claims(a[0]), 0u);
  s.on_cancel(1, a[0]);  // twice: no underflow
  EXPECT_EQ(s.claims(a[0]), 0u);
}

TEST(PieceSpreader, RequestsOutsideTheOffersAreServedAndCounted) {
  PieceSpreader s(10, 9, opts(2));
  const auto a = s.add_peer(1);
  PieceIndex other{0};
  while (as_set(a).count(other)) {
    ++other;
  }
  s.on_request(1, other);  // e.g. an offer that lapsed earlier
  EXPECT_EQ(s.claims(other), 1u);
  const auto b = s.add_peer(2);
  EXPECT_FALSE(as_set(b).count(other));
}

TEST(PieceSpreader, UnknownPeersAndBadPiecesChangeNothing) {
  PieceSpreader s(5, 10, opts(2));
  EXPECT_TRUE(s.on_request(9, 0_piece).empty());
  EXPECT_TRUE(s.on_sent(9, 99_piece).empty());
  EXPECT_TRUE(s.on_idle(9).empty());
  s.on_cancel(9, 0_piece);
  s.remove_peer(9);
  const auto a = s.add_peer(1);
  EXPECT_TRUE(s.on_request(1, 99_piece).empty());
  EXPECT_EQ(s.unsent(), 5u);
  // A piece sent to an unknown peer (it left meanwhile) still counts as out.
  s.on_sent(9, 0_piece);
  EXPECT_EQ(s.unsent(), 4u);
  EXPECT_FALSE(s.advertised(9, 0_piece));
  EXPECT_EQ(s.claims(99_piece), 0u);
}

TEST(PieceSpreader, EmptyFileHasNoRound) {
  PieceSpreader s(0, 11);
  EXPECT_TRUE(s.round_over());
  EXPECT_TRUE(s.add_peer(1).empty());
}

TEST(PieceSpreader, FewerPiecesThanOffers) {
  PieceSpreader s(3, 12, opts(8));
  EXPECT_EQ(s.add_peer(1).size(), 3u);
  EXPECT_TRUE(s.add_peer(2).empty());  // nothing free: it waits for the round to end
}

// A downloader that comes back holding most of the file (killed and
// restarted: its spreading round started afresh, or its pieces in flight were
// lost with its old connection) asks for none of the pieces it already has.
// It is told every piece it lacks within two idle periods, however many
// pieces the file has: offering it four fresh pieces per idle period left it
// waiting about piece_count / 4 of them (a minute for 193 pieces).
TEST(PieceSpreader, ReturningPeerIsToldWhatItLacksWithinTwoIdlePeriods) {
  constexpr uint32_t kPieces = 193;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    PieceSpreader s(kPieces, seed);
    std::vector<bool> has(kPieces, true);
    for (uint32_t p = 5; p < kPieces; p += 8) {
      has[p] = false;  // 24 pieces missing
    }
    std::set<PieceIndex> told = as_set(s.add_peer(1));
    int idles = 0;
    for (int step = 0; step < 1000 && std::count(has.begin(), has.end(), false) > 0; ++step) {
      // It asks at once for every piece it is told of and lacks.
      bool asked = false;
      for (PieceIndex p : std::vector<PieceIndex>(told.begin(), told.end())) {
        if (has[p.value()]) {
          continue;
        }
        asked = true;
        for (const Advert& a : s.on_request(1, p)) {
          told.insert(a.pieces.begin(), a.pieces.end());
        }
        for (const Advert& a : s.on_sent(1, p)) {
          told.insert(a.pieces.begin(), a.pieces.end());
        }
        has[p.value()] = true;
      }
      if (!asked) {
        ++idles;
        for (const Advert& a : s.on_idle(1)) {
          told.insert(a.pieces.begin(), a.pieces.end());
        }
      }
    }
    EXPECT_EQ(std::count(has.begin(), has.end(), false), 0) << "seed " << seed;
    EXPECT_LE(idles, 2) << "seed " << seed;
  }
}

// A flash crowd: peers ask for their offers in random order, pieces go out
// in random order. Every piece goes out exactly once before the round ends,
// and afterwards every peer has been told about every piece exactly once.
TEST(PieceSpreader, FlashCrowdSendsEachPieceOnceInTheRound) {
  constexpr uint32_t kPieces = 512;
  constexpr PeerKey kPeers = 8;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    PieceSpreader s(kPieces, seed);
    std::mt19937_64 rng(seed * 77);
    std::map<PeerKey, std::multiset<PieceIndex>> told;
    std::vector<std::pair<PeerKey, PieceIndex>> in_flight;
    std::vector<int> sends(kPieces, 0);
    const auto note = [&](const std::vector<Advert>& adverts) {
      for (const Advert& a : adverts) {
        told[a.peer].insert(a.pieces.begin(), a.pieces.end());
      }
    };
    for (PeerKey k = 1; k <= kPeers; ++k) {
      const auto b = s.add_peer(k);
      told[k].insert(b.begin(), b.end());
    }
    for (int step = 0; step < 100000 && !s.round_over(); ++step) {
      const PeerKey k = 1 + rng() % kPeers;
      const auto offers = s.offers_of(k);
      if (!offers.empty() && (in_flight.empty() || rng() % 2 == 0)) {
        const PieceIndex p = offers[rng() % offers.size()];
        note(s.on_request(k, p));
        in_flight.emplace_back(k, p);
      } else if (!in_flight.empty()) {
        const size_t i = rng() % in_flight.size();
        const auto [peer, piece] = in_flight[i];
        in_flight.erase(in_flight.begin() + static_cast<ptrdiff_t>(i));
        ++sends[piece.value()];
        note(s.on_sent(peer, piece));
      }
    }
    ASSERT_TRUE(s.round_over()) << "seed " << seed;
    for (PieceIndex p : all_pieces(kPieces)) {
      EXPECT_EQ(sends[p.value()], 1) << "piece " << p << ", seed " << seed;
    }
    for (PeerKey k = 1; k <= kPeers; ++k) {
      EXPECT_EQ(told[k].size(), kPieces) << "peer " << k;
      EXPECT_EQ(std::set<PieceIndex>(told[k].begin(), told[k].end()).size(), kPieces);
    }
  }
}

}  // namespace
}  // namespace gs
