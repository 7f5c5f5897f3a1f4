// The control protocol's wire format (docs/protocol.md): one JSON object per
// line, {"cmd":"NAME","args":{...}} in, {"ok":true,"result":...} or
// {"ok":false,"error":"CODE","message":"..."} out. Pure functions over
// bytes, so they can be unit-tested and fuzzed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "json.h"
#include "result.h"

namespace gs::daemon {

// How far a long command has got (upload_file: bytes hashed of the file's
// size), for a client that asked with "progress":true. Written by whatever
// does the work, often a worker thread, and read by the control server on
// the loop: hence atomics, and a shared_ptr that outlives either side.
struct ControlProgress {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> total{0};
};

struct ControlRequest {
  std::string cmd;
  Json args;  // always an object (an absent "args" is an empty one)
  // The client takes progress lines before the answer ("progress":true).
  bool wants_progress = false;
  // Set by the control server when wants_progress; commands without
  // progress to report leave it alone.
  std::shared_ptr<ControlProgress> progress = nullptr;
};

// One line without its '\n' (a trailing '\r' is tolerated). Anything that is
// not a request at all is a bad_request error; whether the command exists
// or its args are right is for the handlers to say.
Result<ControlRequest> decode_control_request(std::string_view line);

// The result of commands that answer nothing. A named local rather than
// Json(nullptr): GCC 12 warns (-Wmaybe-uninitialized, a false positive)
// when a Result is built from a temporary null Json.
inline Result<Json> null_result() {
  Json null;
  return null;
}

// Answers, as one line ending in '\n'.
std::string encode_control_answer(const Result<Json>& answer);
// A progress line, {"progress":{"done":N,"total":M}} and '\n': never an
// answer (no "ok"), so a client tells the two apart by that member.
std::string encode_control_progress(uint64_t done, uint64_t total);

}  // namespace gs::daemon
