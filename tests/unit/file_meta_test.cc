#include "file_meta.h"

#include <gtest/gtest.h>

#include <cctype>

namespace gs {
namespace {

constexpr uint32_t kPs = 16 * 1024;

// Preimage of the file id written out byte by byte, independent of compute_id.
std::string id_preimage(uint64_t size, uint32_t piece_size,
                        const std::vector<Sha256Digest>& hashes) {
  std::string s;
  for (int shift = 56; shift >= 0; shift -= 8) s.push_back(static_cast<char>(size >> shift));
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(piece_size >> shift));
  for (const auto& h : hashes) s.append(reinterpret_cast<const char*>(h.data()), h.size());
  return s;
}

FileMeta make_meta(uint64_t size, uint32_t piece_size) {
  FileMeta m;
  m.size = size;
  m.piece_size = piece_size;
  for (uint32_t i = 0; i < FileMeta::pieces_for(size, piece_size); ++i) {
    m.piece_hashes.push_back(sha256("piece " + std::to_string(i)));
  }
  m.file_id = FileMeta::compute_id(size, piece_size, m.piece_hashes);
  return m;
}

TEST(FileMeta, PieceLengths) {
  struct Case {
    uint64_t size;
    uint32_t pieces;
    uint32_t last_length;
  };
  for (const Case& c : {Case{0, 0, 0}, Case{1, 1, 1}, Case{kPs - 1, 1, kPs - 1},
                        Case{kPs, 1, kPs}, Case{kPs + 1, 2, 1}, Case{3 * kPs + kPs / 2, 4, kPs / 2}}) {
    const FileMeta m = make_meta(c.size, kPs);
    EXPECT_EQ(m.piece_count(), c.pieces) << c.size;
    EXPECT_EQ(FileMeta::pieces_for(c.size, kPs), c.pieces) << c.size;
    if (c.pieces == 0) continue;
    for (uint32_t i = 0; i + 1 < c.pieces; ++i) {
      EXPECT_EQ(m.piece_length(PieceIndex{i}), kPs);
      EXPECT_EQ(m.piece_offset(PieceIndex{i}), uint64_t{i} * kPs);
    }
    EXPECT_EQ(m.piece_length(PieceIndex{c.pieces - 1}), c.last_length) << c.size;
    EXPECT_EQ(m.piece_offset(PieceIndex{c.pieces - 1}) + c.last_length, c.size);
  }
}

TEST(FileMeta, OffsetsAbove4GiB) {
  const FileMeta m{uint64_t{5} << 32, kMaxPieceSize, {}, {}};
  EXPECT_EQ(m.piece_count(), 1280u);
  EXPECT_EQ(m.piece_offset(1279_piece), uint64_t{1279} * kMaxPieceSize);
  EXPECT_EQ(m.piece_length(1279_piece), kMaxPieceSize);
}

TEST(FileMeta, EmptyFileIdIsWellDefined) {
  const Sha256Digest id = FileMeta::compute_id(0, kDefaultPieceSize, {});
  // printf '\0\0\0\0\0\0\0\0\0\x08\0\0' | sha256sum
  EXPECT_EQ(to_hex(id), "64ef1a894526825ce863bd6432f01cad0d256b1e504a6acc89b334d657316138");
}

TEST(FileMeta, IdOfOneByteFile) {
  const std::vector<Sha256Digest> hashes{sha256("a")};
  // (printf '\0\0\0\0\0\0\0\x01\0\x08\0\0'; printf a | openssl dgst -sha256 -binary) | sha256sum
  EXPECT_EQ(to_hex(FileMeta::compute_id(1, kDefaultPieceSize, hashes)),
            "f571ac53168d0184dcd1ae94a45ba18bfe1eab613d9d1b905c3831cf7e4d9672");
}

TEST(FileMeta, IdMatchesHandBuiltPreimage) {
  const FileMeta m = make_meta(3 * kPs + 7, kPs);
  EXPECT_EQ(m.file_id, sha256(id_preimage(m.size, m.piece_size, m.piece_hashes)));
  // Every input changes the id.
  EXPECT_NE(m.file_id, FileMeta::compute_id(m.size + 1, m.piece_size, m.piece_hashes));
  EXPECT_NE(m.file_id, FileMeta::compute_id(m.size, m.piece_size * 2, m.piece_hashes));
  auto swapped = m.piece_hashes;
  std::swap(swapped[0], swapped[1]);
  EXPECT_NE(m.file_id, FileMeta::compute_id(m.size, m.piece_size, swapped));
}

TEST(FileMeta, FromPartsRoundTrip) {
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{kPs}, uint64_t{5 * kPs + 3}}) {
    const FileMeta m = make_meta(size, kPs);
    auto r = FileMeta::from_parts(m.size, m.piece_size, m.hashes_hex(), to_hex(m.file_id));
    ASSERT_TRUE(r.ok()) << size << ": " << r.error().message;
    EXPECT_EQ(*r, m);
    EXPECT_EQ(r->hashes_hex().size(), 64 * m.piece_hashes.size());
  }
}

TEST(FileMeta, FromPartsAcceptsUppercaseHex) {
  const FileMeta m = make_meta(kPs + 1, kPs);
  std::string hashes = m.hashes_hex(), id = m.file_id_hex();
  for (auto& c : hashes) c = static_cast<char>(std::toupper(c));
  for (auto& c : id) c = static_cast<char>(std::toupper(c));
  EXPECT_TRUE(FileMeta::from_parts(m.size, m.piece_size, hashes, id).ok());
}

void expect_bad(const Result<FileMeta>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code, "bad_file_meta") << what;
  EXPECT_FALSE(r.error().message.empty()) << what;
}

TEST(FileMeta, FromPartsRejectsEachBadField) {
  const FileMeta m = make_meta(2 * kPs + 5, kPs);
  const std::string hashes = m.hashes_hex(), id = m.file_id_hex();
  ASSERT_TRUE(FileMeta::from_parts(m.size, kPs, hashes, id).ok());

  for (uint32_t ps : {0u, 1u, kPs / 2, kPs + 1, 3 * kPs, 2 * kMaxPieceSize, 0x80000000u}) {
    expect_bad(FileMeta::from_parts(m.size, ps, hashes, id), "piece size " + std::to_string(ps));
  }
  expect_bad(FileMeta::from_parts(kMaxFileSize + 1, kMaxPieceSize, "", id), "size above 2^50");
  // 2^50 bytes in 16 KiB pieces is 2^36 pieces: too many for a bitfield frame.
  expect_bad(FileMeta::from_parts(kMaxFileSize, kPs, "", id), "too many pieces");
  expect_bad(FileMeta::from_parts(m.size, kPs, hashes.substr(64), id), "one hash short");
  expect_bad(FileMeta::from_parts(m.size, kPs, hashes + hashes.substr(0, 64), id), "extra hash");
  expect_bad(FileMeta::from_parts(m.size, kPs, hashes.substr(1), id), "odd hex length");
  expect_bad(FileMeta::from_parts(m.size + kPs, kPs, hashes, id), "size needs more hashes");
  std::string bad_hex = hashes;
  bad_hex[10] = 'g';
  expect_bad(FileMeta::from_parts(m.size, kPs, bad_hex, id), "non-hex hash");
  expect_bad(FileMeta::from_parts(m.size, kPs, hashes, id.substr(2)), "short id");
  expect_bad(FileMeta::from_parts(m.size, kPs, hashes, id + "00"), "long id");
  std::string bad_id = id;
  bad_id[0] = 'z';
  expect_bad(FileMeta::from_parts(m.size, kPs, hashes, bad_id), "non-hex id");
  bad_id = id;
  bad_id[0] = bad_id[0] == '0' ? '1' : '0';
  expect_bad(FileMeta::from_parts(m.size, kPs, hashes, bad_id), "id mismatch");
  std::string other = hashes;
  other[0] = other[0] == '0' ? '1' : '0';
  expect_bad(FileMeta::from_parts(m.size, kPs, other, id), "hash does not match id");
  expect_bad(FileMeta::from_parts(m.size - 1, kPs, hashes, id), "size does not match id");
}

TEST(FileMeta, LimitsAccepted) {
  EXPECT_TRUE(FileMeta::valid_layout(kMaxFileSize, kMaxPieceSize).ok());
  EXPECT_TRUE(FileMeta::valid_layout(0, kMinPieceSize).ok());
  EXPECT_TRUE(FileMeta::valid_layout(1, kDefaultPieceSize).ok());
}

}  // namespace
}  // namespace gs
