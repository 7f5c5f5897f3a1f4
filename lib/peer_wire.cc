#include "peer_wire.h"

#include <cstdlib>
#include <cstring>

#include "frame.h"

namespace gs {
namespace {

constexpr size_t kVersionAt = 7;
constexpr size_t kFileIdAt = 8;
constexpr size_t kSeatAt = kFileIdAt + 32;
constexpr size_t kTicketLenAt = kSeatAt + 16;
constexpr size_t kHandshakeFixed = kTicketLenAt + 2;  // 58

enum : uint8_t {
  kBitfield = 1,
  kHave = 2,
  kRequest = 3,
  kPiece = 4,
  kCancel = 5,
  kReject = 6,
  kTicket = 7,
};

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string encode_index_message(uint8_t type, PieceIndex piece) {
  std::string out(5, '\0');
  out[0] = static_cast<char>(type);
  store_be32(reinterpret_cast<unsigned char*>(out.data()) + 1, piece.value());
  return out;
}

Error bad_message(std::string message) { return make_error("bad_message", std::move(message)); }

const char* type_name(uint8_t type) {
  switch (type) {
    case kBitfield: return "bitfield";
    case kHave: return "have";
    case kRequest: return "request";
    case kPiece: return "piece";
    case kCancel: return "cancel";
    case kReject: return "reject";
    case kTicket: return "ticket";
  }
  return "unknown";
}

}  // namespace

std::string encode_handshake(const Handshake& h) {
  if (h.ticket.size() > kMaxTicketSize) std::abort();
  std::string out;
  out.reserve(kHandshakeFixed + h.ticket.size());
  out.append(kPeerMagic);
  out.push_back(static_cast<char>(h.version));
  out.append(reinterpret_cast<const char*>(h.file_id.data()), h.file_id.size());
  out.append(reinterpret_cast<const char*>(h.seat.data()), h.seat.size());
  out.push_back(static_cast<char>(h.ticket.size() >> 8));
  out.push_back(static_cast<char>(h.ticket.size() & 0xff));
  out.append(h.ticket);
  return out;
}

Result<Handshake> decode_handshake(std::string_view p) {
  if (p.size() < kVersionAt + 1 || p.substr(0, kPeerMagic.size()) != kPeerMagic) {
    return make_error("bad_handshake", "not a gs peer handshake (wrong magic)");
  }
  const uint8_t version = static_cast<uint8_t>(p[kVersionAt]);
  // Checked before the layout: another version may lay out the rest differently.
  if (version != kPeerWireVersion) {
    return make_error("bad_version", "peer speaks wire version " + std::to_string(version) +
                                         ", this daemon speaks version " +
                                         std::to_string(kPeerWireVersion));
  }
  if (p.size() < kHandshakeFixed) {
    return make_error("bad_handshake", "handshake truncated at " + std::to_string(p.size()) +
                                           " bytes (at least " +
                                           std::to_string(kHandshakeFixed) + " needed)");
  }
  const size_t ticket_len = (size_t{bytes_of(p)[kTicketLenAt]} << 8) | bytes_of(p)[kTicketLenAt + 1];
  if (ticket_len > kMaxTicketSize) {
    return make_error("bad_handshake", "ticket of " + std::to_string(ticket_len) +
                                           " bytes exceeds the limit of " +
                                           std::to_string(kMaxTicketSize));
  }
  if (p.size() != kHandshakeFixed + ticket_len) {
    return make_error("bad_handshake", "handshake of " + std::to_string(p.size()) +
                                           " bytes, expected " +
                                           std::to_string(kHandshakeFixed + ticket_len) +
                                           " for a ticket of " + std::to_string(ticket_len));
  }
  Handshake h;
  h.version = version;
  std::memcpy(h.file_id.data(), p.data() + kFileIdAt, h.file_id.size());
  std::memcpy(h.seat.data(), p.data() + kSeatAt, h.seat.size());
  h.ticket.assign(p.substr(kHandshakeFixed));
  return h;
}

bool is_piece_message(std::string_view head) {
  return !head.empty() && static_cast<uint8_t>(head[0]) == kPiece;
}

Result<PeerMessage> decode_peer_message(std::string_view p, uint32_t piece_count) {
  PeerMessage m;
  if (p.empty()) return m;  // keep-alive
  const uint8_t type = static_cast<uint8_t>(p[0]);
  const std::string_view body = p.substr(1);
  if (type == kBitfield) {
    auto bits = Bitfield::from_bytes(body, piece_count);
    if (!bits) return bad_message("bitfield message: " + bits.error().message);
    m.type = PeerMessage::Type::bitfield;
    m.bits = std::move(bits).value();
    return m;
  }
  if (type == kTicket) {
    if (body.empty() || body.size() > kMaxTicketSize) {
      return bad_message("ticket message of " + std::to_string(body.size()) + " bytes (1 to " +
                         std::to_string(kMaxTicketSize) + " allowed)");
    }
    m.type = PeerMessage::Type::ticket;
    m.ticket = body;
    return m;
  }
  switch (type) {
    case kHave: m.type = PeerMessage::Type::have; break;
    case kRequest: m.type = PeerMessage::Type::request; break;
    case kPiece: m.type = PeerMessage::Type::piece; break;
    case kCancel: m.type = PeerMessage::Type::cancel; break;
    case kReject: m.type = PeerMessage::Type::reject; break;
    default: return bad_message("unknown message type " + std::to_string(type));
  }
  if (body.size() < 4) {
    return bad_message(std::string(type_name(type)) + " message truncated: " +
                       std::to_string(body.size()) + " of 4 index bytes");
  }
  if (type != kPiece && body.size() != 4) {
    return bad_message(std::string(type_name(type)) + " message of " +
                       std::to_string(p.size()) + " bytes, expected 5");
  }
  m.piece = PieceIndex{load_be32(bytes_of(body))};
  if (m.piece.value() >= piece_count) {
    return bad_message(std::string(type_name(type)) + " message names piece " +
                       std::to_string(m.piece.value()) + " but the file has " +
                       std::to_string(piece_count) + " pieces");
  }
  if (type == kPiece) m.data = body.substr(4);
  return m;
}

std::string encode_bitfield(const Bitfield& bits) {
  std::string out(1, static_cast<char>(kBitfield));
  out += bits.to_bytes();
  return out;
}

std::string encode_have(PieceIndex piece) { return encode_index_message(kHave, piece); }
std::string encode_request(PieceIndex piece) { return encode_index_message(kRequest, piece); }
std::string encode_cancel(PieceIndex piece) { return encode_index_message(kCancel, piece); }
std::string encode_reject(PieceIndex piece) { return encode_index_message(kReject, piece); }

std::string encode_ticket(std::string_view ticket) {
  if (ticket.empty() || ticket.size() > kMaxTicketSize) std::abort();
  std::string out(1, static_cast<char>(kTicket));
  out += ticket;
  return out;
}

std::string encode_piece_head(PieceIndex piece) { return encode_index_message(kPiece, piece); }

}  // namespace gs
