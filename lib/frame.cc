#include "frame.h"

namespace gs {

uint32_t load_be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void store_be32(unsigned char* p, uint32_t v) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

Result<FrameView> decode_frame(std::string_view buffer, size_t max_payload) {
  if (buffer.size() < kFrameHeaderSize) return FrameView{};
  const uint32_t size = load_be32(reinterpret_cast<const unsigned char*>(buffer.data()));
  if (size > max_payload) {
    return make_error("frame_too_large", "frame of " + std::to_string(size) +
                                             " bytes exceeds the limit of " +
                                             std::to_string(max_payload) + " bytes");
  }
  if (buffer.size() - kFrameHeaderSize < size) return FrameView{};
  return FrameView{buffer.substr(kFrameHeaderSize, size), kFrameHeaderSize + size};
}

std::string frame_header(uint32_t size) {
  std::string h(kFrameHeaderSize, '\0');
  store_be32(reinterpret_cast<unsigned char*>(h.data()), size);
  return h;
}

std::string encode_frame(std::string_view payload) {
  std::string out = frame_header(static_cast<uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

}  // namespace gs
