#include "service.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "log.h"

namespace gs {

StopSignals::StopSignals(event_base* base, std::function<void()> on_stop)
    : base_(base), on_stop_(std::move(on_stop)) {
  term_ = evsignal_new(base, SIGTERM, &StopSignals::on_signal, this);
  intr_ = evsignal_new(base, SIGINT, &StopSignals::on_signal, this);
  event_add(term_, nullptr);
  event_add(intr_, nullptr);
}

StopSignals::~StopSignals() {
  event_free(term_);
  event_free(intr_);
}

void StopSignals::on_signal(evutil_socket_t sig, short, void* self) {
  auto* s = static_cast<StopSignals*>(self);
  if (s->stopping_) {
    log_warn("second signal ", sig, ": exiting now");
    event_base_loopbreak(s->base_);
    return;
  }
  s->stopping_ = true;
  log_info("signal ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ": shutting down");
  notify_stopping();
  s->on_stop_();
}

ReloadSignal::ReloadSignal(event_base* base, std::function<void()> on_reload)
    : on_reload_(std::move(on_reload)) {
  hup_ = evsignal_new(
      base, SIGHUP,
      [](evutil_socket_t, short, void* self) {
        auto* r = static_cast<ReloadSignal*>(self);
        log_info("signal SIGHUP: reloading the config");
        r->on_reload_();
      },
      this);
  event_add(hup_, nullptr);
}

ReloadSignal::~ReloadSignal() { event_free(hup_); }

void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

void take_signals() {
  ignore_sigpipe();
  // SIG_IGN first: setting it discards a pending SIGHUP, so unblocking
  // cannot deliver one with the default action.
  std::signal(SIGHUP, SIG_IGN);
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&handled, sig);
  sigprocmask(SIG_UNBLOCK, &handled, nullptr);
}

bool notify(const std::string& message) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  // A path, or "@name" for the abstract namespace (a leading NUL instead of
  // the @). Other forms (vsock:) are not used by a systemd of this era.
  if ((path[0] != '/' && path[0] != '@') || len < 2 || len > sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  const socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // MSG_DONTWAIT: a receiver whose queue is full (net.unix.max_dgram_qlen)
  // would block a blocking send, and with it the event loop; the message is
  // dropped instead (a STATUS= is sent again, a ping comes again).
  const ssize_t n = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                           reinterpret_cast<const sockaddr*>(&addr), addr_len);
  ::close(fd);
  return n == static_cast<ssize_t>(message.size());
}

bool notify_ready(const std::string& status) { return notify("READY=1\nSTATUS=" + status); }
bool notify_status(const std::string& status) { return notify("STATUS=" + status); }
bool notify_stopping() { return notify("STOPPING=1"); }

bool notify_reloading() {
  // MONOTONIC_USEC: Type=notify-reload (systemd 253+) matches the READY=1
  // that follows to this reload by it; older managers ignore it.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
  return notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool notify_socket_set() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  return path && *path;
}

}  // namespace gs
