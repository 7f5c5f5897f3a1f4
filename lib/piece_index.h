// The two ids the wire, the bit sets and the download and serve policies all
// speak in: which piece of a file, and which connected peer.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>

namespace gs {

// The caller's id for one connected peer; the picker, the spreader, the peer
// client and the peer server key their per-peer state by it.
using PeerKey = uint64_t;

// Which piece of a file. A strong type (libtorrent's piece_index_t) so that a
// piece index is never taken for a byte offset, a length or a count, or the
// other way round: it is made from an integer only explicitly, read back only
// through value(), and compares and steps (++) only with other piece indexes.
// Counting pieces stays a plain uint32_t.
class PieceIndex {
 public:
  constexpr PieceIndex() = default;
  constexpr explicit PieceIndex(uint32_t value) : value_(value) {}

  constexpr uint32_t value() const { return value_; }

  constexpr PieceIndex& operator++() {
    ++value_;
    return *this;
  }
  constexpr PieceIndex operator++(int) {
    const PieceIndex before = *this;
    ++value_;
    return before;
  }

  friend constexpr auto operator<=>(PieceIndex, PieceIndex) = default;

  // For test failure messages and logs. A template over the stream, so only
  // <iosfwd> is pulled in; not over any type with a <<, which clang finds
  // ambiguous with testing::Message's own operator<< template.
  template <class Char, class Traits>
  friend std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>& out,
                                                      PieceIndex p) {
    return out << p.value();
  }

 private:
  uint32_t value_ = 0;
};

// 3_piece is PieceIndex{3}; mostly for tests, where lists of pieces abound.
constexpr PieceIndex operator""_piece(unsigned long long value) {
  return PieceIndex{static_cast<uint32_t>(value)};
}

// Every piece of a file with `count` pieces, in order:
//   for (PieceIndex p : all_pieces(meta.piece_count())) ...
class PieceRange {
 public:
  class iterator {
   public:
    constexpr explicit iterator(PieceIndex at) : at_(at) {}
    constexpr PieceIndex operator*() const { return at_; }
    constexpr iterator& operator++() {
      ++at_;
      return *this;
    }
    friend constexpr bool operator==(iterator, iterator) = default;

   private:
    PieceIndex at_;
  };

  constexpr explicit PieceRange(uint32_t count) : count_(count) {}
  constexpr iterator begin() const { return iterator(PieceIndex{0}); }
  constexpr iterator end() const { return iterator(PieceIndex{count_}); }

 private:
  uint32_t count_;
};

constexpr PieceRange all_pieces(uint32_t count) { return PieceRange(count); }

}  // namespace gs

template <>
struct std::hash<gs::PieceIndex> {
  size_t operator()(gs::PieceIndex p) const noexcept { return std::hash<uint32_t>{}(p.value()); }
};
