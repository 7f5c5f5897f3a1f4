#include "bitfield.h"

#include <bit>
#include <cstdlib>

namespace gs {
namespace {

size_t byte_count(size_t bits) { return bits / 8 + (bits % 8 != 0 ? 1 : 0); }

size_t word_count_for(size_t bits) { return bits / 64 + (bits % 64 != 0 ? 1 : 0); }

uint64_t mask_of(size_t i) { return (uint64_t{1} << 63) >> (i % 64); }

// Bits of the last byte that carry pieces; the rest must stay zero.
uint8_t last_byte_mask(size_t bits) {
  const size_t used = bits % 8;
  return used == 0 ? uint8_t{0xff} : static_cast<uint8_t>(0xffu << (8 - used));
}

// How far byte i of the wire form sits from the low end of its word.
unsigned byte_shift(size_t i) { return static_cast<unsigned>(56 - 8 * (i % 8)); }

}  // namespace

Bitfield::Bitfield(size_t bits) : bits_(bits), words_(word_count_for(bits), 0) {}

bool Bitfield::get(PieceIndex piece) const {
  const size_t i = piece.value();
  if (i >= bits_) std::abort();
  return (words_[i / 64] & mask_of(i)) != 0;
}

void Bitfield::set(PieceIndex piece) {
  const size_t i = piece.value();
  if (i >= bits_) std::abort();
  uint64_t& w = words_[i / 64];
  if ((w & mask_of(i)) == 0) {
    w |= mask_of(i);
    ++count_;
  }
}

void Bitfield::clear(PieceIndex piece) {
  const size_t i = piece.value();
  if (i >= bits_) std::abort();
  uint64_t& w = words_[i / 64];
  if ((w & mask_of(i)) != 0) {
    w &= ~mask_of(i);
    --count_;
  }
}

void Bitfield::set_all() {
  if (words_.empty()) return;
  for (auto& w : words_) w = ~uint64_t{0};
  if (const size_t used = bits_ % 64; used != 0) words_.back() = ~uint64_t{0} << (64 - used);
  count_ = bits_;
}

std::string Bitfield::to_bytes() const {
  std::string out(byte_count(bits_), '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(static_cast<uint8_t>(words_[i / 8] >> byte_shift(i)));
  }
  return out;
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
  for (size_t i = 0; i < bytes.size(); ++i) {
    out.words_[i / 8] |= uint64_t{static_cast<uint8_t>(bytes[i])} << byte_shift(i);
  }
  size_t count = 0;
  for (uint64_t w : out.words_) count += static_cast<size_t>(std::popcount(w));
  out.count_ = count;
  return out;
}

}  // namespace gs
