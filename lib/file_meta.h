// What identifies a shared file: its size, piece size and piece hashes, and
// the file id derived from them. The id is a pure function of the content
// layout, so the same bytes shared twice (with the same piece size) have one id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto.h"
#include "piece_index.h"
#include "result.h"

namespace gs {

inline constexpr uint32_t kDefaultPieceSize = 512 * 1024;
inline constexpr uint32_t kMinPieceSize = 16 * 1024;
inline constexpr uint32_t kMaxPieceSize = 16 * 1024 * 1024;
inline constexpr uint64_t kMaxFileSize = uint64_t{1} << 50;
// Keeps a bitfield (piece_count / 8 bytes) well inside one peer wire frame and
// the hash list of one file a bounded size; 2^50 bytes at 16 MiB pieces fits.
inline constexpr uint64_t kMaxPieceCount = uint64_t{1} << 26;

struct FileMeta {
  uint64_t size = 0;
  uint32_t piece_size = kDefaultPieceSize;
  std::vector<Sha256Digest> piece_hashes;
  Sha256Digest file_id{};

  uint32_t piece_count() const { return pieces_for(size, piece_size); }
  bool has_piece(PieceIndex piece) const { return piece.value() < piece_count(); }
  // These require has_piece(piece).
  uint64_t piece_offset(PieceIndex piece) const { return uint64_t{piece.value()} * piece_size; }
  uint32_t piece_length(PieceIndex piece) const;
  const Sha256Digest& piece_hash(PieceIndex piece) const { return piece_hashes[piece.value()]; }

  // SHA-256 over: size (8 bytes big-endian), piece_size (4 bytes big-endian),
  // then every piece hash in order.
  static Sha256Digest compute_id(uint64_t size, uint32_t piece_size,
                                 const std::vector<Sha256Digest>& piece_hashes);
  // ceil(size / piece_size); 0 for an empty file. Saturates at UINT32_MAX for
  // layouts that valid_layout() rejects anyway, instead of wrapping.
  static uint32_t pieces_for(uint64_t size, uint32_t piece_size);
  // Error "bad_file_meta" unless piece_size is a power of two in
  // [kMinPieceSize, kMaxPieceSize], size <= kMaxFileSize and the piece count
  // is at most kMaxPieceCount.
  static Status valid_layout(uint64_t size, uint32_t piece_size);

  // All piece hashes as one lowercase hex string (64 characters per piece).
  std::string hashes_hex() const;
  std::string file_id_hex() const { return to_hex(file_id); }

  // Builds metadata received from elsewhere (tracker catalogue, sqlite) and
  // checks every field, including that file_id matches the rest.
  static Result<FileMeta> from_parts(uint64_t size, uint32_t piece_size,
                                     std::string_view hashes_hex, std::string_view file_id_hex);

  friend bool operator==(const FileMeta&, const FileMeta&) = default;
};

}  // namespace gs
