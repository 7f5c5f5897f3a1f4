#include "control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fd.h"

namespace gs::ctl {
namespace {

using Clock = std::chrono::steady_clock;


std::string in_quotes(const std::string& path) { return "'" + path + "'"; }

Error connect_error(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return make_error(std::string(kNoSocket), "no gsd control socket at " + in_quotes(path));
    case ECONNREFUSED:
      return make_error(std::string(kRefused),
                        "nothing accepts connections on " + in_quotes(path) +
                            " (gsd is not running, or that is not its socket)");
    case EACCES:
    case EPERM:
      return make_error(std::string(kDenied), "no permission to connect to " + in_quotes(path) +
                                                  " (the socket belongs to another user)");
    default:
      return make_error(std::string(kIoError),
                        "cannot connect to " + in_quotes(path) + ": " + std::strerror(err));
  }
}

Error timeout_error(const std::string& path, std::chrono::milliseconds timeout,
                    bool progressed = false) {
  if (progressed) {
    return make_error(std::string(kTimeout), "gsd at " + in_quotes(path) +
                                                 " reported no progress for " +
                                                 seconds_text(timeout) +
                                                 " and did not answer (--timeout sets a longer wait)");
  }
  return make_error(std::string(kTimeout), "gsd at " + in_quotes(path) + " did not answer within " +
                                               seconds_text(timeout) +
                                               " (--timeout sets a longer wait)");
}

// Milliseconds left until `deadline` as poll() wants them; 0 once it passed.
int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, 1'000'000'000));
}

// Waits for `events` on fd until the deadline. 1: ready, 0: deadline, -1: errno.
int wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const int ms = remaining_ms(deadline);
    if (ms == 0) return 0;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, ms);
    if (n > 0) return 1;
    if (n == 0) continue;  // re-check the clock: poll may wake a little early
    if (errno != EINTR) return -1;
  }
}

}  // namespace

std::string seconds_text(std::chrono::milliseconds d) {
  const long long ms = d.count();
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string frac = std::to_string(1000 + ms % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  return s + " s";
}

Status check_socket_present(const std::string& socket_path) {
  struct stat st {};
  if (::stat(socket_path.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
    return connect_error(socket_path, errno);
  }
  return Ok{};
}

Result<std::string> exchange(const std::string& socket_path, std::string_view request,
                             std::chrono::milliseconds timeout, size_t max_answer,
                             const OnProgress& on_progress) {
  auto deadline = Clock::now() + timeout;

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // sun_path needs room for the terminating NUL; a longer path cannot be
  // connected to at all, so say so instead of truncating it.
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path ||
      socket_path.find('\0') != std::string::npos) {
    return make_error(std::string(kBadPath),
                      "cannot use " + in_quotes(socket_path) + " as a socket path (it must be 1-" +
                          std::to_string(sizeof addr.sun_path - 1) + " bytes)");
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());

  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    return make_error(std::string(kIoError),
                      std::string("cannot make a socket: ") + std::strerror(errno));
  }

  // Non-blocking, so that a daemon whose accept backlog is full (EAGAIN on a
  // Unix socket) is retried until the deadline instead of blocking forever.
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      const int ms = std::min(remaining_ms(deadline), 20);
      if (ms == 0) return timeout_error(socket_path, timeout);
      ::poll(nullptr, 0, ms);
      continue;
    }
    if (errno == EINPROGRESS) {
      const int w = wait_for(fd.get(), POLLOUT, deadline);
      if (w == 0) return timeout_error(socket_path, timeout);
      int err = errno;
      socklen_t len = sizeof err;
      if (w > 0 && ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) return connect_error(socket_path, err);
      break;
    }
    return connect_error(socket_path, errno);
  }

  // Send. If gsd hangs up early (EPIPE), it may still have written an error
  // answer first, so go on and read rather than fail here.
  std::string line(request);
  line += '\n';
  size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int w = wait_for(fd.get(), POLLOUT, deadline);
      if (w == 0) return timeout_error(socket_path, timeout);
      if (w < 0) break;
      continue;
    }
    break;  // EPIPE, ECONNRESET, ...: read what there is
  }
  // The request may hold a password; do not leave a copy in freed memory.
  explicit_bzero(line.data(), line.size());

  std::string answer;
  size_t scanned = 0;  // bytes of `answer` known to hold no newline
  bool progressed = false;
  char buf[65536];
  for (;;) {
    size_t nl;
    while ((nl = answer.find('\n', scanned)) != std::string::npos) {
      if (nl > max_answer) break;
      if (on_progress) {
        if (auto p = decode_progress(std::string_view(answer).substr(0, nl))) {
          // Still working: the answer gets `timeout` more from now.
          on_progress(*p);
          progressed = true;
          answer.erase(0, nl + 1);
          scanned = 0;
          deadline = Clock::now() + timeout;
          continue;
        }
      }
      answer.resize(nl);
      return answer;
    }
    if (nl != std::string::npos || answer.size() > max_answer) break;
    scanned = answer.size();

    const int w = wait_for(fd.get(), POLLIN, deadline);
    if (w == 0) return timeout_error(socket_path, timeout, progressed);
    if (w < 0) {
      return make_error(std::string(kIoError), "waiting for gsd at " + in_quotes(socket_path) +
                                                   ": " + std::strerror(errno));
    }
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      if (errno == ECONNRESET && !answer.empty()) return answer;
      if (errno == ECONNRESET) {
        return make_error(std::string(kClosed), "gsd at " + in_quotes(socket_path) +
                                                    " closed the connection without answering");
      }
      return make_error(std::string(kIoError), "reading from gsd at " + in_quotes(socket_path) +
                                                   ": " + std::strerror(errno));
    }
    if (n == 0) {
      if (!answer.empty()) return answer;
      return make_error(std::string(kClosed), "gsd at " + in_quotes(socket_path) +
                                                  " closed the connection without answering");
    }
    answer.append(buf, static_cast<size_t>(n));
  }
  return make_error(std::string(kTooLong), "gsd at " + in_quotes(socket_path) +
                                               " sent an answer longer than " +
                                               std::to_string(max_answer) + " bytes");
}

std::optional<Progress> decode_progress(std::string_view line) {
  auto parsed = Json::parse(line);
  if (!parsed || !parsed->is_object() || parsed->find("ok")) return std::nullopt;
  const Json* p = parsed->find("progress");
  if (!p || !p->is_object()) return std::nullopt;
  const auto done = p->get_int("done");
  const auto total = p->get_int("total");
  if (!done || !total || *done < 0 || *total < 0) return std::nullopt;
  return Progress{static_cast<uint64_t>(*done), static_cast<uint64_t>(*total)};
}

Result<Answer> decode_answer(std::string_view line) {
  auto parsed = Json::parse(line);
  if (!parsed) return make_error("bad_answer", "not JSON: " + parsed.error().message);
  const Json& j = *parsed;
  if (!j.is_object()) return make_error("bad_answer", "not a JSON object");
  const auto ok = j.get_bool("ok");
  if (!ok) return make_error("bad_answer", "no boolean \"ok\" in it");
  Answer a;
  a.ok = *ok;
  if (a.ok) {
    if (const Json* r = j.find("result")) a.result = *r;
    return a;
  }
  // A refusal stays a refusal even if it is thin on detail: the daemon did
  // answer and said no, which is exit 1, not "unreachable".
  a.error = j.get_string("error").value_or("error");
  a.message = j.get_string("message").value_or("");
  if (a.message.empty()) a.message = "gsd refused the command (" + a.error + ")";
  return a;
}

}  // namespace gs::ctl
