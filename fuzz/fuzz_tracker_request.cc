// The tracker's request handlers over arbitrary input: each line is one
// request (as if it came in a frame after the handshake), run against a real
// in-memory store, so sequences of requests build and probe state. Every
// answer must be an object with "ok"; nothing may crash.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "tracker/clock.h"
#include "tracker/store.h"
#include "tracker/tracker_service.h"

namespace {

struct Fixture {
  gs::tracker::SystemClock clock;
  std::unique_ptr<gs::tracker::Store> store;
  std::unique_ptr<gs::tracker::Service> service;
  Fixture() {
    auto s = gs::tracker::Store::open(":memory:");
    if (!s) std::abort();
    store = std::move(*s);
    gs::tracker::ServiceConfig config;
    config.kdf.log2_n = 10;  // fast: the fuzzer is after logic, not strength
    service = std::make_unique<gs::tracker::Service>(*store, clock, config);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < 64 && !in.empty(); ++i) {
    const size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    auto request = gs::Json::parse(line);
    if (!request.ok() || !request->is_object()) continue;
    const gs::Json answer = f.service->handle(*request);
    if (!answer.is_object() || !answer.get_bool("ok").has_value()) std::abort();
  }
  return 0;
}
