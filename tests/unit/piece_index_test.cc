#include "piece_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <type_traits>
#include <unordered_set>
#include <vector>

namespace gs {
namespace {

// The point of the type: no silent way in from, or out to, a plain integer.
static_assert(!std::is_convertible_v<uint32_t, PieceIndex>);
static_assert(!std::is_convertible_v<int, PieceIndex>);
static_assert(!std::is_convertible_v<PieceIndex, uint32_t>);
static_assert(!std::is_convertible_v<PieceIndex, uint64_t>);
static_assert(sizeof(PieceIndex) == sizeof(uint32_t));

TEST(PieceIndex, ValueRoundTripsAndDefaultsToZero) {
  EXPECT_EQ(PieceIndex{}.value(), 0u);
  EXPECT_EQ(PieceIndex{0xffffffffu}.value(), 0xffffffffu);
  EXPECT_EQ(7_piece, PieceIndex{7});
}

TEST(PieceIndex, ComparesAndSteps) {
  PieceIndex p{3};
  EXPECT_LT(p, 4_piece);
  EXPECT_GT(p, 2_piece);
  EXPECT_NE(p, 4_piece);
  EXPECT_EQ(p++, 3_piece);
  EXPECT_EQ(p, 4_piece);
  EXPECT_EQ(++p, 5_piece);
}

TEST(PieceIndex, HashesForUnorderedContainers) {
  std::unordered_set<PieceIndex> set{1_piece, 2_piece, 1_piece};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(set.count(2_piece));
  EXPECT_FALSE(set.count(3_piece));
}

TEST(PieceIndex, PrintsItsValue) {
  std::ostringstream out;
  out << 42_piece;
  EXPECT_EQ(out.str(), "42");
}

TEST(PieceIndex, AllPiecesVisitsEachPieceOnceInOrder) {
  std::vector<PieceIndex> seen;
  for (PieceIndex p : all_pieces(4)) seen.push_back(p);
  EXPECT_EQ(seen, (std::vector<PieceIndex>{0_piece, 1_piece, 2_piece, 3_piece}));
  for (PieceIndex p : all_pieces(0)) ADD_FAILURE() << "an empty file has no piece " << p;
}

}  // namespace
}  // namespace gs
