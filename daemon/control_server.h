// The control socket gsctl talks to: a Unix stream socket, private to the
// daemon's user (created 0600, and the peer's uid checked with SO_PEERCRED).
//
// Each connection carries newline-delimited JSON requests, answered in
// order, one at a time (a request with "progress":true may get progress
// lines before its answer) (reading pauses while a request is being handled, so
// a client cannot queue unbounded work). A line longer than
// kControlMaxLine or one that is not a request object gets a bad_request
// answer, and that connection is closed with a log line; the daemon and
// every other connection go on. Idle connections are closed after a
// minute, and the number of connections is capped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control_request.h"
#include "result.h"

namespace gs::daemon {

class ControlServer {
 public:
  // Safe to call at any time, even after the connection is gone (then the
  // answer is dropped).
  using Reply = std::function<void(Result<Json>)>;
  // Must call reply exactly once, now or later.
  using Handler = std::function<void(const ControlRequest&, Reply)>;

  static constexpr size_t kMaxConnections = 128;
  static constexpr int kIdleSeconds = 60;
  // How often a progress line may go out (docs/protocol.md).
  static constexpr int kProgressIntervalMs = 250;

  // Creates the socket's directory (0700) if missing, replaces a stale
  // socket file left by a daemon that died, and refuses to start when a live
  // daemon answers on `path`.
  static Result<std::unique_ptr<ControlServer>> open(event_base* base, const std::string& path, Handler handler);
  // Serves on a socket that is listening already: the one systemd passed
  // (gsd.socket, lib/listen_fds.h). It must be a listening Unix stream socket
  // bound to a path; systemd owns that path, so it is never removed here.
  // Takes `fd` (closed on failure too).
  static Result<std::unique_ptr<ControlServer>> adopt(event_base* base, int fd, Handler handler);
  // Closes every connection and the socket, and removes the socket file if
  // it is still the one this server made (never an adopted one's).
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return path_; }
  size_t connections() const { return conns_.size(); }

 private:
  struct Conn;
  ControlServer(event_base* base, std::string path, Handler handler);

  static void accept_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self);
  static void accept_error_cb(evconnlistener*, void* self);
  static void resume_accept_cb(evutil_socket_t, short, void* self);
  static void read_cb(bufferevent*, void* conn);
  static void write_cb(bufferevent*, void* conn);
  static void event_cb(bufferevent*, short what, void* conn);
  static void progress_cb(evutil_socket_t, short, void* conn);

  // Serves on `fd`, a listening socket (closed on failure).
  Status start_listener(int fd);
  void accept(evutil_socket_t fd);
  void process(Conn& c);
  void dispatch(Conn& c, std::string_view line);
  void answer(Conn& c, const Result<Json>& result);
  // A request with "progress":true: progress lines go out while it runs.
  void start_progress(Conn& c, ControlRequest& req);
  void stop_progress(Conn& c);
  void on_reply(Conn& c, const Result<Json>& result);
  void finish_if_done(Conn& c);
  // Rejects the connection's input: answers bad_request, then closes.
  void refuse(Conn& c, const std::string& message);
  void close_after_flush(Conn& c, const std::string& why);
  void close_now(Conn& c, const std::string& why);

  event_base* base_;
  std::string path_;
  Handler handler_;
  evconnlistener* listener_ = nullptr;
  event* resume_accept_ = nullptr;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  uint64_t next_conn_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<Conn>> conns_;
};

}  // namespace gs::daemon
