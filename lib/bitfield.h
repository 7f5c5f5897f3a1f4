// Bitfield: which pieces a peer has, or any other set of pieces. The bits are
// kept in 64-bit words, piece 0 in the most significant bit of word 0, so that
// a word stored big-endian is 8 bytes of the wire form (BitTorrent style:
// piece 0 is the most significant bit of byte 0): sending is a byte swap per
// word and receiving a validation. Scans such as the piece picker's visit 64
// pieces a step through word(). The set-bit count is kept up to date because
// the piece picker and progress reports ask for it constantly.
#pragma once

#include <cstddef>
#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "piece_index.h"
#include "result.h"

namespace gs {

class Bitfield {
 public:
  explicit Bitfield(size_t bits = 0);

  size_t size() const { return bits_; }
  // Index arguments must be < size(); a larger one is a programming error
  // and aborts rather than touching memory it does not own.
  bool get(PieceIndex piece) const;
  void set(PieceIndex piece);
  void clear(PieceIndex piece);

  size_t count() const { return count_; }
  bool all() const { return count_ == bits_; }
  bool none() const { return count_ == 0; }
  void set_all();

  // Word-level access: word(w) holds pieces 64w .. 64w+63, piece 64w+k in
  // bit 63-k; bits past size() are zero. w must be < word_count().
  size_t word_count() const { return words_.size(); }
  uint64_t word(size_t w) const { return words_[w]; }
  // Calls f(PieceIndex) for each set bit of `bits`, a value made from word(w)
  // (e.g. by and-ing words of several bitfields), in ascending piece order.
  template <class F>
  static void for_each_in_word(size_t w, uint64_t bits, F&& f) {
    while (bits != 0) {
      const int k = std::countl_zero(bits);
      f(PieceIndex{static_cast<uint32_t>(w * 64 + static_cast<size_t>(k))});
      bits &= ~(kTopBit >> k);
    }
  }

  // ceil(size()/8) bytes, MSB-first; spare bits of the last byte are zero.
  std::string to_bytes() const;
  // Inverse of to_bytes; error "bad_bitfield" for a wrong byte count or a set
  // spare bit (a peer claiming pieces that do not exist).
  static Result<Bitfield> from_bytes(std::string_view bytes, size_t bits);

  friend bool operator==(const Bitfield& a, const Bitfield& b) {
    return a.bits_ == b.bits_ && a.words_ == b.words_;
  }

 private:
  static constexpr uint64_t kTopBit = uint64_t{1} << 63;

  size_t bits_;
  size_t count_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace gs
