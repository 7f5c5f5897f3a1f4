// Peer wire protocol, version 1: the payloads of the frames two daemons
// exchange about one file (lib/frame.h adds the 4-byte length prefix).
//
// Handshake, the first frame each way:
//   "gs-peer" | u8 version | file_id[32] | seat[16] | u16 BE ticket length | ticket
// Then messages; an empty payload is a keep-alive, otherwise byte 0 is the type:
//   1 BITFIELD bitfield bytes    2 HAVE u32 piece     3 REQUEST u32 piece
//   4 PIECE u32 piece + data     5 CANCEL u32 piece   6 REJECT u32 piece
//   7 TICKET ticket bytes (a renewed access ticket, 1 to kMaxTicketSize)
// Integers are big-endian. Requests are for whole pieces. Decoders are pure
// functions over bytes: every field is checked, nothing is allocated from a
// length the peer chose.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bitfield.h"
#include "crypto.h"
#include "piece_index.h"
#include "result.h"

namespace gs {

inline constexpr uint8_t kPeerWireVersion = 1;
inline constexpr std::string_view kPeerMagic = "gs-peer";
inline constexpr size_t kMaxTicketSize = 4096;
// Cap for one peer frame payload: a whole 16 MiB piece plus its header.
inline constexpr size_t kPeerMaxFrame = 16 * 1024 * 1024 + 64;

using Seat = std::array<unsigned char, 16>;

struct Handshake {
  uint8_t version = kPeerWireVersion;
  Sha256Digest file_id{};
  Seat seat{};         // the sender daemon's random id
  std::string ticket;  // access ticket signed by the trackers; opaque here

  friend bool operator==(const Handshake&, const Handshake&) = default;
};

// Requires ticket.size() <= kMaxTicketSize (callers check tickets as they
// receive them); aborts otherwise rather than emit a handshake peers refuse.
std::string encode_handshake(const Handshake& h);
// Errors: "bad_handshake" (wrong magic, truncated, extra bytes, ticket too
// long), "bad_version" (a version other than kPeerWireVersion).
Result<Handshake> decode_handshake(std::string_view payload);

struct PeerMessage {
  enum class Type { keep_alive, bitfield, have, request, piece, cancel, reject, ticket };
  Type type = Type::keep_alive;
  PieceIndex piece;      // have, request, piece, cancel, reject
  Bitfield bits;         // bitfield
  // piece: the data, pointing into the decoded payload (no copy); the caller
  // checks its length against the piece length it expects.
  std::string_view data;
  // ticket: the renewed ticket's bytes, pointing into the payload.
  std::string_view ticket;
};

// Whether a payload starting with `head` (at least its first byte) is a
// PIECE message; for routing its bytes before the payload is decoded.
bool is_piece_message(std::string_view head);

// Error "bad_message": unknown type, wrong length, piece >= piece_count, a
// bitfield that does not have exactly piece_count bits, or a ticket that is
// empty or longer than kMaxTicketSize.
Result<PeerMessage> decode_peer_message(std::string_view payload, uint32_t piece_count);

inline std::string encode_keep_alive() { return {}; }
std::string encode_bitfield(const Bitfield& bits);
std::string encode_have(PieceIndex piece);
std::string encode_request(PieceIndex piece);
std::string encode_cancel(PieceIndex piece);
std::string encode_reject(PieceIndex piece);
// Requires 1 to kMaxTicketSize bytes.
std::string encode_ticket(std::string_view ticket);

// A PIECE payload is this many bytes (type + index) more than its data.
inline constexpr size_t kPieceMessageOverhead = 5;
// The head of a PIECE payload (type and piece index, kPieceMessageOverhead
// bytes): the sender follows it with the piece's data straight from the file
// in the same frame (FramedConn::send_frame), so piece data is never copied
// into a message.
std::string encode_piece_head(PieceIndex piece);

}  // namespace gs
