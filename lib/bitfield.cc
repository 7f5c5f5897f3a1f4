#include "bitfield.h"

#include <bit>
#include <cstdlib>

namespace gs {
namespace {

size_t byte_count(size_t bits) { return bits / 8 + (bits % 8 != 0 ? 1 : 0); }

uint8_t mask_of(size_t i) { return static_cast<uint8_t>(0x80u >> (i % 8)); }

// Bits of the last byte that carry pieces; the rest must stay zero.
uint8_t last_byte_mask(size_t bits) {
  const size_t used = bits % 8;
  return used == 0 ? uint8_t{0xff} : static_cast<uint8_t>(0xffu << (8 - used));
}

}  // namespace

Bitfield::Bitfield(size_t bits) : bits_(bits), bytes_(byte_count(bits), 0) {}

bool Bitfield::get(PieceIndex piece) const {
  const size_t i = piece.value();
  if (i >= bits_) std::abort();
  return (bytes_[i / 8] & mask_of(i)) != 0;
}

void Bitfield::set(PieceIndex piece) {
  const size_t i = piece.value();
  if (i >= bits_) std::abort();
  uint8_t& b = bytes_[i / 8];
  if ((b & mask_of(i)) == 0) {
    b |= mask_of(i);
    ++count_;
  }
}

void Bitfield::clear(PieceIndex piece) {
  const size_t i = piece.value();
  if (i >= bits_) std::abort();
  uint8_t& b = bytes_[i / 8];
  if ((b & mask_of(i)) != 0) {
    b &= static_cast<uint8_t>(~mask_of(i));
    --count_;
  }
}

void Bitfield::set_all() {
  if (bytes_.empty()) return;
  for (auto& b : bytes_) b = 0xff;
  bytes_.back() = last_byte_mask(bits_);
  count_ = bits_;
}

std::string Bitfield::to_bytes() const {
  return std::string(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
}

Result<Bitfield> Bitfield::from_bytes(std::string_view bytes, size_t bits) {
  if (bytes.size() != byte_count(bits)) {
    return make_error("bad_bitfield", "bitfield of " + std::to_string(bytes.size()) +
                                          " bytes for " + std::to_string(bits) +
                                          " pieces (expected " +
                                          std::to_string(byte_count(bits)) + ")");
  }
  if (!bytes.empty() && (static_cast<uint8_t>(bytes.back()) & ~last_byte_mask(bits)) != 0) {
    return make_error("bad_bitfield", "bitfield has bits set past the last piece");
  }
  Bitfield out(bits);
  size_t count = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    out.bytes_[i] = static_cast<uint8_t>(bytes[i]);
    count += static_cast<size_t>(std::popcount(out.bytes_[i]));
  }
  out.count_ = count;
  return out;
}

}  // namespace gs
