#include "file_meta.h"

#include <bit>
#include <cstring>
#include <limits>

#include "frame.h"

namespace gs {
namespace {

uint64_t pieces_for_wide(uint64_t size, uint32_t piece_size) {
  if (piece_size == 0) return 0;
  return size / piece_size + (size % piece_size != 0 ? 1 : 0);
}

Error bad(std::string message) { return make_error("bad_file_meta", std::move(message)); }

}  // namespace

uint32_t FileMeta::piece_length(PieceIndex piece) const {
  const uint64_t rest = size - piece_offset(piece);
  return rest < piece_size ? static_cast<uint32_t>(rest) : piece_size;
}

uint32_t FileMeta::pieces_for(uint64_t size, uint32_t piece_size) {
  const uint64_t n = pieces_for_wide(size, piece_size);
  return n > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                   : static_cast<uint32_t>(n);
}

Sha256Digest FileMeta::compute_id(uint64_t size, uint32_t piece_size,
                                  const std::vector<Sha256Digest>& piece_hashes) {
  unsigned char head[12];
  store_be32(head, static_cast<uint32_t>(size >> 32));
  store_be32(head + 4, static_cast<uint32_t>(size));
  store_be32(head + 8, piece_size);
  Sha256 h;
  h.update(head, sizeof head);
  for (const auto& d : piece_hashes) h.update(d.data(), d.size());
  return h.finish();
}

Status FileMeta::valid_layout(uint64_t size, uint32_t piece_size) {
  if (piece_size < kMinPieceSize || piece_size > kMaxPieceSize || !std::has_single_bit(piece_size)) {
    return bad("piece size " + std::to_string(piece_size) +
               " is not a power of two between 16 KiB and 16 MiB");
  }
  if (size > kMaxFileSize) {
    return bad("file size " + std::to_string(size) + " is above the limit of 2^50 bytes");
  }
  if (pieces_for_wide(size, piece_size) > kMaxPieceCount) {
    return bad("file of " + std::to_string(size) + " bytes has too many pieces of " +
               std::to_string(piece_size) + " bytes; use a larger piece size");
  }
  return Ok{};
}

std::string FileMeta::hashes_hex() const {
  std::string out;
  out.reserve(piece_hashes.size() * 64);
  for (const auto& d : piece_hashes) out += to_hex(d);
  return out;
}

Result<FileMeta> FileMeta::from_parts(uint64_t size, uint32_t piece_size,
                                      std::string_view hashes_hex,
                                      std::string_view file_id_hex) {
  if (auto layout = valid_layout(size, piece_size); !layout) return layout.error();
  const uint64_t count = pieces_for_wide(size, piece_size);
  if (hashes_hex.size() % 64 != 0 || hashes_hex.size() / 64 != count) {
    return bad("expected " + std::to_string(count) + " piece hashes (" +
               std::to_string(count * 64) + " hex digits), got " +
               std::to_string(hashes_hex.size()) + " hex digits");
  }
  auto raw = from_hex(hashes_hex);
  if (!raw) return bad("piece hashes are not valid hex");
  if (file_id_hex.size() != 64) {
    return bad("file id must be 64 hex digits, got " + std::to_string(file_id_hex.size()));
  }
  auto raw_id = from_hex(file_id_hex);
  if (!raw_id) return bad("file id is not valid hex");

  FileMeta meta;
  meta.size = size;
  meta.piece_size = piece_size;
  meta.piece_hashes.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::memcpy(meta.piece_hashes[i].data(), raw->data() + i * 32, 32);
  }
  std::memcpy(meta.file_id.data(), raw_id->data(), 32);
  if (compute_id(size, piece_size, meta.piece_hashes) != meta.file_id) {
    return bad("file id does not match the size, piece size and piece hashes");
  }
  return meta;
}

}  // namespace gs
