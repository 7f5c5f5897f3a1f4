#include "listen_fds.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace gs {
namespace {

std::optional<long> number(const char* text) {
  if (!text || !*text) return std::nullopt;
  long v = 0;
  const char* end = text + std::strlen(text);
  const auto [at, ec] = std::from_chars(text, end, v);
  if (ec != std::errc() || at != end) return std::nullopt;
  return v;
}

}  // namespace

int listen_fds_count(const char* fds, const char* pid, long self) {
  const auto owner = number(pid);
  const auto count = number(fds);
  if (!owner || *owner != self || !count || *count < 1) return 0;
  return static_cast<int>(std::min<long>(*count, 1024));
}

std::optional<int> take_listen_fd() {
  const int n = listen_fds_count(std::getenv("LISTEN_FDS"), std::getenv("LISTEN_PID"), static_cast<long>(getpid()));
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDNAMES");
  if (n != 1) return std::nullopt;
  const int fd = kListenFdsStart;
  const int fd_flags = fcntl(fd, F_GETFD);
  if (fd_flags < 0) return std::nullopt;  // not open after all
  fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC);
  return fd;
}

}  // namespace gs
