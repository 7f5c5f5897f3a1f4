#include "control_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include <event2/buffer.h>

#include "control_peer.h"
#include "log.h"
#include "names.h"
#include "paths.h"

namespace gs::daemon {

struct ControlServer::Conn : std::enable_shared_from_this<Conn> {
  ControlServer* server = nullptr;
  uint64_t id = 0;
  bufferevent* bev = nullptr;
  bool busy = false;         // a request is being handled; reading is paused
  bool in_dispatch = false;  // inside the handler call (a reply now is synchronous)
  bool eof = false;          // the client has shut down its sending side
  bool closing = false;      // closing once the output has drained
  size_t scanned = 0;        // input bytes already known to hold no newline
  // While a request that wants progress lines is handled: its counter, the
  // timer that looks at it, and what the last progress line said.
  std::shared_ptr<ControlProgress> progress;
  event* progress_timer = nullptr;
  uint64_t sent_done = 0, sent_total = 0;
  bool sent_any = false;
};

namespace {

Error socket_error(std::string message) { return make_error("socket_error", std::move(message)); }

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return socket_error("control socket path " + path + " is too long (" + std::to_string(path.size()) +
                        " bytes; the limit is " + std::to_string(sizeof addr.sun_path - 1) + ")");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// A socket file at `path` is either a live daemon's (refuse to start) or
// left behind by one that died without cleaning up (replace it). Anything
// else there is not ours to delete.
Status claim_path(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Ok{};
    return socket_error("cannot check " + path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return socket_error(path + " exists and is not a socket; remove it or choose another --socket");
  }
  const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) return socket_error(std::string("cannot create a socket: ") + std::strerror(errno));
  const int rc = connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  close(probe);
  // EAGAIN: a live listener whose backlog is full; still live.
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
    return socket_error("another gsd is already running on " + path +
                        "; stop it first, or give this one its own --socket and --state-dir");
  }
  if (err != ECONNREFUSED) {
    return socket_error("cannot check whether " + path + " is in use: " + std::strerror(err));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return socket_error("cannot remove the stale socket " + path + ": " + std::strerror(errno));
  }
  log_info("removed the stale control socket ", path, " of a daemon that is gone");
  return Ok{};
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The socket's directory must be one only we (or root) control: in a
// directory another user can write to without the sticky bit, they could
// swap our socket for theirs and read what gsctl sends (passwords).
Status check_directory(const std::string& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return socket_error("cannot check " + dir + ": " + std::strerror(errno));
  if (st.st_uid != getuid() && st.st_uid != 0) {
    return socket_error("refusing to put the control socket in " + dir + ": it belongs to uid " +
                        std::to_string(st.st_uid) + ", not to this user");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
    return socket_error("refusing to put the control socket in " + dir +
                        ": other users can write to it; use a private directory");
  }
  return Ok{};
}

}  // namespace

ControlServer::ControlServer(event_base* base, std::string path, Handler handler)
    : base_(base), path_(std::move(path)), handler_(std::move(handler)) {}

Result<std::unique_ptr<ControlServer>> ControlServer::open(event_base* base, const std::string& path,
                                                           Handler handler) {
  auto addr = unix_address(path);
  if (!addr) return addr.error();
  if (auto s = make_dirs(parent_dir(path), 0700); !s) {
    return socket_error("cannot create the directory of the control socket: " + s.error().message);
  }
  if (auto s = check_directory(parent_dir(path)); !s) return s.error();
  if (auto s = claim_path(path, *addr); !s) return s.error();

  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return socket_error(std::string("cannot create a socket: ") + std::strerror(errno));
  // The umask makes the file 0600 the moment it appears: no window in which
  // another user could connect. The chmod is for filesystems that ignore it.
  const mode_t old_mask = umask(0177);
  const int rc = bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
  const int bind_err = errno;
  umask(old_mask);
  if (rc != 0) {
    close(fd);
    return socket_error("cannot bind the control socket " + path + ": " + std::strerror(bind_err));
  }
  std::unique_ptr<ControlServer> server(new ControlServer(base, path, std::move(handler)));
  struct stat st {};
  if (chmod(path.c_str(), 0600) != 0 || stat(path.c_str(), &st) != 0 || listen(fd, 64) != 0) {
    const int err = errno;
    close(fd);
    unlink(path.c_str());
    return socket_error("cannot set up the control socket " + path + ": " + std::strerror(err));
  }
  server->dev_ = st.st_dev;
  server->ino_ = st.st_ino;
  if (auto s = server->start_listener(fd); !s) {
    unlink(path.c_str());
    return s.error();
  }
  return server;
}

Result<std::unique_ptr<ControlServer>> ControlServer::adopt(event_base* base, int fd, Handler handler) {
  const auto fail = [fd](const std::string& why) {
    close(fd);
    return socket_error("the control socket systemd passed (fd " + std::to_string(fd) + ") " + why);
  };
  int domain = 0, type = 0, listening = 0;
  socklen_t len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX) {
    return fail("is not a Unix socket");
  }
  len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    return fail("is not a stream socket (ListenStream=)");
  }
  len = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) {
    return fail("is not listening");
  }
  sockaddr_un addr{};
  len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || len <= offsetof(sockaddr_un, sun_path) ||
      addr.sun_path[0] != '/') {
    return fail("is not bound to a path");
  }
  const std::string path(addr.sun_path, strnlen(addr.sun_path, len - offsetof(sockaddr_un, sun_path)));
  // libevent accepts until EAGAIN: on a blocking socket the last accept
  // would block the loop.
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return fail("cannot be made non-blocking");
  // dev_ and ino_ stay 0, which no socket file has: the destructor leaves
  // the path to systemd.
  std::unique_ptr<ControlServer> server(new ControlServer(base, path, std::move(handler)));
  if (auto s = server->start_listener(fd); !s) return s.error();
  return server;
}

Status ControlServer::start_listener(int fd) {
  // Backlog 0: the socket is listening already.
  listener_ = evconnlistener_new(base_, &ControlServer::accept_cb, this, LEV_OPT_CLOSE_ON_FREE, 0, fd);
  if (!listener_) {
    close(fd);
    return socket_error("cannot listen on the control socket " + path_);
  }
  evconnlistener_set_error_cb(listener_, &ControlServer::accept_error_cb);
  resume_accept_ = evtimer_new(base_, &ControlServer::resume_accept_cb, this);
  return Ok{};
}

ControlServer::~ControlServer() {
  for (auto& [id, c] : conns_) {
    if (c->progress_timer) event_free(c->progress_timer);
    c->progress_timer = nullptr;
    if (c->bev) bufferevent_free(c->bev);
    c->bev = nullptr;
  }
  conns_.clear();
  if (resume_accept_) event_free(resume_accept_);
  if (listener_) evconnlistener_free(listener_);
  // Only if it is still ours: a daemon started after us with the same path
  // (once ours looked stale) must keep its socket.
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) unlink(path_.c_str());
}

// ---- accepting ----

void ControlServer::accept_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self) {
  static_cast<ControlServer*>(self)->accept(fd);
}

void ControlServer::accept_error_cb(evconnlistener*, void* self) {
  // Typically EMFILE: the listening socket stays readable, so retrying at
  // once would spin. Pause accepting for a second instead.
  auto* s = static_cast<ControlServer*>(self);
  log_warn("control: cannot accept a connection: ", std::strerror(errno), "; pausing for 1 s");
  evconnlistener_disable(s->listener_);
  const timeval tv{1, 0};
  evtimer_add(s->resume_accept_, &tv);
}

void ControlServer::resume_accept_cb(evutil_socket_t, short, void* self) {
  evconnlistener_enable(static_cast<ControlServer*>(self)->listener_);
}

void ControlServer::accept(evutil_socket_t fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    log_warn("control: cannot read the peer credentials of a connection: ", std::strerror(errno), "; closing it");
    evutil_closesocket(fd);
    return;
  }
  if (auto refusal = control_peer_refusal(cred.uid, getuid())) {
    log_warn("control: refusing a connection from uid ", cred.uid, " (pid ", cred.pid, "): not this daemon's user");
    // The answer goes out before the close, so gsctl can say why instead of
    // "closed without answering". One short line into an empty socket
    // buffer: a non-blocking send takes it whole, or the client is gone.
    const std::string line = encode_control_answer(*refusal);
    if (::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      log_debug("control: the refusal could not be sent: ", std::strerror(errno));
    }
    evutil_closesocket(fd);
    return;
  }
  if (conns_.size() >= kMaxConnections) {
    log_warn("control: ", kMaxConnections, " connections are open already; refusing one from pid ", cred.pid);
    evutil_closesocket(fd);
    return;
  }
  evutil_make_socket_nonblocking(fd);
  bufferevent* bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    evutil_closesocket(fd);
    return;
  }
  auto c = std::make_shared<Conn>();
  c->server = this;
  c->id = next_conn_id_++;
  c->bev = bev;
  conns_.emplace(c->id, c);
  bufferevent_setcb(bev, &ControlServer::read_cb, &ControlServer::write_cb, &ControlServer::event_cb, c.get());
  // Reading pauses once a line could no longer be within the cap: memory per
  // connection stays bounded whatever the client sends.
  bufferevent_setwatermark(bev, EV_READ, 0, kControlMaxLine + 1);
  const timeval idle{kIdleSeconds, 0};
  const timeval write_limit{10, 0};
  bufferevent_set_timeouts(bev, &idle, &write_limit);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  log_debug("control: connection ", c->id, " from pid ", cred.pid);
}

// ---- reading requests ----

void ControlServer::read_cb(bufferevent*, void* conn) {
  auto self = static_cast<Conn*>(conn)->shared_from_this();
  self->server->process(*self);
}

void ControlServer::write_cb(bufferevent*, void* conn) {
  auto self = static_cast<Conn*>(conn)->shared_from_this();
  if (self->closing && self->bev && evbuffer_get_length(bufferevent_get_output(self->bev)) == 0) {
    self->server->close_now(*self, "");
  }
}

void ControlServer::event_cb(bufferevent*, short what, void* conn) {
  auto self = static_cast<Conn*>(conn)->shared_from_this();
  ControlServer* server = self->server;
  if (what & BEV_EVENT_EOF) {
    self->eof = true;
    bufferevent_disable(self->bev, EV_READ);
    // Lines that are still buffered are answered first.
    server->process(*self);
    return;
  }
  if (what & BEV_EVENT_TIMEOUT) {
    server->close_now(*self, (what & BEV_EVENT_READING) ? "idle for too long" : "the client does not read its answer");
    return;
  }
  if (what & BEV_EVENT_ERROR) {
    server->close_now(*self, std::string("connection error: ") + evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
  }
}

void ControlServer::process(Conn& c) {
  while (c.bev && !c.busy && !c.closing) {
    evbuffer* in = bufferevent_get_input(c.bev);
    const size_t len = evbuffer_get_length(in);
    if (len == 0) break;
    // Search only the bytes not searched before: a long line arriving in
    // small pieces must not cost quadratic time.
    evbuffer_ptr start;
    evbuffer_ptr_set(in, &start, c.scanned, EVBUFFER_PTR_SET);
    const evbuffer_ptr eol = evbuffer_search_eol(in, &start, nullptr, EVBUFFER_EOL_LF);
    if (eol.pos < 0) {
      c.scanned = len;
      if (len > kControlMaxLine) {
        refuse(c, "a request line is longer than " + std::to_string(kControlMaxLine) + " bytes");
      }
      break;
    }
    const auto line_len = static_cast<size_t>(eol.pos);
    if (line_len > kControlMaxLine) {
      refuse(c, "a request line is longer than " + std::to_string(kControlMaxLine) + " bytes");
      break;
    }
    std::string line(line_len, '\0');
    evbuffer_remove(in, line.data(), line_len);
    evbuffer_drain(in, 1);
    c.scanned = 0;
    dispatch(c, line);
  }
  finish_if_done(c);
}

void ControlServer::finish_if_done(Conn& c) {
  if (!c.bev || !c.eof || c.busy || c.closing) return;
  // The client has stopped sending. A last line without its newline still
  // counts as a request; after that, nothing more can come.
  evbuffer* in = bufferevent_get_input(c.bev);
  const size_t len = evbuffer_get_length(in);
  if (len > 0 && len <= kControlMaxLine) {
    std::string line(len, '\0');
    evbuffer_remove(in, line.data(), len);
    dispatch(c, line);
    if (c.busy || c.closing || !c.bev) return;  // answered later, or refused
  }
  close_after_flush(c, "");
}

void ControlServer::dispatch(Conn& c, std::string_view line) {
  auto req = decode_control_request(line);
  if (!req) {
    refuse(c, req.error().message);
    return;
  }
  if (req->wants_progress) start_progress(c, *req);
  c.busy = true;
  bufferevent_disable(c.bev, EV_READ);
  c.in_dispatch = true;
  std::weak_ptr<Conn> weak = c.shared_from_this();
  handler_(*req, [weak](Result<Json> r) {
    if (auto conn = weak.lock()) conn->server->on_reply(*conn, r);
  });
  c.in_dispatch = false;
}

void ControlServer::on_reply(Conn& c, const Result<Json>& result) {
  if (!c.bev || c.closing || !c.busy) return;
  stop_progress(c);
  answer(c, result);
  c.busy = false;
  if (!c.eof) bufferevent_enable(c.bev, EV_READ);
  if (c.in_dispatch) return;  // process() goes on with the next line itself
  auto self = c.shared_from_this();
  process(c);
}

// ---- progress lines ----

void ControlServer::start_progress(Conn& c, ControlRequest& req) {
  c.progress = std::make_shared<ControlProgress>();
  req.progress = c.progress;
  c.sent_any = false;
  if (!c.progress_timer) c.progress_timer = event_new(base_, -1, EV_PERSIST, &ControlServer::progress_cb, &c);
  const timeval tv{0, kProgressIntervalMs * 1000};
  evtimer_add(c.progress_timer, &tv);
}

void ControlServer::stop_progress(Conn& c) {
  if (c.progress_timer) evtimer_del(c.progress_timer);
  c.progress.reset();
}

// A line only when the count moved: a client resets its timeout on each
// one, so a command that is stuck must go quiet and let it run out.
void ControlServer::progress_cb(evutil_socket_t, short, void* conn) {
  auto self = static_cast<Conn*>(conn)->shared_from_this();
  Conn& c = *self;
  if (!c.bev || !c.progress) return;
  const uint64_t total = c.progress->total.load();
  const uint64_t done = c.progress->done.load();
  if (total == 0 && done == 0) return;  // not started yet
  if (c.sent_any && done == c.sent_done && total == c.sent_total) return;
  c.sent_any = true;
  c.sent_done = done;
  c.sent_total = total;
  const std::string line = encode_control_progress(done, total);
  bufferevent_write(c.bev, line.data(), line.size());
}

void ControlServer::answer(Conn& c, const Result<Json>& result) {
  const std::string line = encode_control_answer(result);
  bufferevent_write(c.bev, line.data(), line.size());
}

void ControlServer::refuse(Conn& c, const std::string& message) {
  log_warn("control: closing connection ", c.id, ": bad request (", message, ")");
  answer(c, make_error("bad_request", message));
  close_after_flush(c, "");
}

void ControlServer::close_after_flush(Conn& c, const std::string& why) {
  if (!c.bev) return;
  c.closing = true;
  bufferevent_disable(c.bev, EV_READ);
  if (evbuffer_get_length(bufferevent_get_output(c.bev)) == 0) close_now(c, why);
  // Otherwise write_cb closes once the answer is out (or the write timeout does).
}

void ControlServer::close_now(Conn& c, const std::string& why) {
  if (!c.bev) return;
  if (!why.empty()) log_debug("control: connection ", c.id, " closed: ", why);
  stop_progress(c);
  if (c.progress_timer) event_free(c.progress_timer);
  c.progress_timer = nullptr;
  bufferevent_free(c.bev);
  c.bev = nullptr;
  // Callers hold a shared_ptr to c, so it outlives this erase.
  conns_.erase(c.id);
}

}  // namespace gs::daemon
