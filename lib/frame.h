// Length-prefixed frames: every TCP link (tracker protocol, peer wire) carries
// a 4-byte big-endian payload length followed by the payload. The decoder is a
// pure function over bytes so it can be unit-tested and fuzzed; a length above
// the link's cap is an error, never an allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "result.h"

namespace gs {

inline constexpr size_t kFrameHeaderSize = 4;

struct FrameView {
  std::string_view payload;
  size_t consumed = 0;  // 0: not enough bytes yet for a whole frame
};

// Looks at the start of `buffer`. Returns the first complete frame, or
// consumed == 0 when more bytes are needed, or an error ("frame_too_large")
// when the header announces more than `max_payload` bytes.
Result<FrameView> decode_frame(std::string_view buffer, size_t max_payload);

// Header for a payload of `size` bytes.
std::string frame_header(uint32_t size);
std::string encode_frame(std::string_view payload);

uint32_t load_be32(const unsigned char* p);
void store_be32(unsigned char* p, uint32_t v);

}  // namespace gs
