// Bitfield: which pieces a peer has. Stored in wire order (BitTorrent style:
// piece 0 is the most significant bit of byte 0) so that sending it is a copy
// and receiving it is a validation, and the set-bit count is kept up to date
// because the piece picker and progress reports ask for it constantly.
#pragma once

#include <cstddef>
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

  // ceil(size()/8) bytes, MSB-first; spare bits of the last byte are zero.
  std::string to_bytes() const;
  // Inverse of to_bytes; error "bad_bitfield" for a wrong byte count or a set
  // spare bit (a peer claiming pieces that do not exist).
  static Result<Bitfield> from_bytes(std::string_view bytes, size_t bits);

  friend bool operator==(const Bitfield& a, const Bitfield& b) {
    return a.bits_ == b.bits_ && a.bytes_ == b.bytes_;
  }

 private:
  size_t bits_;
  size_t count_ = 0;
  std::vector<uint8_t> bytes_;
};

}  // namespace gs
