// Trackers file parser over arbitrary text: never crashes; what it accepts
// has at least one tracker, each with a host and a non-zero port.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "trackers_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = gs::parse_trackers(std::string_view(reinterpret_cast<const char*>(data), size));
  if (t.ok()) {
    if (t->empty()) std::abort();
    for (const auto& ep : *t) {
      if (ep.host.empty() || ep.port == 0) std::abort();
    }
  }
  return 0;
}
