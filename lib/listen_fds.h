// Sockets that systemd opened for a socket-activated service (a .socket unit,
// sd_listen_fds(3)): LISTEN_FDS descriptors from 3 on, meant for the process
// LISTEN_PID names. gsd takes its control socket this way under gsd.socket,
// so the socket exists before gsd starts and across its restarts: a gsctl
// that connects meanwhile waits in the backlog instead of failing.
#pragma once

#include <optional>

namespace gs {

// The first descriptor of the activation protocol.
constexpr int kListenFdsStart = 3;

// How many descriptors the environment hands to process `self`: LISTEN_FDS
// when LISTEN_PID is `self`, else 0 (the variables were meant for another
// process, e.g. a parent that ran this one).
int listen_fds_count(const char* fds, const char* pid, long self);

// The one passed socket, if this process was given exactly one: made
// close-on-exec (ControlServer::adopt, which listens on it, makes it
// non-blocking and checks what it is). Unsets LISTEN_FDS, LISTEN_PID and
// LISTEN_FDNAMES either way, so that no child takes them for its own. With
// more than one descriptor it returns nullopt and closes none: gsd.socket
// passes one, and guessing which of several is the control socket would be
// wrong.
std::optional<int> take_listen_fd();

}  // namespace gs
