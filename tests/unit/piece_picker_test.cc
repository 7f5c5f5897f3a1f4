#include "daemon/piece_picker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace gs {
namespace {

constexpr PeerKey kA = 1;
constexpr PeerKey kB = 2;
constexpr PeerKey kC = 3;
constexpr PeerKey kD = 4;

Bitfield bits(uint32_t n, std::initializer_list<uint32_t> set) {
  Bitfield b(n);
  for (uint32_t p : set) {
    b.set(PieceIndex{p});
  }
  return b;
}

Bitfield all(uint32_t n) {
  Bitfield b(n);
  b.set_all();
  return b;
}

PiecePicker::Options rarest_only(uint32_t max_duplicates = 2) {
  PiecePicker::Options o;
  o.random_first = 0;
  o.endgame_max_duplicates = max_duplicates;
  return o;
}

void add(PiecePicker& p, PeerKey key, const Bitfield& has) {
  p.add_peer(key);
  p.peer_has_bitfield(key, has);
}

std::set<PieceIndex> as_set(const std::vector<PieceIndex>& v) { return {v.begin(), v.end()}; }

// Rule 1, in both phases: never a had piece, one the peer lacks, one being
// verified, or one already requested from that peer.
TEST(PiecePicker, NeverPicksIneligiblePieces) {
  for (uint32_t random_first : {0u, 100u}) {
    PiecePicker::Options o;
    o.random_first = random_first;
    PiecePicker p(6, 7, o);
    add(p, kA, bits(6, {0, 1, 2, 3, 4}));  // lacks 5
    p.set_have(0_piece);
    EXPECT_TRUE(p.on_received(kA, 1_piece).empty());  // unsolicited, but wanted: verified now
    EXPECT_TRUE(p.verifying(1_piece));

    const std::vector<PieceIndex> got = p.pick(kA, 10);
    EXPECT_EQ(got.size(), 3u);
    EXPECT_EQ(as_set(got), (std::set<PieceIndex>{2_piece, 3_piece, 4_piece}));
    EXPECT_EQ(p.requests_of(kA), 3u);
    EXPECT_EQ(p.requested_from(kA), (std::vector<PieceIndex>{2_piece, 3_piece, 4_piece}));
    // Everything it has is requested from it already: nothing more, not even
    // as an endgame duplicate of its own request.
    EXPECT_TRUE(p.pick(kA, 10).empty());
    EXPECT_EQ(p.requests_of(kA), 3u);
  }
}

TEST(PiecePicker, PickRespectsMaxAndUnknownPeers) {
  PiecePicker p(10, 1);
  add(p, kA, all(10));
  EXPECT_TRUE(p.pick(kA, 0).empty());
  EXPECT_EQ(p.pick(kA, 3).size(), 3u);
  EXPECT_EQ(p.pick(kA, 3).size(), 3u);
  EXPECT_EQ(p.requests_of(kA), 6u);
  EXPECT_TRUE(p.pick(kB, 3).empty());  // never added
  EXPECT_EQ(p.requests_of(kB), 0u);
}

TEST(PiecePicker, AvailabilityFromBitfieldsAndHaves) {
  PiecePicker p(4, 1);
  add(p, kA, bits(4, {0, 1}));
  add(p, kB, bits(4, {1}));
  p.peer_has(kB, 2_piece);
  p.peer_has(kB, 2_piece);                      // repeated HAVE counts once
  p.peer_has_bitfield(kB, bits(4, {1}));  // a later bitfield does not unset 2
  EXPECT_EQ(p.availability(0_piece), 1u);
  EXPECT_EQ(p.availability(1_piece), 2u);
  EXPECT_EQ(p.availability(2_piece), 1u);
  EXPECT_EQ(p.availability(3_piece), 0u);
  p.peer_has(kC, 3_piece);  // unknown peer: ignored
  EXPECT_EQ(p.availability(3_piece), 0u);
  p.remove_peer(kA);
  EXPECT_EQ(p.availability(0_piece), 0u);
  EXPECT_EQ(p.availability(1_piece), 1u);
  p.remove_peer(kA);  // twice: no-op
  EXPECT_EQ(p.availability(1_piece), 1u);
}

// A bitfield is merged word by word: pieces in every word, including the
// partial last one, count, and only once however often they are announced.
TEST(PiecePicker, BitfieldMergesAcrossWords) {
  PiecePicker p(130, 1);
  add(p, kA, bits(130, {0, 63, 64, 127, 128, 129}));
  p.peer_has_bitfield(kA, bits(130, {0, 1, 129}));
  for (uint32_t i : {0u, 1u, 63u, 64u, 127u, 128u, 129u}) {
    EXPECT_EQ(p.availability(PieceIndex{i}), 1u) << i;
  }
  EXPECT_EQ(p.availability(2_piece), 0u);
  EXPECT_EQ(p.availability(65_piece), 0u);
  p.remove_peer(kA);
  for (uint32_t i : {0u, 1u, 63u, 64u, 127u, 128u, 129u}) {
    EXPECT_EQ(p.availability(PieceIndex{i}), 0u) << i;
  }
}

TEST(PiecePicker, BitfieldOfAnotherSizeIsIgnored) {
  PiecePicker p(10, 1);
  add(p, kA, all(11));
  p.peer_has_bitfield(kA, all(9));
  EXPECT_EQ(p.availability(0_piece), 0u);
  EXPECT_TRUE(p.pick(kA, 10).empty());
}

TEST(PiecePicker, OutOfRangeIndexesAreIgnored) {
  PiecePicker p(4, 1);
  add(p, kA, all(4));
  p.peer_has(kA, 4_piece);
  p.set_have(99_piece);
  EXPECT_EQ(p.have_count(), 0u);
  EXPECT_FALSE(p.have(4_piece));
  EXPECT_EQ(p.availability(4_piece), 0u);
  EXPECT_TRUE(p.on_received(kA, 4_piece).empty());
  p.on_verify_failed(4_piece);
  p.on_request_dropped(kA, 4_piece);
  EXPECT_EQ(p.pick(kA, 10).size(), 4u);
}

// Swarm for the random-first tests: A has all ten pieces, B and C have 1..9,
// so piece 0 is the rarest.
PiecePicker rare_zero_swarm(uint64_t seed) {
  PiecePicker p(10, seed);
  Bitfield most = all(10);
  most.clear(0_piece);
  add(p, kA, all(10));
  add(p, kB, most);
  add(p, kC, most);
  return p;
}

// Rule 2: while we hold fewer than random_first pieces, the pick is uniform
// among eligible pieces, rarity notwithstanding.
TEST(PiecePicker, RandomFirstIsUniform) {
  std::map<PieceIndex, int> count;
  const int kSeeds = 2000;
  for (int seed = 0; seed < kSeeds; ++seed) {
    PiecePicker p = rare_zero_swarm(static_cast<uint64_t>(seed));
    p.set_have(5_piece);
    p.set_have(6_piece);
    p.set_have(7_piece);  // 3 < 4: still random
    const std::vector<PieceIndex> got = p.pick(kA, 1);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_FALSE(p.have(got[0]));
    ++count[got[0]];
  }
  // 7 eligible pieces, ~286 each; the rare piece is no favourite.
  EXPECT_EQ(count.size(), 7u);
  for (auto [piece, n] : count) {
    EXPECT_GT(n, 200) << piece;
    EXPECT_LT(n, 380) << piece;
  }
}

TEST(PiecePicker, RarestFirstAfterRandomPhase) {
  for (uint64_t seed = 0; seed < 100; ++seed) {
    PiecePicker p = rare_zero_swarm(seed);
    for (PieceIndex i : {5_piece, 6_piece, 7_piece, 8_piece}) {
      p.set_have(i);
    }
    EXPECT_EQ(p.pick(kA, 1), std::vector<PieceIndex>{0_piece}) << seed;
  }
}

TEST(PiecePicker, RandomFirstCountIsAnOption) {
  PiecePicker::Options o;
  o.random_first = 1;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    PiecePicker p(10, seed, o);
    Bitfield most = all(10);
    most.clear(0_piece);
    add(p, kA, all(10));
    add(p, kB, most);
    p.set_have(9_piece);
    EXPECT_EQ(p.pick(kA, 1), std::vector<PieceIndex>{0_piece});
  }
}

// Rule 3 in an uneven swarm. Pieces 0-3 are ours (resume); then
//   A: 4 5 6 7 . 9 . .      availability: 4:1 5:2 6:3 7:2 8:2 9:3 10:1 11:2
//   B: . 5 6 . 8 9 . 11
//   C: . . 6 7 8 9 10 11
TEST(PiecePicker, UnevenSwarmRarestFirst) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    PiecePicker p(12, seed);
    add(p, kA, bits(12, {0, 1, 2, 3, 4, 5, 6, 7, 9}));
    add(p, kB, bits(12, {0, 1, 2, 3, 5, 6, 8, 9, 11}));
    add(p, kC, bits(12, {0, 1, 2, 3, 6, 7, 8, 9, 10, 11}));
    for (PieceIndex i : all_pieces(4)) {
      p.set_have(i);
    }
    const std::vector<uint32_t> expected_avail = {3, 3, 3, 3, 1, 2, 3, 2, 2, 3, 1, 2};
    for (PieceIndex i : all_pieces(12)) {
      EXPECT_EQ(p.availability(i), expected_avail[i.value()]) << i;
    }
    // The piece only A has goes first; so does the one only C has.
    EXPECT_EQ(p.pick(kA, 1), std::vector<PieceIndex>{4_piece});
    EXPECT_EQ(p.pick(kC, 1), std::vector<PieceIndex>{10_piece});
    // B's rarest are 5, 8, 11 (two holders each).
    const std::vector<PieceIndex> b = p.pick(kB, 1);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_TRUE(b[0] == 5_piece || b[0] == 8_piece || b[0] == 11_piece) << b[0];
    // What A alone was not asked for yet comes as one batch, rarest first.
    std::set<PieceIndex> fresh = {5_piece, 6_piece, 7_piece, 9_piece};
    fresh.erase(b[0]);
    const std::vector<PieceIndex> rest = p.pick(kA, fresh.size());
    EXPECT_EQ(as_set(rest), fresh);
    for (size_t i = 1; i < rest.size(); ++i) {
      EXPECT_LE(p.availability(rest[i - 1]), p.availability(rest[i]));
    }
    // Then only an endgame duplicate of B's piece, if A has it.
    const std::vector<PieceIndex> dup = p.pick(kA, 10);
    EXPECT_EQ(dup, b[0] == 5_piece ? std::vector<PieceIndex>{5_piece} : std::vector<PieceIndex>{});
  }
}

// Rule 3's tie-break: random among the equally rare, never outside them.
TEST(PiecePicker, TieBreakIsRandomWithinRarestSet) {
  // A has all 20, B has 0-14: 15-19 are the rarest, equally.
  const std::set<PieceIndex> rarest = {15_piece, 16_piece, 17_piece, 18_piece, 19_piece};
  std::set<PieceIndex> seen_single;
  std::set<std::vector<PieceIndex>> seen_batches;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    PiecePicker p(20, seed, rarest_only());
    add(p, kA, all(20));
    Bitfield b = all(20);
    for (uint32_t i = 15; i < 20; ++i) {
      b.clear(PieceIndex{i});
    }
    add(p, kB, b);

    const std::vector<PieceIndex> one = p.pick(kA, 1);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_TRUE(rarest.count(one[0])) << one[0];
    seen_single.insert(one[0]);

    // The next 6: the other four rare ones first (any order), then two of
    // the common ones.
    const std::vector<PieceIndex> six = p.pick(kA, 6);
    ASSERT_EQ(six.size(), 6u);
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_TRUE(rarest.count(six[i])) << six[i];
    }
    EXPECT_LT(six[4], 15_piece);
    EXPECT_LT(six[5], 15_piece);
    seen_batches.insert(six);
  }
  EXPECT_EQ(seen_single, rarest);       // every one of the ties gets chosen
  EXPECT_GT(seen_batches.size(), 50u);  // and orders and fillers vary
}

// Rarest-first over many pieces and peers agrees with a brute-force ranking,
// whatever the batch size.
TEST(PiecePicker, RarestFirstMatchesBruteForce) {
  constexpr uint32_t kPieces = 1000;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    std::mt19937_64 world(seed + 100);
    PiecePicker p(kPieces, seed, rarest_only());
    std::vector<Bitfield> holds;
    for (PeerKey k = 0; k < 12; ++k) {
      Bitfield has(kPieces);
      const uint64_t density = 2 + k % 5;  // uneven holdings
      for (PieceIndex i : all_pieces(kPieces)) {
        if (world() % density == 0) {
          has.set(i);
        }
      }
      add(p, k, has);
      holds.push_back(has);
    }
    for (size_t max : {1u, 3u, 17u, 100u, 5000u}) {
      const PeerKey k = world() % 12;
      std::vector<uint32_t> expected;
      for (PieceIndex i : all_pieces(kPieces)) {
        if (holds[k].get(i) && p.wanted(i) && p.requesters_of(i) == 0) {
          expected.push_back(p.availability(i));
        }
      }
      std::sort(expected.begin(), expected.end());
      expected.resize(std::min(expected.size(), max));
      const std::vector<PieceIndex> got = p.pick(k, max);
      ASSERT_GE(got.size(), expected.size());
      std::vector<uint32_t> got_avail;
      for (size_t j = 0; j < got.size(); ++j) {
        EXPECT_TRUE(holds[k].get(got[j]));
        if (j < expected.size()) {  // fresh, now requested by k only
          EXPECT_EQ(p.requesters_of(got[j]), 1u);
          got_avail.push_back(p.availability(got[j]));
        } else {  // a huge batch ends in endgame duplicates
          EXPECT_EQ(p.requesters_of(got[j]), 2u);
        }
      }
      EXPECT_EQ(got_avail, expected) << "seed " << seed << " max " << max;
      EXPECT_EQ(as_set(got).size(), got.size());
    }
  }
}

TEST(PiecePicker, SameSeedSameChoices) {
  auto run = [](uint64_t seed) {
    PiecePicker p(64, seed);
    add(p, kA, all(64));
    std::vector<PieceIndex> out;
    for (int i = 0; i < 8; ++i) {
      for (PieceIndex x : p.pick(kA, 2)) {
        out.push_back(x);
        p.on_received(kA, x);
        p.on_verified(x);
      }
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

// Rule 4: duplicates only when nothing fresh is left for the peer, capped per
// piece; the arrival of one copy returns the others to cancel.
TEST(PiecePicker, EndgameDuplicatesAndCancel) {
  PiecePicker p(3, 9, rarest_only(2));
  add(p, kA, all(3));
  add(p, kB, all(3));
  add(p, kC, all(3));
  EXPECT_FALSE(p.in_endgame());
  EXPECT_EQ(p.pick(kA, 10).size(), 3u);
  EXPECT_TRUE(p.in_endgame());
  EXPECT_EQ(as_set(p.pick(kB, 10)), (std::set<PieceIndex>{0_piece, 1_piece, 2_piece}));
  EXPECT_TRUE(p.pick(kC, 10).empty());  // each piece has its 2 requesters
  for (PieceIndex i : all_pieces(3)) {
    EXPECT_EQ(p.requesters_of(i), 2u);
  }

  EXPECT_EQ(p.on_received(kA, 0_piece), std::vector<PeerKey>{kB});
  EXPECT_EQ(p.requested_from(kA), (std::vector<PieceIndex>{1_piece, 2_piece}));
  EXPECT_EQ(p.requested_from(kB), (std::vector<PieceIndex>{1_piece, 2_piece}));
  EXPECT_EQ(p.requesters_of(0_piece), 0u);
  EXPECT_TRUE(p.pick(kC, 10).empty());  // 0 is being verified

  // B's copy of 1 times out: C may now duplicate A's request.
  p.on_request_dropped(kB, 1_piece);
  EXPECT_EQ(p.pick(kC, 10), std::vector<PieceIndex>{1_piece});
  EXPECT_EQ(p.on_received(kC, 1_piece), std::vector<PeerKey>{kA});
  EXPECT_EQ(p.requests_of(kA), 1u);
  EXPECT_EQ(p.requests_of(kC), 0u);

  // A copy that arrives after its piece was settled changes nothing.
  p.on_verified(0_piece);
  EXPECT_TRUE(p.on_received(kB, 0_piece).empty());
  EXPECT_TRUE(p.have(0_piece));
  EXPECT_EQ(p.have_count(), 1u);
}

TEST(PiecePicker, EndgameOnlyWhenNothingFreshIsLeft) {
  PiecePicker p(4, 3, rarest_only(2));
  add(p, kA, all(4));
  add(p, kB, all(4));
  const std::set<PieceIndex> a = as_set(p.pick(kA, 2));
  ASSERT_EQ(a.size(), 2u);
  // B gets the two nobody was asked for, not duplicates.
  const std::set<PieceIndex> b = as_set(p.pick(kB, 2));
  ASSERT_EQ(b.size(), 2u);
  for (PieceIndex x : b) {
    EXPECT_FALSE(a.count(x));
  }
  EXPECT_TRUE(p.in_endgame());
  // Now only A's pieces are left for B.
  EXPECT_EQ(as_set(p.pick(kB, 10)), a);
  // And B's for A.
  EXPECT_EQ(as_set(p.pick(kA, 10)), b);
}

TEST(PiecePicker, EndgameFreshBeforeDuplicatesInOneBatch) {
  PiecePicker p(4, 3, rarest_only(2));
  add(p, kA, all(4));
  add(p, kB, all(4));
  const std::set<PieceIndex> a = as_set(p.pick(kA, 2));
  const std::vector<PieceIndex> b = p.pick(kB, 4);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_FALSE(a.count(b[0]));
  EXPECT_FALSE(a.count(b[1]));
  EXPECT_TRUE(a.count(b[2]));
  EXPECT_TRUE(a.count(b[3]));
}

TEST(PiecePicker, EndgameFewestOutstandingFirst) {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    PiecePicker p(4, seed, rarest_only(3));
    for (PeerKey k : {kA, kB, kC}) {
      add(p, k, all(4));
    }
    ASSERT_EQ(p.pick(kA, 4).size(), 4u);
    const std::set<PieceIndex> b = as_set(p.pick(kB, 2));  // those two now have 2 requesters
    ASSERT_EQ(b.size(), 2u);
    const std::vector<PieceIndex> c = p.pick(kC, 3);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_FALSE(b.count(c[0]));
    EXPECT_FALSE(b.count(c[1]));
    EXPECT_TRUE(b.count(c[2]));
    EXPECT_EQ(p.requesters_of(c[2]), 3u);
  }
}

TEST(PiecePicker, DuplicateCapOfOneMeansNoEndgame) {
  PiecePicker p(3, 1, rarest_only(1));
  add(p, kA, all(3));
  add(p, kB, all(3));
  EXPECT_EQ(p.pick(kA, 3).size(), 3u);
  EXPECT_TRUE(p.in_endgame());
  EXPECT_TRUE(p.pick(kB, 3).empty());
}

TEST(PiecePicker, InEndgameTracksMissingPieces) {
  PiecePicker p(3, 1, rarest_only());
  add(p, kA, bits(3, {0, 1}));
  EXPECT_FALSE(p.in_endgame());
  p.set_have(2_piece);
  EXPECT_FALSE(p.in_endgame());
  EXPECT_EQ(p.pick(kA, 1).size(), 1u);
  EXPECT_FALSE(p.in_endgame());
  const std::vector<PieceIndex> second = p.pick(kA, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(p.in_endgame());
  p.on_request_dropped(kA, second[0]);
  EXPECT_FALSE(p.in_endgame());
  p.on_received(kA, second[0]);  // arrived anyway: being verified counts
  EXPECT_TRUE(p.in_endgame());
  p.on_verify_failed(second[0]);
  EXPECT_FALSE(p.in_endgame());
  p.set_have(0_piece);
  p.set_have(1_piece);
  EXPECT_TRUE(p.complete());
  EXPECT_FALSE(p.in_endgame());
  EXPECT_EQ(p.requests_of(kA), 0u);  // set_have dropped what was still out
}

// Rule 5: a peer leaving mid-download gives its requests back.
TEST(PiecePicker, PeerLeavingReturnsItsRequests) {
  PiecePicker p(6, 5, rarest_only(1));
  add(p, kA, all(6));
  add(p, kB, all(6));
  add(p, kC, bits(6, {0}));
  const std::vector<PieceIndex> a = p.pick(kA, 4);
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(p.pick(kB, 6).size(), 2u);
  EXPECT_TRUE(p.pick(kB, 6).empty());
  EXPECT_TRUE(p.in_endgame());

  p.on_received(kA, a[0]);  // in verification: stays out of the pool
  p.remove_peer(kA);
  EXPECT_FALSE(p.has_peer(kA));
  EXPECT_EQ(p.requests_of(kA), 0u);
  EXPECT_FALSE(p.in_endgame());
  EXPECT_EQ(p.availability(1_piece), 1u);
  EXPECT_EQ(p.availability(0_piece), 2u);
  EXPECT_EQ(as_set(p.pick(kB, 6)), (std::set<PieceIndex>{a[1], a[2], a[3]}));
  EXPECT_EQ(p.requests_of(kB), 5u);
  EXPECT_TRUE(p.in_endgame());
  // Events about the departed peer are ignored.
  p.on_request_dropped(kA, a[1]);
  EXPECT_EQ(p.requesters_of(a[1]), 1u);
  EXPECT_TRUE(p.pick(kA, 1).empty());
}

TEST(PiecePicker, PeerLeavingInEndgameKeepsTheOtherRequest) {
  PiecePicker p(1, 5, rarest_only(2));
  add(p, kA, all(1));
  add(p, kB, all(1));
  EXPECT_EQ(p.pick(kA, 1), std::vector<PieceIndex>{0_piece});
  EXPECT_EQ(p.pick(kB, 1), std::vector<PieceIndex>{0_piece});
  p.remove_peer(kA);
  EXPECT_EQ(p.requesters_of(0_piece), 1u);
  EXPECT_TRUE(p.in_endgame());
  EXPECT_TRUE(p.on_received(kB, 0_piece).empty());  // A is gone: nobody to cancel
}

TEST(PiecePicker, VerificationFailureRequeues) {
  PiecePicker p(2, 1, rarest_only());
  add(p, kA, all(2));
  add(p, kB, all(2));
  ASSERT_EQ(p.pick(kA, 2).size(), 2u);
  EXPECT_TRUE(p.on_received(kA, 0_piece).empty());
  EXPECT_TRUE(p.verifying(0_piece));
  EXPECT_FALSE(p.wanted(0_piece));
  EXPECT_EQ(p.pick(kB, 5), std::vector<PieceIndex>{1_piece});  // not 0: being verified
  p.on_verify_failed(0_piece);
  EXPECT_FALSE(p.verifying(0_piece));
  EXPECT_TRUE(p.wanted(0_piece));
  EXPECT_FALSE(p.have(0_piece));
  // Back in the pool for anyone, the sender included (the caller decides
  // whether to keep asking a peer that sent bad data).
  EXPECT_EQ(p.pick(kB, 5), std::vector<PieceIndex>{0_piece});
  EXPECT_EQ(p.on_received(kB, 0_piece), std::vector<PeerKey>{});
  p.on_verified(0_piece);
  EXPECT_TRUE(p.have(0_piece));
  EXPECT_FALSE(p.verifying(0_piece));
  EXPECT_EQ(p.have_count(), 1u);
  p.on_verify_failed(0_piece);  // stale: ignored
  EXPECT_TRUE(p.have(0_piece));
}

// A slow peer is asked only for what no other connected peer has.
TEST(PiecePicker, ExclusivePicksOnlyPiecesNoOtherPeerHas) {
  for (uint32_t random_first : {0u, 100u}) {
    PiecePicker::Options o;
    o.random_first = random_first;
    PiecePicker p(8, 3, o);
    add(p, kA, bits(8, {0, 1, 2, 3, 4, 5}));  // the slow one
    add(p, kB, bits(8, {0, 1, 2}));
    add(p, kC, bits(8, {3, 6}));
    EXPECT_EQ(as_set(p.pick(kA, 10, PickScope::exclusive)), (std::set<PieceIndex>{4_piece, 5_piece}));
    EXPECT_TRUE(p.pick(kA, 10, PickScope::exclusive).empty());
    // The scope is per call: the same peer may still be asked for anything.
    EXPECT_EQ(as_set(p.pick(kA, 10)), (std::set<PieceIndex>{0_piece, 1_piece, 2_piece, 3_piece}));
  }
}

TEST(PiecePicker, ExclusivePicksNoEndgameDuplicates) {
  PiecePicker p(2, 4, rarest_only());
  add(p, kA, all(2));
  add(p, kB, all(2));
  EXPECT_EQ(p.pick(kB, 2).size(), 2u);
  EXPECT_TRUE(p.in_endgame());
  EXPECT_TRUE(p.pick(kA, 2, PickScope::exclusive).empty());
  EXPECT_EQ(p.requests_of(kA), 0u);
  EXPECT_EQ(p.pick(kA, 2).size(), 2u);  // as duplicates, when asked for any
}

TEST(PiecePicker, ExclusiveFollowsPeersLeavingAndAnnouncing) {
  PiecePicker p(4, 5, rarest_only());
  add(p, kA, all(4));
  add(p, kB, bits(4, {0, 1}));
  const auto first = p.pick(kA, 1, PickScope::exclusive);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(first[0] == 2_piece || first[0] == 3_piece);
  // B announces the other one: A has nothing exclusive left.
  p.peer_has(kB, 2_piece);
  p.peer_has(kB, 3_piece);
  EXPECT_TRUE(p.pick(kA, 4, PickScope::exclusive).empty());
  // B leaves: everything A has is exclusive again (but the one on order).
  p.remove_peer(kB);
  std::set<PieceIndex> rest{0_piece, 1_piece, 2_piece, 3_piece};
  rest.erase(first[0]);
  EXPECT_EQ(as_set(p.pick(kA, 4, PickScope::exclusive)), rest);
}

TEST(PiecePicker, DroppedRequestReturnsToPool) {
  PiecePicker p(1, 1, rarest_only());
  add(p, kA, all(1));
  EXPECT_EQ(p.pick(kA, 1), std::vector<PieceIndex>{0_piece});
  EXPECT_TRUE(p.pick(kA, 1).empty());
  p.on_request_dropped(kA, 0_piece);
  p.on_request_dropped(kA, 0_piece);  // twice: no-op
  EXPECT_EQ(p.requests_of(kA), 0u);
  EXPECT_EQ(p.requesters_of(0_piece), 0u);
  EXPECT_EQ(p.pick(kA, 1), std::vector<PieceIndex>{0_piece});
}

TEST(PiecePicker, ResumeWithEverything) {
  PiecePicker p(3, 1);
  add(p, kA, all(3));
  for (PieceIndex i : all_pieces(3)) {
    p.set_have(i);
    p.set_have(i);
  }
  EXPECT_EQ(p.have_count(), 3u);
  EXPECT_TRUE(p.complete());
  EXPECT_TRUE(p.pick(kA, 10).empty());
  EXPECT_FALSE(p.in_endgame());
}

TEST(PiecePicker, EmptyFile) {
  PiecePicker p(0, 1);
  add(p, kA, Bitfield(0));
  EXPECT_TRUE(p.complete());
  EXPECT_TRUE(p.pick(kA, 10).empty());
}

// A whole download: 200 pieces from 4 peers with different holdings, one of
// which only announces pieces as it goes; random arrival order, verification
// that takes a while and sometimes fails, timeouts, and a peer that leaves
// and comes back. Checks rule 1 on every pick and that it finishes.
void simulate(uint64_t seed) {
  constexpr uint32_t kPieces = 200;
  constexpr size_t kDepth = 5;
  std::mt19937_64 world(seed * 7919 + 1);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(world) < p; };

  PiecePicker picker(kPieces, seed);
  const std::vector<PeerKey> keys = {kA, kB, kC, kD};
  std::map<PeerKey, Bitfield> holds;
  for (PeerKey k : keys) {
    holds[k] = Bitfield(kPieces);
  }
  for (PieceIndex p : all_pieces(kPieces)) {
    const auto hold_if = [&](PeerKey k, bool has) {
      if (has) {
        holds[k].set(p);
      }
    };
    hold_if(kA, chance(0.6));
    hold_if(kB, chance(0.4));
    hold_if(kC, p.value() < kPieces / 2 || chance(0.1));
    hold_if(kD, true);  // a seed, but it announces its pieces slowly
    if (!holds[kA].get(p) && !holds[kB].get(p) && !holds[kC].get(p)) {
      hold_if(keys[p.value() % 3], true);
    }
  }
  std::map<PeerKey, Bitfield> announced;
  for (PeerKey k : {kA, kB, kC}) {
    picker.add_peer(k);
    picker.peer_has_bitfield(k, holds[k]);
    announced[k] = holds[k];
  }
  picker.add_peer(kD);
  announced[kD] = Bitfield(kPieces);

  std::vector<std::pair<PeerKey, PieceIndex>> in_flight;  // what we asked, not yet answered
  std::vector<PieceIndex> to_verify;
  std::set<PeerKey> connected = {kA, kB, kC, kD};
  bool c_left = false;
  int steps = 0;
  while (!picker.complete()) {
    ASSERT_LT(++steps, 20000) << "seed " << seed;

    if (steps % 3 == 0) {
      const PieceIndex i{static_cast<uint32_t>(world() % kPieces)};
      if (!announced[kD].get(i)) {
        announced[kD].set(i);
        picker.peer_has(kD, i);
      }
    }
    if (steps == 40 && !c_left) {
      c_left = true;
      picker.remove_peer(kC);
      connected.erase(kC);
      std::erase_if(in_flight, [](const auto& r) { return r.first == kC; });
    }
    if (steps == 120) {
      picker.add_peer(kC);
      picker.peer_has_bitfield(kC, holds[kC]);
      connected.insert(kC);
    }

    for (PeerKey k : connected) {
      const size_t outstanding = picker.requests_of(k);
      ASSERT_LE(outstanding, kDepth);
      for (PieceIndex i : picker.pick(k, kDepth - outstanding)) {
        ASSERT_FALSE(picker.have(i)) << "asked for a piece we have";
        ASSERT_TRUE(announced[k].get(i)) << "asked a peer for a piece it lacks";
        ASSERT_FALSE(std::find(to_verify.begin(), to_verify.end(), i) != to_verify.end())
            << "asked for a piece being verified";
        ASSERT_FALSE(std::find(in_flight.begin(), in_flight.end(), std::make_pair(k, i)) !=
                     in_flight.end())
            << "asked the same peer twice";
        in_flight.emplace_back(k, i);
      }
      ASSERT_EQ(picker.requests_of(k),
                static_cast<size_t>(std::count_if(in_flight.begin(), in_flight.end(),
                                                  [k](const auto& r) { return r.first == k; })));
    }

    // A few answers arrive, in random order.
    for (int n = 0; n < 4 && !in_flight.empty(); ++n) {
      const size_t at = world() % in_flight.size();
      const auto [from, piece] = in_flight[at];
      in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(at));
      if (chance(0.03)) {
        picker.on_request_dropped(from, piece);  // timed out
        continue;
      }
      ASSERT_TRUE(picker.wanted(piece));
      for (PeerKey other : picker.on_received(from, piece)) {
        ASSERT_NE(other, from);
        const auto dup =
            std::find(in_flight.begin(), in_flight.end(), std::make_pair(other, piece));
        ASSERT_NE(dup, in_flight.end()) << "cancel for a request never made";
        in_flight.erase(dup);
      }
      to_verify.push_back(piece);
    }
    // Verification lags behind.
    if (!to_verify.empty() && chance(0.7)) {
      const PieceIndex piece = to_verify.front();
      to_verify.erase(to_verify.begin());
      if (chance(0.05)) {
        picker.on_verify_failed(piece);
      } else {
        picker.on_verified(piece);
      }
    }
  }
  EXPECT_TRUE(in_flight.empty());
  for (PeerKey k : connected) {
    EXPECT_EQ(picker.requests_of(k), 0u);
  }
  EXPECT_FALSE(picker.in_endgame());
  EXPECT_EQ(picker.have_count(), kPieces);
}

TEST(PiecePicker, FullSimulatedDownload) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    simulate(seed);
    if (HasFatalFailure()) {
      return;
    }
  }
}

// Large files: one scan per pick, so a few hundred picks over 65536 pieces
// with several peers stay quick even under sanitizers.
TEST(PiecePicker, LargePieceCount) {
  constexpr uint32_t kPieces = 65536;
  PiecePicker p(kPieces, 11);
  std::mt19937_64 world(5);
  for (PeerKey k = 1; k <= 8; ++k) {
    Bitfield has(kPieces);
    for (PieceIndex i : all_pieces(kPieces)) {
      if (world() % 2 == 0) {
        has.set(i);
      }
    }
    add(p, k, has);
  }
  std::set<PieceIndex> asked;
  for (int round = 0; round < 50; ++round) {
    for (PeerKey k = 1; k <= 8; ++k) {
      for (PieceIndex i : p.pick(k, 4)) {
        EXPECT_TRUE(asked.insert(i).second);
        EXPECT_TRUE(p.on_received(k, i).empty());
        p.on_verified(i);
      }
    }
  }
  EXPECT_EQ(p.have_count(), 50u * 8 * 4);
}

}  // namespace
}  // namespace gs
