#include "bitfield.h"

#include <gtest/gtest.h>

#include <vector>

namespace gs {
namespace {

TEST(Bitfield, StartsEmpty) {
  Bitfield b(10);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_EQ(b.count(), 0u);
  EXPECT_TRUE(b.none());
  EXPECT_FALSE(b.all());
  EXPECT_EQ(b.to_bytes(), std::string(2, '\0'));
}

TEST(Bitfield, ZeroBits) {
  Bitfield b;
  EXPECT_EQ(b.size(), 0u);
  EXPECT_TRUE(b.all());
  EXPECT_TRUE(b.none());
  b.set_all();
  EXPECT_EQ(b.count(), 0u);
  EXPECT_EQ(b.to_bytes(), "");
  auto r = Bitfield::from_bytes("", 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, b);
  EXPECT_FALSE(Bitfield::from_bytes(std::string(1, '\0'), 0).ok());
}

TEST(Bitfield, MsbFirstOrder) {
  Bitfield b(12);
  b.set(0_piece);
  b.set(7_piece);
  b.set(8_piece);
  b.set(11_piece);
  EXPECT_EQ(b.to_bytes(), std::string("\x81\x90", 2));
  EXPECT_TRUE(b.get(0_piece));
  EXPECT_FALSE(b.get(1_piece));
  EXPECT_TRUE(b.get(11_piece));
}

TEST(Bitfield, CountIsMaintained) {
  Bitfield b(9);
  b.set(3_piece);
  b.set(3_piece);  // setting twice counts once
  EXPECT_EQ(b.count(), 1u);
  b.clear(4_piece);  // clearing a clear bit changes nothing
  EXPECT_EQ(b.count(), 1u);
  b.clear(3_piece);
  EXPECT_EQ(b.count(), 0u);
  b.set_all();
  EXPECT_EQ(b.count(), 9u);
  EXPECT_TRUE(b.all());
  b.clear(8_piece);
  EXPECT_EQ(b.count(), 8u);
  EXPECT_FALSE(b.all());
}

TEST(Bitfield, SetAllLeavesSpareBitsZero) {
  Bitfield b(10);
  b.set_all();
  EXPECT_EQ(b.to_bytes(), std::string("\xff\xc0", 2));
  Bitfield whole(16);
  whole.set_all();
  EXPECT_EQ(whole.to_bytes(), std::string("\xff\xff", 2));
}

TEST(Bitfield, FromBytesRoundTrip) {
  Bitfield b(21);
  for (PieceIndex p : {0_piece, 5_piece, 13_piece, 20_piece}) b.set(p);
  auto r = Bitfield::from_bytes(b.to_bytes(), 21);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, b);
  EXPECT_EQ(r->count(), 4u);
}

TEST(Bitfield, FromBytesRejectsWrongLength) {
  for (size_t len : {0u, 1u, 3u}) {
    auto r = Bitfield::from_bytes(std::string(len, '\0'), 10);
    ASSERT_FALSE(r.ok()) << len;
    EXPECT_EQ(r.error().code, "bad_bitfield");
  }
}

TEST(Bitfield, FromBytesRejectsSpareBits) {
  // 10 bits: the low 6 bits of byte 1 are spare.
  for (unsigned char spare : {0x01, 0x20}) {
    const std::string bytes{'\0', static_cast<char>(spare)};
    auto r = Bitfield::from_bytes(bytes, 10);
    ASSERT_FALSE(r.ok()) << int{spare};
    EXPECT_EQ(r.error().code, "bad_bitfield");
  }
  EXPECT_TRUE(Bitfield::from_bytes(std::string("\x00\x40", 2), 10).ok());
}

TEST(Bitfield, Equality) {
  Bitfield a(5), b(5), c(6);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c);
  a.set(2_piece);
  EXPECT_FALSE(a == b);
  b.set(2_piece);
  EXPECT_EQ(a, b);
}

TEST(Bitfield, WordsHoldPiecesMsbFirst) {
  Bitfield b(130);
  EXPECT_EQ(b.word_count(), 3u);
  b.set(0_piece);
  b.set(63_piece);
  b.set(64_piece);
  b.set(129_piece);
  EXPECT_EQ(b.word(0), (uint64_t{1} << 63) | 1u);
  EXPECT_EQ(b.word(1), uint64_t{1} << 63);
  EXPECT_EQ(b.word(2), uint64_t{1} << 62);
  EXPECT_EQ(Bitfield(0).word_count(), 0u);
  EXPECT_EQ(Bitfield(64).word_count(), 1u);
  EXPECT_EQ(Bitfield(65).word_count(), 2u);
}

TEST(Bitfield, SetAllLeavesBitsPastTheEndOfTheLastWordZero) {
  Bitfield b(70);
  b.set_all();
  EXPECT_EQ(b.word(0), ~uint64_t{0});
  EXPECT_EQ(b.word(1), uint64_t{0x3f} << 58);
  EXPECT_EQ(b.count(), 70u);
}

// The wire form across word boundaries: byte 8 starts word 1.
TEST(Bitfield, BytesAndWordsAgreeAcrossWords) {
  std::string bytes(17, '\0');
  bytes[0] = '\x80';   // piece 0
  bytes[7] = '\x01';   // piece 63
  bytes[8] = '\x40';   // piece 65
  bytes[16] = '\x80';  // piece 128, the last
  auto r = Bitfield::from_bytes(bytes, 129);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->count(), 4u);
  for (PieceIndex p : {0_piece, 63_piece, 65_piece, 128_piece}) EXPECT_TRUE(r->get(p)) << p;
  EXPECT_FALSE(r->get(64_piece));
  EXPECT_EQ(r->word(1), uint64_t{1} << 62);
  EXPECT_EQ(r->word(2), uint64_t{1} << 63);
  EXPECT_EQ(r->to_bytes(), bytes);
}

TEST(Bitfield, ForEachInWordVisitsSetBitsInOrder) {
  Bitfield b(200);
  for (PieceIndex p : {64_piece, 70_piece, 127_piece, 199_piece}) b.set(p);
  std::vector<PieceIndex> seen;
  for (size_t w = 0; w < b.word_count(); ++w) {
    Bitfield::for_each_in_word(w, b.word(w), [&](PieceIndex p) { seen.push_back(p); });
  }
  EXPECT_EQ(seen, (std::vector<PieceIndex>{64_piece, 70_piece, 127_piece, 199_piece}));
  // A derived value, e.g. one word and-ed with another's complement.
  Bitfield other(200);
  other.set(70_piece);
  seen.clear();
  Bitfield::for_each_in_word(1, b.word(1) & ~other.word(1), [&](PieceIndex p) { seen.push_back(p); });
  EXPECT_EQ(seen, (std::vector<PieceIndex>{64_piece, 127_piece}));
  Bitfield::for_each_in_word(0, 0, [](PieceIndex p) { ADD_FAILURE() << p; });
}

TEST(Bitfield, OutOfRangeAborts) {
  Bitfield b(3);
  EXPECT_DEATH(b.set(3_piece), "");
  EXPECT_DEATH((void)b.get(100_piece), "");
}

}  // namespace
}  // namespace gs
