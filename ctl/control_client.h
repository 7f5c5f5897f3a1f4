// The client side of the control protocol (docs/protocol.md): one request
// line over gsd's Unix socket, one answer line back.
//
// Every wait is bounded: gsctl runs in scripts, and a wedged or half-started
// daemon must give a clear error rather than a hung shell.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "json.h"
#include "names.h"
#include "result.h"

namespace gs::ctl {

// Error codes of exchange() and check_socket_present(). The messages name
// the socket path; the caller adds hints on what to do.
inline constexpr std::string_view kNoSocket = "no_socket";  // nothing at the path
inline constexpr std::string_view kRefused = "refused";     // nobody listening
inline constexpr std::string_view kDenied = "denied";       // not ours to talk to
inline constexpr std::string_view kTimeout = "timeout";     // no full answer in time
inline constexpr std::string_view kClosed = "closed";       // hung up without answering
inline constexpr std::string_view kTooLong = "too_long";    // answer over the line cap
inline constexpr std::string_view kBadPath = "bad_path";    // cannot be a socket address
inline constexpr std::string_view kIoError = "io_error";    // anything else

// A progress line that gsd sends before the answer to a request with
// "progress":true: {"progress":{"done":N,"total":M}}.
struct Progress {
  uint64_t done = 0;
  uint64_t total = 0;
};
using OnProgress = std::function<void(const Progress&)>;

// Connects to `socket_path`, sends `request` plus a newline and returns the
// first answer line without its newline. Connect, send and receive together
// must finish within `timeout`. An answer longer than `max_answer` bytes is an
// error; so is a close before any byte of an answer. A last line cut short by
// a close is returned as it is, for decode_answer() to judge.
//
// With `on_progress` (for a request with "progress":true), progress lines
// before the answer go to it, and each gives the answer `timeout` more from
// then on: a long command that keeps making progress is never cut off, one
// that goes quiet for `timeout` is.
Result<std::string> exchange(const std::string& socket_path, std::string_view request,
                             std::chrono::milliseconds timeout,
                             size_t max_answer = kControlMaxLine,
                             const OnProgress& on_progress = {});

// The progress in `line`, or nullopt when it is not a progress line (an
// answer has "ok"; a progress line never does). Pure; the line is untrusted.
std::optional<Progress> decode_progress(std::string_view line);

// A cheap look before asking the user for a password: fails with kNoSocket
// when nothing exists at the path, so nobody types a password for nothing.
Status check_socket_present(const std::string& socket_path);

struct Answer {
  bool ok = false;
  Json result;          // when ok
  std::string error;    // when !ok: the stable code, e.g. "wrong_password"
  std::string message;  // when !ok: plain words for a person
};

// Parses one answer line: {"ok":true,"result":...} or
// {"ok":false,"error":CODE,"message":TEXT}. Error code "bad_answer" when the
// line is not such an object. Pure; the line is untrusted.
Result<Answer> decode_answer(std::string_view line);

// "30 s", "0.5 s": a timeout as the messages show it.
std::string seconds_text(std::chrono::milliseconds d);

}  // namespace gs::ctl
