// Peer wire decoders over arbitrary bytes. Byte 0 picks the decoder: even
// for the handshake, odd for a message, whose piece count comes from byte 1
// (small counts, so indexes and bitfield lengths hit their edges). Whatever
// decodes must encode back to exactly the input: the format has one spelling
// per value, so a decoder that accepts anything else is too lax.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "frame.h"
#include "peer_wire.h"

namespace {

void check_message(std::string_view payload, uint32_t piece_count) {
  auto r = gs::decode_peer_message(payload, piece_count);
  if (!r.ok()) return;
  const gs::PeerMessage& m = *r;
  std::string again;
  using T = gs::PeerMessage::Type;
  switch (m.type) {
    case T::keep_alive: again = gs::encode_keep_alive(); break;
    case T::bitfield:
      if (m.bits.size() != piece_count) std::abort();
      again = gs::encode_bitfield(m.bits);
      break;
    case T::have: again = gs::encode_have(m.piece); break;
    case T::request: again = gs::encode_request(m.piece); break;
    case T::cancel: again = gs::encode_cancel(m.piece); break;
    case T::reject: again = gs::encode_reject(m.piece); break;
    case T::ticket:
      // A view into the payload too; encoded again, the same bytes.
      if (m.ticket.empty() || m.ticket.size() > gs::kMaxTicketSize ||
          m.ticket.data() + m.ticket.size() != payload.data() + payload.size()) {
        std::abort();
      }
      again = gs::encode_ticket(m.ticket);
      break;
    case T::piece: {
      // The data must be a view into the payload, never a copy.
      if (m.data.data() < payload.data() ||
          m.data.data() + m.data.size() != payload.data() + payload.size()) {
        std::abort();
      }
      again = gs::encode_piece_head(m.piece);
      again.append(m.data);
      break;
    }
  }
  if (m.type != T::keep_alive && m.type != T::bitfield && m.type != T::ticket && m.piece.value() >= piece_count) std::abort();
  if (again != payload) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > gs::kPeerMaxFrame) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if ((data[0] & 1) == 0) {
    auto h = gs::decode_handshake(in.substr(1));
    if (h.ok()) {
      if (h->ticket.size() > gs::kMaxTicketSize) std::abort();
      if (gs::encode_handshake(*h) != in.substr(1)) std::abort();
    }
    return 0;
  }
  if (size < 2) return 0;
  check_message(in.substr(2), data[1]);
  return 0;
}
