// The control socket's line decoder over arbitrary bytes (what any local
// process can send to gsd): never crashes, and what it accepts has a command
// name and object args, and encodes an answer that parses back.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/control_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = gs::daemon::decode_control_request(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.ok()) {
    if (!r->args.is_object()) std::abort();
    gs::Json echo = gs::Json::object();
    echo["cmd"] = r->cmd;
    const std::string line = gs::daemon::encode_control_answer(gs::Result<gs::Json>(echo));
    if (line.empty() || line.back() != '\n') std::abort();
    if (!gs::Json::parse(std::string_view(line).substr(0, line.size() - 1)).ok()) std::abort();
  } else if (r.error().code != "bad_request") {
    std::abort();
  }
  return 0;
}
