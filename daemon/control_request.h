// The control protocol's wire format (docs/protocol.md): one JSON object per
// line, {"cmd":"NAME","args":{...}} in, {"ok":true,"result":...} or
// {"ok":false,"error":"CODE","message":"..."} out. Pure functions over
// bytes, so they can be unit-tested and fuzzed.
#pragma once

#include <string>
#include <string_view>

#include "json.h"
#include "result.h"

namespace gs::daemon {

struct ControlRequest {
  std::string cmd;
  Json args;  // always an object (an absent "args" is an empty one)
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

}  // namespace gs::daemon
