#include "peer_wire.h"

#include <gtest/gtest.h>

#include "frame.h"

namespace gs {
namespace {

Handshake sample_handshake(std::string ticket = "signed-ticket") {
  Handshake h;
  h.file_id = sha256("some file");
  for (size_t i = 0; i < h.seat.size(); ++i) h.seat[i] = static_cast<unsigned char>(0xa0 + i);
  h.ticket = std::move(ticket);
  return h;
}

void expect_error(const Result<Handshake>& r, const std::string& code, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code, code) << what;
}

void expect_bad(const Result<PeerMessage>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code, "bad_message") << what;
  EXPECT_FALSE(r.error().message.empty()) << what;
}

TEST(PeerWire, HandshakeLayout) {
  const Handshake h = sample_handshake("xy");
  const std::string wire = encode_handshake(h);
  ASSERT_EQ(wire.size(), 7u + 1 + 32 + 16 + 2 + 2);
  EXPECT_EQ(wire.substr(0, 7), "gs-peer");
  EXPECT_EQ(wire[7], '\x01');
  EXPECT_EQ(wire.substr(8, 32), std::string(reinterpret_cast<const char*>(h.file_id.data()), 32));
  EXPECT_EQ(static_cast<unsigned char>(wire[40]), 0xa0);
  EXPECT_EQ(wire.substr(56, 2), std::string("\x00\x02", 2));
  EXPECT_EQ(wire.substr(58), "xy");
}

TEST(PeerWire, HandshakeRoundTrip) {
  for (const std::string& ticket : {std::string(), std::string("t"), std::string(300, 'k'),
                                    std::string(kMaxTicketSize, '\xff')}) {
    const Handshake h = sample_handshake(ticket);
    auto r = decode_handshake(encode_handshake(h));
    ASSERT_TRUE(r.ok()) << ticket.size() << ": " << r.error().message;
    EXPECT_EQ(*r, h);
  }
}

TEST(PeerWire, HandshakeTruncatedOrExtended) {
  const std::string wire = encode_handshake(sample_handshake("ticket"));
  for (size_t n = 0; n < wire.size(); ++n) {
    expect_error(decode_handshake(wire.substr(0, n)), "bad_handshake", "truncated to " + std::to_string(n));
  }
  expect_error(decode_handshake(wire + "x"), "bad_handshake", "extra byte");
}

TEST(PeerWire, HandshakeBadMagic) {
  std::string wire = encode_handshake(sample_handshake());
  wire[0] = 'G';
  expect_error(decode_handshake(wire), "bad_handshake", "bad magic");
  expect_error(decode_handshake("GET / HTTP/1.1\r\n\r\n"), "bad_handshake", "http");
}

TEST(PeerWire, HandshakeBadVersion) {
  for (uint8_t v : {0, 2, 255}) {
    Handshake h = sample_handshake();
    h.version = v;
    auto r = decode_handshake(encode_handshake(h));
    expect_error(r, "bad_version", "version " + std::to_string(v));
    EXPECT_NE(r.error().message.find(std::to_string(v)), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("1"), std::string::npos) << r.error().message;
  }
  // A newer peer's handshake may be laid out differently: version is judged first.
  expect_error(decode_handshake(std::string("gs-peer\x02", 8)), "bad_version", "short v2");
}

TEST(PeerWire, HandshakeTicketTooLong) {
  std::string wire = encode_handshake(sample_handshake(""));
  wire[56] = static_cast<char>((kMaxTicketSize + 1) >> 8);
  wire[57] = static_cast<char>((kMaxTicketSize + 1) & 0xff);
  wire += std::string(kMaxTicketSize + 1, 't');
  expect_error(decode_handshake(wire), "bad_handshake", "ticket too long");
}

TEST(PeerWire, HandshakeTicketLengthDisagrees) {
  std::string wire = encode_handshake(sample_handshake("abc"));
  wire[57] = 4;
  expect_error(decode_handshake(wire), "bad_handshake", "length says 4, 3 present");
  wire[57] = 2;
  expect_error(decode_handshake(wire), "bad_handshake", "length says 2, 3 present");
}

TEST(PeerWire, KeepAlive) {
  EXPECT_EQ(encode_keep_alive(), "");
  auto r = decode_peer_message("", 10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, PeerMessage::Type::keep_alive);
}

TEST(PeerWire, BitfieldRoundTrip) {
  Bitfield bits(11);
  bits.set(0_piece);
  bits.set(10_piece);
  const std::string wire = encode_bitfield(bits);
  EXPECT_EQ(wire, std::string("\x01\x80\x20", 3));
  auto r = decode_peer_message(wire, 11);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type, PeerMessage::Type::bitfield);
  EXPECT_EQ(r->bits, bits);

  auto empty = decode_peer_message(encode_bitfield(Bitfield(0)), 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->bits.size(), 0u);
}

TEST(PeerWire, BitfieldMalformed) {
  expect_bad(decode_peer_message(std::string("\x01\x80", 2), 11), "one byte short");
  expect_bad(decode_peer_message(std::string("\x01\x80\x20\x00", 4), 11), "one byte extra");
  expect_bad(decode_peer_message(std::string("\x01\x80\x10", 3), 11), "spare bit set");
  expect_bad(decode_peer_message(std::string("\x01", 1), 11), "no bytes");
}

struct IndexCase {
  PeerMessage::Type type;
  std::string (*encode)(PieceIndex);
  char tag;
};

const IndexCase kIndexCases[] = {
    {PeerMessage::Type::have, encode_have, 2},
    {PeerMessage::Type::request, encode_request, 3},
    {PeerMessage::Type::cancel, encode_cancel, 5},
    {PeerMessage::Type::reject, encode_reject, 6},
};

TEST(PeerWire, IndexMessagesRoundTrip) {
  for (const auto& c : kIndexCases) {
    const std::string wire = c.encode(PieceIndex{0x01020304});
    EXPECT_EQ(wire, std::string{c.tag} + std::string("\x01\x02\x03\x04", 4));
    for (PieceIndex piece : {0_piece, 7_piece, 99_piece}) {
      auto r = decode_peer_message(c.encode(piece), 100);
      ASSERT_TRUE(r.ok()) << int{c.tag} << ": " << r.error().message;
      EXPECT_EQ(r->type, c.type);
      EXPECT_EQ(r->piece, piece);
    }
  }
}

TEST(PeerWire, IndexMessagesMalformed) {
  for (const auto& c : kIndexCases) {
    const std::string tag = std::to_string(int{c.tag});
    const std::string wire = c.encode(5_piece);
    for (size_t n = 1; n < wire.size(); ++n) {
      expect_bad(decode_peer_message(wire.substr(0, n), 10), tag + " truncated to " + std::to_string(n));
    }
    expect_bad(decode_peer_message(wire + "x", 10), tag + " extra byte");
    expect_bad(decode_peer_message(c.encode(10_piece), 10), tag + " index == count");
    expect_bad(decode_peer_message(c.encode(PieceIndex{0xffffffff}), 10), tag + " huge index");
    expect_bad(decode_peer_message(c.encode(0_piece), 0), tag + " empty file");
  }
}

// The payload a receiver sees for a PIECE: the head, then the data.
std::string piece_payload(PieceIndex piece, std::string_view data) {
  return encode_piece_head(piece) + std::string(data);
}

TEST(PeerWire, PieceHeadIsTypeAndIndex) {
  const std::string head = encode_piece_head(7_piece);
  ASSERT_EQ(head.size(), kPieceMessageOverhead);
  EXPECT_EQ(head, std::string("\x04\x00\x00\x00\x07", 5));
  // Framed with its data, it parses as one whole frame.
  const std::string wire = frame_header(1005) + head + std::string(1000, 'd');
  auto f = decode_frame(wire, kPeerMaxFrame);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->consumed, wire.size());
  auto m = decode_peer_message(f->payload, 8);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->piece, 7_piece);
  EXPECT_EQ(m->data.size(), 1000u);
}

TEST(PeerWire, PieceRoundTripIsZeroCopy) {
  const std::string payload = piece_payload(3_piece, "hello piece");
  auto r = decode_peer_message(payload, 4);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type, PeerMessage::Type::piece);
  EXPECT_EQ(r->piece, 3_piece);
  EXPECT_EQ(r->data, "hello piece");
  EXPECT_EQ(r->data.data(), payload.data() + 5);

  auto empty = decode_peer_message(piece_payload(0_piece, ""), 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->data.empty());
}

TEST(PeerWire, PieceMalformed) {
  const std::string payload = piece_payload(3_piece, "data");
  for (size_t n = 1; n < 5; ++n) {
    expect_bad(decode_peer_message(payload.substr(0, n), 10), "truncated to " + std::to_string(n));
  }
  expect_bad(decode_peer_message(payload, 3), "index == count");
  expect_bad(decode_peer_message(piece_payload(PieceIndex{0xffffffff}, "x"), 10), "huge index");
}

TEST(PeerWire, UnknownType) {
  for (int type : {0, 8, 0x80, 0xff}) {
    const std::string wire = std::string(1, static_cast<char>(type)) + std::string(4, '\0');
    expect_bad(decode_peer_message(wire, 10), "type " + std::to_string(type));
    expect_bad(decode_peer_message(wire.substr(0, 1), 10), "bare type " + std::to_string(type));
  }
}

}  // namespace
}  // namespace gs

namespace gs {
namespace {

TEST(PeerWire, TicketRoundTrip) {
  const std::string ticket(200, 't');
  const std::string wire = encode_ticket(ticket);
  EXPECT_EQ(wire, std::string("\x07", 1) + ticket);
  auto r = decode_peer_message(wire, 3);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type, PeerMessage::Type::ticket);
  EXPECT_EQ(r->ticket, ticket);
  auto longest = decode_peer_message(encode_ticket(std::string(kMaxTicketSize, 'x')), 3);
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->ticket.size(), kMaxTicketSize);
}

TEST(PeerWire, TicketMalformed) {
  expect_bad(decode_peer_message(std::string("\x07", 1), 3), "empty ticket");
  expect_bad(decode_peer_message(std::string("\x07", 1) + std::string(kMaxTicketSize + 1, 'x'), 3), "too long");
}

}  // namespace
}  // namespace gs
