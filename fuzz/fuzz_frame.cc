// Frame decoder over arbitrary bytes: every frame it yields lies within the
// input and below the cap, and decoding makes progress or stops.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int guard = 0; guard < 100000 && !in.empty(); ++guard) {
    auto f = gs::decode_frame(in, 4096);
    if (!f.ok() || f->consumed == 0) break;
    if (f->payload.size() > 4096 || f->consumed > in.size()) std::abort();
    in.remove_prefix(f->consumed);
  }
  return 0;
}
